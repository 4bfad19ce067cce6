"""syndicate: publish Markdown articles as feeds, an email digest and social cards."""

__version__ = "0.1.0"

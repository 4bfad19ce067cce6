"""Loading articles: Markdown files with YAML or TOML front matter become :class:`Article`.

The loader is forgiving where real files vary (date styles, category lists,
BOMs, CRLF) and strict where a mistake would publish something wrong: every
problem becomes a :class:`Diagnostic` pointing at the file and the line of the
offending front-matter key, and all of them are reported together.  Text is put in
Unicode's composed form (NFC) as it is read: see :mod:`syndicate.nfc`.

The stage, module by module:

- :mod:`.model`: the :class:`Article`, its :class:`Image` and :class:`BodySpan`, pure
  data;
- :mod:`.loader`: every article of the content folder (:func:`load_articles`), through
  the build cache's records (:mod:`.records`) where a file is unchanged;
- :mod:`.reading`: one file read and checked key by key (:func:`read_article`), its
  front matter split off by :mod:`.front_matter`, its values read by :mod:`.values`;
  and an article's body, read from its file when a stage renders it (:func:`read_body`);
- :mod:`.markers`: which articles are published (:func:`select`) and why the others are
  left out (:func:`left_out`).

The names below are those the rest of syndicate uses.
"""

from .front_matter import FORMATS, MAX_ALIAS_CHARACTERS, MAX_ALIAS_VALUES
from .loader import article_paths, load_articles
from .markers import MARKERS, STATUSES, LeftOut, left_out, select, unpublished
from .model import Article, BodySpan, Image
from .reading import KNOWN_KEYS, read_article, read_body
from .values import (
    DEVICE_NAMES,
    MAX_CATEGORIES,
    MAX_SLUG,
    NOT_XML,
    category_slug,
    check_characters,
    drop_not_xml,
    make_slug,
    make_summary,
    parse_categories,
    parse_date,
    quoted,
)

__all__ = [
    "DEVICE_NAMES",
    "FORMATS",
    "KNOWN_KEYS",
    "MARKERS",
    "MAX_ALIAS_CHARACTERS",
    "MAX_ALIAS_VALUES",
    "MAX_CATEGORIES",
    "MAX_SLUG",
    "NOT_XML",
    "STATUSES",
    "Article",
    "BodySpan",
    "Image",
    "LeftOut",
    "article_paths",
    "category_slug",
    "check_characters",
    "drop_not_xml",
    "left_out",
    "load_articles",
    "make_slug",
    "make_summary",
    "parse_categories",
    "parse_date",
    "quoted",
    "read_article",
    "read_body",
    "select",
    "unpublished",
]

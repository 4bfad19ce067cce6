"""Social posts: platform-aware post texts built from an article."""

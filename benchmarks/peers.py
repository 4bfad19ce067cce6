"""The peers syndicate is measured against, and the corpus converted for each of them.

``compare.py`` times them; this module holds what each builds: Hugo's and Pelican's copies
of a corpus (the same articles in their own front matter), their configurations for a
feeds-only build, Hugo's configuration and layouts for the same corpus built as a full
site, and how to read back what each build's feeds hold, so that a reader can check that
the tools did equivalent work.
"""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from corpus import config_text, link_or_copy

FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
ITEM_TITLE = re.compile(rb"<item>\s*<title>(.*?)</title>", re.DOTALL)

# What both of Hugo's builds share: no section or category list pages (syndicate makes
# none), sitemap, robots.txt or 404 page; the categories as a taxonomy.
HUGO_BASE = """baseURL = "https://bench.example.org/"
title = "Bench Daily"
locale = "en"
disableKinds = ["section", "taxonomy", "sitemap", "robotsTXT", "404"]

[params]
description = "Generated benchmark corpus"

[taxonomies]
category = "categories"

"""
HUGO_LIMIT = """
[services.rss]
limit = {limit}
"""

# Feeds only: the home page and every category (term) page as RSS alone, and articles get
# a permalink for the feeds but are not written to disk.
HUGO_CONFIG = (
    HUGO_BASE
    + """[outputs]
home = ["rss"]
term = ["rss"]

[[cascade]]
[cascade.build]
render = "link"
list = "always"
[cascade.target]
kind = "page"
"""
    + HUGO_LIMIT
)

# Hugo's built-in rss.xml puts only .Summary in <description>; syndicate's RSS has the
# summary in <description> and the whole article in <content:encoded>, so this does too.
HUGO_RSS_LAYOUT = """{{- $pages := .Pages -}}
{{- if .IsHome }}{{ $pages = site.RegularPages }}{{ end -}}
{{- $limit := site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 }}{{ $pages = $pages | first $limit }}{{ end -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\" standalone=\\"yes\\"?>" | safeHTML }}
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" \
xmlns:content="http://purl.org/rss/1.0/modules/content/" \
xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/">
  <channel>
    <title>{{ site.Title }}{{ if not .IsHome }}: {{ .Title }}{{ end }}</title>
    <link>{{ site.BaseURL }}</link>
    <description>{{ site.Title }}</description>
    <language>{{ site.Language.Locale }}</language>
    {{- with index $pages 0 }}
    <lastBuildDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</lastBuildDate>
    {{- end }}
    {{- with .OutputFormats.Get "RSS" }}
    {{ printf "<atom:link href=%q rel=\\"self\\" type=%q />" .Permalink .MediaType | safeHTML }}
    {{- end }}
    {{- range $pages }}
    <item>
      <title>{{ .Title }}</title>
      <link>{{ .Permalink }}</link>
      <guid>{{ .Permalink }}</guid>
      <pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
      <dc:creator>{{ .Params.author }}</dc:creator>
      {{- range .GetTerms "categories" }}
      <category>{{ .LinkTitle }}</category>
      {{- end }}
      <description>{{ .Summary | transform.XMLEscape | safeHTML }}</description>
      <content:encoded>{{ .Content | transform.XMLEscape | safeHTML }}</content:encoded>
      {{- with .Params.image }}
      <media:content url="{{ . | absURL }}" medium="image" />
      {{- end }}
    </item>
    {{- end }}
  </channel>
</rss>
"""

PELICAN_CONFIG = """SITENAME = "Bench Daily"
SITEURL = "https://bench.example.org"
FEED_DOMAIN = SITEURL
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
PATH = {content!r}
CACHE_PATH = {cache!r}
LOAD_CONTENT_CACHE = False
CACHE_CONTENT = False
DELETE_OUTPUT_DIRECTORY = True
ARTICLE_URL = "posts/{{slug}}/"
FEED_MAX_ITEMS = {max_items}
RSS_FEED_SUMMARY_ONLY = False  # the whole article, as syndicate and Atom do

# The feeds: every article, and one per category (Pelican's tags, see compare.py).
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = "feeds/all.rss.xml"
TAG_FEED_ATOM = "feeds/categories/{{slug}}.atom.xml"
TAG_FEED_RSS = "feeds/categories/{{slug}}.rss.xml"
FEED_ATOM = FEED_RSS = None
CATEGORY_FEED_ATOM = CATEGORY_FEED_RSS = None
AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = TRANSLATION_FEED_RSS = None

# Nothing else: no article, page, category, tag, author, archive or index pages ...
ARTICLE_SAVE_AS = ARTICLE_LANG_SAVE_AS = ""
DRAFT_SAVE_AS = DRAFT_LANG_SAVE_AS = ""
PAGE_SAVE_AS = PAGE_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = DRAFT_PAGE_LANG_SAVE_AS = ""
CATEGORY_SAVE_AS = TAG_SAVE_AS = AUTHOR_SAVE_AS = ""
YEAR_ARCHIVE_SAVE_AS = MONTH_ARCHIVE_SAVE_AS = DAY_ARCHIVE_SAVE_AS = ""
DIRECT_TEMPLATES = []
PAGINATED_TEMPLATES = {{}}
# ... and no theme or static files.
THEME_STATIC_PATHS = []
STATIC_PATHS = []
"""


# The same corpus as a full site: every article's page (``layouts/page.html``), the home
# page (``layouts/home.html``), and the home and category feeds (``layouts/rss.xml``, as
# above).
HUGO_SITE_CONFIG = (
    HUGO_BASE
    + """[outputs]
home = ["html", "rss"]
page = ["html"]
term = ["rss"]

# syndicate's permalinks: /posts/{{slug}}/.
[permalinks.page]
"/**" = "/posts/:contentbasename/"
"""
    + HUGO_LIMIT
)

#: The layouts of Hugo's full site: ``page.html`` shows what syndicate's article page
#: shows (templates/site/article.html.j2): the title, the author, the dates, the categories
#: linking to their feeds, the body, the feeds' autodiscovery links, and its card's Open
#: Graph and Twitter tags as plain <meta> tags, pointing at a card image that Hugo does not
#: make; ``home.html`` is syndicate's landing page, the ten latest articles and every feed.
HUGO_LAYOUTS = Path(__file__).resolve().parent / "hugo-layouts"


@dataclass(frozen=True)
class FeedCheck:
    """What a build's feeds contain, to show the tools did equivalent work."""

    home_items: int
    category_feeds: int
    category_items: int
    rss_bytes: int
    home_titles: tuple[str, ...]


# --- converting the corpus ---------------------------------------------------------------


def split_article(text: str) -> tuple[dict[str, str], str]:
    """Front matter (the corpus writes flat ``key: value`` lines) and body of an article."""
    match = FRONT_MATTER.match(text)
    if match is None:
        raise ValueError("article without front matter")
    meta = {}
    for line in match.group(1).splitlines():
        key, _, value = line.partition(":")
        meta[key.strip()] = value.strip().strip('"')
    return meta, text[match.end() :]


def categories(meta: dict[str, str]) -> list[str]:
    return [part.strip() for part in meta["categories"].split(",") if part.strip()]


def hugo_article(meta: dict[str, str], body: str) -> str:
    """The same front matter, with ``categories`` as a YAML list (Hugo reads a string as
    one term). Dates are kept as written: Hugo parses all three styles."""
    terms = ", ".join(f'"{name}"' for name in categories(meta))
    lines = [f'title: "{meta["title"]}"', f'author: "{meta["author"]}"']
    lines += [f"date: {meta['date']}", f"categories: [{terms}]"]
    if "image" in meta:
        lines.append(f'image: "{meta["image"]}"')
    return "---\n" + "\n".join(lines) + "\n---\n" + body


def pelican_article(meta: dict[str, str], body: str, slug: str) -> str:
    """Pelican's ``Key: value`` metadata: every category as a tag, the first also as the
    article's (single) category. Dates are kept as written: Pelican parses all three."""
    names = categories(meta)
    lines = [f"Title: {meta['title']}", f"Author: {meta['author']}", f"Date: {meta['date']}"]
    lines += [f"Category: {names[0]}", f"Tags: {', '.join(names)}", f"Slug: {slug}"]
    return "\n".join(lines) + "\n\n" + body.lstrip("\n")


def convert_corpus(source: Path, hugo: Path, pelican: Path | None = None) -> None:
    """Write Hugo's (and Pelican's) copies of ``source/content``, and give Hugo the
    corpus's static folder (its photos, if any), which both copy into their output."""
    sites = [hugo] if pelican is None else [hugo, pelican]
    for site in sites:
        shutil.rmtree(site / "content", ignore_errors=True)
    for path in sorted((source / "content").rglob("*.md")):
        meta, body = split_article(path.read_text(encoding="utf-8"))
        relative = path.relative_to(source / "content")
        texts = {hugo: hugo_article(meta, body)}
        if pelican is not None:
            texts[pelican] = pelican_article(meta, body, path.stem)
        for site, text in texts.items():
            target = site / "content" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="\n")
    layouts = hugo / "layouts"
    layouts.mkdir(parents=True, exist_ok=True)
    (layouts / "rss.xml").write_text(HUGO_RSS_LAYOUT, encoding="utf-8")
    copy_static(source / "static", hugo / "static")


def copy_static(source: Path, target: Path) -> None:
    """*target* made a copy of *source* (hard links where possible), or removed."""
    shutil.rmtree(target, ignore_errors=True)
    if source.is_dir():
        shutil.copytree(source, target, copy_function=link_or_copy)


def write_if_changed(path: Path, text: str) -> None:
    """Write *text* to *path* unless it holds it already: a warm build that follows must
    find the configuration it was built with, modification time included."""
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def syndicate_configurer(build: str) -> Callable[[Path, int], None]:
    """The configuration of one of syndicate's builds: ``feeds`` (the feeds alone),
    ``pages`` (the feeds and the article pages, no social files: ``[social] platforms
    = []``) or ``default`` (everything, nothing turned off)."""

    def configure(site: Path, limit: int) -> None:
        text = config_text(limit, full=build == "default", pages=build == "pages")
        write_if_changed(site / "syndicate.toml", text)

    return configure


def configure_hugo(site: Path, limit: int) -> None:
    write_if_changed(site / "hugo.toml", HUGO_CONFIG.format(limit=limit if limit > 0 else -1))


def configure_hugo_site(site: Path, limit: int) -> None:
    """Hugo's full site: its configuration and the two layouts beside ``rss.xml``."""
    write_if_changed(site / "hugo.toml", HUGO_SITE_CONFIG.format(limit=limit if limit > 0 else -1))
    for name in ("page.html", "home.html"):
        text = (HUGO_LAYOUTS / name).read_text(encoding="utf-8")
        write_if_changed(site / "layouts" / name, text)


def configure_pelican(site: Path, limit: int) -> None:
    content, cache = str(site / "content"), str(site / "cache")
    text = PELICAN_CONFIG.format(content=content, cache=cache, max_items=limit or None)
    (site / "pelicanconf.py").write_text(text, encoding="utf-8")


# --- checking the feeds ------------------------------------------------------------------


def rss_titles(path: Path) -> list[str]:
    """Item titles of an RSS file, in order (a regex: the files can be hundreds of MB)."""
    return [html.unescape(t.decode()) for t in ITEM_TITLE.findall(path.read_bytes())]


def rss_check(home: Path, category_feeds: list[Path]) -> FeedCheck:
    titles = tuple(rss_titles(home)) if home.exists() else ()
    items = sum(len(rss_titles(feed)) for feed in category_feeds)
    size = sum(path.stat().st_size for path in [home, *category_feeds] if path.exists())
    return FeedCheck(len(titles), len(category_feeds), items, size, titles)


def check_syndicate(out: Path) -> FeedCheck:
    return rss_check(out / "rss.xml", sorted(out.glob("categories/*/rss.xml")))


def check_hugo(out: Path) -> FeedCheck:
    return rss_check(out / "index.xml", sorted(out.glob("categories/*/index.xml")))


def check_pelican(out: Path) -> FeedCheck:
    feeds = out / "feeds"
    return rss_check(feeds / "all.rss.xml", sorted(feeds.glob("categories/*.rss.xml")))


def output_stats(folder: Path) -> tuple[int, int]:
    """Number and total size of the files under *folder*."""
    sizes = [p.stat().st_size for p in folder.rglob("*") if p.is_file()]
    return len(sizes), sum(sizes)

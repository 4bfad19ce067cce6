"""A coverage-guided fuzz target (atheris): loading and rendering an article from any bytes.

    python fuzz/fuzz_article.py fuzz/corpus -max_total_time=600

The only exceptions allowed out of the loader and the renderer are none at all: every
problem must come back as a diagnostic.  A crash is written to ./crash-* by libFuzzer.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    # syndicate imports these on first use; imported here, they are instrumented too
    # (comrak, the Markdown parser, is Rust: its coverage is not seen).
    import frontmatter.default_handlers  # noqa: F401
    import yaml  # noqa: F401

    from syndicate.config import load_config
    from syndicate.content import read_article, read_body
    from syndicate.markdown import render

FOLDER = Path(tempfile.mkdtemp(prefix="syndicate-fuzz-"))
(FOLDER / "content").mkdir()
(FOLDER / "syndicate.toml").write_text(
    '[site]\ntitle = "Fuzz"\nurl = "https://fuzz.example.org/"\nauthor = "Fuzzer"\n',
    encoding="utf-8",
)
CONFIG = load_config(FOLDER)
ARTICLE = FOLDER / "content" / "post.md"


def test_one_input(data: bytes) -> None:
    ARTICLE.write_bytes(data)
    article, diagnostics = read_article(ARTICLE, CONFIG)
    for diagnostic in diagnostics:
        assert "\n" not in diagnostic.format(), diagnostic
    if article is not None:
        rendered = render(
            read_body(article), article, "https://fuzz.example.org/posts/post/", CONFIG.site.url, {}
        )
        lowered = rendered.html.lower()
        assert "<script" not in lowered and "javascript:" not in lowered, rendered.html


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

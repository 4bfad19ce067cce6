"""What a user, a guest author or a bad moment can do, and what syndicate does about it."""

from __future__ import annotations

import json
import pickle
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import NOW, SITE, MakePublication, article
from leaks import SECRET, SMTP_PASSWORD
from syndicate import pipeline
from syndicate.cli import main
from syndicate.delivery.journal import publication_lock
from syndicate.pipeline import build, check


def test_an_article_linked_from_outside_the_publication_is_refused(
    publication: MakePublication, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text(article("Secret", body="The private notes."))
    root = publication({"content/a.md": article()})
    (root / "content/leak.md").symlink_to(secret)
    (root / "content/folder").symlink_to(tmp_path, target_is_directory=True)
    problems = [d.format(relative_to=root) for d in check(root, NOW).diagnostics]
    assert problems == [
        "content/folder: error: a symbolic link to outside the publication; copy the file in",
        "content/leak.md: error: a symbolic link to outside the publication; copy the file in",
    ]


def test_a_link_inside_the_publication_is_fine(publication: MakePublication) -> None:
    root = publication({"content/a.md": article(), "drafts/b.md": article("B")})
    (root / "content/b.md").symlink_to(root / "drafts/b.md")
    assert check(root, NOW).published == 2


def test_a_markdown_link_through_a_symbolic_link_reaches_the_article(
    publication: MakePublication,
) -> None:
    # b.md is a link to drafts/b.md: a link to either file is a link to the article.
    root = publication(
        {
            "content/a.md": article(
                "A", "2025-01-02", body="See [b](b.md) and [b](../drafts/b.md)."
            ),
            "drafts/b.md": article("B", "2025-01-01", slug="bee"),
        }
    )
    (root / "content/b.md").symlink_to(root / "drafts/b.md")
    build(root, NOW)
    items = json.loads((root / "feeds/feed.json").read_bytes())["items"]
    a = next(item for item in items if item["title"] == "A")
    bee = next(item["url"] for item in items if item["title"] == "B")
    assert a["content_html"].count(f'href="{bee}"') == 2


def test_the_link_map_sent_to_a_process_of_its_own_is_made_first(
    publication: MakePublication,
) -> None:
    # A forked worker shares the publication and makes the map only if a body needs it;
    # a process that does not share memory (spawn) gets the map itself.
    root = publication({"content/a.md": article("A"), "content/b.md": article("B", slug="bee")})
    found, _ = pipeline.load_publication(root, NOW)
    assert found is not None
    links = pipeline._Links(found)
    sent = pickle.loads(pickle.dumps(links))
    assert dict(sent) == dict(links.map) and len(sent) == 2
    assert sent.get(root.resolve() / "content/b.md") == found.urls["bee"]


def test_a_static_file_linked_from_outside_is_refused(
    publication: MakePublication, tmp_path: Path
) -> None:
    (tmp_path / "passwd").write_text("root:x:0:0\n")
    root = publication({"content/a.md": article(), "static/ok.txt": "fine\n"})
    (root / "static/passwd").symlink_to(tmp_path / "passwd")
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 1
    assert "passwd: error: a symbolic link to outside the publication" in result.output
    assert not (root / "feeds").exists()


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = publication({"content/a.md": article()})

    def broken(*args: object, **kwargs: object) -> object:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(pipeline, "build", broken)
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 1
    assert result.output.startswith("syndicate: unexpected ZeroDivisionError: division by zero")
    assert "Traceback" not in result.output
    debugged = CliRunner().invoke(main, ["--debug", "-C", str(root), "build"])
    assert isinstance(debugged.exception, ZeroDivisionError)


def test_exit_codes(publication: MakePublication) -> None:
    """0 done, 1 problems in the config or the content, 2 usage, 3 delivery."""
    runner = CliRunner()
    good = publication({"content/a.md": article()})
    assert runner.invoke(main, ["-C", str(good), "check"]).exit_code == 0
    assert runner.invoke(main, ["-C", str(good), "chekc"]).exit_code == 2
    (good / "content/bad.md").write_text("---\ntitle: x\n---\n")
    assert runner.invoke(main, ["-C", str(good), "check"]).exit_code == 1
    (good / "content/bad.md").unlink()
    config = SITE + (
        '\n[email]\nfrom = "T <t@example.org>"\n'
        'unsubscribe_url = "https://news.example.org/u?e={email}&t={token}"\n'
        'subscribers = "list.csv"\n[email.smtp]\nhost = "127.0.0.1"\nport = 9\n'
        'security = "none"\ntimeout = 1\n'
    )
    (good / "syndicate.toml").write_text(config)
    (good / "list.csv").write_text("email,status\na@example.org,subscribed\n")
    # No SYNDICATE_SECRET: delivery refuses, before any connection.
    result = runner.invoke(main, ["-C", str(good), "publish"])
    assert result.exit_code == 3, result.output
    assert "SYNDICATE_SECRET is not set" in result.output


def test_a_build_refuses_while_a_publish_holds_the_lock(publication: MakePublication) -> None:
    root = publication({"content/a.md": article()})
    with publication_lock(root.resolve()):
        result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 3
    assert "another syndicate publish is running" in result.output
    assert not (root / "feeds").exists()


def test_secrets_never_appear_in_output(publication: MakePublication) -> None:
    root = publication({"content/a.md": article()})
    env = {
        "SYNDICATE_SECRET": SECRET,
        "SYNDICATE_SMTP_PASSWORD": SMTP_PASSWORD,
    }
    result = CliRunner().invoke(main, ["-C", str(root), "publish"], env=env)
    assert result.exit_code == 0, result.output
    written = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())
    for value in env.values():
        assert value not in result.output
        assert value.encode() not in written


@contextmanager
def at_most(seconds: int) -> Iterator[None]:
    """Fail, rather than hang the suite, when the block runs past *seconds* (a bound on a
    hang, far above the real time: not a speed test)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


LAUGHS = "\n".join(
    ["---", "title: Laughs", "date: 2025-01-01", 'a: &a ["lol","lol","lol","lol","lol"]']
    + [
        f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)},*{chr(97 + n)},*{chr(97 + n)}]"
        for n in range(9)
    ]
    + ["categories: *j", "---", "Body"]
)


def test_yaml_aliases_that_expand_exponentially_are_refused_quickly(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": LAUGHS})
    with at_most(20):
        problems = [d.format(relative_to=root) for d in check(root, NOW).diagnostics]
    assert "content/a.md:14: error: categories: each category must be text, not a list" in problems


HOSTILE_BODIES = {
    "nested-quotes": "> " * 250_000 + "deep",
    "100k-list": "\n".join(f"- item {n}" for n in range(100_000)),
    "1MB-line": "x" * 1_000_000,
    "nested-links": "[" * 50_000 + "a" + "](b)" * 50_000,
    "nested-emphasis": "*" * 250_000 + "a" + "*" * 250_000,
    "nested-strong": "**" * 120_000 + "a" + "**" * 120_000,
    "nested-lists": "- " * 250_000 + "deep",
    "unclosed-divs": "<div>" * 100_000 + "deep",
    "misnested-html": "<b><i><p>" * 50_000,
    "table-columns": "x|" * 3000 + "\n" + "-|" * 3000 + "\n" + "x|\n" * 3000,
    "links-to-articles": " ".join(f"[a](p{n}.md)" for n in range(50_000)),
}


@pytest.mark.parametrize("body", HOSTILE_BODIES.values(), ids=HOSTILE_BODIES.keys())
def test_hostile_markdown_renders_without_hanging(publication: MakePublication, body: str) -> None:
    root = publication({"content/a.md": article(body=body)})
    with at_most(60):
        report = build(root, NOW)
    assert report.published == 1
    # Linear in what is written: no shape makes the page much larger than its text.
    page = (root / "feeds/posts/a/index.html").stat().st_size
    assert page < 20 * len(body) + 100_000


def test_five_megabytes_of_every_hostile_shape_build_in_one_go(
    publication: MakePublication,
) -> None:
    body = "\n\n".join(HOSTILE_BODIES.values())[:4_900_000]
    root = publication({"content/a.md": article(body=body)})
    with at_most(120):
        report = build(root, NOW)
    assert report.published == 1


@pytest.mark.parametrize(
    "field",
    [
        {"title": "x" * 1_000_000},
        {"title": "字" * 300_000},
        {"title": " ".join(["word"] * 200_000)},
        {"title": "T", "author": "y" * 1_000_000},
        {"title": "T", "author": "[" + ", ".join(f"a{n}" for n in range(100_000)) + "]"},
        {"title": "T", "summary": "z" * 1_000_000},
    ],
    ids=["title-without-spaces", "cjk-title", "title-of-words", "author", "authors", "summary"],
)
def test_a_front_matter_field_of_megabytes_builds_without_hanging(
    publication: MakePublication, field: dict[str, str]
) -> None:
    fields = dict(field)
    root = publication({"content/a.md": article(fields.pop("title"), **fields)})
    with at_most(60):
        report = build(root, NOW)
    assert report.published == 1 and report.cards == 1

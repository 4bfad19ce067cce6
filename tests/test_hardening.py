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
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import NOW, SITE, MakePublication, article
from leaks import SECRET, SMTP_PASSWORD
from syndicate import bodies, engine, pipeline
from syndicate.cache import BuildCache
from syndicate.cli import main
from syndicate.config import load_config
from syndicate.content import MAX_ALIAS_CHARACTERS, MAX_ALIAS_VALUES, read_article
from syndicate.delivery.lock import publication_lock
from syndicate.errors import ContentError
from syndicate.pipeline import build, check


def test_an_article_linked_from_outside_the_content_folder_is_refused(
    publication: MakePublication, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text(article("Secret", body="The private notes."))
    root = publication({"content/a.md": article(), "drafts/notes.md": article("Notes")})
    (root / "content/leak.md").symlink_to(secret)
    (root / "content/folder").symlink_to(tmp_path, target_is_directory=True)
    # Inside the publication, but not an article: a draft kept elsewhere, git-ignored.
    (root / "content/notes.md").symlink_to(root / "drafts/notes.md")
    problems = [d.format(relative_to=root) for d in check(root, NOW).diagnostics]
    assert problems == [
        f"content/{name}: error: a symbolic link to outside the content folder; copy the file in"
        for name in ("folder", "leak.md", "notes.md")
    ]


def test_a_link_inside_the_content_folder_is_fine(publication: MakePublication) -> None:
    root = publication({"content/a.md": article(), "content/_drafts/b.md": article("B")})
    (root / "content/b.md").symlink_to(root / "content/_drafts/b.md")
    assert check(root, NOW).published == 2


def test_a_markdown_link_through_a_symbolic_link_reaches_the_article(
    publication: MakePublication,
) -> None:
    # b.md is a link to _drafts/b.md: a link to either file is a link to the article.
    root = publication(
        {
            "content/a.md": article("A", "2025-01-02", body="See [b](b.md) and [b](_drafts/b.md)."),
            "content/_drafts/b.md": article("B", "2025-01-01", slug="bee"),
        }
    )
    (root / "content/b.md").symlink_to(root / "content/_drafts/b.md")
    build(root, NOW)
    items = json.loads((root / "feeds/feed.json").read_bytes())["items"]
    a = next(item for item in items if item["title"] == "A")
    bee = next(item["url"] for item in items if item["title"] == "B")
    assert a["content_html"].count(f'href="{bee}"') == 2


def test_the_workers_are_given_the_link_map_as_plain_data(
    publication: MakePublication,
) -> None:
    # What rendering the bodies needs goes to the workers as it is (pickled where they do
    # not share this process's memory): the map made here, no lazy object of its own.
    root = publication({"content/a.md": article("A"), "content/b.md": article("B", slug="bee")})
    found, _ = pipeline.load_publication(root, NOW)
    assert found is not None
    context = engine.Bodies(found, BuildCache.disabled()).context()
    assert type(context.links) is bodies._ByPath and len(context.links) == 2
    sent = pickle.loads(pickle.dumps(context))
    assert sent.links == context.links
    assert sent.links.get(root.resolve() / "content/b.md") == found.urls["bee"]


def test_a_static_file_linked_from_outside_is_refused(
    publication: MakePublication, tmp_path: Path
) -> None:
    (tmp_path / "passwd").write_text("root:x:0:0\n")
    root = publication({"content/a.md": article(), "static/ok.txt": "fine\n"})
    (root / "static/passwd").symlink_to(tmp_path / "passwd")
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 1
    assert "passwd: error: a symbolic link to outside the static folder" in result.output
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


def chain(key: str, fan_out: int = 9, levels: int = 6, text: str = "lol") -> str:
    """A front matter whose *key* holds YAML aliases, each level repeating the last
    *fan_out* times (a "billion laughs"), all on the key's own line (4)."""
    anchors = [f'&a0 ["{text}", "{text}", "{text}", "{text}", "{text}"]']
    anchors += [f"&a{n} [{', '.join([f'*a{n - 1}'] * fan_out)}]" for n in range(1, levels + 1)]
    return "\n".join(["---", "title: T", "date: 2025-01-01", f"{key}: [{', '.join(anchors)}]"])


def front_matter(*lines: str) -> str:
    return "\n".join(["---", "title: T", "date: 2025-01-01", *lines, "---", "Body", ""])


TOO_MANY = (
    "YAML aliases repeat more than 10,000 values or 1,000,000 characters; write the values out"
)
MERGES = front_matter(
    "a: &a {x0: 1, x1: 2, x2: 3, x3: 4}",
    *(
        f"{chr(98 + n)}: &{chr(98 + n)} {{<<: [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]}}"
        for n in range(9)
    ),
)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (chain("categories") + "\n---\nBody\n", f"4: error: categories: {TOO_MANY}"),
        (chain("summary") + "\n---\nBody\n", f"4: error: summary: {TOO_MANY}"),
        (chain("authors") + "\n---\nBody\n", f"4: error: authors: {TOO_MANY}"),
        (chain("notes") + "\n---\nBody\n", f"4: error: notes: {TOO_MANY}"),
        (chain("notes", 3, 2, "x" * 200_000) + "\n---\nBody\n", f"4: error: notes: {TOO_MANY}"),
        (MERGES, f"10: error: g: {TOO_MANY}"),
        (
            front_matter("notes: &a [1, *a]"),
            "4: error: notes: a YAML alias is used inside its own anchor",
        ),
    ],
    ids=["known-key", "summary", "authors", "unknown-key", "long-text", "merge-keys", "recursive"],
)
def test_yaml_aliases_cannot_expand_past_a_fixed_size_for_check_or_build(
    publication: MakePublication, text: str, problem: str
) -> None:
    root = publication({"content/a.md": text})
    with at_most(20):
        checked = [d.format(relative_to=root) for d in check(root, NOW).diagnostics]
        with pytest.raises(ContentError) as refused:
            build(root, NOW)
    built = [d.format(relative_to=root) for d in refused.value.diagnostics]
    assert checked == built == [f"content/a.md:{problem}"]
    assert not (root / "feeds").exists()


def test_a_yaml_alias_used_a_few_times_is_fine(publication: MakePublication) -> None:
    text = front_matter("author: &who Ana", "reviewer: *who", "tags: &t [a, b]", "topics: *t")
    root = publication({"content/a.md": text})
    assert check(root, NOW).published == 1


@settings(max_examples=150, deadline=None)
@given(
    count=st.integers(1, 20),
    length=st.integers(0, 3000),
    fan_out=st.integers(1, 12),
    levels=st.integers(0, 7),
)
def test_a_front_matter_is_refused_exactly_when_its_aliases_repeat_past_the_bound(
    count: int, length: int, fan_out: int, levels: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A model of what the aliases add: the nodes and text reached again through them.
    values, characters = 1 + count, count * length  # the first anchor: a list of texts
    added_values = added_characters = 0
    expanded = [(values, characters)]
    for _ in range(levels):
        values, characters = 1 + fan_out * values, fan_out * characters
        expanded.append((values, characters))
        added_values += values - 1
        added_characters += characters
    written = ", ".join([f'"{"x" * length}"'] * count)
    anchors = [f"&a0 [{written}]"]
    anchors += [f"&a{n} [{', '.join([f'*a{n - 1}'] * fan_out)}]" for n in range(1, levels + 1)]
    root = tmp_path_factory.mktemp("pub")
    (root / "content").mkdir()
    (root / "syndicate.toml").write_text(SITE)
    (root / "content/a.md").write_text(front_matter(f"notes: [{', '.join(anchors)}]"))
    with at_most(20):
        found, problems = read_article(root / "content/a.md", load_config(root))
    refused = added_values > MAX_ALIAS_VALUES or added_characters > MAX_ALIAS_CHARACTERS
    assert (found is None) == refused
    if refused:
        assert [d.format(relative_to=root) for d in problems] == [
            f"content/a.md:4: error: notes: {TOO_MANY}"
        ]


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

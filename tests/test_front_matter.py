"""Articles from other tools: TOML front matter (Hugo), every way of saying "not
published", the headers syndicate does not read, the report of what was left out, and
text read in one Unicode form (NFC).
"""

from __future__ import annotations

import json
import sys
import tempfile
import unicodedata
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import NOW, SITE, MakePublication, article, tree
from leaks import SECRET
from syndicate import pipeline
from syndicate.cli import main
from syndicate.config import load_config
from syndicate.content import Article, load_articles, read_body
from syndicate.errors import ContentError
from syndicate.nfc import nfc
from test_hardening import at_most

FORMATS = 'syndicate reads front matter between "---" lines (YAML) or "+++" lines (TOML)'


def loaded(root: Path) -> tuple[list[Article], list[str]]:
    articles, diagnostics = load_articles(load_config(root))
    return articles, [d.format(relative_to=root) for d in diagnostics]


def toml(*lines: str, body: str = "Body text.") -> str:
    return "\n".join(["+++", *lines, "+++", "", body, ""])


# --- TOML front matter -------------------------------------------------------------------

SAME_ARTICLE = {
    "yaml": article(
        "Café & co",
        "2025-10-05T09:30:00+07:00",
        updated="2025-10-06",
        authors="[Ann, Bo]",
        categories="[AI, Web]",
        summary='"In short."',
        mood="sunny",
    ),
    "toml": toml(
        'title = "Café & co"',
        "date = 2025-10-05T09:30:00+07:00",
        "updated = 2025-10-06",
        'authors = ["Ann", "Bo"]',
        'categories = ["AI", "Web"]',
        'summary = "In short."',
        'mood = "sunny"',
    ),
}


def test_toml_front_matter_reads_as_the_same_yaml_does(publication: MakePublication) -> None:
    root = publication({f"content/{name}.md": text for name, text in SAME_ARTICLE.items()})
    articles, diagnostics = loaded(root)
    assert diagnostics == [
        f'content/{name}.md:8: warning: unknown front-matter key "mood" (kept, not published)'
        for name in ("toml", "yaml")
    ]
    toml_, yaml = sorted(articles, key=lambda a: a.slug)
    for field in ("title", "authors", "categories", "summary", "draft", "lines", "extra"):
        assert getattr(yaml, field) == getattr(toml_, field), field
    assert read_body(yaml) == read_body(toml_)
    for field in ("date", "updated"):  # the same moment, in the same zone
        assert getattr(yaml, field).isoformat() == getattr(toml_, field).isoformat(), field
    assert toml_.date.isoformat() == "2025-10-05T09:30:00+07:00"
    assert toml_.updated.isoformat() == "2025-10-06T00:00:00+00:00"  # [site] timezone


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2025-08-18", "2025-08-18T00:00:00+07:00"),
        ("2025-07-01T08:00:00", "2025-07-01T08:00:00+07:00"),
        ("2025-07-01 08:00:00", "2025-07-01T08:00:00+07:00"),
        ("2025-08-18T18:39:54.073Z", "2025-08-18T18:39:54.073000+00:00"),
        ("2025-10-05T09:30:00-03:00", "2025-10-05T09:30:00-03:00"),
        ('"2025-07-01 08:00"', "2025-07-01T08:00:00+07:00"),
    ],
)
def test_toml_dates_are_read_as_yaml_dates_are(
    publication: MakePublication, written: str, expected: str
) -> None:
    config = SITE + 'timezone = "Asia/Jakarta"\n'
    root = publication({"content/a.md": toml('title = "A"', f"date = {written}")}, config)
    [found], diagnostics = loaded(root)
    assert diagnostics == []
    assert found.date.isoformat() == expected


@pytest.mark.parametrize(
    ("yaml", "toml_", "problem"),
    [
        (
            ["date: next tuesday"],
            ['date = "next tuesday"'],
            '3: error: date: cannot read "next tuesday" as a date (use ISO 8601: 2025-08-18 '
            "or 2025-08-18T09:30:00+07:00)",
        ),
        (
            ["date: 09:30:00"],
            ["date = 09:30:00"],
            '3: error: date: cannot read "09:30:00" as a date (use ISO 8601: 2025-08-18 '
            "or 2025-08-18T09:30:00+07:00)",
        ),
        (
            ["date: 2025-01-01", "categories: [{a: 1}]"],
            ["date = 2025-01-01", "categories = [{a = 1}]"],
            "4: error: categories: each category must be text, not a mapping",
        ),
        (
            ["date: 2025-01-01", "draft: maybe"],
            ["date = 2025-01-01", 'draft = "maybe"'],
            '4: error: draft: must be true or false, not "maybe"',
        ),
        (
            ["date: 2025-01-01", "image: ../../etc/passwd"],
            ["date = 2025-01-01", 'image = "../../etc/passwd"'],
            '4: error: image: "../../etc/passwd" must stay inside the site (no "..")',
        ),
    ],
    ids=["date", "time", "category", "draft", "image"],
)
def test_toml_gets_the_diagnostics_yaml_gets_on_the_same_lines(
    publication: MakePublication, yaml: list[str], toml_: list[str], problem: str
) -> None:
    written = "\n".join(["---", "title: T", *yaml, "---", "", "Body.", ""])
    root = publication({"content/y.md": written, "content/t.md": toml('title = "T"', *toml_)})
    _, diagnostics = loaded(root)
    assert sorted(diagnostics) == [f"content/t.md:{problem}", f"content/y.md:{problem}"]


def test_a_toml_table_is_a_key_on_its_header_line(publication: MakePublication) -> None:
    text = toml(
        'title = "T"',
        "date = 2025-01-01",
        'summary = """',
        'mood = "not a key: inside a string"',
        '"""',
        "",
        "[params]",
        'mood = "a key of params"',
    )
    [found], diagnostics = loaded(publication({"content/a.md": text}))
    assert found.summary == 'mood = "not a key: inside a string"'
    assert dict(found.extra) == {"params": {"mood": "a key of params"}}
    assert diagnostics == [
        'content/a.md:8: warning: unknown front-matter key "params" (kept, not published)'
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            toml('title = "T"', "date 2025-01-01"),
            "3: error: front matter is not valid TOML: expected '=' after a key in a key/value "
            "pair",
        ),
        (
            toml('title = "T"', "date = 2025-01-01", 'title = "U"'),
            "4: error: front matter is not valid TOML: cannot overwrite a value",
        ),
        (
            toml('title = "T', "date = 2025-01-01"),
            "2: error: front matter is not valid TOML: illegal character '\\n'",
        ),
        (
            "+++\ntitle = 'T'\ndate = 2025-01-01\n\nBody.\n",
            f'1: error: front matter is not closed by a "+++" line; {FORMATS}',
        ),
    ],
    ids=["no-equals", "repeated-key", "open-string", "not-closed"],
)
def test_invalid_toml_is_an_error_on_its_line(
    publication: MakePublication, text: str, problem: str
) -> None:
    root = publication({"content/a.md": text})
    assert [d.format(relative_to=root) for d in pipeline.check(root, NOW).diagnostics] == [
        f"content/a.md:{problem}"
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("a" + ".a" * 2_000_000 + " = 1", "front matter has a key of more than 32 parts"),
        ("[" + "a." * 2_000_000 + "a]", "front matter has a key of more than 32 parts"),
        (
            "a = " + "[" * 1_000_000 + "]" * 1_000_000,
            "front matter nests arrays or tables more than 32 deep",
        ),
        (
            "a = " + "{b = " * 400_000 + "1" + "}" * 400_000,
            "front matter nests arrays or tables more than 32 deep",
        ),
    ],
    ids=["dotted-key", "table-name", "nested-arrays", "nested-tables"],
)
def test_toml_shapes_that_would_hang_or_overflow_are_refused_for_check_and_build(
    publication: MakePublication, line: str, problem: str
) -> None:
    root = publication({"content/a.md": toml('title = "T"', "date = 2025-01-01", line)})
    with at_most(20):
        checked = [d.format(relative_to=root) for d in pipeline.check(root, NOW).diagnostics]
        with pytest.raises(ContentError) as refused:
            pipeline.build(root, NOW)
    built = [d.format(relative_to=root) for d in refused.value.diagnostics]
    assert checked == built == [f"content/a.md:4: error: {problem}"]


HOSTILE_TOML = {
    "tables": "".join(f"[t{n}]\nk = 1\n" for n in range(50_000)),
    "table-arrays": "[[x]]\n[[x.y]]\n" * 50_000,
    "dotted-keys": "".join(f"k{n}" + ".a" * 30 + " = 1\n" for n in range(5_000)),
    "array": "a = [" + "1.5," * 250_000 + "]\n",
    "long-string": 'a = "' + "x\\u00e9" * 500_000 + '"\n',
    "multi-line-string": 'a = """' + 'x""\n' * 500_000 + '"""\n',
    "comments": "#" + "x" * 4_000_000 + "\n",
}


@pytest.mark.parametrize("block", HOSTILE_TOML.values(), ids=HOSTILE_TOML.keys())
def test_megabytes_of_toml_front_matter_check_without_hanging(
    publication: MakePublication, block: str
) -> None:
    root = publication({"content/a.md": toml('title = "T"', "date = 2025-01-01", block)})
    with at_most(60):
        report = pipeline.check(root, NOW)
    assert report.errors == 0 and report.published == 1


def run(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str, code: int = 0) -> Result:
    """``syndicate ARGS`` run in *root*, so that paths show as ``content/x.md``."""
    monkeypatch.chdir(root)
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result


# --- what is not read --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "Title: My post\nDate: 2025-01-01\n\nBody.\n",
            'no front matter: "Key: value" lines without "---" lines (Pelican\'s headers) are '
            f"not read; {FORMATS}",
        ),
        (
            '{\n  "title": "T",\n  "date": "2025-01-01"\n}\n\nBody.\n',
            f"JSON front matter is not read; {FORMATS}: put the JSON object between two "
            '"---" lines (JSON is YAML)',
        ),
        (
            "# Just Markdown\n",
            f"no front matter: an article starts with its front matter; {FORMATS}",
        ),
        (
            "---\ntitle: Open\ndate: 2025-01-01\n\nBody.\n",
            f'front matter is not closed by a "---" line; {FORMATS}',
        ),
    ],
    ids=["pelican", "json", "none", "yaml-not-closed"],
)
def test_a_header_syndicate_does_not_read_is_an_error_naming_what_it_reads(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch, text: str, problem: str
) -> None:
    root = publication({"content/a.md": text})
    result = run(root, monkeypatch, "check", code=1)
    assert result.stderr.splitlines()[0] == f"content/a.md:1: error: {problem}"


def test_json_front_matter_is_read_once_it_is_put_between_yaml_lines_as_the_error_advises(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = '{\n  "title": "T",\n  "date": "2025-01-01",\n  "mood": 1\n}\n\nBody.\n'
    root = publication({"content/a.md": bare})
    advice = run(root, monkeypatch, "check", code=1).stderr.splitlines()[0]
    assert advice.endswith('put the JSON object between two "---" lines (JSON is YAML)')
    (root / "content/a.md").write_text("---\n" + bare.replace("}\n", "}\n---\n", 1))
    [found], diagnostics = loaded(root)
    assert found.title == "T"
    assert diagnostics == [
        'content/a.md:5: warning: unknown front-matter key "mood" (kept, not published)'
    ]


# --- drafts ------------------------------------------------------------------------------

KEEP_OUT = {
    "draft: true": "draft: true",
    "draft: yes": "draft: true",
    "draft: On": "draft: true",
    "draft: TRUE": "draft: true",
    'draft: "true"': "draft: true",
    "Draft: true": "Draft: true",
    "status: draft": "status: draft",
    "status: Private": "status: private",
    "status: pending": "status: pending",
    "STATUS: draft": "STATUS: draft",
    "published: false": "published: false",
    "published: no": "published: false",
    "draft = true": "draft: true",
    'status = "draft"': "status: draft",
    "published = false": "published: false",
}


@pytest.mark.parametrize(("marker", "reason"), KEEP_OUT.items(), ids=KEEP_OUT.keys())
def test_every_way_of_saying_draft_keeps_the_article_out(
    publication: MakePublication, marker: str, reason: str
) -> None:
    text = (
        toml('title = "D"', "date = 2025-01-01", marker)
        if " = " in marker
        else "\n".join(["---", "title: D", "date: 2025-01-01", marker, "---", "", "Body.", ""])
    )
    root = publication({"content/d.md": text, "content/p.md": article("P")})
    report = pipeline.check(root, NOW)
    assert report.diagnostics == ()
    assert report.published == 1
    assert [item.format(relative_to=root) for item in report.left_out] == [
        f"content/d.md: draft ({reason})"
    ]


PUBLISH = [
    "draft: false",
    "draft: no",
    "draft: Off",
    "status: published",
    "status: publish",
    "status: Scheduled",
    "status: future",
    "published: true",
    "published: yes",
]


@pytest.mark.parametrize("marker", PUBLISH)
def test_a_marker_that_says_publish_publishes_at_the_articles_date(
    publication: MakePublication, marker: str
) -> None:
    later = NOW.replace(year=2026, month=2).isoformat()
    root = publication(
        {
            "content/now.md": "\n".join(["---", "title: Now", "date: 2025-01-01", marker, "---"]),
            "content/later.md": "\n".join(["---", "title: Later", f"date: {later}", marker, "---"]),
        }
    )
    report = pipeline.check(root, NOW)
    assert report.diagnostics == ()
    assert report.published == 1
    assert [item.reason for item in report.left_out] == ["future"]


@pytest.mark.parametrize(
    ("marker", "problem"),
    [
        (
            "status: drat",
            'status: "drat" is not a status syndicate knows: draft, private and pending keep an '
            "article out; published, publish, scheduled and future publish it at its date",
        ),
        (
            "status: 1",
            "status: the number 1 is not a status syndicate knows: draft, private and pending "
            "keep an article out; published, publish, scheduled and future publish it at its date",
        ),
        (
            "status:",
            "status: an empty value is not a status syndicate knows: draft, private and pending "
            "keep an article out; published, publish, scheduled and future publish it at its date",
        ),
        ("published: 2025-01-01", 'published: must be true or false, not "2025-01-01"'),
        ("published: 0", "published: must be true or false, not the number 0"),
    ],
)
def test_a_marker_that_says_neither_is_an_error_and_nothing_is_written(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch, marker: str, problem: str
) -> None:
    text = "\n".join(["---", "title: D", "date: 2025-01-01", marker, "---", "", "Body.", ""])
    root = publication({"content/d.md": text, "content/p.md": article("P")})
    result = run(root, monkeypatch, "build", code=1)
    assert result.stderr.splitlines()[0] == f"content/d.md:4: error: {problem}"
    assert not (root / "feeds").exists()


@pytest.mark.parametrize(
    ("markers", "warning"),
    [
        (
            ["draft: false", "status: draft"],
            "4: warning: draft: false disagrees with status: draft (line 5); the article stays "
            "a draft",
        ),
        (
            ["status: published", "published: false"],
            "4: warning: status: published disagrees with published: false (line 5); the article "
            "stays a draft",
        ),
    ],
)
def test_markers_that_disagree_keep_the_article_out_with_a_warning(
    publication: MakePublication, markers: list[str], warning: str
) -> None:
    text = "\n".join(["---", "title: D", "date: 2025-01-01", *markers, "---", "", "Body.", ""])
    root = publication({"content/d.md": text})
    report = pipeline.check(root, NOW)
    assert [d.format(relative_to=root) for d in report.diagnostics] == [f"content/d.md:{warning}"]
    assert report.published == 0 and report.left_out[0].detail == markers[1]


# --- what check and build say was left out ---------------------------------------------


def test_check_and_build_say_which_articles_were_left_out_and_why(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = publication(
        {
            "content/a.md": article("A"),
            "content/b.md": article("B", status="draft"),
            "content/c.md": article("C", "2999-03-01T09:30:00+07:00"),
            "content/d.md": article("D", "2999-02-01"),
            "content/e.md": toml('title = "E"', "date = 2025-01-01", "draft = true"),
        }
    )
    left = [
        "left out: 4 articles (2 drafts, 2 dated in the future)",
        "left out: content/d.md: future (2999-02-01 00:00+00:00)",
        "left out: content/c.md: future (2999-03-01 09:30+07:00)",
        "left out: content/b.md: draft (status: draft)",
        "left out: content/e.md: draft (draft: true)",
    ]
    checked = run(root, monkeypatch, "check").stdout.splitlines()
    assert checked == ["ok: 5 articles, 1 published; 0 errors, 0 warnings", *left]
    built = run(root, monkeypatch, "build").stdout.splitlines()
    assert built[0].startswith("1 article in 1 feeds: wrote ")
    assert built[1:6] == left


def left_out(result: Result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("left out:")]


def test_past_ten_the_left_out_are_counted_and_all_listed_when_asked(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    drafts = {f"content/d{n:02}.md": article(f"D{n}", draft="true") for n in range(12)}
    root = publication({"content/a.md": article("A"), **drafts})
    each = [f"left out: content/d{n:02}.md: draft (draft: true)" for n in range(12)]
    for command in ("check", "build"):
        shown = left_out(run(root, monkeypatch, command))
        assert shown == [
            "left out: 12 articles (12 drafts)",
            *each[:10],
            "left out: and 2 more (--all-left-out names them)",
        ]
        every = left_out(run(root, monkeypatch, command, "--all-left-out"))
        assert every == ["left out: 12 articles (12 drafts)", *each]


# --- no draft ever goes out, whatever its marker's spelling ------------------------------

NEWSLETTER = SITE + (
    '\n[email]\nfrom = "Test Times <news@example.org>"\n'
    'address = "1 Example Street, Springfield"\n'
    'unsubscribe_url = "https://news.example.org/unsubscribe?t={token}"\n'
    'subscribers = "subscribers.csv"\n'
)
SUBSCRIBERS = "email,name,status\nana@example.org,Ana,subscribed\n"


def spelt(word: str) -> st.SearchStrategy[str]:
    """*word* in any mix of cases."""
    return st.tuples(*(st.sampled_from(sorted({c.lower(), c.upper()})) for c in word)).map("".join)


def quoted(value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return value.flatmap(lambda v: st.sampled_from([v, f'"{v}"', f"'{v}'"]))


#: A marker that keeps an article out, as a line of YAML and of TOML.
YAML_MARKERS = st.one_of(
    st.tuples(spelt("draft"), quoted(st.sampled_from(["true", "yes", "on", "y"]).flatmap(spelt))),
    st.tuples(
        spelt("status"), quoted(st.sampled_from(["draft", "private", "pending"]).flatmap(spelt))
    ),
    st.tuples(
        spelt("published"), quoted(st.sampled_from(["false", "no", "off", "n"]).flatmap(spelt))
    ),
).map(lambda pair: f"{pair[0]}: {pair[1]}")
TOML_MARKERS = st.one_of(
    st.tuples(spelt("draft"), st.sampled_from(["true", '"yes"', '"On"'])),
    st.tuples(
        spelt("status"),
        st.sampled_from(["draft", "private", "pending"]).flatmap(spelt).map(json.dumps),
    ),
    st.tuples(spelt("published"), st.sampled_from(["false", '"no"', "'off'"])),
).map(lambda pair: f"{pair[0]} = {pair[1]}")
#: A marker that says "publish", in YAML and in TOML, which a draft's own marker overrides.
ALSO_PUBLISH = st.sampled_from(
    [
        ("", ""),
        ("draft: false", "draft = false"),
        ("status: published", 'status = "published"'),
        ("published: true", "published = true"),
    ]
)


def readable(message: EmailMessage) -> str:
    """Every header and text part of an email, decoded."""
    parts = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.get_content_maintype() == "text":
            parts.append(part.get_content())
    return "\n".join(parts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(["yaml", "toml"]),
    yaml_marker=YAML_MARKERS,
    toml_marker=TOML_MARKERS,
    also=ALSO_PUBLISH,
    future=st.booleans(),
)
def test_no_draft_reaches_feeds_pages_social_files_or_an_email(
    fmt: str, yaml_marker: str, toml_marker: str, also: tuple[str, str], future: bool
) -> None:
    date = "2026-06-01" if future else "2025-12-01"
    if fmt == "yaml":
        head = ["---", "title: Zanzibar secret", f"date: {date}", yaml_marker]
        head += [also[0]] if also[0] and also[0].split(":")[0] != yaml_marker.split(":")[0] else []
        head += ["categories: [Hidden topic]", "slug: zanzibar-secret", "---"]
    else:
        head = ["+++", 'title = "Zanzibar secret"', f"date = {date}", toml_marker]
        head += [also[1]] if also[1] and also[1].split(" ")[0] != toml_marker.split(" ")[0] else []
        head += ['categories = ["Hidden topic"]', 'slug = "zanzibar-secret"', "+++"]
    draft = "\n".join([*head, "", "Quokka paragraph of the draft.", ""])
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "content").mkdir()
        (root / "syndicate.toml").write_text(NEWSLETTER)
        (root / "subscribers.csv").write_text(SUBSCRIBERS)
        (root / "content/open.md").write_text(
            article("Open letter", "2025-11-01", categories="Open")
        )
        (root / "content/secret.md").write_text(draft)
        report, delivery = pipeline.publish(root, NOW, environ={"SYNDICATE_SECRET": SECRET})
        assert report.errors == 0 and report.published == 1
        assert [item.reason for item in report.left_out] == ["draft"]
        assert [outcome.sent for outcome in delivery.outcomes] == [1]
        written = tree(root / "feeds")
        emails = [
            readable(message_from_bytes(data, policy=policy.default))  # type: ignore[arg-type]
            for name, data in tree(root / "outbox").items()
            if name.endswith(".eml")
        ]
    assert emails and all("Open letter" in email for email in emails)
    assert not [name for name in written if "zanzibar" in name or "hidden" in name]
    for name, data in written.items():
        text = data.decode("utf-8", "replace") if not name.endswith(".png") else ""
        for secret in ("Zanzibar", "zanzibar", "Quokka", "Hidden topic"):
            assert secret not in text, name
    for email in emails:
        for secret in ("Zanzibar", "zanzibar", "Quokka", "Hidden topic"):
            assert secret not in email


# --- text in one Unicode form ------------------------------------------------------------


def accented(form: str) -> dict[str, str]:
    """Articles with accents wherever front matter and body have text, in the Unicode
    normalization *form* ("NFC": "é" is one character; "NFD": "e" and an accent)."""

    def spelt(text: str) -> str:
        return unicodedata.normalize(form, text)

    return {
        "content/crème.md": "\n".join(
            [
                "---",
                f"title: {spelt('Crème brûlée à Orléans')}",
                "date: 2025-05-01",
                f"author: {spelt('Zoë Léa')}",
                f"categories: [{spelt('Pâtisserie')}, {spelt('Café')}]",
                f"summary: {spelt('Déjà vu, naïvement.')}",
                "---",
                "",
                spelt("Une crème brûlée, s'il vous plaît. Voilà, *très* bien."),
                "",
            ]
        ),
        "content/noir.md": article(spelt("Café noir"), "2025-04-01", categories=spelt("café")),
    }


def published_tree(root: Path) -> dict[str, bytes]:
    """What a publish leaves in feeds/ and the state file."""
    pipeline.publish(root, NOW, environ={"SYNDICATE_SECRET": SECRET})
    return {**tree(root / "feeds"), "state": (root / ".syndicate/state.json").read_bytes()}


def test_composed_and_decomposed_accents_give_the_same_output(tmp_path: Path) -> None:
    made = {}
    for form in ("NFC", "NFD"):
        root = tmp_path / form
        for name, text in {
            "syndicate.toml": NEWSLETTER,
            "subscribers.csv": SUBSCRIBERS,
            **accented(form),
        }.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
        made[form] = published_tree(root)
    assert made["NFD"].keys() == made["NFC"].keys()
    assert [name for name in made["NFC"] if made["NFD"][name] != made["NFC"][name]] == []
    # One category for "Café" and "café", whichever way they were typed.
    folders = {name.split("/")[1] for name in made["NFC"] if name.startswith("categories/")}
    assert sorted(folders) == ["cafe", "patisserie"]
    feed = json.loads(made["NFC"]["feed.json"])
    assert feed["items"][0]["title"] == "Crème brûlée à Orléans"
    assert unicodedata.is_normalized("NFC", feed["items"][0]["content_html"])


def test_an_id_in_the_front_matter_is_kept_as_written(publication: MakePublication) -> None:
    # Readers know the entry by these very characters: normalising them would make a new entry.
    written = "urn:x:cafe\u0301"
    root = publication({"content/a.md": article("Cafe\u0301", id=f'"{written}"')})
    pipeline.build(root, NOW)
    [item] = json.loads((root / "feeds/feed.json").read_bytes())["items"]
    assert item["id"] == written and item["title"] == "Café"


def test_an_article_moved_keeps_the_id_recorded_with_its_title_decomposed(
    publication: MakePublication,
) -> None:
    title = unicodedata.normalize("NFD", "Crème brûlée")
    root = publication({"content/old-name.md": article(title, "2025-03-01")})
    pipeline.build(root, NOW)
    state = root / ".syndicate/state.json"
    # As a syndicate that kept text as written recorded it.
    recorded = json.loads(state.read_bytes())
    recorded["articles"][0]["title"] = title
    state.write_text(json.dumps(recorded, ensure_ascii=False), encoding="utf-8")
    (root / "content/old-name.md").rename(root / "content/new-name.md")
    report = pipeline.build(root, NOW)
    assert report.article_ids == {"new-name": "tag:news.example.org,2025-03-01:old-name"}


def test_megabytes_of_combining_marks_normalise_without_hanging(
    publication: MakePublication,
) -> None:
    # Marks in descending canonical order: unicodedata alone sorts such a run in time
    # growing with its square.
    marks = "a" + "\u0301" * 200_000 + "\u0316" * 200_000
    tibetan = "\u0f73" * 200_000  # one character, two marks once decomposed
    root = publication({"content/a.md": article("T" + marks[:100_001], body=marks + tibetan)})
    with at_most(60):
        report = pipeline.build(root, NOW)
    assert report.published == 1
    page = (root / "feeds/posts/a/index.html").read_text(encoding="utf-8")
    assert unicodedata.is_normalized("NFC", page)


def test_a_run_of_more_than_30_marks_of_any_kind_is_cut_as_stream_safe_text_is() -> None:
    # Every character normalising sorts among combining marks, as Unicode lists them.
    marks = [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if unicodedata.combining(chr(code))
        or unicodedata.combining(unicodedata.normalize("NFD", chr(code))[0])
    ]
    for mark in marks:
        assert nfc("a" + mark * 30) == unicodedata.normalize("NFC", "a" + mark * 30)
        long = nfc("a" + mark * 61)
        assert long.count("\u034f") == 2, f"U+{ord(mark):04X}"
        assert unicodedata.is_normalized("NFC", long)

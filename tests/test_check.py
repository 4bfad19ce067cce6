"""`syndicate check` (and a failing `build`): every problem, one line each, never a traceback.

Each test writes a small publication inline, runs the command from the publication's
folder (so paths print as ``content/x.md``) and states the exact line the user sees.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import SITE, MakePublication, article, tree
from syndicate.cli import main

Run = Callable[..., Result]

GOOD = article("Good", "2025-01-01")


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch) -> Run:
    """Run ``syndicate ARGS`` inside *root*; a traceback or a crash fails the test."""

    def invoke(root: Path, *args: str) -> Result:
        monkeypatch.chdir(root)
        result = CliRunner().invoke(main, list(args or ("check",)))
        assert "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        return result

    return invoke


def lines(result: Result) -> list[str]:
    return result.output.splitlines()


# --- one test per bad input: exit 1, the file, the line, what is wrong ------


def test_malformed_yaml_names_the_line_the_parser_stopped_at(
    publication: MakePublication, run: Run
) -> None:
    root = publication({"content/bad.md": article("Bad", "2025-01-01", author="Ann: Lee")})
    result = run(root)
    assert result.exit_code == 1
    assert (
        "content/bad.md:4: error: front matter is not valid YAML: "
        "mapping values are not allowed in this context"
    ) in lines(result)


def test_front_matter_that_is_not_a_mapping_is_an_error(
    publication: MakePublication, run: Run
) -> None:
    root = publication({"content/bad.md": "---\n- title\n- date\n---\n\nBody.\n"})
    result = run(root)
    assert result.exit_code == 1
    assert "content/bad.md:2: error: front matter must be keys and values, not a list" in lines(
        result
    )


def test_a_file_without_front_matter_is_an_error(publication: MakePublication, run: Run) -> None:
    root = publication({"content/bad.md": "# Just Markdown\n\nNo front matter.\n"})
    result = run(root)
    assert result.exit_code == 1
    assert any(
        line.startswith("content/bad.md:1: error: no front matter") for line in lines(result)
    )


def test_front_matter_never_closed_is_an_error(publication: MakePublication, run: Run) -> None:
    root = publication({"content/bad.md": "---\ntitle: Open\ndate: 2025-01-01\n\nBody.\n"})
    result = run(root)
    assert result.exit_code == 1
    assert (
        'content/bad.md:1: error: front matter is not closed by a "---" line; syndicate reads '
        'front matter between "---" lines (YAML) or "+++" lines (TOML)'
    ) in lines(result)


def test_missing_title_is_an_error(publication: MakePublication, run: Run) -> None:
    root = publication({"content/bad.md": "---\ndate: 2025-01-01\n---\n\nBody.\n"})
    result = run(root)
    assert result.exit_code == 1
    assert (
        "content/bad.md:1: error: title: missing or empty (every article needs a title)"
        in lines(result)
    )


def test_empty_title_is_an_error_on_its_line(publication: MakePublication, run: Run) -> None:
    root = publication({"content/bad.md": article('""', "2025-01-01")})
    result = run(root)
    assert result.exit_code == 1
    assert (
        "content/bad.md:2: error: title: missing or empty (every article needs a title)"
        in lines(result)
    )


def test_unparseable_date_is_an_error_on_its_line(publication: MakePublication, run: Run) -> None:
    root = publication({"content/bad.md": article("Bad", "next tuesday")})
    result = run(root)
    assert result.exit_code == 1
    assert any(
        line.startswith('content/bad.md:3: error: date: cannot read "next tuesday" as a date')
        for line in lines(result)
    )
    assert "ISO 8601" in result.output


def test_missing_date_is_an_error(publication: MakePublication, run: Run) -> None:
    root = publication({"content/bad.md": "---\ntitle: Undated\n---\n\nBody.\n"})
    result = run(root)
    assert result.exit_code == 1
    assert any(line.startswith("content/bad.md:1: error: date: missing") for line in lines(result))


def test_text_that_is_not_utf8_names_the_line_of_the_bad_byte(
    publication: MakePublication, run: Run
) -> None:
    latin1 = "---\ntitle: Café\ndate: 2025-01-01\n---\n\nBody.\n".encode("latin-1")
    root = publication({"content/bad.md": latin1})
    result = run(root)
    assert result.exit_code == 1
    assert "content/bad.md:2: error: not UTF-8 text (byte 0xe9); save the file as UTF-8" in lines(
        result
    )


def test_a_binary_file_is_an_error_about_the_whole_file(
    publication: MakePublication, run: Run
) -> None:
    root = publication({"content/bad.md": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"})
    result = run(root)
    assert result.exit_code == 1
    assert "content/bad.md:1: error: binary file, not Markdown text" in lines(result)


@pytest.mark.parametrize(
    "data", [b"", b"  \n\r\n\t\n", b"\xef\xbb\xbf"], ids=["0-bytes", "blank", "bom"]
)
def test_an_empty_file_is_an_error(publication: MakePublication, run: Run, data: bytes) -> None:
    root = publication({"content/bad.md": data})
    result = run(root)
    assert result.exit_code == 1
    assert "content/bad.md:1: error: empty file" in lines(result)


def test_an_article_over_max_bytes_is_an_error_with_the_limit(
    publication: MakePublication, run: Run
) -> None:
    text = article("Huge", "2025-01-01", "Body.")
    huge = text + "x" * (5_000_001 - len(text))
    root = publication({"content/big.md": huge})
    result = run(root)
    assert result.exit_code == 1
    assert (
        "content/big.md:1: error: file is 5,000,001 bytes, larger than the limit of 5,000,000 "
        "([content] max_bytes)"
    ) in lines(result)


def test_an_article_of_exactly_max_bytes_is_accepted(
    publication: MakePublication, run: Run
) -> None:
    text = article("Large", "2025-01-01", "Body.")
    root = publication({"content/big.md": text + "x" * (5_000_000 - len(text))})
    result = run(root)
    assert result.exit_code == 0, result.output


def test_max_bytes_comes_from_the_content_table(publication: MakePublication, run: Run) -> None:
    root = publication(
        {"content/a.md": article("Small", "2025-01-01")}, SITE + "\n[content]\nmax_bytes = 20\n"
    )
    result = run(root)
    assert result.exit_code == 1
    assert any(
        line.startswith("content/a.md:1: error: file is ")
        and line.endswith("larger than the limit of 20 ([content] max_bytes)")
        for line in lines(result)
    )


def test_a_duplicate_slug_names_both_files(publication: MakePublication, run: Run) -> None:
    root = publication(
        {
            "content/first.md": article("First", "2025-01-01", slug="launch"),
            "content/news/launch.md": article("Second", "2025-02-01"),
        }
    )
    result = run(root)
    assert result.exit_code == 1
    [problem] = [line for line in lines(result) if "error:" in line]
    assert problem.startswith('content/news/launch.md:1: error: slug: "launch" is also the slug of')
    assert "content/first.md" in problem


def test_a_slug_that_leaves_its_folder_is_an_error(publication: MakePublication, run: Run) -> None:
    root = publication({"content/bad.md": article("Escape", "2025-01-01", slug="../outside")})
    result = run(root)
    assert result.exit_code == 1
    assert any(
        line.startswith('content/bad.md:4: error: slug: "../outside" must not contain')
        for line in lines(result)
    )


def test_articles_in_sub_folders_are_checked(publication: MakePublication, run: Run) -> None:
    root = publication({"content/2025/deep/bad.md": article("Deep", "someday")})
    result = run(root)
    assert result.exit_code == 1
    assert any(
        line.startswith('content/2025/deep/bad.md:3: error: date: cannot read "someday"')
        for line in lines(result)
    )


# --- every problem at once -------------------------------------------------


def test_every_problem_of_every_article_is_listed_in_one_run(
    publication: MakePublication, run: Run
) -> None:
    root = publication(
        {
            "content/a-good.md": GOOD,
            "content/b-date.md": article("B", "31/12/2025"),
            "content/c-two.md": "---\ntitle: ''\ndate: soon\ndraft: maybe\n---\n\nBody.\n",
            "content/d-empty.md": "",
            "content/e-unknown.md": article("E", "2025-01-01", mood="sunny"),
        }
    )
    result = run(root)
    assert result.exit_code == 1
    output = lines(result)
    assert output[:-1] == [
        'content/b-date.md:3: error: date: cannot read "31/12/2025" as a date '
        "(use ISO 8601: 2025-08-18 or 2025-08-18T09:30:00+07:00)",
        "content/c-two.md:2: error: title: missing or empty (every article needs a title)",
        'content/c-two.md:3: error: date: cannot read "soon" as a date '
        "(use ISO 8601: 2025-08-18 or 2025-08-18T09:30:00+07:00)",
        'content/c-two.md:4: error: draft: must be true or false, not "maybe"',
        "content/d-empty.md:1: error: empty file",
        'content/e-unknown.md:4: warning: unknown front-matter key "mood" (kept, not published)',
    ]
    assert output[-1] == "5 errors, 1 warning"


def test_a_clean_publication_passes_with_a_summary_line(
    publication: MakePublication, run: Run
) -> None:
    root = publication(
        {
            "content/one.md": GOOD,
            "content/two.md": article("Two", "2025-02-01"),
            "content/later.md": article("Later", "2999-01-01"),
            "content/draft.md": article("Draft", "2025-01-01", draft="true"),
        }
    )
    result = run(root)
    assert result.exit_code == 0
    assert lines(result) == [
        "ok: 4 articles, 2 published; 0 errors, 0 warnings",
        "left out: 2 articles (1 draft, 1 dated in the future)",
        "left out: content/later.md: future (2999-01-01 00:00+00:00)",
        "left out: content/draft.md: draft (draft: true)",
    ]


# --- warnings --------------------------------------------------------------


def test_an_unknown_key_is_a_warning_that_does_not_fail(
    publication: MakePublication, run: Run
) -> None:
    root = publication({"content/a.md": article("A", "2025-01-01", mood="sunny")})
    result = run(root)
    assert result.exit_code == 0
    assert lines(result) == [
        'content/a.md:4: warning: unknown front-matter key "mood" (kept, not published)',
        "ok: 1 article, 1 published; 0 errors, 1 warning",
    ]


def test_strict_makes_a_warning_fail(publication: MakePublication, run: Run) -> None:
    root = publication({"content/a.md": article("A", "2025-01-01", mood="sunny")})
    result = run(root, "check", "--strict")
    assert result.exit_code == 1
    assert lines(result) == [
        'content/a.md:4: warning: unknown front-matter key "mood" (kept, not published)',
        "0 errors, 1 warning",
    ]


def test_strict_without_warnings_passes(publication: MakePublication, run: Run) -> None:
    root = publication({"content/a.md": GOOD})
    assert run(root, "check", "--strict").exit_code == 0


# --- syndicate.toml --------------------------------------------------------


def newsletter(unsubscribe_url: str) -> str:
    return (
        SITE.replace("news.example.org", "news.test-times.net")
        + '\n[email]\nfrom = "Test Times <news@test-times.net>"\n'
        + f'unsubscribe_url = "{unsubscribe_url}"\n'
    )


def test_an_unsubscribe_link_carrying_the_readers_address_is_a_warning_on_its_line(
    publication: MakePublication, run: Run
) -> None:
    """Such links keep working (they have been sent); the token alone is the advice."""
    root = publication(
        {"content/a.md": GOOD}, newsletter("https://test-times.net/u?email={email}&t={token}")
    )
    result = run(root)
    assert result.exit_code == 0
    assert lines(result)[:2] == [  # then what the first email will carry
        "syndicate.toml:9: warning: email.unsubscribe_url: {email} puts the reader's address "
        "in the link, where link scanners, browser histories and server logs keep it, and "
        "spam filters score it (SpamAssassin's GB_CUSTOM_HTM_URI); {token} alone tells an "
        "endpoint that holds the list who the reader is: "
        '"https://example.org/unsubscribe/{token}"',
        "ok: 1 article, 1 published; 0 errors, 1 warning",
    ]
    (root / "syndicate.toml").write_text(newsletter("https://test-times.net/unsubscribe/{token}"))
    assert run(root, "check", "--strict").exit_code == 0

NO_URL = """\
[site]
title = "Test Times"
author = "Site Author"
"""

TYPO = """\
[site]
title = "Test Times"
url = "https://news.example.org/"
titel = "Test Times"
"""

WRONG_TYPE = (
    SITE
    + """
[feeds]
limit = "ten"
"""
)

NOT_TOML = """\
[site]
title = "Test Times"
url = "https://news.example.org/
"""

BAD_ZONE = SITE + 'timezone = "Mars/Olympus_Mons"\n'


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (NO_URL, "syndicate.toml:1: error: site.url: missing (required)"),
        (TYPO, 'syndicate.toml:4: error: site.titel: unknown key (did you mean "title"?)'),
        (WRONG_TYPE, "syndicate.toml:8: error: feeds.limit: must be a whole number, not a string"),
        (
            BAD_ZONE,
            "syndicate.toml:6: error: site.timezone: must be an IANA time zone name such as "
            "UTC or Asia/Jakarta: 'Mars/Olympus_Mons'",
        ),
        (
            SITE + "\n[sites]\n",
            'syndicate.toml:7: error: [sites]: unknown table (did you mean "site"?)',
        ),
        ('title = "Test Times"\n', "syndicate.toml:1: error: [site]: missing (required)"),
    ],
    ids=["missing-url", "unknown-key", "wrong-type", "bad-timezone", "unknown-table", "no-site"],
)
def test_a_config_problem_names_the_file_the_line_and_the_key(
    publication: MakePublication, run: Run, config: str, expected: str
) -> None:
    root = publication({"content/a.md": GOOD}, config)
    result = run(root)
    assert result.exit_code == 1
    assert expected in lines(result)


def test_invalid_toml_names_its_line(publication: MakePublication, run: Run) -> None:
    root = publication({"content/a.md": GOOD}, NOT_TOML)
    result = run(root)
    assert result.exit_code == 1
    assert any(
        line.startswith("syndicate.toml:3: error: not valid TOML: ") for line in lines(result)
    )


def test_no_syndicate_toml_says_this_is_not_a_publication(
    publication: MakePublication, run: Run
) -> None:
    root = publication({"content/a.md": GOOD})
    (root / "syndicate.toml").unlink()
    result = run(root)
    assert result.exit_code == 1
    assert "syndicate.toml: error: no syndicate.toml here: is this a publication?" in lines(result)


def test_every_config_problem_is_listed_at_once(publication: MakePublication, run: Run) -> None:
    config = """\
[site]
title = 3
url = "ftp://news.example.org/"
titel = "x"

[feeds]
limit = -1
full_content = "yes"
"""
    root = publication({"content/a.md": GOOD}, config)
    result = run(root)
    assert result.exit_code == 1
    assert sorted(lines(result)[:-1]) == [
        "syndicate.toml:2: error: site.title: must be a string, not a number",
        "syndicate.toml:3: error: site.url: must be an absolute http or https URL: "
        "'ftp://news.example.org/'",
        'syndicate.toml:4: error: site.titel: unknown key (did you mean "title"?)',
        "syndicate.toml:7: error: feeds.limit: must be 0 or more: -1",
        "syndicate.toml:8: error: feeds.full_content: must be true or false, not a string",
    ]
    assert lines(result)[-1] == "5 errors, 0 warnings"


# --- build keeps the previous output when the publication is broken -------


def test_a_failing_build_leaves_the_previous_feeds_byte_identical(
    publication: MakePublication, run: Run
) -> None:
    root = publication({"content/one.md": GOOD, "content/two.md": article("Two", "2025-02-01")})
    assert run(root, "build").exit_code == 0
    feeds = tree(root / "feeds")
    state = (root / ".syndicate/state.json").read_bytes()
    assert "rss.xml" in feeds

    (root / "content/two.md").write_text(article("Two", "not a date"), encoding="utf-8")
    (root / "content/three.md").write_text(article("Three", "2025-03-01"), encoding="utf-8")
    result = run(root, "build")

    assert result.exit_code == 1
    assert any(
        line.startswith('content/two.md:3: error: date: cannot read "not a date"')
        for line in lines(result)
    )
    assert lines(result)[-1] == (
        "syndicate: the publication has errors (1 error, 0 warnings); nothing was written"
    )
    assert tree(root / "feeds") == feeds
    assert (root / ".syndicate/state.json").read_bytes() == state


def test_build_with_strict_fails_on_a_warning_and_writes_nothing(
    publication: MakePublication, run: Run
) -> None:
    root = publication({"content/a.md": article("A", "2025-01-01", mood="sunny")})
    result = run(root, "build", "--strict")
    assert result.exit_code == 1
    assert not (root / "feeds").exists()


# --- encodings and where the command runs ---------------------------------


def test_an_article_with_bom_and_crlf_is_read_with_its_lines_right(
    publication: MakePublication, run: Run
) -> None:
    text = article("Windows", "2025-01-01", mood="sunny").replace("\n", "\r\n")
    root = publication({"content/a.md": b"\xef\xbb\xbf" + text.encode("utf-8")})
    result = run(root)
    assert result.exit_code == 0
    assert lines(result) == [
        'content/a.md:4: warning: unknown front-matter key "mood" (kept, not published)',
        "ok: 1 article, 1 published; 0 errors, 1 warning",
    ]


def test_root_option_runs_from_another_folder(
    publication: MakePublication, run: Run, tmp_path: Path
) -> None:
    publication({"content/bad.md": article("Bad", "tomorrow-ish")})
    result = run(tmp_path, "-C", "pub", "check")
    assert result.exit_code == 1
    assert any(
        line.startswith('pub/content/bad.md:3: error: date: cannot read "tomorrow-ish"')
        for line in lines(result)
    )


def test_root_option_finds_a_clean_publication(
    publication: MakePublication, run: Run, tmp_path: Path
) -> None:
    root = publication({"content/a.md": GOOD})
    result = run(tmp_path, "--root", str(root), "check")
    assert result.exit_code == 0
    assert lines(result) == ["ok: 1 article, 1 published; 0 errors, 0 warnings"]


def test_root_option_that_is_not_a_folder_is_a_usage_error(run: Run, tmp_path: Path) -> None:
    result = run(tmp_path, "-C", "no-such-folder", "check")
    assert result.exit_code == 2
    assert "no-such-folder" in result.output


# --- front matter YAML can read but not build --------------------------------------


@pytest.mark.parametrize("block", ["", "# only a comment\n", "~\n", "null\n"])
def test_empty_front_matter_reports_the_missing_keys(
    publication: MakePublication, run: Run, block: str
) -> None:
    root = publication({"content/a.md": f"---\n{block}---\nBody.\n"})
    result = run(root)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "content/a.md:1: error: title: missing or empty" in result.output
    assert "content/a.md:1: error: date: missing" in result.output


@pytest.mark.parametrize(
    ("value", "shown"),
    [("2025-02-30", '"2025-02-30"'), ("!!timestamp 'soon'", '"soon"'), ("!!int 'x'", '"x"')],
)
def test_a_value_yaml_cannot_build_is_reported_on_its_own_line(
    publication: MakePublication, run: Run, value: str, shown: str
) -> None:
    root = publication({"content/a.md": f"---\ntitle: A\nauthor: Ann\ndate: {value}\n---\nBody\n"})
    result = run(root)
    assert result.exit_code == 1
    assert f"content/a.md:4: error: date: cannot read {shown} as a date" in result.output


def test_a_problem_is_always_one_line_whatever_the_value_holds(
    publication: MakePublication, run: Run
) -> None:
    root = publication({"content/a.md": '---\ntitle: A\ndate: "next\\ntuesday\\u001b[31m"\n---\n'})
    result = run(root)
    assert result.exit_code == 1
    assert lines(result) == [
        'content/a.md:3: error: date: cannot read "next\\ntuesday\\x1b[31m" as a date '
        "(use ISO 8601: 2025-08-18 or 2025-08-18T09:30:00+07:00)",
        "1 error, 0 warnings",
    ]


def test_a_control_character_in_front_matter_is_reported_on_its_line(
    publication: MakePublication, run: Run
) -> None:
    root = publication({"content/a.md": "---\ntitle: A\ndate: 2025-01-01\nx: \x07\n---\n"})
    result = run(root)
    assert "content/a.md:4: error: front matter has a control character U+0007" in lines(result)


def test_a_key_given_twice_warns_and_the_last_wins(publication: MakePublication, run: Run) -> None:
    root = publication({"content/a.md": "---\ntitle: A\ndate: 2025-01-01\ntitle: B\n---\n"})
    result = run(root)
    assert result.exit_code == 0
    assert "content/a.md:4: warning: title: given more than once; the last wins" in lines(result)

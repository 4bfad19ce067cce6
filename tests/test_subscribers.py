"""The subscriber list: CSV rules, privacy, where the list is, tokens and links."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from syndicate.delivery.subscribers import (
    Subscriber,
    Subscribers,
    load_subscribers,
    on_reserved_domains,
    recipient_key,
    secret_from,
    subscribers_path,
    token,
    tracked_by_git,
    unsubscribe_link,
)
from syndicate.errors import DeliveryError

HEADER = "email,name,status\n"


def write(tmp_path: Path, text: str | bytes, name: str = "subscribers.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def load(tmp_path: Path, text: str | bytes) -> Subscribers:
    return load_subscribers(write(tmp_path, text))


def emails(subscribers: Subscribers) -> list[str]:
    return [s.email for s in subscribers.active]


def messages(subscribers: Subscribers) -> list[str]:
    return [str(d) for d in subscribers.diagnostics]


# -- rows -------------------------------------------------------------------------------------


def test_only_subscribed_rows_are_mailed_and_the_others_are_counted(tmp_path: Path) -> None:
    subscribers = load(
        tmp_path,
        HEADER
        + "ana@example.com,Ana,subscribed\n"
        + "bo@example.com,Bo,unsubscribed\n"
        + "cy@example.com,Cy,bounced\n"
        + "di@example.com,,subscribed\n",
    )
    assert subscribers.active == (
        Subscriber("ana@example.com", "Ana", 2),
        Subscriber("di@example.com", "", 5),
    )
    assert (subscribers.unsubscribed, subscribers.bounced) == (1, 1)
    assert (subscribers.invalid, subscribers.duplicates) == (0, 0)
    assert subscribers.diagnostics == ()


def test_a_byte_order_mark_crlf_and_a_trailing_empty_line_are_fine(tmp_path: Path) -> None:
    text = "email,name,status\r\nana@example.com,Ana,subscribed\r\n\r\n"
    subscribers = load(tmp_path, b"\xef\xbb\xbf" + text.encode())
    assert subscribers.active == (Subscriber("ana@example.com", "Ana", 2),)
    assert subscribers.diagnostics == ()


def test_quoted_names_may_hold_commas_quotes_and_line_breaks(tmp_path: Path) -> None:
    subscribers = load(
        tmp_path,
        HEADER
        + '"ana@example.com","Reader, Ana ""AR""",subscribed\n'
        + 'bo@example.com,"Bo\nSecond line",subscribed\n'
        + "cy@example.com,Cy,subscribed\n",
    )
    assert subscribers.active == (
        Subscriber("ana@example.com", 'Reader, Ana "AR"', 2),
        # The line break is flattened (it must never reach a header); the next row's
        # line number still counts the physical lines.
        Subscriber("bo@example.com", "Bo Second line", 3),
        Subscriber("cy@example.com", "Cy", 5),
    )


def test_header_names_are_trimmed_and_case_insensitive_and_extra_columns_ignored(
    tmp_path: Path,
) -> None:
    subscribers = load(
        tmp_path,
        " Status ,joined, EMAIL,Name\nsubscribed,2025-01-01,ana@example.com,Ana\n",
    )
    assert subscribers.active == (Subscriber("ana@example.com", "Ana", 2),)


def test_the_name_column_is_optional(tmp_path: Path) -> None:
    subscribers = load(tmp_path, "email,status\nana@example.com,subscribed\n")
    assert subscribers.active == (Subscriber("ana@example.com", "", 2),)


def test_status_values_are_trimmed_and_case_insensitive(tmp_path: Path) -> None:
    subscribers = load(tmp_path, HEADER + "ana@example.com,Ana, Subscribed \n")
    assert emails(subscribers) == ["ana@example.com"]


def test_addresses_are_normalised(tmp_path: Path) -> None:
    subscribers = load(
        tmp_path, HEADER + " Ana@Example.COM ,Ana,subscribed\nbo@XN--MNCHEN-3YA.de,Bo,subscribed\n"
    )
    # The domain is lowercased (and IDNA shown in Unicode); the local part keeps its case.
    assert emails(subscribers) == ["Ana@example.com", "bo@münchen.de"]


def test_duplicates_fold_case_insensitively_and_the_first_row_wins(tmp_path: Path) -> None:
    # Local parts are case-sensitive by the RFC but not at any real provider: folding
    # them is what keeps one person from getting two copies.
    subscribers = load(
        tmp_path,
        HEADER
        + "Ana.Reader@example.com,Ana,subscribed\n"
        + "bo@example.com,Bo,subscribed\n"
        + "ana.reader@EXAMPLE.com,Ana Again,subscribed\n"
        + "ANA.READER@example.com,Ana Thrice,subscribed\n",
    )
    assert subscribers.active == (
        Subscriber("Ana.Reader@example.com", "Ana", 2),
        Subscriber("bo@example.com", "Bo", 3),
    )
    assert subscribers.duplicates == 2
    assert messages(subscribers) == [
        f"{subscribers.path}:4: warning: email: the same address as line 2; skipped",
        f"{subscribers.path}:5: warning: email: the same address as line 2; skipped",
    ]


def test_an_opt_out_on_any_row_wins_over_a_subscription(tmp_path: Path) -> None:
    subscribers = load(
        tmp_path,
        HEADER
        + "ana@example.com,Ana,subscribed\n"
        + "bo@example.com,Bo,bounced\n"
        + "ANA@example.com,Ana,unsubscribed\n"
        + "bo@example.com,Bo,subscribed\n",
    )
    assert subscribers.active == ()
    assert (subscribers.unsubscribed, subscribers.bounced, subscribers.duplicates) == (1, 1, 2)
    assert f"{subscribers.path}:2: warning: email: unsubscribed on line 4; not mailed" in (
        " ".join(messages(subscribers))
    )


def test_invalid_rows_are_warned_with_path_and_line_and_skipped(tmp_path: Path) -> None:
    subscribers = load(
        tmp_path,
        HEADER
        + "not-an-address,Broken,subscribed\n"
        + "ana@example.com,Ana,subscribed\n"
        + ",Nobody,subscribed\n"
        + "someone@nowhere,No TLD,subscribed\n",
    )
    assert emails(subscribers) == ["ana@example.com"]
    assert subscribers.invalid == 3
    path = subscribers.path
    assert messages(subscribers) == [
        f"{path}:2: warning: email: not a valid address (An email address must have an "
        "@-sign.); not mailed",
        f"{path}:4: warning: email: no address; not mailed",
        f"{path}:5: warning: email: not a valid address (The part after the @-sign is not "
        "valid. It should have a period.); not mailed",
    ]


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "someone@nowhere",
        "jane.doe@xn--a.com",  # the IDNA error quotes the label
        "jane.doe@\u0661\u0031.com",  # so does this one
        "jane doe@example.com",
        "jane.doe@@example.com",
        "jane.doe@exa_mple.com",
        "Jane Doe <jane.doe@example.com>",
        "jane.doe@example.com.",
    ],
)
def test_a_warning_never_shows_the_address(tmp_path: Path, address: str) -> None:
    subscribers = load(tmp_path, HEADER + f'"{address}",Jane,subscribed\n')
    assert subscribers.invalid == 1
    [warning] = messages(subscribers)
    for piece in [address, *address.replace("@", ".").split(".")]:
        if len(piece) >= 2:
            assert piece.lower() not in warning.lower().replace(str(tmp_path).lower(), "")


def test_a_row_with_a_blank_or_unknown_status_is_not_mailed(tmp_path: Path) -> None:
    subscribers = load(
        tmp_path,
        HEADER
        + "ana@example.com,Ana,\n"
        + "bo@example.com,Bo,pending\n"
        + "cy@example.com,Cy\n"
        + "di@example.com,Di,subscribed\n",
    )
    assert emails(subscribers) == ["di@example.com"]
    assert subscribers.invalid == 3
    path = subscribers.path
    expected = "(expected subscribed, unsubscribed or bounced); not mailed"
    assert messages(subscribers) == [
        f"{path}:2: warning: status: blank {expected}",
        f'{path}:3: warning: status: unknown "pending" {expected}',
        f"{path}:4: warning: status: blank {expected}",
    ]


def test_an_address_in_the_status_column_is_not_echoed(tmp_path: Path) -> None:
    subscribers = load(tmp_path, HEADER + "Ana,ana@example.com,subscribed\n")
    assert "ana@example.com" not in " ".join(messages(subscribers))
    assert subscribers.active == ()


def test_rows_of_empty_cells_are_skipped_silently(tmp_path: Path) -> None:
    subscribers = load(tmp_path, HEADER + "ana@example.com,Ana,subscribed\n,,\n , ,\n")
    assert emails(subscribers) == ["ana@example.com"]
    assert (subscribers.invalid, subscribers.diagnostics) == (0, ())


def test_every_row_is_counted_once(tmp_path: Path) -> None:
    subscribers = load(
        tmp_path,
        HEADER
        + "a@example.com,,subscribed\n"
        + "b@example.com,,unsubscribed\n"
        + "c@example.com,,bounced\n"
        + "bad,,subscribed\n"
        + "d@example.com,,maybe\n"
        + "A@example.com,,subscribed\n",
    )
    counted = (
        len(subscribers.active)
        + subscribers.unsubscribed
        + subscribers.bounced
        + subscribers.invalid
        + subscribers.duplicates
    )
    assert counted == 6


# -- the file as a whole ----------------------------------------------------------------------


def fatal(path: Path) -> str:
    with pytest.raises(DeliveryError) as caught:
        load_subscribers(path)
    [diagnostic] = caught.value.diagnostics
    assert str(caught.value) == str(diagnostic)
    return str(diagnostic)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    assert fatal(path) == f"{path}: error: subscriber list not found"


def test_an_unreadable_file_is_an_error(tmp_path: Path) -> None:
    assert fatal(tmp_path).startswith(f"{tmp_path}: error: cannot read the subscriber list:")


def test_a_file_that_is_not_utf8_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER.encode() + "jos\xe9@example.com,José,subscribed\n".encode("latin-1")
    )
    assert fatal(path) == f"{path}:2: error: not UTF-8 text (save the list as CSV UTF-8)"


@pytest.mark.parametrize("text", ["", "\n\n", "\r\n"])
def test_an_empty_file_has_no_header(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert fatal(path) == f"{path}:1: error: no header row (expected email,name,status)"


def test_a_header_without_the_status_column_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "email,name\nana@example.com,Ana\n")
    assert fatal(path) == (
        f"{path}:1: error: header: no status column (expected email,name,status)"
    )


def test_a_file_without_a_header_is_an_error_that_does_not_show_the_address(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "\nana@example.com,Ana,subscribed\n")
    assert fatal(path) == (
        f"{path}:2: error: header: no email or status column (expected email,name,status)"
    )


def test_a_header_naming_a_column_twice_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "email,name,status,email\n")
    assert fatal(path) == f"{path}:1: error: header: the email column appears twice"


# -- where the list is ------------------------------------------------------------------------


def test_the_environment_wins_over_the_config(tmp_path: Path) -> None:
    environ = {"SYNDICATE_SUBSCRIBERS": "/secrets/list.csv"}
    assert subscribers_path("subscribers.csv", tmp_path, environ) == Path("/secrets/list.csv")


def test_the_config_setting_is_used_without_the_environment(tmp_path: Path) -> None:
    assert subscribers_path("/lists/a.csv", tmp_path, {}) == Path("/lists/a.csv")


def test_relative_paths_resolve_against_the_publication(tmp_path: Path) -> None:
    assert subscribers_path("lists/a.csv", tmp_path, {}) == tmp_path / "lists/a.csv"
    environ = {"SYNDICATE_SUBSCRIBERS": "b.csv"}
    assert subscribers_path(None, tmp_path, environ) == tmp_path / "b.csv"


def test_an_empty_environment_variable_does_not_hide_the_config(tmp_path: Path) -> None:
    environ = {"SYNDICATE_SUBSCRIBERS": ""}
    assert subscribers_path("a.csv", tmp_path, environ) == tmp_path / "a.csv"


def test_no_list_when_neither_is_set(tmp_path: Path) -> None:
    assert subscribers_path(None, tmp_path, {}) is None
    assert subscribers_path("", tmp_path, {"SYNDICATE_SUBSCRIBERS": " "}) is None


# -- privacy ----------------------------------------------------------------------------------

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(folder: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=folder, check=True, capture_output=True)


@needs_git
def test_tracked_by_git_sees_an_added_file(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    (tmp_path / "lists").mkdir()
    tracked = write(tmp_path / "lists", HEADER, "tracked.csv")
    untracked = write(tmp_path / "lists", HEADER, "untracked.csv")
    git(tmp_path, "add", "lists/tracked.csv")
    assert tracked_by_git(tracked)
    assert not tracked_by_git(untracked)


@needs_git
def test_tracked_by_git_is_false_outside_a_repository(tmp_path: Path) -> None:
    # GIT_CEILING_DIRECTORIES keeps git from finding a repository above tmp_path.
    outside = tmp_path / "outside"
    outside.mkdir()
    path = write(outside, HEADER)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
        assert not tracked_by_git(path)
    assert not tracked_by_git(tmp_path / "no-folder" / "list.csv")


def test_tracked_by_git_is_false_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert not tracked_by_git(write(tmp_path, HEADER))


@pytest.mark.parametrize(
    "domain",
    ["example.com", "EXAMPLE.org", "news.example.net", "site.example"],
)
def test_a_list_on_reserved_domains_only_is_a_sample(tmp_path: Path, domain: str) -> None:
    subscribers = load(tmp_path, HEADER + f"a@{domain},A,subscribed\nb@{domain},B,bounced\n")
    assert on_reserved_domains(subscribers)


@pytest.mark.parametrize("domain", ["test", "invalid", "localhost", "example"])
def test_reserved_top_level_domains_count_as_reserved(domain: str) -> None:
    # email-validator refuses .test, .invalid and .localhost as undeliverable, so
    # these only reach the check through a list built by hand.
    subscribers = Subscribers(
        Path("list.csv"), (Subscriber(f"a@site.{domain}", "", 2),), 0, 0, 0, 0, ()
    )
    assert on_reserved_domains(subscribers)


@pytest.mark.parametrize(
    "rows",
    [
        "a@example.com,A,subscribed\nb@gmail.com,B,subscribed\n",
        "a@example.com,A,subscribed\nb@example.com.evil.org,B,subscribed\n",
        "a@notexample.com,A,subscribed\n",
        # Addresses that are not mailed are personal data as much as the others.
        "a@example.com,A,subscribed\nb@gmail.com,B,unsubscribed\n",
        "a@example.com,A,subscribed\nb@gmail.com,B,whatever\n",
        "a@example.com,A,subscribed\nb@gmail..com,B,subscribed\n",
    ],
)
def test_a_list_with_any_real_address_is_not_a_sample(tmp_path: Path, rows: str) -> None:
    assert not on_reserved_domains(load(tmp_path, HEADER + rows))


# -- keyed hashes and links -------------------------------------------------------------------


def test_the_secret_comes_from_the_environment() -> None:
    assert secret_from({"SYNDICATE_SECRET": "s3cret\n"}) == b"s3cret"
    assert secret_from({"SYNDICATE_SECRET": ""}) is None
    assert secret_from({}) is None


def is_hex32(text: str) -> bool:
    return len(text) == 32 and all(char in "0123456789abcdef" for char in text)


def test_tokens_and_recipient_keys_are_deterministic_32_hex_digits() -> None:
    for make in (token, recipient_key):
        value = make(b"secret", "ana@example.com")
        assert is_hex32(value)
        assert make(b"secret", "ana@example.com") == value


def test_a_recipient_key_is_never_an_unsubscribe_token() -> None:
    assert token(b"secret", "ana@example.com") != recipient_key(b"secret", "ana@example.com")


def test_both_hashes_depend_on_the_secret_and_the_address() -> None:
    for make in (token, recipient_key):
        assert make(b"one", "ana@example.com") != make(b"two", "ana@example.com")
        assert make(b"one", "ana@example.com") != make(b"one", "bo@example.com")


def test_a_recipient_key_folds_case_like_the_list_does() -> None:
    # Editing an address's case in the CSV between two runs must not mail it again.
    assert recipient_key(b"s", "Ana@example.com") == recipient_key(b"s", "ana@example.com")


def test_the_unsubscribe_link_encodes_the_address() -> None:
    link = unsubscribe_link(
        "https://news.example.org/unsubscribe?email={email}&token={token}",
        "ana+news&more@example.com",
        "abc123",
    )
    assert link == (
        "https://news.example.org/unsubscribe?email=ana%2Bnews%26more%40example.com&token=abc123"
    )


def test_an_unsubscribe_template_with_unknown_fields_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError, match=r"email\.unsubscribe_url"):
        unsubscribe_link("https://x.example/{who}", "a@example.com", "t")

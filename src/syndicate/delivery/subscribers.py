"""The subscriber list: a CSV of ``email,name,status`` rows, read into frozen values.

Subscriber addresses are personal data.  Nothing in this module puts an address
into a diagnostic or an error: problems are reported by ``path:line`` and the
column, so a log of a run can be shared without leaking who reads the newsletter.

The list is read by one pure pass over its rows (:func:`read_rows`), then
folded (:func:`fold`): only rows that are ``subscribed``, valid and not seen
before are mailed.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import io
import re
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from email_validator import EmailNotValidError, validate_email

from ..errors import DeliveryError, Diagnostic

#: Names the environment and config use for the list and for the secret.
ENV_SUBSCRIBERS = "SYNDICATE_SUBSCRIBERS"
ENV_SECRET = "SYNDICATE_SECRET"

SUBSCRIBED = "subscribed"
UNSUBSCRIBED = "unsubscribed"
BOUNCED = "bounced"
STATUSES = (SUBSCRIBED, UNSUBSCRIBED, BOUNCED)

#: Columns the header must have; ``name`` is optional (an empty name is fine in a To: header).
REQUIRED_COLUMNS = ("email", "status")

#: Domain-separation prefixes: the same secret keys both hashes, and a value made for one
#: purpose must never be accepted for the other (a committed journal entry must not work
#: as an unsubscribe token).
_TOKEN_PREFIX = b"syndicate unsubscribe\0"
_RECIPIENT_PREFIX = b"syndicate recipient\0"
_HEX_LENGTH = 32

#: RFC 2606 second-level names and RFC 2606 / RFC 6761 top-level names that never
#: belong to a real person.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("example", "test", "invalid", "localhost")


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One person who receives the newsletter."""

    #: The address as email-validator normalises it (domain lowercased, IDNA in Unicode form).
    email: str
    #: The display name; "" when the row has none.
    name: str
    #: The row's first line in the CSV, for messages that must not show the address.
    line: int


@dataclass(frozen=True, slots=True)
class Subscribers:
    """The subscriber list as read, with counts of the rows that are not mailed.

    Every row is counted exactly once: ``len(active) + unsubscribed + bounced +
    invalid + duplicates`` is the number of non-blank rows.
    """

    path: Path
    #: Subscribed, valid rows, one per address (the first row wins), in file order.
    active: tuple[Subscriber, ...]
    #: Rows (or addresses) that opted out.
    unsubscribed: int
    #: Rows (or addresses) whose mail bounced for good.
    bounced: int
    #: Rows with an unusable address, or a blank or unknown status.
    invalid: int
    #: Later rows for an address already listed.
    duplicates: int
    #: Warnings ``path:line: ...``; never containing an address.
    diagnostics: tuple[Diagnostic, ...]
    #: Whether every row that is *not* active is on a reserved domain too: unsubscribed
    #: and bounced addresses are personal data as much as active ones, so the warning
    #: about a list tracked by git must look at them as well.  True when unknown.
    inactive_reserved: bool = True


@dataclass(frozen=True, slots=True)
class Row:
    """One CSV row after validation: an address (or the reason there is none) and a status."""

    line: int
    email: str | None
    name: str
    status: str
    #: What is wrong with the address, without the address; "" when it is valid.
    problem: str
    #: The domain as written, lowercased (for the reserved-domain check on rows not mailed).
    raw_domain: str


# -- where the list is ------------------------------------------------------------------------


def subscribers_path(setting: str | None, root: Path, environ: Mapping[str, str]) -> Path | None:
    """The subscriber list's path: ``SYNDICATE_SUBSCRIBERS``, else ``email.subscribers``.

    The environment wins so that CI can keep the list in a repository secret while the
    config names a local file.  Relative paths resolve against *root* (the publication),
    never the current directory.  None when neither is set (or both are empty).
    """
    chosen = environ.get(ENV_SUBSCRIBERS, "").strip() or (setting or "").strip()
    if not chosen:
        return None
    path = Path(chosen).expanduser()
    return path if path.is_absolute() else root / path


# -- reading ----------------------------------------------------------------------------------


def load_subscribers(path: Path) -> Subscribers:
    """Read the subscriber list at *path*.

    Raises :class:`DeliveryError` when the file as a whole cannot be used (missing,
    unreadable, not UTF-8, no header, no ``email`` or ``status`` column).  A bad row
    is only a warning: it is skipped and the others are still mailed.
    """
    text = _read_text(path)
    rows = list(read_rows(path, text))
    return fold(path, rows)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fatal(path, 0, "subscriber list not found") from None
    except OSError as error:
        raise _fatal(path, 0, f"cannot read the subscriber list: {error.strerror}") from None
    try:
        # utf-8-sig: spreadsheets on Windows save CSV with a byte order mark.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _fatal(path, line, "not UTF-8 text (save the list as CSV UTF-8)") from None


def _fatal(path: Path, line: int, message: str) -> DeliveryError:
    diagnostic = Diagnostic.error(path, line, message)
    return DeliveryError(str(diagnostic), [diagnostic])


def read_rows(path: Path, text: str) -> Iterator[Row]:
    """The rows of the CSV *text*, validated one by one; fatal problems raise."""
    # newline="" keeps CRLF and line breaks inside quoted fields for the csv module,
    # which is what it expects.
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    line = 1
    for fields in reader:
        start, line = line, reader.line_num + 1
        if _blank(fields):
            continue
        if header is None:
            header = _header(path, start, fields)
            continue
        yield _row(start, dict(zip(header, fields, strict=False)))
    if header is None:
        raise _fatal(path, 1, "no header row (expected email,name,status)")


def _blank(fields: Sequence[str]) -> bool:
    """True for an empty line, and for a row of empty cells (spreadsheets export those)."""
    return all(not field.strip() for field in fields)


def _header(path: Path, line: int, fields: Sequence[str]) -> list[str]:
    names = [field.strip().lower() for field in fields]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    if missing:
        raise _fatal(
            path, line, f"header: no {' or '.join(missing)} column (expected email,name,status)"
        )
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    wanted = [name for name in repeated if name in ("email", "name", "status")]
    if wanted:
        raise _fatal(path, line, f"header: the {', '.join(wanted)} column appears twice")
    return names


def _row(line: int, cells: Mapping[str, str]) -> Row:
    raw = cells.get("email", "").strip()
    status = cells.get("status", "").strip().lower()
    # Whitespace collapsed: a line break inside a quoted name must never reach a header.
    name = " ".join(cells.get("name", "").split())
    domain = raw.rpartition("@")[2].lower() if "@" in raw else ""
    if not raw:
        return Row(line, None, name, status, "no address", domain)
    try:
        address = normalize_address(raw)
    except ValueError as error:
        return Row(line, None, name, status, str(error), domain)
    return Row(line, address, name, status, "", domain)


def normalize_address(raw: str) -> str:
    """*raw* as email-validator normalises it; :class:`ValueError` when it is not a valid
    address, saying why without the address."""
    try:
        # Syntax only: a send must not depend on DNS, and deliverability is the
        # mail server's answer to give.
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"not a valid address ({redact(str(error), raw)})") from None


_QUOTED = re.compile(r"'[^']{2,}'|\"[^\"]{2,}\"")
#: Anything shaped like an address: a run of non-space characters around an "@".
_ADDRESS_LIKE = re.compile(r"[^\s<>()\[\]\"',;:]*[^\s<>()\[\]\"',;:@]@[^\s<>()\[\]\"',;:]+")


def redact(message: str, *addresses: str) -> str:
    """*message* without any part of *addresses* in it, nor anything shaped like an address.

    email-validator mostly names the offending characters, but its IDNA messages
    quote whole labels of the domain; a nearly valid address is still personal data.
    A mail server's reply may name the address in any form (its ASCII or Unicode
    domain, another case, its local part alone).
    """
    message = _ADDRESS_LIKE.sub("…@…", message)
    pieces: set[str] = set()
    for address in addresses:
        pieces |= {address, *re.split(r"[@.]", address), *address.split("@")}
        domain = address.rpartition("@")[2]
        for form in _domain_forms(domain):
            pieces |= {form, *form.split(".")}
    for piece in sorted((p for p in pieces if len(p) >= 2), key=len, reverse=True):
        # Whole words only, so that a short local part does not eat into the prose.
        pattern = rf"(?<!\w){re.escape(piece)}(?!\w)"
        message = re.sub(pattern, "…", message, flags=re.IGNORECASE)
    # A quoted run of more than one character is input text, whatever normalisation
    # made of it; a single quoted character is the library naming what is wrong.
    return _QUOTED.sub("'…'", message)


def _domain_forms(domain: str) -> set[str]:
    """*domain* as written, in ASCII (IDNA) and in Unicode, as far as each can be made."""
    forms = {domain}
    with contextlib.suppress(UnicodeError):
        forms.add(domain.encode("idna").decode("ascii"))
    with contextlib.suppress(UnicodeError):
        forms.add(domain.encode("ascii").decode("idna"))
    return {form for form in forms if form}


def fold(path: Path, rows: Sequence[Row]) -> Subscribers:
    """Count the rows and keep one subscribed row per address.

    Addresses fold case-insensitively, local part included: RFC 5321 lets the local
    part be case-sensitive, but practically every provider ignores its case, so
    ``Ana@x`` and ``ana@x`` are one person who must not get two copies.  The first row
    for an address wins, except that an opt-out (unsubscribed or bounced) on any row
    for the address wins over a subscription: never mail someone whose consent is in
    doubt.
    """
    diagnostics: list[Diagnostic] = []
    counts = {UNSUBSCRIBED: 0, BOUNCED: 0, "invalid": 0, "duplicates": 0}
    first: dict[str, Row] = {}
    opt_out: dict[str, Row] = {}
    inactive_reserved = True
    for row in rows:
        problem = _problem(row)
        if problem:
            diagnostics.append(Diagnostic.warning(path, row.line, f"{problem}; not mailed"))
            counts["invalid"] += 1
            inactive_reserved = inactive_reserved and _reserved_or_empty(row.raw_domain)
            continue
        assert row.email is not None
        key = fold_key(row.email)
        if key in first:
            earlier = first[key]
            counts["duplicates"] += 1
            diagnostics.append(
                Diagnostic.warning(
                    path, row.line, f"email: the same address as line {earlier.line}; skipped"
                )
            )
            if row.status != SUBSCRIBED and key not in opt_out:
                opt_out[key] = row
            continue
        first[key] = row
        if row.status != SUBSCRIBED:
            opt_out[key] = row
    active: list[Subscriber] = []
    for key, row in first.items():
        assert row.email is not None
        if key not in opt_out:
            active.append(Subscriber(row.email, row.name, row.line))
            continue
        refusal = opt_out[key]
        counts[refusal.status] += 1
        inactive_reserved = inactive_reserved and is_reserved(row.email)
        if refusal is not row:
            diagnostics.append(
                Diagnostic.warning(
                    path,
                    row.line,
                    f"email: {refusal.status} on line {refusal.line}; not mailed "
                    "(an opt-out wins over a subscription)",
                )
            )
    return Subscribers(
        path=path,
        active=tuple(active),
        unsubscribed=counts[UNSUBSCRIBED],
        bounced=counts[BOUNCED],
        invalid=counts["invalid"],
        duplicates=counts["duplicates"],
        diagnostics=tuple(sorted(diagnostics, key=lambda d: d.line)),
        inactive_reserved=inactive_reserved,
    )


def _problem(row: Row) -> str:
    """Why *row* cannot be used, or "" when it can."""
    if row.problem:
        return f"email: {row.problem}"
    if not row.status:
        return "status: blank (expected subscribed, unsubscribed or bounced)"
    if row.status not in STATUSES:
        # The value is the user's own word, not personal data, but it is cut short so a
        # misplaced address in the status column does not end up in a log.
        shown = row.status if "@" not in row.status else "…"
        return f'status: unknown "{shown[:20]}" (expected subscribed, unsubscribed or bounced)'
    return ""


def fold_key(email: str) -> str:
    """The identity of an address: two addresses with one key are one person."""
    return email.casefold()


# -- privacy checks ---------------------------------------------------------------------------


def tracked_by_git(path: Path) -> bool:
    """True when git tracks (or has staged) *path*; False when unsure, never raising.

    Asked from the file's own folder, so the list may live in another repository
    than the publication (or in none).
    """
    folder = path.parent
    if not folder.is_dir():
        return False
    try:
        result = subprocess.run(
            ["git", "ls-files", "--error-unmatch", "--", path.name],
            cwd=folder,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        # No git, or a git that hangs: the warning is advice, never a reason to fail.
        return False
    return result.returncode == 0


def is_reserved(email: str) -> bool:
    """True when *email*'s domain can never belong to anyone (RFC 2606, RFC 6761)."""
    return _reserved_domain(email.rpartition("@")[2].lower())


def _reserved_domain(domain: str) -> bool:
    domain = domain.rstrip(".")
    if any(domain == name or domain.endswith("." + name) for name in RESERVED_DOMAINS):
        return True
    return domain.rpartition(".")[2] in RESERVED_TLDS


def _reserved_or_empty(domain: str) -> bool:
    return not domain or _reserved_domain(domain)


def on_reserved_domains(subscribers: Subscribers) -> bool:
    """True when every address in the list is on a reserved example domain.

    Such a list is a sample (fixtures, a demo publication) and may be committed, so
    the tracked-by-git warning stays quiet for it.
    """
    return subscribers.inactive_reserved and all(
        is_reserved(subscriber.email) for subscriber in subscribers.active
    )


# -- keyed hashes -----------------------------------------------------------------------------


def secret_from(environ: Mapping[str, str]) -> bytes | None:
    """``SYNDICATE_SECRET`` as bytes; None when unset or blank.

    Surrounding whitespace is dropped: secrets pasted into CI settings often carry
    a trailing newline, and tokens must not change because of it.
    """
    value = environ.get(ENV_SECRET, "").strip()
    return value.encode("utf-8") if value else None


def _keyed(secret: bytes, prefix: bytes, text: str) -> str:
    digest = hmac.new(secret, prefix + text.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:_HEX_LENGTH]


def token(secret: bytes, email: str) -> str:
    """The unsubscribe token for *email*: 32 hex digits of an HMAC-SHA256.

    Computed over the address exactly as given (as it appears in the link), so an
    unsubscribe endpoint can check it from the link alone.
    """
    return _keyed(secret, _TOKEN_PREFIX, email)


def recipient_key(secret: bytes, email: str) -> str:
    """The journal's name for *email*: 32 hex digits, never usable as a :func:`token`.

    Folded like the subscriber list folds addresses, so that changing an address's
    case in the CSV between two runs does not mail that person again.
    """
    return _keyed(secret, _RECIPIENT_PREFIX, fold_key(email))


def unsubscribe_link(template: str, email: str, token: str) -> str:
    """*template* with ``{email}`` (URL-encoded, ``@``, ``+`` and ``&`` included) and
    ``{token}`` filled in."""
    try:
        return template.format(email=quote(email, safe=""), token=token)
    except (KeyError, IndexError, ValueError, AttributeError) as error:
        raise DeliveryError(
            f"email.unsubscribe_url: cannot fill in {template!r} (only {{email}} and "
            f"{{token}} are known; write other braces twice): {error}"
        ) from None

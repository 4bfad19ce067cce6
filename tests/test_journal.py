"""The journal (exactly once, across crashes) and the publication lock (one publish at a time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from syndicate.delivery.journal import RECORD_SIZE, Journal
from syndicate.delivery.lock import publication_lock
from syndicate.errors import DeliveryError

LOCKED = "another syndicate publish is running on this publication; wait for it to finish"


def journal_path(tmp_path: Path) -> Path:
    return tmp_path / ".syndicate" / "journal" / "2026-01-01.jsonl"


def line(key: str, status: str = "sent", detail: str = "") -> str:
    return json.dumps({"detail": detail, "key": key, "status": status}) + "\n"


# -- recording --------------------------------------------------------------------------------


def test_a_record_survives_reopening(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    with Journal.open(path) as journal:
        journal.record("k1", "sent")
        journal.record("k2", "failed", "550 no such user")
        assert journal.status("k1") == "sent"
    with Journal.open(path) as journal:
        assert (journal.status("k1"), journal.status("k2"), journal.status("k3")) == (
            "sent",
            "failed",
            None,
        )
        assert (journal.sent, journal.failed) == (1, 1)


def test_lines_are_json_with_sorted_keys_and_nothing_else(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    with Journal.open(path) as journal:
        journal.record("k1", "sent")
        journal.record("k2", "failed", "550 mailbox\r\nunavailable")
    assert path.read_text() == (
        '{"detail": "", "key": "k1", "status": "sent"}\n'
        '{"detail": "550 mailbox unavailable", "key": "k2", "status": "failed"}\n'
    )


def records_in(path: Path) -> str:
    """The records of the journal at *path*, without the room reserved after them."""
    return path.read_text().rstrip(" \n") + "\n" if path.read_text().strip() else ""


def test_each_record_is_on_disk_before_record_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = journal_path(tmp_path)
    synced: list[str] = []
    real_fdatasync = os.fdatasync

    def fdatasync(handle: int) -> None:
        real_fdatasync(handle)
        # What the file held when it was synced: the record must already be in it.
        synced.append(records_in(path))

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    with Journal.open(path) as journal:
        journal.record("k1", "sent")
        assert synced == [line("k1")]
        journal.record("k2", "sent")
        assert synced == [line("k1"), line("k1") + line("k2")]


def test_once_room_is_reserved_a_record_costs_one_data_sync_and_no_new_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = journal_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(line("k0"))
    with Journal.open(path) as journal:
        journal.reserve(3)
        size = path.stat().st_size
        assert size >= len(line("k0")) + 3 * RECORD_SIZE
        fsyncs: list[int] = []
        datasyncs: list[int] = []
        monkeypatch.setattr(os, "fsync", fsyncs.append)
        monkeypatch.setattr(os, "fdatasync", datasyncs.append)
        for number in range(1, 4):
            journal.record(f"k{number}", "sent")
            assert (len(fsyncs), len(datasyncs)) == (0, number)
            assert path.stat().st_size == size  # written over the room, in place
        monkeypatch.undo()
    # The room left over is cut off at the end.
    assert path.read_text() == "".join(line(f"k{n}") for n in range(4))


def test_a_full_disk_fails_the_reservation_never_a_record(tmp_path: Path) -> None:
    # RLIMIT_FSIZE stands in for a full disk in a child process: a write past the limit
    # fails (EFBIG) like one past the free space (ENOSPC).
    script = (
        "import resource, signal, sys\n"
        "from pathlib import Path\n"
        "from syndicate.delivery.journal import Journal\n"
        "from syndicate.errors import DeliveryError\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "journal = Journal.open(Path(sys.argv[1]))\n"
        "journal.reserve(2)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4 * 128, 4 * 128))\n"
        "journal.record('k1', 'sent')\n"
        "journal.record('k2', 'sent')\n"
        "try:\n"
        "    journal.reserve(10)\n"
        "except DeliveryError as error:\n"
        "    print(error)\n"
    )
    path = journal_path(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    assert result.stdout == (
        f"{path}: error: cannot make room in the journal (File too large): nothing was "
        "sent; free some disk space and run publish again\n"
    )
    with Journal.open(path) as journal:
        assert (journal.status("k1"), journal.status("k2")) == ("sent", "sent")


def test_opening_a_journal_writes_nothing(tmp_path: Path) -> None:
    # A dry run opens the journal to count who is done; it must leave no file behind.
    with Journal.open(journal_path(tmp_path)) as journal:
        assert (journal.sent, journal.failed, journal.status("k")) == (0, 0, None)
    assert not (tmp_path / ".syndicate").exists()


def test_only_sent_and_failed_can_be_recorded(tmp_path: Path) -> None:
    with Journal.open(journal_path(tmp_path)) as journal, pytest.raises(ValueError):
        journal.record("k", "maybe")


def test_a_closed_journal_cannot_record(tmp_path: Path) -> None:
    journal = Journal.open(journal_path(tmp_path))
    journal.close()
    with pytest.raises(ValueError, match="closed"):
        journal.record("k", "sent")


# -- crashes ----------------------------------------------------------------------------------


def test_a_half_written_last_line_is_dropped_and_cut_from_the_file(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(line("k1") + line("k2")[:20])
    with Journal.open(path) as journal:
        assert journal.repaired
        assert (journal.status("k1"), journal.status("k2")) == ("sent", None)
        journal.record("k2", "sent")
    assert path.read_text() == line("k1") + line("k2")


def test_a_whole_last_record_that_only_lost_its_newline_is_kept(tmp_path: Path) -> None:
    # That message was accepted: dropping the record would send it twice.
    path = journal_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(line("k1") + line("k2").rstrip("\n"))
    with Journal.open(path) as journal:
        assert not journal.repaired
        assert journal.status("k2") == "sent"
        journal.record("k3", "sent")
    assert path.read_text() == line("k1") + line("k2") + line("k3")


def test_garbage_in_a_middle_line_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(line("k1") + "not json at all\n" + line("k3"))
    with pytest.raises(DeliveryError) as caught:
        Journal.open(path)
    [diagnostic] = caught.value.diagnostics
    assert str(diagnostic) == f"{path}:2: error: journal damaged: not a JSON line"
    assert path.read_text().count("\n") == 3  # nothing was "repaired" away


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('["a list"]\n', "not a JSON object"),
        ('{"status": "sent"}\n', "no key"),
        ('{"key": "k", "status": "maybe"}\n', "status must be sent or failed"),
        ('{"key": "k", "status": "sent", "detail": 5}\n', "detail must be text"),
        (b"\xff\xfe\n", "not a JSON line"),
    ],
)
def test_a_line_that_is_not_a_record_is_an_error(
    tmp_path: Path, text: str | bytes, message: str
) -> None:
    path = journal_path(tmp_path)
    path.parent.mkdir(parents=True)
    data = text if isinstance(text, bytes) else text.encode()
    path.write_bytes(line("k1").encode() + data + line("k3").encode())
    with pytest.raises(DeliveryError, match=f":2: error: journal damaged: {message}"):
        Journal.open(path)


def test_a_journal_that_cannot_be_read_is_an_error(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    path.mkdir(parents=True)
    with pytest.raises(DeliveryError, match="cannot read the journal"):
        Journal.open(path)


def killed_after(path: Path, *steps: str) -> None:
    """Open the journal at *path* in a process of its own, take *steps*, then die there
    (``os._exit``: no cleanup, no close)."""
    script = "\n".join(
        [
            "import os, sys",
            "from pathlib import Path",
            "from syndicate.delivery.journal import Journal",
            "journal = Journal.open(Path(sys.argv[1]))",
            *steps,
            "os._exit(9)",
        ]
    )
    result = subprocess.run([sys.executable, "-c", script, str(path)], check=False)
    assert result.returncode == 9


def test_a_run_killed_half_way_resumes_where_it_stopped(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    killed_after(path, "journal.record('k1', 'sent')", "journal.record('k2', 'sent')")
    with Journal.open(path) as journal:
        todo = [key for key in ("k1", "k2", "k3") if journal.status(key) is None]
    assert todo == ["k3"]


def test_room_left_by_a_killed_run_is_skipped_and_used_again(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    killed_after(path, "journal.reserve(100)", "journal.record('k1', 'sent')")
    size = path.stat().st_size
    assert size >= 100 * RECORD_SIZE
    with Journal.open(path) as journal:
        assert not journal.repaired
        assert journal.status("k1") == "sent"
        journal.reserve(99)
        assert path.stat().st_size == size  # the room there is enough
        journal.record("k2", "failed", "550")
    assert path.read_text() == line("k1") + line("k2", "failed", "550")


def test_a_record_torn_in_the_room_is_dropped(tmp_path: Path) -> None:
    # A crash while a record was written over the room: part of it, then blanks.
    path = journal_path(tmp_path)
    path.parent.mkdir(parents=True)
    room = " " * (RECORD_SIZE - 1) + "\n"
    path.write_text(line("k1") + line("k2")[:30] + room[30:] + room)
    with Journal.open(path) as journal:
        assert journal.repaired
        assert (journal.status("k1"), journal.status("k2")) == ("sent", None)
        journal.record("k2", "sent")
    assert path.read_text() == line("k1") + line("k2")


def test_a_whole_record_whose_newline_was_not_written_over_the_room_is_kept(
    tmp_path: Path,
) -> None:
    path = journal_path(tmp_path)
    path.parent.mkdir(parents=True)
    room = " " * (RECORD_SIZE - 1) + "\n"
    path.write_text(line("k1") + line("k2").rstrip("\n") + " " + room)
    with Journal.open(path) as journal:
        assert not journal.repaired
        assert journal.status("k2") == "sent"
        journal.record("k3", "sent")
    assert path.read_text() == line("k1") + line("k2") + line("k3")


# -- the lock ---------------------------------------------------------------------------------

#: Tries the lock from another process; prints what happened.
TRY_LOCK = """
import sys
from pathlib import Path
from syndicate.delivery.lock import publication_lock
from syndicate.errors import DeliveryError
try:
    with publication_lock(Path(sys.argv[1])):
        print("locked")
except DeliveryError as error:
    print(error)
"""


def try_lock_elsewhere(root: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_a_second_publish_fails_fast_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    with publication_lock(tmp_path):
        assert (tmp_path / ".syndicate" / "publish.lock").is_file()
        assert try_lock_elsewhere(tmp_path) == LOCKED
    assert try_lock_elsewhere(tmp_path) == "locked"


def test_the_lock_is_released_when_the_block_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), publication_lock(tmp_path):
        raise RuntimeError("boom")
    assert try_lock_elsewhere(tmp_path) == "locked"


def test_the_lock_is_exclusive_within_one_process_too(tmp_path: Path) -> None:
    with publication_lock(tmp_path):
        with pytest.raises(DeliveryError) as caught, publication_lock(tmp_path):
            pass
        assert str(caught.value) == LOCKED
    with publication_lock(tmp_path):
        pass


def test_the_lock_file_stays_empty(tmp_path: Path) -> None:
    # It lives next to the committed state file: it must never show up as a change.
    with publication_lock(tmp_path):
        pass
    assert (tmp_path / ".syndicate" / "publish.lock").read_bytes() == b""

"""The build as a whole: deterministic, write-only-what-changed, nothing written on failure."""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import syndicate.output.staging
from conftest import NOW, SITE, MakePublication, article, mtimes, tree
from syndicate.cli import main
from syndicate.errors import ContentError, OutputError, RenderError
from syndicate.output import Pieces, target, write_files
from syndicate.pipeline import build


def two_articles(publication: MakePublication) -> Path:
    return publication(
        {
            "content/one.md": article("One", "2025-01-01", categories="Alpha, Beta"),
            "content/two.md": article("Two", "2025-02-01", categories="Beta"),
            "static/img/logo.png": b"\x89PNG fake",
        }
    )


def test_same_input_gives_byte_identical_output(
    publication: MakePublication, tmp_path: Path
) -> None:
    root = two_articles(publication)
    build(root, NOW)
    first = tree(root / "feeds")
    (root / "feeds").rename(tmp_path / "first")
    build(root, NOW)
    assert tree(root / "feeds") == first


def test_no_clock_reading_enters_the_output(publication: MakePublication) -> None:
    root = two_articles(publication)
    build(root, NOW)
    before = tree(root / "feeds")
    build(root, NOW + timedelta(days=400))
    assert tree(root / "feeds") == before


def test_a_second_build_rewrites_nothing(publication: MakePublication) -> None:
    root = two_articles(publication)
    build(root, NOW)
    stamps = mtimes(root / "feeds")
    state = (root / ".syndicate/state.json").stat().st_mtime_ns
    report = build(root, NOW)
    assert report.written == ()
    assert report.unchanged == len(stamps)
    assert mtimes(root / "feeds") == stamps
    assert (root / ".syndicate/state.json").stat().st_mtime_ns == state


def test_an_edit_rewrites_only_the_files_that_show_it(publication: MakePublication) -> None:
    root = two_articles(publication)
    build(root, NOW)
    (root / "content/two.md").write_text(article("Two", "2025-02-01", "Edited.", categories="Beta"))
    report = build(root, NOW)
    assert "categories/alpha/rss.xml" not in report.written
    assert {"rss.xml", "atom.xml", "feed.json", "categories/beta/rss.xml"} <= set(report.written)


def test_the_static_folder_is_served_at_the_site_root(publication: MakePublication) -> None:
    root = two_articles(publication)
    build(root, NOW)
    assert (root / "feeds/img/logo.png").read_bytes() == b"\x89PNG fake"


def test_outputs_no_longer_made_are_removed(publication: MakePublication) -> None:
    root = two_articles(publication)
    build(root, NOW)
    assert (root / "feeds/categories/alpha/rss.xml").exists()
    (root / "content/one.md").write_text(article("One", "2025-01-01", categories="Beta"))
    (root / "static/img/logo.png").unlink()
    report = build(root, NOW)
    assert "categories/alpha/rss.xml" in report.removed
    assert not (root / "feeds/categories/alpha").exists()
    assert not (root / "feeds/img").exists()


def test_files_in_feeds_that_syndicate_did_not_write_are_left_alone(
    publication: MakePublication,
) -> None:
    root = two_articles(publication)
    (root / "feeds").mkdir()
    (root / "feeds/CNAME").write_text("news.example.org\n")
    build(root, NOW)
    build(root, NOW)
    assert (root / "feeds/CNAME").read_text() == "news.example.org\n"


def test_a_change_keeps_every_other_file_and_folder_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    write_files(folder, {"rss.xml": b"one", "posts/a/index.html": b"a", "deep/x/y/z.txt": b"z"})
    (folder / "private").mkdir(mode=0o700)
    (folder / "private/notes.txt").write_text("mine")
    before = {p.relative_to(folder): (p.stat().st_ino, p.stat().st_mode) for p in folder.rglob("*")}
    result = write_files(folder, {"rss.xml": b"two"})
    assert result.written == ("rss.xml",)
    after = {p.relative_to(folder): (p.stat().st_ino, p.stat().st_mode) for p in folder.rglob("*")}
    assert after.keys() == before.keys()
    # Files: the same inodes (hard links); folders: new ones, with the same permissions.
    for name, (inode, mode) in before.items():
        if name == Path("rss.xml"):
            assert after[name][0] != inode and (folder / name).read_bytes() == b"two"
        elif (folder / name).is_dir():
            assert after[name][1] == mode
        else:
            assert after[name] == (inode, mode)


def test_a_failed_check_writes_nothing(publication: MakePublication) -> None:
    root = two_articles(publication)
    build(root, NOW)
    before, stamps = tree(root), mtimes(root)
    (root / "content/two.md").write_text("---\ntitle: Two\ndate: someday\n---\nBody\n")
    with pytest.raises(ContentError) as raised:
        build(root, NOW)
    assert [d.message for d in raised.value.diagnostics if d.is_error] == [
        'date: cannot read "someday" as a date (use ISO 8601: 2025-08-18 or '
        "2025-08-18T09:30:00+07:00)"
    ]
    del before["content/two.md"], stamps["content/two.md"]
    after, after_stamps = tree(root), mtimes(root)
    del after["content/two.md"], after_stamps["content/two.md"]
    assert after == before
    assert after_stamps == stamps


def test_strict_turns_warnings_into_a_failure(publication: MakePublication) -> None:
    root = publication({"content/a.md": article(mood="happy")})
    with pytest.raises(ContentError):
        build(root, NOW, strict=True)
    assert not (root / "feeds").exists()
    assert build(root, NOW).published == 1


def test_a_write_that_fails_leaves_the_old_output_whole(
    publication: MakePublication, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = two_articles(publication)
    build(root, NOW)
    before, stamps = tree(root), mtimes(root)
    (root / "content/two.md").write_text(article("Two", "2025-02-01", "Edited.", categories="Beta"))
    del before["content/two.md"], stamps["content/two.md"]
    writes = 0

    def full_disk(path: str, pieces: list[bytes]) -> os.stat_result:
        nonlocal writes
        writes += 1
        data = b"".join(pieces)
        if writes == 3:  # the disk fills up half-way through the third file
            Path(path).write_bytes(data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
        Path(path).write_bytes(data)
        return os.stat(path)

    monkeypatch.setattr(syndicate.output.staging, "_write", full_disk)
    with pytest.raises(OutputError) as raised:
        build(root, NOW)
    assert str(raised.value).endswith(
        f"No space left on device; {root / 'feeds'} is unchanged; free some disk space and "
        "build again"
    )
    after, after_stamps = tree(root), mtimes(root)
    del after["content/two.md"], after_stamps["content/two.md"]
    assert after == before  # no truncated file, no half-built folder left behind
    assert after_stamps == stamps


class _FailsAtThird(Mapping[str, bytes]):
    """Files made when read, the third failing to render, as a feed's template might."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.read: list[str] = []

    def __getitem__(self, name: str) -> bytes:
        self.read.append(name)
        if len(self.read) == 3:
            raise RenderError(f"{name}: cannot render")
        return self.files[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def test_a_file_that_fails_while_others_are_written_leaves_the_old_output_whole(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "feeds"
    write_files(folder, {"a.xml": b"old a", "b.xml": b"old b", "c.xml": b"old c"})
    before, stamps = tree(folder), mtimes(folder)
    files = _FailsAtThird({"a.xml": b"new a", "b.xml": b"new b", "c.xml": b"new c"})
    with pytest.raises(RenderError):
        write_files(folder, files)
    assert files.read == ["a.xml", "b.xml", "c.xml"]  # each read once, in order
    assert tree(folder) == before and mtimes(folder) == stamps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds"]  # no staging left


class _InPieces(Pieces):
    def __init__(self, files: dict[str, list[bytes]]) -> None:
        self.files = files

    def pieces(self, name: str) -> list[bytes]:
        return self.files[name]

    def __getitem__(self, name: str) -> bytes:
        raise AssertionError("a file in pieces is never joined to be compared or written")

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def test_files_in_pieces_are_compared_and_written_piece_by_piece(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    first = write_files(folder, _InPieces({"feed.xml": [b"<a>", b"one", b"</a>"]}))
    assert first.written == ("feed.xml",)
    assert (folder / "feed.xml").read_bytes() == b"<a>one</a>"
    stamps = mtimes(folder)
    # The same bytes cut elsewhere are the same file; the same size is not.
    same = write_files(folder, _InPieces({"feed.xml": [b"<a>o", b"ne</a>"]}))
    assert same.written == () and mtimes(folder) == stamps
    other = write_files(folder, _InPieces({"feed.xml": [b"<a>", b"two", b"</a>"]}))
    assert other.written == ("feed.xml",)
    assert (folder / "feed.xml").read_bytes() == b"<a>two</a>"


def test_a_file_of_thousands_of_pieces_is_written_whole(tmp_path: Path) -> None:
    # More pieces than one writev() takes, some empty, one larger than a pipe's buffer.
    pieces = [f"<item>{i}</item>\n".encode() * (i % 7) for i in range(5000)]
    pieces[2500] = b"x" * 3_000_000
    first = write_files(tmp_path / "feeds", _InPieces({"feed.xml": pieces}))
    assert first.written == ("feed.xml",)
    assert (tmp_path / "feeds/feed.xml").read_bytes() == b"".join(pieces)


def test_a_write_that_stops_short_is_taken_up_where_it_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # writev() may write less than it was given (a signal arrived): the rest follows.
    real = os.writev

    def short(descriptor: int, buffers: list[bytes]) -> int:
        data = b"".join(buffers)
        return real(descriptor, [data[: len(data) // 3 + 1]])

    monkeypatch.setattr(os, "writev", short)
    pieces = [bytes([65 + i % 26]) * i for i in range(3000)]
    write_files(tmp_path / "feeds", _InPieces({"feed.xml": pieces}))
    assert (tmp_path / "feeds/feed.xml").read_bytes() == b"".join(pieces)


def _flushes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread of each flush to disk from now on (each still flushes)."""
    threads: list[str] = []
    real = syndicate.output.staging._sync

    def sync(folder: Path) -> None:
        threads.append(threading.current_thread().name)
        real(folder)

    monkeypatch.setattr(syndicate.output.staging, "_sync", sync)
    monkeypatch.setattr(syndicate.output.staging, "FLUSH_EVERY", 1000)
    return threads


def _flushing_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "syndicate-flush"]


def test_a_large_build_flushes_what_it_wrote_while_it_writes_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _flushes(monkeypatch)
    files = {f"posts/{n}/index.html": bytes([97 + n % 26]) * 700 for n in range(40)}
    result = write_files(tmp_path / "feeds", files)
    assert len(result.written) == 40 and tree(tmp_path / "feeds") == files
    # Flushes began in the background while files were still being written; the flush
    # before the swap came last, in the build's own thread, and none is left running.
    assert "syndicate-flush" in threads[:-1]
    assert threads[-1] == threading.current_thread().name
    assert _flushing_threads() == []


def test_the_last_files_go_to_disk_while_ready_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A small build writes less than FLUSH_EVERY: its files start on their way to disk
    # in the background before ready() is called (the build saves its state and cache
    # meanwhile), and the flush before the swap has only the rest to wait for.
    threads: list[str] = []
    flushing = threading.Event()
    real = syndicate.output.staging._sync

    def sync(folder: Path) -> None:
        threads.append(threading.current_thread().name)
        flushing.set()
        real(folder)

    monkeypatch.setattr(syndicate.output.staging, "_sync", sync)
    seen: list[object] = []

    def ready() -> None:
        seen.append(flushing.wait(timeout=10))
        seen.append(list(threads))

    write_files(tmp_path / "feeds", {"rss.xml": b"<rss/>", "atom.xml": b"<feed/>"}, ready=ready)
    assert seen == [True, ["syndicate-flush"]]
    assert threads == ["syndicate-flush", threading.current_thread().name]
    assert _flushing_threads() == []


def test_a_build_that_fails_while_flushing_leaves_the_old_output_and_no_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "feeds"
    write_files(folder, {"a.xml": b"old a", "b.xml": b"old b", "c.xml": b"old c"})
    before, stamps = tree(folder), mtimes(folder)
    threads = _flushes(monkeypatch)
    files = _FailsAtThird({"a.xml": b"A" * 1500, "b.xml": b"B" * 1500, "c.xml": b"new c"})
    with pytest.raises(RenderError):
        write_files(folder, files)
    assert "syndicate-flush" in threads  # it had begun
    assert tree(folder) == before and mtimes(folder) == stamps
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feeds"]  # no staging left
    assert _flushing_threads() == []


def test_output_paths_cannot_leave_the_output_folder(tmp_path: Path) -> None:
    for name in ("../x", "/etc/passwd", "a/../../x", "a\\..\\x", "x\x00"):
        with pytest.raises(OutputError):
            target(tmp_path, name)


def test_a_static_file_cannot_replace_a_generated_one(publication: MakePublication) -> None:
    root = publication({"content/a.md": article(), "static/rss.xml": "<rss/>"})
    with pytest.raises(ContentError) as raised:
        build(root, NOW)
    assert "has the name of a generated file" in str(raised.value.diagnostics[0])


def test_dry_run_writes_nothing_and_says_what_would_change(publication: MakePublication) -> None:
    root = two_articles(publication)
    report = build(root, NOW, dry_run=True)
    assert "rss.xml" in report.written
    assert not (root / "feeds").exists()
    assert not (root / ".syndicate").exists()


# --- templates ------------------------------------------------------------------


def test_a_publication_overrides_a_default_template(publication: MakePublication) -> None:
    root = publication(
        {"content/a.md": article(), "templates/site/index.html.j2": "Custom {{ site.title }}\n"}
    )
    build(root, NOW)
    assert (root / "feeds/index.html").read_text() == "Custom Test Times\n"


def test_an_override_can_extend_the_default_it_replaces(publication: MakePublication) -> None:
    root = publication(
        {
            "content/a.md": article(),
            "templates/site/index.html.j2": '{% extends "default:site/index.html.j2" %}',
        }
    )
    build(root, NOW)
    assert "<h1>Test Times</h1>" in (root / "feeds/index.html").read_text()


def test_templates_escape_article_text(publication: MakePublication) -> None:
    root = publication({"content/a.md": article("'<script>x</script> {{ 7*7 }}'")})
    build(root, NOW)
    page = (root / "feeds/index.html").read_text()
    assert "&lt;script&gt;x&lt;/script&gt; {{ 7*7 }}" in page
    assert "<script>" not in page


def test_a_broken_template_is_reported_with_its_name(publication: MakePublication) -> None:
    root = publication(
        {"content/a.md": article(), "templates/site/index.html.j2": "line\n{% if %}\n"}
    )
    with pytest.raises(RenderError, match=r"index\.html\.j2:2: template error"):
        build(root, NOW)
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "index.html.j2:2: template error" in result.output


def test_an_undefined_template_variable_is_an_error_not_blank(publication: MakePublication) -> None:
    root = publication(
        {"content/a.md": article(), "templates/site/index.html.j2": "{{ site.nonsense }}"}
    )
    with pytest.raises(RenderError, match="nonsense"):
        build(root, NOW)


# --- the command line ----------------------------------------------------------


def test_build_and_publish_report_what_they_did(publication: MakePublication) -> None:
    root = two_articles(publication)
    runner = CliRunner()
    first = runner.invoke(main, ["-C", str(root), "publish"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("2 articles in 3 feeds: wrote 19 files, 0 unchanged, 0 removed")
    again = runner.invoke(main, ["-C", str(root), "build"])
    assert again.output.startswith("2 articles in 3 feeds: wrote 0 files, 19 unchanged")


def test_publish_dry_run(publication: MakePublication) -> None:
    root = two_articles(publication)
    result = CliRunner().invoke(main, ["-C", str(root), "publish", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would write 19 files" in result.output
    assert not (root / "feeds").exists()


def test_a_missing_root_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["-C", "/nonexistent/place", "check"])
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_default_config_needs_only_title_and_url(publication: MakePublication) -> None:
    root = publication(
        {"content/a.md": article(author="Ana")},
        config='[site]\ntitle = "T"\nurl = "https://t.example"\n',
    )
    build(root, NOW)
    rss = (root / "feeds/rss.xml").read_text()
    assert "<description>T</description>" in rss
    assert "<link>https://t.example/</link>" in rss


def test_every_site_option_is_honoured(publication: MakePublication) -> None:
    config = (
        SITE
        + 'language = "id"\ntimezone = "Asia/Jakarta"\npermalink = "/{year}/{month}/{slug}.html"\n'
    )
    root = publication({"content/a.md": article(date="2025-12-31T20:00:00Z")}, config)
    build(root, NOW)
    rss = (root / "feeds/rss.xml").read_text()
    assert "<language>id</language>" in rss
    assert "<link>https://news.example.org/2026/01/a.html</link>" in rss  # 03:00 in Jakarta

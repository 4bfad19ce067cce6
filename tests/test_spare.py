"""The folder a swap replaced is kept as the spare (``.feeds.spare``) and becomes the next
one: brought up to date by the files the last swap changed, never by a mirror of the whole
output.  It is used only when neither folder was touched since; whatever happens, the
output folder holds exactly what a build made and what was put there by hand."""

from __future__ import annotations

import json
import stat
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import tree
from syndicate.output import sibling, write_files

FILES = {"rss.xml": b"feed 1", "posts/a/index.html": b"a 1", "posts/b/index.html": b"b 1"}


def inodes(folder: Path) -> dict[str, int]:
    return {
        p.relative_to(folder).as_posix(): p.stat().st_ino for p in folder.rglob("*") if p.is_file()
    }


def three_builds(folder: Path) -> None:
    """A first build, then two that each change a file: the second swap has a spare."""
    write_files(folder, FILES)
    write_files(folder, {**FILES, "rss.xml": b"feed 2"})
    write_files(folder, {**FILES, "rss.xml": b"feed 2", "posts/a/index.html": b"a 2"})


def test_a_change_takes_the_spare_and_keeps_the_old_folder_as_the_next_spare(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "feeds"
    write_files(folder, FILES)
    first = folder.stat().st_ino
    assert not sibling(folder, "spare").exists()  # a new folder replaced nothing
    write_files(folder, {**FILES, "rss.xml": b"feed 2"})
    spare = sibling(folder, "spare")
    assert (spare / "tree").stat().st_ino == first
    assert tree(spare / "tree") == FILES  # the folder as it was before the swap
    unchanged = inodes(folder)
    result = write_files(folder, {**FILES, "rss.xml": b"feed 2", "posts/a/index.html": b"a 2"})
    assert result.written == ("posts/a/index.html",)
    # The first folder again, brought up to date: rss.xml from the second build.
    assert folder.stat().st_ino == first
    assert tree(folder) == {**FILES, "rss.xml": b"feed 2", "posts/a/index.html": b"a 2"}
    now = inodes(folder)
    assert {n: now[n] for n in now if n != "posts/a/index.html"} == {
        n: unchanged[n] for n in unchanged if n != "posts/a/index.html"
    }


def test_the_spare_stays_out_of_git(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    three_builds(folder)
    assert (sibling(folder, "spare") / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_file_put_in_the_output_by_hand_stays(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    three_builds(folder)
    (folder / "posts/a/notes.txt").write_text("mine")
    (folder / "CNAME").write_text("news.example.org\n")
    write_files(folder, {**FILES, "rss.xml": b"feed 3"})
    assert (folder / "posts/a/notes.txt").read_text() == "mine"
    assert (folder / "CNAME").read_text() == "news.example.org\n"


def test_a_file_deleted_by_hand_does_not_come_back(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    write_files(folder, FILES)
    (folder / "CNAME").write_text("old.example.org\n")
    write_files(folder, {**FILES, "rss.xml": b"feed 2"})
    (folder / "CNAME").unlink()
    write_files(folder, {**FILES, "rss.xml": b"feed 3"})
    assert not (folder / "CNAME").exists()


def test_a_folders_permissions_changed_by_hand_are_kept(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    three_builds(folder)
    (folder / "posts/b").chmod(0o700)
    write_files(folder, {**FILES, "rss.xml": b"feed 3"})
    assert stat.S_IMODE((folder / "posts/b").stat().st_mode) == 0o700


def as_if_in_the_same_tick(folder: Path) -> None:
    """Record the change times the folders have now, as when a change comes within the
    same tick of the file system's clock as the build's last one and moves none of them
    (the record's time stays that of the build: the folders are recent, "racy")."""
    record_path = sibling(folder, "spare") / "record.json"
    record = json.loads(record_path.read_bytes())
    for part, top in (("current", folder), ("tree", sibling(folder, "spare") / "tree")):
        for name in record[part]:
            record[part][name] = (top / name).stat().st_ctime_ns
    record_path.write_text(json.dumps(record))


def test_a_change_in_the_same_tick_as_the_build_is_still_seen(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    three_builds(folder)
    (folder / "posts/a/notes.txt").write_text("mine")
    (folder / "posts/b").chmod(0o700)
    as_if_in_the_same_tick(folder)
    write_files(folder, {**FILES, "rss.xml": b"feed 3"})
    assert (folder / "posts/a/notes.txt").read_text() == "mine"
    assert stat.S_IMODE((folder / "posts/b").stat().st_mode) == 0o700


def test_a_file_replaced_in_the_same_tick_as_the_build_is_kept(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    three_builds(folder)
    # Replaced by another file of the same name, as editors save: a new inode.
    (folder / "posts/b/index.html.tmp").write_bytes(b"b by hand")
    (folder / "posts/b/index.html.tmp").replace(folder / "posts/b/index.html")
    as_if_in_the_same_tick(folder)
    write_files(folder, {"rss.xml": b"feed 3"})  # the pages not named: left as they are
    assert (folder / "posts/b/index.html").read_bytes() == b"b by hand"


def test_a_file_slipped_into_the_spare_is_never_published(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    three_builds(folder)
    (sibling(folder, "spare") / "tree/posts/b/script.js").write_text("alert(1)")
    write_files(folder, {**FILES, "rss.xml": b"feed 3"})
    assert not (folder / "posts/b/script.js").exists()
    assert tree(folder) == {**FILES, "rss.xml": b"feed 3"}


def test_a_damaged_or_foreign_record_is_not_trusted(tmp_path: Path) -> None:
    for damage in (b"{not json", b'{"version": 1}', b"[]"):
        folder = tmp_path / f"feeds-{len(damage)}"
        three_builds(folder)
        (sibling(folder, "spare") / "record.json").write_bytes(damage)
        write_files(folder, {**FILES, "rss.xml": b"feed 3"})
        assert tree(folder) == {**FILES, "rss.xml": b"feed 3"}
    # A record whose names leave the folder: the spare is dropped, nothing is written there.
    folder = tmp_path / "feeds-outside"
    three_builds(folder)
    record_path = sibling(folder, "spare") / "record.json"
    record = json.loads(record_path.read_bytes())
    record["changed"] = ["../../outside.txt"]
    record_path.write_text(json.dumps(record))
    write_files(folder, {**FILES, "rss.xml": b"feed 3"})
    assert tree(folder) == {**FILES, "rss.xml": b"feed 3"}
    assert not (tmp_path / "outside.txt").exists()


def test_removed_outputs_and_their_empty_folders_stay_removed(tmp_path: Path) -> None:
    folder = tmp_path / "feeds"
    three_builds(folder)
    later = {"rss.xml": b"feed 3", "posts/a/index.html": b"a 2"}
    result = write_files(folder, later, stale=FILES)
    assert result.removed == ("posts/b/index.html",)
    assert not (folder / "posts/b").exists()
    write_files(folder, {**later, "rss.xml": b"feed 4"})  # from the spare: b was in it
    assert tree(folder) == {**later, "rss.xml": b"feed 4"}
    assert not (folder / "posts/b").exists()


# A folder under random builds and hand edits, against a model of what it must hold.
NAMES = ["rss.xml", "a/index.html", "a/b/index.html", "c/index.html", "c/d/e/index.html"]
HAND = ["CNAME", "a/notes.txt", "c/d/keep.txt"]
step = st.one_of(
    st.tuples(
        st.just("build"),
        st.dictionaries(st.sampled_from(NAMES), st.sampled_from([b"1", b"2", b"three"])),
    ),
    st.tuples(st.just("add"), st.sampled_from(HAND)),
    st.tuples(st.just("delete"), st.sampled_from(HAND)),
    st.tuples(st.just("edit in place"), st.sampled_from(NAMES)),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(step, min_size=1, max_size=12))
def test_any_sequence_of_builds_and_hand_edits_leaves_exactly_what_it_should(
    steps: list[tuple[str, object]],
) -> None:
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "feeds"
        model: dict[str, bytes] = {}
        made: set[str] = set()
        for kind, value in steps:
            if kind == "build":
                assert isinstance(value, dict)
                write_files(folder, value, stale=made)
                for name in made - value.keys():
                    model.pop(name, None)
                model.update(value)
                made = set(value)
            elif not folder.is_dir():
                continue
            elif kind == "add":
                assert isinstance(value, str)
                (folder / value).parent.mkdir(parents=True, exist_ok=True)
                (folder / value).write_bytes(b"by hand")
                model[value] = b"by hand"
            elif kind == "delete":
                assert isinstance(value, str)
                if (folder / value).exists():
                    (folder / value).unlink()
                    model.pop(value, None)
            elif isinstance(value, str) and value in model and value not in HAND:
                with open(folder / value, "r+b") as file:  # the same file, other bytes
                    file.write(b"X")
                model[value] = b"X" + model[value][1:]
            if folder.is_dir():
                assert tree(folder) == model, (kind, value)

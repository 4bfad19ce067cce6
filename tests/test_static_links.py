"""No file outside the static folder reaches feeds/: not through a symbolic link (even one
that stays inside the publication), not as an article's image, not as a template.

A symbolic link may only lead to a file in its own folder: static/ to static/, content/ to
content/, templates/ to templates/.  Anything else is an error, and nothing is written.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from conftest import NOW, SITE, MakePublication, article
from syndicate.cli import main
from syndicate.errors import ContentError, RenderError
from syndicate.pipeline import build, check

#: What a file outside the static folder holds, to look for in everything the build wrote.
MARKER = b"PRIVATE-9f1c2e"
EMAIL = SITE + (
    '\n[email]\nfrom = "T <t@example.org>"\n'
    'unsubscribe_url = "https://news.example.org/u?e={email}&t={token}"\n'
)


def output(root: Path) -> bytes:
    """Every file the build left below feeds/, one after the other."""
    folder = root / "feeds"
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def refused(root: Path) -> list[str]:
    """The diagnostics of a build that must refuse, as the CLI shows them."""
    with pytest.raises(ContentError) as error:
        build(root, NOW)
    return [d.format(relative_to=root) for d in error.value.diagnostics]


def private_places(root: Path, outside: Path) -> dict[str, Path]:
    """Files a publication keeps out of feeds/, each holding :data:`MARKER`."""
    places = {
        "subscriber list": root / "subscribers.csv",
        ".env": root / ".env",
        "syndicate's own folder": root / ".syndicate/notes.txt",
        "an article's source": root / "content/_drafts/draft.md",
        "outside the publication": outside / "passwd",
    }
    for path in places.values():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(MARKER + b"\n")
    places["subscriber list"].write_bytes(b"email,status\n" + MARKER + b"@example.org,ok\n")
    return places


@pytest.mark.parametrize(
    "target",
    [
        "subscriber list",
        ".env",
        "syndicate's own folder",
        "an article's source",
        "outside the publication",
    ],
)
def test_a_static_file_linked_to_any_file_outside_the_static_folder_is_refused(
    publication: MakePublication, tmp_path: Path, target: str
) -> None:
    root = publication({"content/a.md": article(), "static/ok.txt": "fine\n"})
    places = private_places(root, tmp_path)
    (root / "static/list.csv").symlink_to(places[target])
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 1
    assert (
        "static/list.csv: error: a symbolic link to outside the static folder; copy the file in"
        in result.output
    )
    assert not (root / "feeds").exists()


def test_a_folder_linked_into_static_from_elsewhere_is_refused(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": article(), ".syndicate/notes.txt": "private\n"})
    (root / "static").mkdir()
    (root / "static/private").symlink_to(root / ".syndicate", target_is_directory=True)
    assert refused(root) == [
        "static/private: error: a symbolic link to outside the static folder; copy the file in"
    ]


def test_a_link_to_a_file_inside_the_static_folder_is_published_as_that_file(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": article(), "static/2025/cover.txt": "the cover\n"})
    (root / "static/latest.txt").symlink_to(root / "static/2025/cover.txt")
    build(root, NOW)
    assert (root / "feeds/latest.txt").read_text() == "the cover\n"
    assert not (root / "feeds/latest.txt").is_symlink()


def test_a_pipe_in_the_static_folder_is_an_error_not_a_hang(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": article(), "static/ok.txt": "fine\n"})
    os.mkfifo(root / "static/pipe")
    assert refused(root) == ["static/pipe: error: not a regular file; only files are published"]


def test_a_static_folder_that_holds_the_publication_is_refused(
    publication: MakePublication,
) -> None:
    config = SITE.replace('author = "Site Author"', 'author = "Site Author"\nstatic = "."')
    root = publication({"content/a.md": article(), "subscribers.csv": "email\nx@example.org\n"})
    (root / "syndicate.toml").write_text(config)
    assert refused(root) == [
        "syndicate.toml: error: site.static: the folder holds the whole publication; "
        "give it one of its own"
    ]


def picture(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), (200, 30, 30)).save(path)
    return path


def test_an_image_reached_through_a_link_out_of_the_static_folder_is_an_error(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": article(image="/cover.png")}, EMAIL)
    picture(root / "private/cover.png")  # git-ignored, say
    (root / "static").mkdir()
    (root / "static/cover.png").symlink_to(root / "private/cover.png")
    problem = (
        'content/a.md:4: error: image: "/cover.png": '
        "a symbolic link on its way leads out of the static folder"
    )
    assert problem in [d.format(relative_to=root) for d in check(root, NOW).diagnostics]
    assert problem in refused(root)
    assert not (root / "feeds").exists()


def test_an_image_through_a_linked_folder_is_an_error_too(publication: MakePublication) -> None:
    root = publication({"content/a.md": article(image="/shots/cover.png")}, EMAIL)
    picture(root / "private/cover.png")
    (root / "static").mkdir()
    (root / "static/shots").symlink_to(root / "private", target_is_directory=True)
    diagnostics = [d.format(relative_to=root) for d in check(root, NOW).diagnostics]
    assert diagnostics == [
        'content/a.md:4: error: image: "/shots/cover.png": '
        "a symbolic link on its way leads out of the static folder"
    ]


@pytest.mark.parametrize("name", [".hidden.png", ".secret/cover.png"])
def test_an_image_the_build_does_not_publish_is_never_read(
    publication: MakePublication, name: str
) -> None:
    # Names starting with "." stay out of feeds/: no card or email may read them either.
    root = publication({"content/a.md": article(image=f"/{name}")}, EMAIL)
    picture(root / "static" / name)
    report = build(root, NOW)
    assert [d.format(relative_to=root) for d in report.diagnostics] == [
        f'content/a.md:4: warning: image: "/{name}" is not in the static folder (static/{name})'
    ]
    assert not list((root / "feeds").glob("email/images/*"))


def test_a_template_linked_to_a_file_outside_the_templates_folder_is_refused(
    publication: MakePublication,
) -> None:
    root = publication({"content/a.md": article(), ".env": MARKER.decode() + "\n"})
    (root / "templates/site").mkdir(parents=True)
    (root / "templates/site/article.html.j2").symlink_to(root / ".env")
    with pytest.raises(RenderError, match="a symbolic link to outside the templates folder"):
        build(root, NOW)
    assert not (root / "feeds").exists()


LINK_FOLDERS = ["static", "static/deep", "content", "templates/site"]
TARGETS = [
    "subscriber list",
    ".env",
    "syndicate's own folder",
    "an article's source",
    "outside the publication",
]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    links=st.lists(
        st.tuples(
            st.sampled_from(LINK_FOLDERS),
            st.sampled_from(["list.csv", "b.md", "article.html.j2", "page.html", "x"]),
            st.sampled_from(TARGETS),
        ),
        min_size=1,
        max_size=4,
        unique_by=lambda link: link[:2],
    ),
)
def test_no_file_outside_the_static_folder_reaches_feeds_whatever_links_there_are(
    tmp_path_factory: pytest.TempPathFactory, links: list[tuple[str, str, str]]
) -> None:
    root = tmp_path_factory.mktemp("pub")
    (root / "syndicate.toml").write_text(EMAIL)
    (root / "content").mkdir()
    (root / "content/a.md").write_text(article(body="Body."))
    (root / "static").mkdir()
    (root / "static/ok.txt").write_text("fine\n")
    places = private_places(root, tmp_path_factory.mktemp("outside"))
    for folder, name, target in links:
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / name).symlink_to(places[target])
    try:
        build(root, NOW)
    except (ContentError, RenderError):
        assert not (root / "feeds").exists()  # refused: nothing written
    else:
        assert MARKER not in output(root)

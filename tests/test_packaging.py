"""The package as users install it: a wheel that carries its templates, installed and run
far from this source tree, and honest docs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import REPO
from syndicate import DISTRIBUTION, __version__
from syndicate.cli import main

#: The wheels of syndicate's dependencies, put there by ``make`` (the .test-deps step), so
#: that the built wheel installs into a fresh virtualenv without reaching a package index.
WHEELHOUSE = Path(sys.prefix) / "wheelhouse"


def build(source: Path, out: Path, *targets: str) -> None:
    args = [a for target in targets for a in ("--target", target)]
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", *args, "--directory", str(out)],
        cwd=source,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and the sdist, built from this source tree."""
    out = tmp_path_factory.mktemp("dist")
    build(REPO, out, "wheel", "sdist")
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("syndicate_publisher-*.whl")
    return built


def test_the_wheel_ships_the_default_templates(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {n.removeprefix("syndicate/templates/") for n in names if "/templates/" in n}
    on_disk = {  # dotfiles included: the scaffold's .github/workflows/publish.yml
        p.relative_to(REPO / "templates").as_posix()
        for p in (REPO / "templates").rglob("*")
        if p.is_file()
    }
    assert on_disk and shipped == on_disk
    assert "syndicate/py.typed" in names


def test_the_installed_package_loads_templates_through_itself(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "site-packages"
    zipfile.ZipFile(wheel).extractall(unpacked)
    probe = (
        "import syndicate, syndicate.templating as t; "
        "print(syndicate.__file__); print(t.default_templates())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,  # not the repository: nothing may be found relative to the working directory
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    )
    module, templates = result.stdout.split()
    assert Path(module).is_relative_to(unpacked)
    assert Path(templates) == unpacked / "syndicate" / "templates"
    assert (Path(templates) / "site" / "index.html.j2").is_file()


def test_the_distribution_is_named_as_the_package_says() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION == "syndicate-publisher"
    assert project["scripts"] == {"syndicate": "syndicate.cli:main"}


def test_the_sdist_holds_everything_the_wheel_is_built_from(
    dist: Path, wheel: Path, tmp_path: Path
) -> None:
    (sdist,) = dist.glob("syndicate_publisher-*.tar.gz")
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp_path, filter="data")
    (unpacked,) = tmp_path.iterdir()
    try:
        build(unpacked, tmp_path / "again", "wheel")
    finally:
        # Its tests hold the canaries that tests/leaks.py looks for in what tests leave.
        shutil.rmtree(unpacked)
    (again,) = (tmp_path / "again").glob("*.whl")
    assert sorted(zipfile.ZipFile(again).namelist()) == sorted(zipfile.ZipFile(wheel).namelist())


#: Installed into the fresh virtualenv (a .pth file runs it in every process it starts,
#: the build's workers too): notes every path of this source tree that an audited call
#: (open, listdir, scandir, stat-free imports, ...) is given, and every file opened below the
#: installed package, in the file SOURCE_AUDIT names.
AUDIT = """\
import os, sys
_log = os.environ.get("SOURCE_AUDIT")
if _log:
    _fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    _tree = os.environ["SOURCE_TREE"].rstrip("/") + "/"
    def _hook(event, args):
        for arg in args:
            if isinstance(arg, (str, bytes, os.PathLike)):
                try:
                    path = os.fsdecode(arg)
                except TypeError:
                    continue
                if path.startswith(_tree) or path == _tree[:-1]:
                    os.write(_fd, f"SOURCE {event} {path}\\n".encode())
                elif event == "open" and "/site-packages/syndicate/" in path:
                    os.write(_fd, f"PACKAGE {path}\\n".encode())
    sys.addaudithook(_hook)
"""

#: A subscriber for the outbox rehearsal (an address no other test uses).
READER = "wheel-reader@example.net"


def test_the_wheel_works_in_a_fresh_virtualenv_far_from_the_source_tree(
    wheel: Path, tmp_path: Path
) -> None:
    assert (WHEELHOUSE / "README").is_file(), "no wheelhouse: make .venv/.test-deps makes it"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    subprocess.run(
        [*install, "--no-index", "--find-links", str(WHEELHOUSE), str(wheel)],
        check=True,
        capture_output=True,
    )
    (site,) = venv.glob("lib/python3*/site-packages")
    (site / "source_audit.py").write_text(AUDIT)
    (site / "source_audit.pth").write_text("import source_audit\n")
    work = tmp_path / "work"
    work.mkdir()
    audit = tmp_path / "audit.log"
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LC_ALL": "C.UTF-8",
        "SOURCE_AUDIT": str(audit),
        "SOURCE_TREE": str(REPO),
        "SYNDICATE_SUBSCRIBERS": str(work / "list.csv"),
    }

    def syndicate(*args: str) -> str:
        result = subprocess.run(
            ["syndicate", *args], cwd=work, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"syndicate {' '.join(args)}: {result.stderr}"
        return result.stdout

    assert syndicate("--version").strip() == f"syndicate, version {__version__}"
    syndicate("init", "pub")
    (work / "list.csv").write_text(f"email,name,status\n{READER},Reader,subscribed\n")
    assert syndicate("-C", "pub", "check").startswith("ok: 1 article, 1 published")
    syndicate("-C", "pub", "build")
    published = syndicate("publish", "-C", "pub")
    assert "through the outbox" in published, published

    with subprocess.Popen(
        ["syndicate", "-C", "pub", "preview", "--port", "0"],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as preview:
        try:
            assert preview.stdout is not None
            lines = [preview.stdout.readline() for _ in range(3)]
            assert lines[2].startswith("Built the preview: 1 article"), lines
        finally:
            preview.terminate()
            preview.wait(timeout=10)

    pub = work / "pub"
    assert (pub / "feeds" / "social" / "hello-world.png").is_file()  # drawn with its fonts
    assert len(list((pub / "outbox").rglob("*.eml"))) == 1
    # The workflow installs exactly what wrote it.
    probe = "from importlib.metadata import distribution as d; x = d('syndicate-publisher'); "
    probe += "print(f'{x.name}=={x.version}')"
    installed = subprocess.run(
        [python, "-c", probe], env=env, cwd=work, capture_output=True, text=True, check=True
    )
    requirements = (pub / ".github" / "syndicate-requirements.txt").read_text()
    assert requirements == installed.stdout == f"{DISTRIBUTION}=={__version__}\n"

    log = audit.read_text().splitlines()
    used = sorted({line for line in log if line.startswith("SOURCE ")})
    assert not used, "the installed syndicate reached into the source tree:\n" + "\n".join(used)
    package = {line.split("/site-packages/syndicate/", 1)[1] for line in log}
    assert {
        "templates/init/.github/workflows/publish.yml",
        "templates/email/digest.mjml.j2",
        "templates/site/article.html.j2",
        "templates/social/fonts/NotoSans-Bold.ttf",
    } <= package, sorted(package)


def commands() -> list[str]:
    assert isinstance(main, click.Group)
    return sorted(main.commands)


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_and_is_in_the_readme(command: str) -> None:
    help_text = CliRunner().invoke(main, [command, "--help"]).output
    assert re.search(r"\n  \S", help_text), f"{command} --help explains nothing"
    assert f"syndicate {command}" in (REPO / "README.md").read_text()


def test_the_readme_quick_start_has_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^make \w+$", quick_start, re.MULTILINE) == ["make publish", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in (REPO / ".ci/run").read_text()


def test_every_test_security_md_names_exists() -> None:
    named = re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", (REPO / "SECURITY.md").read_text())
    assert len(named) > 20
    for path, test in named:
        source = (REPO / path).read_text()
        assert not test or f"def {test}(" in source, f"{path}::{test}"

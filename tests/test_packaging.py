"""The package as users install it: a wheel that carries its templates, and honest docs."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import REPO
from syndicate.cli import main


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "--directory", str(out)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("syndicate-*.whl")
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

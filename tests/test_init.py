"""`syndicate init`: a new publication that checks, builds and publishes from the start."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from conftest import REPO
from syndicate import __version__
from syndicate.cli import main
from syndicate.scaffold import FILES


def init(folder: Path, *extra: str) -> str:
    result = CliRunner().invoke(main, ["init", str(folder), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_init_scaffolds_a_publication_that_checks_and_builds(tmp_path: Path) -> None:
    root = tmp_path / "field-notes"
    output = init(root)
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} == {
        target for _, target in FILES
    }
    config = (root / "syndicate.toml").read_text()
    assert 'title = "Field Notes"' in config
    assert 'url = "https://your-user.github.io/field-notes/"' in config
    article = (root / "content/hello-world.md").read_text()
    assert article.startswith('---\ntitle: "Hello, World"\nauthor: "Your Name"\ndate: ')
    assert (root / ".github/syndicate-requirements.txt").read_text() == (
        f"syndicate-publisher=={__version__}\n"
    )
    ignored = (root / ".gitignore").read_text().split()
    assert {"outbox/", "subscribers*.csv", ".syndicate/cache/"} <= set(ignored)
    for step in ("SYNDICATE_SECRET", "SUBSCRIBERS_CSV", "syndicate -C", "preview", "dry_run"):
        assert step in output
    runner = CliRunner()
    checked = runner.invoke(main, ["-C", str(root), "check"])
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("ok: 1 article, 1 published; 0 errors, 0 warnings")
    published = runner.invoke(main, ["-C", str(root), "publish"])
    assert published.exit_code == 0, published.output
    assert "no subscriber list" in published.output  # built; nothing sent, and said so
    assert (root / "feeds/rss.xml").is_file()


def test_init_writes_the_workflow_this_repository_uses(tmp_path: Path) -> None:
    init(tmp_path / "pub")
    workflow = ".github/workflows/publish.yml"
    assert (tmp_path / "pub" / workflow).read_bytes() == (REPO / workflow).read_bytes()


def test_init_refuses_to_overwrite_and_force_overwrites(tmp_path: Path) -> None:
    root = tmp_path / "pub"
    root.mkdir()
    (root / "syndicate.toml").write_text("# mine\n")
    refused = CliRunner().invoke(main, ["init", str(root)])
    assert refused.exit_code == 1
    assert "syndicate.toml: error: exists" in refused.output
    assert "nothing was written (--force overwrites them)" in refused.output
    assert (root / "syndicate.toml").read_text() == "# mine\n"
    assert not (root / "content").exists()
    init(root, "--force", "--title", 'The "Quoted" Post', "--url", "https://q.example.org")
    config = (root / "syndicate.toml").read_text()
    assert 'title = "The \\"Quoted\\" Post"' in config
    assert 'url = "https://q.example.org/"' in config

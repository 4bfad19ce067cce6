"""The GitHub Actions workflows: what they promise, two linters, and the publish job's
own shell steps run against a copy of the example publication, as a runner would."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from conftest import REPO
from syndicate.cli import main

BIN = Path(sys.executable).parent
ACTIONLINT = BIN / "actionlint"
ZIZMOR = BIN / "zizmor"
WORKFLOWS = REPO / ".github" / "workflows"
PUBLISH = WORKFLOWS / "publish.yml"
WORKFLOW_NAMES = ["ci.yml", "publish.yml", "release.yml"]
TEMPLATE = REPO / "templates" / "init" / ".github" / "workflows" / "publish.yml"
REQUIREMENTS = ".github/syndicate-requirements.txt"

BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"

#: A workflow with the two classic mistakes: an action on a movable tag, and an
#: attacker's issue title pasted into a shell script.
BAD_WORKFLOW = """\
name: bad
on:
  issues:
    types: [opened]
permissions: {}
jobs:
  greet:
    name: Greet
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
        with:
          persist-credentials: false
      - run: echo "Thanks for ${{ github.event.issue.title }}"
"""


def workflow(path: Path = PUBLISH) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def triggers(data: Mapping[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True.
    on = data.get("on", data.get(True))
    assert isinstance(on, dict)
    return on


def all_steps(data: Mapping[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in data["jobs"].values() for step in job["steps"]]


def publish_steps() -> list[dict[str, Any]]:
    steps = workflow()["jobs"]["publish"]["steps"]
    assert isinstance(steps, list)
    return steps


# The linters ---------------------------------------------------------------------------


def run_linter(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(command[0])
    assert tool.exists(), f"{tool.name} is missing: pip install -e '.[test]'"
    # No GitHub token: zizmor must stay offline, whatever the developer's shell holds.
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(cwd), "NO_COLOR": "1"}
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def actionlint(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_linter(ACTIONLINT, "-no-color", path, cwd=cwd)


def zizmor(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_linter(ZIZMOR, "--offline", "--no-progress", "--color=never", path, cwd=cwd)


def report(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {result.returncode}\n{result.stdout}\n{result.stderr}"


@pytest.fixture
def scaffolded(tmp_path: Path) -> Path:
    """The workflow `syndicate init` writes for a new publication."""
    root = tmp_path / "new-publication"
    result = CliRunner().invoke(main, ["init", str(root)])
    assert result.exit_code == 0, result.output
    return root / ".github" / "workflows" / "publish.yml"


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_actionlint_finds_nothing_in_the_workflows(name: str) -> None:
    result = actionlint(WORKFLOWS / name, cwd=REPO)
    assert result.returncode == 0 and not result.stdout.strip(), report(result)


def test_zizmor_finds_nothing_in_the_workflows() -> None:
    result = zizmor(WORKFLOWS, cwd=REPO)
    assert result.returncode == 0, report(result)
    assert "No findings to report" in result.stdout, report(result)


def test_the_linters_find_nothing_in_the_scaffolded_workflow(scaffolded: Path) -> None:
    result = actionlint(scaffolded, cwd=scaffolded.parent)
    assert result.returncode == 0 and not result.stdout.strip(), report(result)
    result = zizmor(scaffolded, cwd=scaffolded.parent)
    assert result.returncode == 0, report(result)
    assert "No findings to report" in result.stdout, report(result)


def test_actionlint_reports_untrusted_input_in_a_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_WORKFLOW)
    result = actionlint(bad, cwd=tmp_path)
    assert result.returncode != 0, report(result)
    assert '"github.event.issue.title" is potentially untrusted' in result.stdout, report(result)


def test_zizmor_reports_an_unpinned_action_and_template_injection(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_WORKFLOW)
    result = zizmor(bad, cwd=tmp_path)
    assert result.returncode != 0, report(result)
    assert "unpinned-uses" in result.stdout, report(result)
    assert "template-injection" in result.stdout, report(result)


# What the workflows promise --------------------------------------------------------------


def test_init_writes_this_repositorys_publish_workflow_byte_for_byte(scaffolded: Path) -> None:
    assert TEMPLATE.read_bytes() == PUBLISH.read_bytes()
    assert scaffolded.read_bytes() == PUBLISH.read_bytes()
    requirements = scaffolded.parents[1] / "syndicate-requirements.txt"
    assert re.fullmatch(r"syndicate-publisher==\S+\n", requirements.read_text())


def test_this_repository_installs_its_own_checkout() -> None:
    lines = (REPO / REQUIREMENTS).read_text().splitlines()
    assert [line for line in lines if line and not line.startswith("#")] == ["."]


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_every_action_is_pinned_to_a_commit_with_its_version(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r"\s*# v\d+(\.\d+)*", comment), f"{action}: no version comment"


@pytest.mark.parametrize("name", WORKFLOW_NAMES)
def test_least_privilege_and_no_expressions_in_scripts(name: str) -> None:
    data = workflow(WORKFLOWS / name)
    assert data["permissions"] == {}
    for job in data["jobs"].values():
        assert "permissions" in job
    for step in all_steps(data):
        assert "${{" not in step.get("run", ""), step
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False


def test_every_workflow_of_the_repository_is_linted_here() -> None:
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == sorted(WORKFLOW_NAMES)


def test_a_version_tag_builds_then_publishes_to_pypi_with_trusted_publishing() -> None:
    data = workflow(WORKFLOWS / "release.yml")
    assert triggers(data) == {"push": {"tags": ["v*"]}}
    build, publish = data["jobs"]["build"], data["jobs"]["publish"]
    assert build["permissions"] == {"contents": "read"}
    scripts = "\n".join(step.get("run", "") for step in build["steps"])
    assert "python -m build" in scripts
    assert "syndicate_publisher-$version-py3-none-any.whl" in scripts  # the tag is the version
    assert publish["needs"] == "build"
    # Trusted publishing: an OIDC token for this job only, and no password anywhere.
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [step["uses"].split("@")[0] for step in publish["steps"]]
    assert uses == ["actions/download-artifact", "pypa/gh-action-pypi-publish"]
    assert "with" not in publish["steps"][-1], "no token, no password: trusted publishing"
    assert "secrets." not in (WORKFLOWS / "release.yml").read_text()


def test_ci_runs_make_test_on_every_supported_python() -> None:
    data = workflow(WORKFLOWS / "ci.yml")
    assert set(triggers(data)) == {"push", "pull_request"}
    job = data["jobs"]["test"]
    assert job["strategy"]["matrix"]["python"] == ["3.11", "3.12", "3.13"]
    assert any("make test" in step.get("run", "") for step in job["steps"])
    assert "concurrency" in data


def test_publish_triggers() -> None:
    on = triggers(workflow())
    assert sorted(on["push"]["paths"]) == [
        "content/**",
        "static/**",
        "syndicate.toml",
        "templates/**",
    ]
    assert on["workflow_dispatch"]["inputs"]["dry_run"]["type"] == "boolean"
    # The comment on how to change the schedule sits right above the cron line, and says
    # how to run every hour.
    text = PUBLISH.read_text()
    assert re.search(r"#.*edit this line.*\n(\s*#.*\n)*\s*- cron:", text, re.IGNORECASE)
    assert '"0 * * * *" for every hour' in text


def test_a_future_dated_article_is_published_within_a_day() -> None:
    [schedule] = triggers(workflow())["schedule"]
    minute, hour, day, month, weekday = schedule["cron"].split()
    assert minute.isdigit() and hour.isdigit() and (day, month, weekday) == ("*", "*", "*")


def test_publish_never_runs_twice_at_once_and_never_cancels_a_send() -> None:
    data = workflow()
    assert data["concurrency"]["cancel-in-progress"] is False
    assert "${{" not in data["concurrency"]["group"], "one group, whatever started the run"
    jobs = data["jobs"]
    assert jobs["publish"]["permissions"] == {"contents": "write"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["environment"]["name"] == "github-pages"


def test_publish_steps_install_check_publish_commit_and_deploy() -> None:
    steps = publish_steps()
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses[:2] == ["actions/checkout", "actions/setup-python"]
    assert uses[-1] == "actions/upload-pages-artifact"
    python = steps[1]["with"]
    assert python["cache"] == "pip" and python["cache-dependency-path"] == REQUIREMENTS
    scripts = [step.get("run", "") for step in steps]
    assert f"python -m pip install -r {REQUIREMENTS}" in scripts
    assert "syndicate check" in scripts
    deploy = [s["uses"].split("@")[0] for s in workflow()["jobs"]["deploy"]["steps"]]
    assert deploy == ["actions/deploy-pages"]


def test_the_build_cache_is_restored_before_the_publication_is_read() -> None:
    steps = publish_steps()
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    restore = steps[uses.index("actions/cache")]
    # With the feeds/ the last run built: committed no more, but what the cache recognises.
    assert restore["with"]["path"].split() == [".syndicate/cache", "feeds"]
    # A key of its own for every run (saved after it), the newest restored by its prefix.
    key, prefix = restore["with"]["key"], restore["with"]["restore-keys"]
    assert "github.run_id" in key and key.startswith(prefix) and "${{" not in prefix
    scripts = [step.get("run", "") for step in steps]
    assert uses.index("actions/cache") < scripts.index("syndicate check")


def test_the_commit_step_runs_even_when_publish_fails() -> None:
    (commit,) = [s for s in publish_steps() if "git commit" in s.get("run", "")]
    assert commit["if"].startswith("always()")
    assert BOT_NAME in commit["run"] and BOT_EMAIL in commit["run"]


def test_secrets_reach_only_the_publish_step_through_its_environment() -> None:
    text = PUBLISH.read_text()
    secrets = set(re.findall(r"\$\{\{\s*secrets\.(\w+)\s*\}\}", text))
    assert secrets == {
        "SUBSCRIBERS_CSV",
        "SYNDICATE_LIST_URL",
        "SYNDICATE_LIST_TOKEN",
        "SYNDICATE_SECRET",
        "SYNDICATE_SMTP_USERNAME",
        "SYNDICATE_SMTP_PASSWORD",
        "SYNDICATE_DKIM_KEY",
    }
    (publish,) = [s for s in publish_steps() if "syndicate publish --dry-run" in s.get("run", "")]
    assert {name for name, value in publish["env"].items() if "secrets." in value} == secrets
    assert "umask 077" in publish["run"] and "$RUNNER_TEMP" in publish["run"]


# The publish job's own scripts, run -------------------------------------------------------

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")

#: The example publication as a repository of its own holds it, with no feeds/ (a
#: publication never commits it) and one article its state does not know yet, so that the
#: first run has something to remember: that article's id.
NEW_ARTICLE = "---\ntitle: Fresh news\ndate: 2025-01-01\n---\n\nJust written.\n"
PUBLICATION = [
    "syndicate.toml",
    "content",
    "static",
    "example-subscribers.csv",
    ".syndicate/state.json",
    ".github/workflows/publish.yml",
    REQUIREMENTS,
]

#: What the SUBSCRIBERS_CSV secret holds in the test: two readers get mail, one does not.
SUBSCRIBERS = """\
email,name,status
ana@example.com,Ana,subscribed
budi@example.com,Budi,subscribed
chen@example.com,Chen,unsubscribed
"""


def git(repo: Path, *args: str, env: Mapping[str, str]) -> str:
    result = subprocess.run(
        ["git", *args], cwd=repo, env=dict(env), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout.strip()


def evaluate(expression: str, values: Mapping[str, str]) -> str:
    """What a runner puts in place of ``${{ expression }}``: secrets that are not set
    become empty, and an expression this test does not know fails it."""
    if expression.startswith("secrets."):
        return values.get(expression, "")
    assert expression in values, f"the test does not know ${{{{ {expression} }}}}"
    return values[expression]


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A repository holding the example publication, pushed to a bare ``origin``,
    and the environment every step of a runner gets."""
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    repo = tmp_path / "workspace"
    (repo / "content").mkdir(parents=True)
    (repo / "content" / "fresh-news.md").write_text(NEW_ARTICLE)
    shutil.copy(REPO / "templates" / "init" / "gitignore", repo / ".gitignore")  # init's
    for name in PUBLICATION:
        source, target = REPO / name, repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin), env=env)
    git(repo, "init", "--quiet", "--initial-branch=main", env=env)
    git(repo, "add", "--all", env=env)
    author = ["-c", "user.name=Editor", "-c", "user.email=editor@example.org"]
    git(repo, *author, "commit", "--quiet", "-m", "The publication", env=env)
    git(repo, "remote", "add", "origin", str(origin), env=env)
    git(repo, "push", "--quiet", "origin", "main", env=env)
    return repo, origin, env


def run_publish_job(
    repo: Path, base: Mapping[str, str], runner_temp: Path, summary: Path, dry_run: bool = False
) -> list[str]:
    """The publish job's ``run:`` steps in order, as a runner runs them on a scheduled
    run (or a manual dry run), minus the install (this virtualenv already has syndicate)."""
    runner_temp.mkdir(exist_ok=True)
    values = {
        "inputs.dry_run": "true" if dry_run else "false",
        "github.token": "test-token",
        "github.ref_name": "main",
        "github.server_url": "https://github.com",
        "github.repository": "example/publication",
        "secrets.SUBSCRIBERS_CSV": SUBSCRIBERS,
        "secrets.SYNDICATE_SECRET": "test-secret",
    }
    runner = {
        **base,
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(repo),
        "GITHUB_EVENT_NAME": "schedule",
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REF_NAME": "main",
        "GITHUB_REPOSITORY": "example/publication",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_STEP_SUMMARY": str(summary),
        "RUNNER_TEMP": str(runner_temp),
    }
    outputs = []
    for step in publish_steps():
        script = step.get("run")
        if script is None or "pip install" in script:
            continue
        if dry_run and "inputs.dry_run != true" in step.get("if", ""):
            continue
        env = dict(runner)
        for name, value in step.get("env", {}).items():
            env[name] = EXPRESSION.sub(lambda m: evaluate(m.group(1), values), str(value))
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", script],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        output = f"{step.get('name', script)}\n{result.stdout}{result.stderr}"
        assert result.returncode == 0, output
        outputs.append(output)
    return outputs


def test_the_publish_job_commits_once_then_never_again(
    checkout: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, origin, env = checkout
    before = git(repo, "rev-parse", "HEAD", env=env)
    summary = tmp_path / "summary.md"

    outputs = run_publish_job(repo, env, tmp_path / "runner-temp", summary)

    head = git(repo, "rev-parse", "HEAD", env=env)
    log = "\n".join(outputs)
    assert head != before, log
    assert git(origin, "rev-parse", "main", env=env) == head, "the commit was pushed"
    assert git(repo, "log", "-1", "--format=%an <%ae>", env=env) == f"{BOT_NAME} <{BOT_EMAIL}>"
    assert "syndicate publish" in git(repo, "log", "-1", "--format=%s", env=env)
    # Only what must be remembered: the state (and the journal of a real send), never
    # feeds/, which was built for the Pages artifact and is ignored.
    changed = git(repo, "diff", "--name-only", before, head, env=env).splitlines()
    assert changed == [".syndicate/state.json"], changed
    assert (repo / "feeds" / "atom.xml").is_file()
    assert "fresh-news" in (repo / "feeds" / "atom.xml").read_text()
    assert not git(repo, "ls-files", "feeds", env=env)
    assert not git(repo, "status", "--porcelain", "--", ".syndicate", env=env)
    # The mail went to the outbox, to the readers of the secret's list, not the file's.
    letters = list((repo / "outbox").rglob("*.eml"))
    assert len(letters) == 2, log
    # The list itself stayed out of the workspace, and did not outlive its step.
    assert not list((tmp_path / "runner-temp").iterdir())
    assert "ana@example.com" not in git(repo, "log", "-p", "--all", env=env)
    assert "syndicate publish" in summary.read_text()

    outputs = run_publish_job(repo, env, tmp_path / "runner-temp", summary)

    assert git(repo, "rev-parse", "HEAD", env=env) == head, "\n".join(outputs)
    assert git(origin, "rev-parse", "main", env=env) == head
    assert "Nothing to commit" in outputs[-1]


def test_a_dry_run_writes_sends_and_commits_nothing(
    checkout: tuple[Path, Path, dict[str, str]], tmp_path: Path
) -> None:
    repo, origin, env = checkout
    before = git(repo, "rev-parse", "HEAD", env=env)
    summary = tmp_path / "summary.md"

    outputs = run_publish_job(repo, env, tmp_path / "runner-temp", summary, dry_run=True)

    assert "Would send" in "\n".join(outputs)
    assert git(repo, "rev-parse", "HEAD", env=env) == before
    assert git(origin, "rev-parse", "main", env=env) == before
    assert not (repo / "feeds").exists()
    assert not (repo / "outbox").exists()
    assert not git(repo, "status", "--porcelain", env=env)

"""``syndicate init``: a new publication scaffolded, and the steps that follow.

The files come from :func:`syndicate.scaffold.scaffold`; this module names the folder,
the title and the URL when they are not given, and prints what to do next.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import SyndicateError
from .common import fail, now, say


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--title", help="The publication's name (default: from the folder's name).")
@click.option(
    "--url",
    help="Where its public folder will be served (default: a GitHub Pages address).",
)
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
@click.pass_obj
def init(root: Path, directory: Path, title: str | None, url: str | None, force: bool) -> None:
    """Scaffold a new publication in DIRECTORY, with its GitHub Actions workflow."""
    from ..scaffold import scaffold

    directory = root / directory  # as everywhere, -C DIR means "as if run in DIR"

    name = directory.resolve().name or "publication"
    title = title or name.replace("-", " ").replace("_", " ").title()
    url = url or f"https://your-user.github.io/{name}/"
    try:
        done = scaffold(directory, title=title, url=url, today=now().date(), force=force)
    except SyndicateError as error:
        fail(error)
    here = directory if str(directory) != "." else Path(".")
    say(f"Created {title} in {here}:")
    for name in done.written:
        say(f"  {name}")
    say(NEXT_STEPS.format(root=here))


NEXT_STEPS = """
Next steps:
  1. Edit syndicate.toml: [site] url, description and author; [email] from,
     unsubscribe_url and address. `syndicate -C {root} check --strict` names every
     example value still left. Write articles in content/ (hello-world.md shows how).
  2. Preview as you write:  syndicate -C {root} preview --drafts
     (the site at http://127.0.0.1:8000/, the next email at /_preview/)
  3. Rehearse a send:  syndicate -C {root} publish   (messages land in outbox/)
     Send yourself a test:  syndicate -C {root} send-test --to you@your.domain
     Bringing an archive? Run  syndicate -C {root} publish --baseline  before the
     first send, so that it carries only what you publish next.
  4. Push the folder to a GitHub repository. In Settings > Pages, choose
     "GitHub Actions" as the source.
  5. Add repository secrets (Settings > Secrets and variables > Actions):
       SYNDICATE_SECRET          a long random string, kept forever:
                                 python -c "import secrets; print(secrets.token_hex(32))"
       SUBSCRIBERS_CSV           your subscriber list (email,name,status)
       SYNDICATE_SMTP_USERNAME   and SYNDICATE_SMTP_PASSWORD, with [email.smtp] in
                                 syndicate.toml (without it, mail goes to outbox/)
       SYNDICATE_DKIM_KEY        optional, with [email.dkim]
  6. Publish: every push that touches content/ runs the workflow, and a daily schedule
     publishes articles dated in the future. From the Actions tab, "Run workflow" with
     dry_run rehearses.
"""

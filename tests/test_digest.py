"""Which articles the next email carries, and the digest's identity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner

from conftest import NOW, SITE, MakePublication, article
from syndicate.cli import main
from syndicate.email.digest import Digest, due, sent_digests
from syndicate.output import atomic_write
from syndicate.pipeline import Publication, build, load_publication
from syndicate.state import read_state

EMAIL = SITE + '\n[email]\nfrom = "Test Times <news@example.org>"\nmax_articles = 3\n'


def five(publication: MakePublication, config: str = EMAIL) -> Path:
    return publication(
        {f"content/a{n}.md": article(f"Article {n}", f"2025-0{n}-01") for n in range(1, 6)},
        config,
    )


def loaded(root: Path) -> Publication:
    publication, problems = load_publication(root, NOW)
    assert publication is not None, problems
    return publication


def pending(root: Path) -> list[Digest]:
    publication = loaded(root)
    assert publication.config.email is not None
    return due(publication.config.email, publication.published, publication.ids, publication.state)


def titles(digest: Digest) -> list[str]:
    return [a.title for a in digest.articles]


def mark_sent(root: Path) -> None:
    """Record the email due now as sent, as delivery does."""
    publication = loaded(root)
    [digest] = pending(root)
    ids = [publication.ids[a.slug] for a in digest.articles]
    state, _ = read_state(root / ".syndicate/state.json")
    atomic_write(root / ".syndicate/state.json", state.sent(digest.id, ids, NOW).to_json())


def test_the_first_digest_carries_the_newest_max_articles(publication: MakePublication) -> None:
    root = five(publication)
    [digest] = pending(root)
    assert titles(digest) == ["Article 5", "Article 4", "Article 3"]
    assert digest.date == loaded(root).published[0].date
    assert not digest.sent


def test_a_digest_covers_what_was_published_since_the_last_one(
    publication: MakePublication,
) -> None:
    root = five(publication)
    build(root, NOW)
    mark_sent(root)
    assert pending(root) == []
    (root / "content/a6.md").write_text(article("Article 6", "2025-07-01"))
    (root / "content/old.md").write_text(article("Backdated", "2025-01-15"))
    [digest] = pending(root)
    assert titles(digest) == ["Article 6"]  # the backdated article is not mailed out of order
    publication_ = loaded(root)
    [sent] = sent_digests(publication_.published, publication_.ids, publication_.state)
    assert titles(sent) == ["Article 5", "Article 4", "Article 3"]
    assert sent.sent


def test_article_mode_is_one_email_per_new_article(publication: MakePublication) -> None:
    root = five(publication, EMAIL + 'mode = "article"\n')
    digests = pending(root)
    assert [titles(d) for d in digests] == [["Article 5"], ["Article 4"], ["Article 3"]]
    assert len({d.id for d in digests}) == 3


def test_the_digest_id_is_stable_and_follows_the_content(publication: MakePublication) -> None:
    root = five(publication)
    [first] = pending(root)
    [again] = pending(root)
    assert first.id == again.id
    assert first.id.startswith("2025-05-01-")
    (root / "content/a6.md").write_text(article("Article 6", "2025-06-01"))
    [changed] = pending(root)
    assert changed.id != first.id
    assert changed.id.startswith("2025-06-01-")


def test_a_future_article_waits_for_its_time(publication: MakePublication) -> None:
    root = five(publication)
    (root / "content/later.md").write_text(article("Later", "2026-03-01"))
    [digest] = pending(root)
    assert "Later" not in titles(digest)
    publication_, _ = load_publication(root, NOW + timedelta(days=90))
    assert publication_ is not None and publication_.config.email is not None
    [digest] = due(
        publication_.config.email, publication_.published, publication_.ids, publication_.state
    )
    assert titles(digest)[0] == "Later"


def test_with_nothing_new_the_build_says_so_and_succeeds(publication: MakePublication) -> None:
    root = five(publication)
    build(root, NOW)
    mark_sent(root)
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    assert "Newsletter: nothing new since the last email, so none is due." in result.output


def test_the_build_names_the_email_that_is_due(publication: MakePublication) -> None:
    root = five(publication)
    result = CliRunner().invoke(main, ["-C", str(root), "build"])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if line.startswith("Newsletter:")]
    assert line.startswith("Newsletter: 2025-05-01-")
    assert line.endswith(
        "3 articles, not sent yet: https://news.example.org/digests/"
        + line.split()[1].rstrip(",")
        + "/"
    )


def test_without_an_email_table_there_is_no_newsletter(publication: MakePublication) -> None:
    root = five(publication, SITE)
    report = build(root, NOW)
    assert not report.newsletter and report.emails == ()
    assert not (root / "feeds/digests").exists()

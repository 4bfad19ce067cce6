"""What one run of ``compare.py`` measures: the builds (:class:`Tool`), the runs of each in
a series (:class:`ToolResult`), and everything a run found (:class:`Run`), which
``targets.py`` and ``compare_report.py`` read.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from peers import FeedCheck
from photo_floor import Floor
from run import Measurement, Scenario, mb, peak_memory


@dataclass(frozen=True)
class Tool:
    """One kind of build by one tool: how to configure, run, clean and inspect it."""

    key: str  # e.g. "syndicate-default"
    name: str  # the tool: syndicate, hugo, pelican, mkdocs
    label: str  # what the report calls the build
    command: Callable[[Path, Path], list[str]]  # (site folder, cache folder) -> argv
    configure: Callable[[Path, int], None]  # (site folder, feed limit)
    outputs: tuple[str, ...]  # folders and files to delete before a cold build
    output: str  # the folder whose files are counted
    check: Callable[[Path], FeedCheck] | None  # (output folder)
    repeat: int
    version: str
    exe: Path
    #: Run after the outputs were deleted, before each build (mkdocs: its font cache).
    prepare: Callable[[Path], None] | None = None


@dataclass
class ToolResult:
    """All runs of one build on one corpus in one series."""

    tool: str  # Tool.key
    series: str
    articles: int
    limit: int
    runs: list[Measurement] = field(default_factory=list)
    #: The cold build before the timed ones, the only one whose memory is sampled.
    memory: Measurement | None = None
    files: int = 0
    bytes: int = 0
    check: FeedCheck | None = None
    note: str = ""
    #: syndicate: the cards each build said it drew; mkdocs: the cards in its output.
    cards: list[int] = field(default_factory=list)
    #: syndicate: warnings about articles' images over the builds.
    image_warnings: int = 0

    def wall(self) -> float | None:
        return statistics.median(r.wall for r in self.runs) if self.runs else None

    def cpu(self) -> float | None:
        return statistics.median(r.cpu for r in self.runs) if self.runs else None

    def peak_mb(self) -> float:
        """The larger of the largest process's max RSS and the whole tree's sampled PSS."""
        return mb(max(peak_memory(self.runs, self.memory)))


@dataclass
class Run:
    """Everything one run of ``compare.py`` measured."""

    results: list[ToolResult] = field(default_factory=list)
    #: articles -> the warm and one-edit default builds.
    incremental: dict[int, list[Scenario]] = field(default_factory=dict)
    #: articles -> whether the cold default builds' output named the cards they drew.
    cards_reported: dict[int, bool] = field(default_factory=dict)
    floor: Floor | None = None
    #: The photo cards syndicate wrote: format -> sizes in bytes.
    card_formats: dict[str, list[int]] = field(default_factory=dict)

    def find(self, series: str, tool: str, articles: int, limit: int | None = None) -> ToolResult:
        """The result of *tool* in *series* (an empty one if it did not run)."""
        for result in self.results:
            if (result.series, result.tool, result.articles) == (series, tool, articles) and (
                limit is None or result.limit == limit
            ):
                return result
        return ToolResult(tool, series, articles, limit or 0, note="did not run")

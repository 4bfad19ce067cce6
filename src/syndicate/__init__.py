"""syndicate: publish Markdown articles as feeds, an email digest and social cards.

The library works without the command line::

    from datetime import UTC, datetime
    from pathlib import Path
    import syndicate

    report = syndicate.build(Path("my-publication"), now=datetime.now(UTC))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
#: The name syndicate is installed by (``pipx install syndicate-publisher``): "syndicate"
#: on PyPI is another project.  The command and the import package are "syndicate".
DISTRIBUTION = "syndicate-publisher"
__all__ = ["DISTRIBUTION", "Report", "__version__", "build", "check"]

if TYPE_CHECKING:
    from .pipeline import Report, build, check


def __getattr__(name: str) -> Any:
    # The pipeline (comrak, nh3, PyYAML) loads on first use, not on "import syndicate".
    if name in ("Report", "build", "check"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)

"""The command line: each command parses its flags, calls the library, reports.

Errors the user can cause arrive as :class:`SyndicateError` with diagnostics
and leave as ``path:line: severity: message`` lines and exit code 1, never as
a traceback.  Every command writes the same way: its results on standard
output, diagnostics and messages about the run on standard error; colour and
live progress only on a terminal, and never when ``NO_COLOR`` is set.

One module per group of commands: :mod:`.build` (check, build), :mod:`.publish`
(publish, send-test), :mod:`.preview`, :mod:`.init`; the list service's commands live
with the service (:mod:`syndicate.subscribers.commands`).  What they share is
:mod:`.common` (how they write, exit codes) and :mod:`.group` (the ``syndicate`` group,
``-C DIR`` and ``--debug``).
"""

from __future__ import annotations

from ..subscribers.commands import subscribers
from .build import build, check
from .group import main
from .init import init
from .preview import preview
from .publish import publish, send_test

__all__ = ["main"]

for _command in (check, build, publish, preview, send_test, init, subscribers):
    main.add_command(_command)

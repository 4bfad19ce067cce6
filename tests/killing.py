"""Runs syndicate's command line in this process and kills it with a real SIGKILL at a
chosen rename: ``python tests/killing.py after:3 -C <root> build`` is killed just after
its third rename, ``before:3`` just before it, ``after:renameat2`` just after its first
call of ``renameat2`` (the swap of the output folders), ``never:0`` not at all.

A rename (``os.rename``, ``os.replace`` or libc's ``renameat2``, which swaps the output
folders) is the moment a write becomes visible: killing the build after each of them in
turn reaches every state a killed build can leave on disk.  This is the tests' code, run
in the child before syndicate is imported; syndicate itself has no hook for it.  Each
rename is printed to stderr, so that a test can say where its build was killed.
"""

from __future__ import annotations

import ctypes
import os
import runpy
import signal
import sys
from collections.abc import Callable
from typing import Any

#: Libc's functions that rename, looked up by syndicate through ctypes.
LIBC_RENAMES = ("renameat2", "renameat", "rename")


def main() -> None:
    when, _, which = sys.argv[1].partition(":")
    if when not in ("before", "after", "never"):
        raise SystemExit(f"usage: {sys.argv[0]} before|after|never:N|NAME syndicate-args...")
    renames = 0

    def chosen(name: str) -> bool:
        return which == name or which == str(renames)

    def watched(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def rename(*args: Any, **kwargs: Any) -> Any:
            nonlocal renames
            renames += 1
            paths = [os.fsdecode(a) for a in args if isinstance(a, str | bytes | os.PathLike)]
            print(f"rename {renames}: {name} {' '.join(paths)}", file=sys.stderr, flush=True)
            if when == "before" and chosen(name):
                os.kill(os.getpid(), signal.SIGKILL)
            result = function(*args, **kwargs)
            if when == "after" and chosen(name):
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return rename

    os.rename = watched("os.rename", os.rename)
    os.replace = watched("os.replace", os.replace)
    look_up = ctypes.CDLL.__getattr__

    def libc_function(library: ctypes.CDLL, name: str) -> Any:
        function = look_up(library, name)
        if name in LIBC_RENAMES:
            function = watched(name, function)
            setattr(library, name, function)  # where ctypes keeps what it looked up
        return function

    ctypes.CDLL.__getattr__ = libc_function  # type: ignore[method-assign]
    sys.argv = ["syndicate", *sys.argv[2:]]
    runpy.run_module("syndicate", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()

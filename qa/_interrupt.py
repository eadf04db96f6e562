"""Ctrl-C for the ``qa`` command: always one line on stderr and exit status 130.

Used by ``qa.__main__`` (before the command line is imported) and ``qa.cli.main``. Only the
command installs these; the library never touches signal handling.
"""

import os
import signal
import sys


def exit_interrupted(*_: object) -> None:
    """One line, exit 130. ``os._exit``, not ``sys.exit``: it cannot be swallowed (by a weakref
    callback that was running, say), and CPython 3.11 turns the exit of a process whose
    KeyboardInterrupt passed through exec'd code (dataclasses, namedtuples) into a SIGINT
    death, status -2, even when the exception was caught."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the message short
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        sys.stderr.write("qa: error: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(130)


def exit_on_unraisable_interrupt() -> None:
    """A KeyboardInterrupt that lands in a ``__del__`` or a weakref callback is "ignored" by
    Python (a traceback, and the program carries on): make it the interrupt it was."""
    default = sys.__unraisablehook__

    def hook(unraisable: "sys.UnraisableHookArgs") -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            exit_interrupted()
        default(unraisable)

    sys.unraisablehook = hook


_received = False


def raise_interrupt(signum: int, frame: object) -> None:
    """SIGINT as KeyboardInterrupt, as Python's own handler does, so that a build cleans up on
    the way out, but remembered: typer turns a KeyboardInterrupt into a silent exit code, and
    an extension module being imported may turn it into another error ("ImportError:
    initialization failed"); either way the command still ends as interrupted."""
    global _received
    _received = True
    raise KeyboardInterrupt


def received() -> bool:
    """Whether Ctrl-C was pressed since ``raise_interrupt`` was installed."""
    return _received


def reraise_if_received(exc: BaseException) -> None:
    """In a fallback that takes any error for bad data: raise KeyboardInterrupt instead when
    the error is a Ctrl-C in disguise (an extension module's import turns it into an
    ImportError), so that an interrupted command is not carried on as if nothing happened."""
    if _received:
        raise KeyboardInterrupt from exc

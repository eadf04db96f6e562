"""``python -m qa`` and the ``qa`` console script.

Importing the command line (typer, rich) takes a good part of a second, and a Ctrl-C in that
time must still be one line and exit 130, not a KeyboardInterrupt traceback. So the first thing
this module does is to make Ctrl-C end the process at once: there is nothing to clean up yet.
``qa.cli.main`` then turns it back into KeyboardInterrupt, so that a build cleans up after
itself, and ends the same way (``qa._interrupt``).
"""

import os
import sys

import _signal  # the C module: signal.py would import enum first, leaving Ctrl-C unguarded longer


def _interrupted(signum: int, frame: object) -> None:
    """As ``qa._interrupt.exit_interrupted``, which is not imported yet: one line, exit 130."""
    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # a second Ctrl-C must not cut the message short
    try:
        sys.stderr.write("qa: error: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(130)


_signal.signal(_signal.SIGINT, _interrupted)


def main() -> None:
    from qa._interrupt import exit_on_unraisable_interrupt

    exit_on_unraisable_interrupt()
    from qa.cli import main as run

    run()


if __name__ == "__main__":
    main()

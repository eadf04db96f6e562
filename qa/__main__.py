"""``python -m qa`` and the ``qa`` console script.

Importing the command line (typer, rich) takes a good part of a second, and a Ctrl-C in that
time must still be one line and exit 130, not a KeyboardInterrupt traceback. So until
``qa.cli.main`` takes over (it turns Ctrl-C back into KeyboardInterrupt, so that a build
cleans up after itself), a Ctrl-C simply ends the process: there is nothing to clean up yet.
"""

import signal

from qa._interrupt import exit_interrupted, exit_on_unraisable_interrupt


def main() -> None:
    signal.signal(signal.SIGINT, exit_interrupted)
    exit_on_unraisable_interrupt()
    try:
        from qa.cli import main as run
    except KeyboardInterrupt:  # raised before the handler above was in place
        exit_interrupted()
    run()


if __name__ == "__main__":
    main()

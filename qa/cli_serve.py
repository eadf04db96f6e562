"""``qa serve``: the assistant as a long-running HTTP server (the app itself is ``qa.serve``).

Part of the ``qa`` command (``qa.cli``): errors before the server runs (a bad option, the index,
a port in use) are one-line messages and exit codes there. Once it serves, SIGTERM or Ctrl-C
stops it gracefully: no new connections, the requests in flight are answered, exit 0.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qa.cli_index import CorpusOpt, IndexOpt, RebuildOpt
from qa.errors import QAError, UsageError

if TYPE_CHECKING:
    import socket

EXIT_OK = 0
GRACEFUL_SHUTDOWN_SECONDS = 30  # the longest a stop waits for requests in flight
MAX_CONNECTIONS = 256  # beyond this uvicorn answers 503 at once instead of queueing without end


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default; anything else is reachable from other machines, without authentication).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on; 0 picks a free one (printed on stderr).")] = 8000,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    no_rebuild: Annotated[bool, typer.Option("--no-rebuild", help="Fail instead of rebuilding a missing or stale index at start.")] = False,
    rebuild: RebuildOpt = False,
    reader: Annotated[str, typer.Option(help="Who reads the passages: model (default) or rules.")] = "model",
    workers: Annotated[int | None, typer.Option(min=1, max=16, help="Questions answered at once (default: 2, or 1 on one core; README, \"qa serve\").")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress while the index is built at start.")] = False,
) -> int:
    """Serve the assistant over HTTP, loading the index once: POST /ask, POST /chat, GET /health,
    GET /index (README, "qa serve"). A rebuilt index (`qa index build`) is picked up without a
    restart. SIGTERM or Ctrl-C stops it after answering the requests in flight."""
    from qa.assistant import READERS, Assistant
    from qa.cli import _note, _progress
    from qa.config import default_corpus_dir, default_index_dir

    if reader not in READERS:
        raise UsageError(f"--reader must be one of {', '.join(READERS)}, not {reader!r}")
    corpus_dir = corpus or default_corpus_dir()
    index_dir = (index or default_index_dir(corpus_dir)).resolve()
    listener = _listen(host, port)  # a port in use fails before seconds of loading
    with _progress(quiet=quiet) as on_progress:
        assistant = Assistant.load(
            corpus_dir, index_dir, rebuild=not no_rebuild, force_rebuild=rebuild, on_progress=on_progress, reader=reader
        )
    assistant.ask("Who is it?")  # warm the models up: the first request answers at full speed

    def reload() -> Assistant:
        return Assistant.load(corpus_dir, index_dir, rebuild=False, reader=reader)

    return _run(listener, assistant, reload, index_dir, host, workers or default_workers())


def default_workers() -> int:
    """Two questions at once where there are two cores: onnxruntime already runs one question on
    both, yet two at once gave 1.3x the answers a second on the 2-core bench machine (the Python
    around the model runs while the other question's model does)."""
    from qa.embedding import available_cores

    return min(2, available_cores())


def _run(listener: socket.socket, assistant: Any, reload: Any, index_dir: Path, host: str, workers: int) -> int:
    import uvicorn

    from qa.cli import _note
    from qa.serve import Service, create_app

    service = Service(assistant, reload, index_dir, workers=workers, notify=_note)
    _log_to_one_line_notes()
    config = uvicorn.Config(
        create_app(service), log_config=None, access_log=False, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS, limit_concurrency=MAX_CONNECTIONS, server_header=False,
    )
    server = uvicorn.Server(config)
    bound_host, bound_port = listener.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    if not _is_loopback(host):
        _note(f"warning: listening on {host}: reachable from other machines, with no authentication")
    _note(
        f"serving http://{shown}:{bound_port} (index {index_dir}, {assistant.index.manifest['counts']['passages']} passages, "
        f"reader {assistant.reader_name}): POST /ask, POST /chat, GET /health, GET /index; SIGTERM or Ctrl-C stops it"
    )
    # uvicorn catches SIGINT/SIGTERM while it serves and raises them again once it has stopped;
    # by then the stop was graceful and is no error, so those re-raised signals do nothing.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    server.run(sockets=[listener])
    _note("stopped")
    return EXIT_OK


def _log_to_one_line_notes() -> None:
    """uvicorn's warnings and errors as ``qa: warning: ...`` lines, never with a traceback."""
    import logging

    from qa.cli import _note

    class OneLine(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            _note(f"{'warning' if record.levelno < logging.ERROR else 'error'}: {record.getMessage()}")

    logger = logging.getLogger("uvicorn")
    logger.handlers = [OneLine()]
    logger.propagate = False


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket (queueing connections at once, while the index loads)."""
    import socket
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host}: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(address)
        listener.listen(2048)
    except OSError as exc:
        listener.close()
        raise QAError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return listener


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False

"""``qa serve``'s application: the assistant behind HTTP, loaded once (an ASGI app, Starlette).

Endpoints (JSON in, JSON out; the README documents them)::

    POST /ask     {"question": str, "k"?: 1..50, "retriever"?: "hybrid"|"dense"|"bm25"}
                  → the ``qa ask --json`` object
    POST /chat    {"question": str, "conversation_id"?: str, "reset"?: bool, "k"?, "retriever"?}
                  → the ``qa chat --json`` object plus "conversation_id"
    GET  /health  → {"status": "ok", ...}: what is loaded, since when, reloads
    GET  /index   → the loaded index's manifest.json

Errors are ``{"error": {"code": C, "message": "..."}}`` where C is the exit code ``qa`` would
give (2 bad input, 1 the index or anything else) and the HTTP status says the same in HTTP's
words (400, 404, 405, 413, 415, 500, 503). An abstention is an answer (200, "abstained": true).

Why Starlette on uvicorn rather than the standard library's ``http.server``: uvicorn parses HTTP
with h11 (strict, bounded header sizes), keeps connections alive, stops gracefully on SIGTERM
(finishes requests in flight) and is maintained for exactly this; Starlette adds routing and
lifespan hooks at ~0.1 ms a request. FastAPI's pydantic layer would only re-check what
``_fields`` checks. The stack costs well under a millisecond a request (``GET /health`` in the
load benchmark); the answer costs what the reader costs.

The library never prints: the command (``qa.cli_serve``) passes ``notify`` for its messages.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import QAError, UsageError
from qa.retrieval import RETRIEVERS

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from qa.assistant import Assistant
    from qa.conversation import Conversation

MAX_BODY_BYTES = 64 * 1024  # a question is at most 2000 characters; this is room and to spare
MAX_CONVERSATIONS = 1000  # kept in memory, least recently used dropped first
CONVERSATION_IDLE_SECONDS = 3600.0
RELOAD_CHECK_SECONDS = 1.0  # how often the index's manifest is looked at (one stat call)
_CONVERSATION_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


class HTTPError(QAError):
    """A request the server refuses: an HTTP status and the exit code ``qa`` would give."""

    def __init__(self, status: int, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.status = status
        self.exit_code = exit_code


@dataclass
class _Chat:
    conversation: Conversation
    lock: threading.Lock = field(default_factory=threading.Lock)  # one turn at a time
    used: float = field(default_factory=time.monotonic)


class Service:
    """The loaded assistant, its conversations, and reloading when the index is rebuilt.

    ``reload`` opens the assistant again (``Assistant.load`` without rebuilding); it is called
    whenever the index directory's manifest changes (a rebuild swaps the directory in), so a
    rebuilt index is picked up without a restart. A reload that fails
    (the new index is damaged, or stale for the corpus) keeps the loaded one and says why in
    ``/health``. Asks run in at most ``workers`` threads at once (``qa serve`` picks 2 on two
    or more cores: see ``qa.cli_serve.default_workers``).
    """

    def __init__(
        self, assistant: Assistant, reload: Callable[[], Assistant], index_dir: Path, *, workers: int = 1,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self._load = reload
        self.index_dir = index_dir
        self.notify = notify or (lambda message: None)
        self.assistant = assistant
        self._seen = self._manifest_stamp()
        self.loaded_at = time.time()
        self.started = time.monotonic()
        self.reloads = 0
        self.reload_error: str | None = None
        self.workers = max(1, workers)
        self.in_flight = 0  # questions being answered or waiting their turn
        self._chats: OrderedDict[str, _Chat] = OrderedDict()
        self._chats_lock = threading.Lock()

    # --- answering (called in worker threads) --------------------------------------------------

    def ask(self, body: dict[str, Any]) -> dict[str, Any]:
        from qa.render import answer_to_dict

        options = _fields(body, {"question", "k", "retriever"})
        return answer_to_dict(self.assistant.ask(options.pop("question"), **options))

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        from qa.render import turn_to_dict

        options = _fields(body, {"question", "k", "retriever", "conversation_id", "reset"})
        conversation_id, reset = options.pop("conversation_id", None), options.pop("reset", False)
        conversation_id, chat = self._chat(conversation_id)
        with chat.lock:
            chat.used = time.monotonic()
            chat.conversation.assistant = self.assistant  # the reloaded one, if the index changed
            if reset:
                chat.conversation.reset()
            turn = chat.conversation.ask(options.pop("question"), **options)
        return {**turn_to_dict(turn), "conversation_id": conversation_id}

    def _chat(self, conversation_id: str | None) -> tuple[str, _Chat]:
        """The conversation of that id (a new one, with a new id, when there is none)."""
        with self._chats_lock:
            now = time.monotonic()
            while self._chats:  # forget idle conversations, oldest first
                oldest = next(iter(self._chats.values()))
                if now - oldest.used < CONVERSATION_IDLE_SECONDS and len(self._chats) < MAX_CONVERSATIONS:
                    break
                self._chats.popitem(last=False)
            key = conversation_id or uuid.uuid4().hex
            chat = self._chats.get(key)
            if chat is None:
                chat = self._chats[key] = _Chat(self.assistant.conversation())
            self._chats.move_to_end(key)
            return key, chat

    # --- state ------------------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        manifest = self.assistant.index.manifest
        return {
            "status": "ok",
            "index": str(self.index_dir),
            "corpus": manifest["corpus"]["dir"],
            "built_at": manifest["built_at"],
            "passages": manifest["counts"]["passages"],
            "documents": manifest["counts"]["documents"],
            "reader": self.assistant.reader_name,
            "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.loaded_at)),
            "reloads": self.reloads,
            "reload_error": self.reload_error,
            "conversations": len(self._chats),
            "workers": self.workers,
            "in_flight": self.in_flight,
            "uptime_s": round(time.monotonic() - self.started, 1),
        }

    def manifest(self) -> dict[str, Any]:
        return self.assistant.index.manifest

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.index_dir / "manifest.json")
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def reload_if_rebuilt(self) -> bool:
        """Load the index again if its manifest changed since the last look; True if reloaded."""
        stamp = self._manifest_stamp()
        if stamp is None or stamp == self._seen:
            return False
        self._seen = stamp
        try:
            assistant = self._load()
        except Exception as exc:  # noqa: BLE001 — whatever it is, keep answering from the loaded index
            self.reload_error = str(exc)
            self.notify(f"warning: the index at {self.index_dir} changed but cannot be loaded ({exc}); still serving the one loaded")
            return False
        self.assistant, self.loaded_at, self.reload_error = assistant, time.time(), None
        self.reloads += 1
        self.notify(f"reloaded the index at {self.index_dir} (built {assistant.index.manifest['built_at']})")
        return True


def _fields(body: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    """The request's fields, checked as the command line checks its options."""
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise UsageError(f"unknown field {unknown[0]!r}; expected {', '.join(sorted(allowed))}")
    if "question" not in body:
        raise UsageError("the request has no \"question\"")
    if not isinstance(body["question"], str):
        raise UsageError("\"question\" must be a string")
    options: dict[str, Any] = {"question": body["question"]}
    if "k" in body:
        k = body["k"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 50:
            raise UsageError("\"k\" must be an integer from 1 to 50")
        options["k"] = k
    if "retriever" in body:
        if body["retriever"] not in RETRIEVERS:
            raise UsageError(f"\"retriever\" must be one of {', '.join(RETRIEVERS)}")
        options["retriever"] = body["retriever"]
    if body.get("conversation_id") is not None:
        cid = body["conversation_id"]
        if not isinstance(cid, str) or not _CONVERSATION_ID.fullmatch(cid):
            raise UsageError("\"conversation_id\" must be 1-128 letters, digits, '.', '_' or '-'")
        options["conversation_id"] = cid
    if "reset" in body:
        if not isinstance(body["reset"], bool):
            raise UsageError("\"reset\" must be true or false")
        options["reset"] = body["reset"]
    return options


# --- the ASGI application ----------------------------------------------------------------------


def create_app(service: Service) -> Any:
    """The Starlette application over ``service``."""
    import anyio
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    limiter = anyio.CapacityLimiter(service.workers)

    def error(status: int, code: int, message: str) -> Response:
        return JSONResponse({"error": {"code": code, "message": " ".join(message.split())}}, status_code=status)

    async def answer(request: Request, handler: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
        service.in_flight += 1  # the event loop's thread alone counts: no lock needed
        try:
            body = await _json_body(request)
            result = await anyio.to_thread.run_sync(handler, body, limiter=limiter)
        except HTTPError as exc:
            return error(exc.status, exc.exit_code, str(exc))
        except QAError as exc:  # bad input: 400; the index: 503
            return error(400 if exc.exit_code == 2 else 503, exc.exit_code, str(exc))
        except Exception as exc:  # noqa: BLE001 — one JSON line, as the command line's one-line error
            return error(500, 1, f"unexpected {type(exc).__name__}: {exc}")
        finally:
            service.in_flight -= 1
        return JSONResponse(result)

    async def ask(request: Request) -> Response:
        return await answer(request, service.ask)

    async def chat(request: Request) -> Response:
        return await answer(request, service.chat)

    async def health(request: Request) -> Response:
        return JSONResponse(service.health())

    async def index(request: Request) -> Response:
        return JSONResponse(service.manifest())

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        if status == 404:
            return error(404, 2, f"no such endpoint: {request.method} {request.url.path} (POST /ask, POST /chat, GET /health, GET /index)")
        if status == 405:
            return error(405, 2, f"{request.method} is not allowed on {request.url.path}")
        return error(status, 2, str(getattr(exc, "detail", exc)))

    async def unexpected(request: Request, exc: Exception) -> Response:
        return error(500, 1, f"unexpected {type(exc).__name__}: {exc}")

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async def watch() -> None:
            while True:
                await asyncio.sleep(RELOAD_CHECK_SECONDS)
                await anyio.to_thread.run_sync(service.reload_if_rebuilt)

        task = asyncio.create_task(watch())
        try:
            yield
        finally:
            task.cancel()

    return Starlette(
        routes=[
            Route("/ask", ask, methods=["POST"]),
            Route("/chat", chat, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
            Route("/index", index, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error, Exception: unexpected},
        lifespan=lifespan,
    )


async def _json_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object, refused past ``MAX_BODY_BYTES`` without reading it all."""
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type not in {"application/json", "text/plain", ""}:
        raise HTTPError(415, f"the body must be JSON (Content-Type: application/json), not {content_type}")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPError(413, f"the request body is too large ({int(declared)} bytes; the limit is {MAX_BODY_BYTES})")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HTTPError(413, f"the request body is too large (over {MAX_BODY_BYTES} bytes)")
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks).decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise HTTPError(400, f"the body is not valid UTF-8 (byte {exc.start})") from None
    except ValueError as exc:
        raise HTTPError(400, f"the body is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise HTTPError(400, "the body must be a JSON object")
    return body


__all__ = ["MAX_BODY_BYTES", "HTTPError", "Service", "create_app"]

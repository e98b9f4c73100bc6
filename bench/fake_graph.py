"""A local stand-in for Meta's Graph API, for benchmarks, integration tests and a sandbox.

    with FakeGraph(port=18210) as graph:
        account.graph_api_url = graph.base_url          # http://127.0.0.1:18210/v24.0
        graph.script("1784...", [(503, None), (200, None)])  # the next two sends: fail, succeed
        ...
        graph.calls_for("1784...")                      # what arrived, with arrival times

It answers like Meta: `POST /{version}/{ig_id}/messages` → `{"recipient_id", "message_id"}`,
with Meta's error bodies for a wrong token (190), a missing recipient or a text over 1000
bytes (100); `GET /{version}/me` and `GET /{version}/{igsid}` answer plausible profiles.
Given a `FakeHistory`, it also answers the Conversations API: `GET /{version}/me/conversations`
(pages with Meta's cursors) and `GET /{version}/{conversation_id}` (participants and the 20
newest messages). Standard library only (ThreadingHTTPServer), 127.0.0.1 only, no network.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

Scripted = tuple[int, dict[str, Any] | None]  # (status, body or None for Meta's default)


@dataclass
class Call:
    method: str
    path: str
    ig_id: str
    body: dict[str, Any]
    token: str
    at: float  # time.time() when the request arrived


def meta_error(code: int, message: str, subcode: int | None = None, **extra: Any) -> dict:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": uuid.uuid4().hex[:11],
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    error.update(extra)
    return {"error": error}


@dataclass
class FakeHistory:
    """An account's past conversations for the Conversations API: `conversations` threads of
    `messages` messages each (customer and business in turn), newest first. Ids are made
    from numbers, so nothing is held in memory."""

    ig_id: str
    conversations: int
    messages: int
    newest: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(minutes=5))
    page_max: int = 100
    shown: int = 20  # Meta gives a conversation's 20 newest messages in full

    def page(self, query: dict[str, str]) -> dict[str, Any]:
        size = min(int(query.get("limit") or 25), self.page_max)
        after = query.get("after", "")
        start = int(after.removeprefix("c")) if after.startswith("c") else 0
        numbers = range(start, min(start + size, self.conversations))
        rows = [
            {"id": f"hconv{n:06d}", "updated_time": _graph_time(self._at(n, 0))} for n in numbers
        ]
        answer: dict[str, Any] = {"data": rows}
        if rows:
            answer["paging"] = {"cursors": {"before": f"c{start}", "after": f"c{numbers[-1] + 1}"}}
            if numbers[-1] + 1 < self.conversations:
                answer["paging"]["next"] = f"/me/conversations?after=c{numbers[-1] + 1}"
        return answer

    def conversation(self, conversation_id: str) -> dict[str, Any] | None:
        number = conversation_id.removeprefix("hconv")
        if not conversation_id.startswith("hconv") or not number.isdecimal():
            return None
        n = int(number)
        if n >= self.conversations:
            return None
        shop = {"username": "bench_shop", "id": self.ig_id}
        customer = {"username": f"customer{n}", "id": f"9{n:015d}"}
        messages = []
        for k in range(min(self.messages, self.shown)):  # newest first
            ours = (self.messages - 1 - k) % 2 == 1  # customer and business in turn
            sender, recipient = (shop, customer) if ours else (customer, shop)
            messages.append(
                {
                    "id": f"hmid{n:06d}_{k:03d}",
                    "created_time": _graph_time(self._at(n, k)),
                    "from": sender,
                    "to": {"data": [recipient]},
                    "message": f"Message {self.messages - k} of conversation {n}",
                }
            )
        return {
            "id": conversation_id,
            "participants": {"data": [shop, customer]},
            "messages": {"data": messages},
        }

    def _at(self, n: int, k: int) -> datetime:
        """Conversation n's k-th newest message: a minute between conversations."""
        return self.newest - timedelta(minutes=n, seconds=k)


def _graph_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")


@dataclass
class FakeGraph:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    version: str = "v24.0"
    latency: float = 0.0  # seconds each answer takes, like a real round trip
    # ig_id → the only token accepted for it; accounts not listed accept any token.
    tokens: dict[str, str] = field(default_factory=dict)
    on_call: Callable[[Call], None] | None = None  # e.g. deliver an echo webhook
    history: FakeHistory | None = None  # answers the Conversations API when given

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self._scripts: dict[str, list[Scripted]] = {}
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------
    def start(self) -> FakeGraph:
        handler = type("Handler", (_Handler,), {"graph": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every open connection: a keep-alive client must not go
        on talking to a stopped fake (a new one may already listen on the same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/{self.version}"

    # --- scripting and inspection ----------------------------------------------------
    def script(self, ig_id: str, answers: Iterable[Scripted]) -> None:
        """The next sends to `ig_id` get these answers, in order; then Meta's default."""
        with self._lock:
            self._scripts.setdefault(ig_id, []).extend(answers)

    def calls_for(self, ig_id: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.ig_id == ig_id]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self._scripts.clear()

    # --- answers ---------------------------------------------------------------------
    def _record(self, call: Call) -> Scripted | None:
        with self._lock:
            self.calls.append(call)
            queue = self._scripts.get(call.ig_id)
            return queue.pop(0) if queue else None

    def answer_send(self, call: Call) -> tuple[int, dict[str, Any]]:
        scripted = self._record(call)
        if self.on_call is not None:
            self.on_call(call)
        if scripted is not None and scripted[1] is not None:
            return scripted
        if scripted is not None:
            return scripted[0], _default_body(scripted[0], call)
        expected = self.tokens.get(call.ig_id)
        if expected is not None and call.token != expected:
            return 400, meta_error(190, "Invalid OAuth access token.")
        return _validate_send(call)


def _default_body(status: int, call: Call) -> dict[str, Any]:
    if status < 400:
        return _accepted(call)
    if status == 429:
        return meta_error(4, "Application request limit reached", is_transient=True)
    if status >= 500:
        return meta_error(2, "Service temporarily unavailable", is_transient=True)
    return meta_error(100, "Invalid parameter")


def _accepted(call: Call) -> dict[str, Any]:
    recipient = call.body.get("recipient", {}).get("id", "")
    return {"recipient_id": recipient, "message_id": f"aWdf_{uuid.uuid4().hex}"}


def _validate_send(call: Call) -> tuple[int, dict[str, Any]]:
    body = call.body
    if not call.token:
        return 400, meta_error(190, "An active access token must be used.")
    if not isinstance(body.get("recipient"), dict) or not body["recipient"].get("id"):
        return 400, meta_error(100, "(#100) The parameter recipient is required")
    if "sender_action" in body:
        return 200, {"recipient_id": body["recipient"]["id"]}
    message = body.get("message")
    if not isinstance(message, dict) or not message:
        return 400, meta_error(100, "(#100) The parameter message is required")
    if len(str(message.get("text", "")).encode("utf-8")) > 1000:
        return 400, meta_error(100, "(#100) Length of param message[text] must be less than 1000")
    return 200, _accepted(call)


class _Handler(BaseHTTPRequestHandler):
    graph: FakeGraph
    protocol_version = "HTTP/1.1"  # keep-alive, as Meta does
    # The headers and the body leave in two writes: with Nagle's algorithm on, the body
    # waits for the client's delayed ACK (about 40 ms a call on Linux), not "at once".
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        with self.graph._lock:
            self.graph._connections.add(self.connection)

    def finish(self) -> None:
        with self.graph._lock:
            self.graph._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        if self.graph.latency:
            time.sleep(self.graph.latency)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _parts(self) -> list[str]:
        return [p for p in self.path.split("?", 1)[0].split("/") if p]

    def _token(self) -> str:
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else ""

    def do_POST(self) -> None:
        at = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        parts = self._parts()
        if len(parts) != 3 or parts[0] != self.graph.version or parts[2] != "messages":
            self._reply(404, meta_error(100, "Unsupported post request."))
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._reply(400, meta_error(100, "Invalid JSON"))
            return
        call = Call("POST", self.path, parts[1], body, self._token(), at)
        self._reply(*self.graph.answer_send(call))

    def do_GET(self) -> None:
        parts = self._parts()
        history = self.graph.history
        if history is not None and parts[:1] == [self.graph.version] and self._history(parts):
            return
        if len(parts) == 2 and parts[0] == self.graph.version and parts[1] == "me":
            self._reply(200, {"user_id": "17841400000000000", "username": "fake_shop"})
        elif len(parts) == 2 and parts[0] == self.graph.version:
            self._reply(200, {"name": "Fake Customer", "username": f"user{parts[1][-4:]}"})
        else:
            self._reply(404, meta_error(100, "Unsupported get request."))

    def _history(self, parts: list[str]) -> bool:
        """The Conversations API (recorded as calls by `ig_id` "history"); False when the
        path is not one of its."""
        history = self.graph.history
        assert history is not None
        query = {k: v[-1] for k, v in parse_qs(self.path.partition("?")[2]).items()}
        if parts[1:] == ["me", "conversations"]:
            answer: dict[str, Any] | None = history.page(query)
        elif len(parts) == 2:
            answer = history.conversation(parts[1])
        else:
            return False
        if answer is None:
            return False
        self.graph._record(Call("GET", self.path, "history", {}, self._token(), time.time()))
        self._reply(200, answer)
        return True


def main() -> None:
    """Run the fake on its own: `python -m bench.fake_graph --port 18210 --record calls.jsonl`.

    Each call is appended to the record file as one JSON line (ig_id, recipient, token
    presence, arrival time), so another process can read what arrived. Stops on SIGTERM or
    SIGINT, dropping its connections."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="A local fake of Meta's Graph API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18210)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--record", default="", help="append every call to this JSON-lines file")
    args = parser.parse_args()

    record = open(args.record, "a", buffering=1) if args.record else None  # noqa: SIM115

    def write(call: Call) -> None:
        if record is not None:
            line = {
                "ig_id": call.ig_id,
                "recipient": call.body.get("recipient", {}).get("id", ""),
                "kind": "reaction" if "sender_action" in call.body else "message",
                "at": call.at,
            }
            record.write(json.dumps(line) + "\n")

    graph = FakeGraph(host=args.host, port=args.port, latency=args.latency, on_call=write)
    stopped = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopped.set())
    graph.start()
    print(f"fake Graph API at {graph.base_url}", flush=True)
    stopped.wait()
    graph.stop()
    if record is not None:
        record.close()


if __name__ == "__main__":
    main()

"""The intake benchmark's load: signed webhook events and `/healthz/` requests, sent by
`concurrency` processes at an offered rate over keep-alive connections, each timed."""

from __future__ import annotations

import json
import multiprocessing
import socket
import time
from typing import NamedTuple

from instagram.signature import sign

SECRET = "bench-app-secret"  # the app secret the server runs with (bench.stack.server_env)
IG_ID = "17841400000099999"  # the account the events are for
CUSTOMERS = 50  # the events' senders, in turn


def event_bodies(count: int, tag: str) -> list[bytes]:
    base_ms = int(time.time() * 1000)
    bodies = []
    for i in range(count):
        customer = f"90000000000{i % CUSTOMERS:05d}"
        payload = {
            "object": "instagram",
            "entry": [
                {
                    "id": IG_ID,
                    "time": base_ms + i,
                    "messaging": [
                        {
                            "sender": {"id": customer},
                            "recipient": {"id": IG_ID},
                            "timestamp": base_ms + i,
                            "message": {"mid": f"bench-{tag}-{i}", "text": f"Bench message {i}"},
                        }
                    ],
                }
            ],
        }
        bodies.append(json.dumps(payload).encode())
    return bodies


class Connection:
    """One sender's keep-alive HTTP/1.1 connection, as lean as a client can be: requests are
    built before the run and responses are read just far enough for their status. The
    senders share the server's two cores, so what they spend is taken from what is measured
    (http.client cost about 0.5 ms of CPU per request; this, about a third of that)."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.address, self.timeout = ("127.0.0.1", port), timeout
        self.sock: socket.socket | None = None
        self.buffer = b""

    def exchange(self, request: bytes) -> int:
        """Send a request and read its response; returns the status."""
        if self.sock is None:
            self.connect()
        assert self.sock is not None
        self.sock.sendall(request)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._receive()
        head, self.buffer = self.buffer[:end].split(b"\r\n"), self.buffer[end + 4 :]
        fields = {
            name.strip().lower(): value.strip().lower()
            for name, _, value in (line.partition(b":") for line in head[1:])
        }
        length = int(fields[b"content-length"])  # gunicorn sends it for Django's responses
        while len(self.buffer) < length:
            self._receive()
        self.buffer = self.buffer[length:]
        if fields.get(b"connection") == b"close":
            self.close()
        return int(head[0].split(b" ", 2)[1])

    def drop_if_closed(self) -> None:
        """Forget a connection the server closed while it idled (gunicorn's keep-alive ends
        it after a few seconds between phases): the next request opens a new one, instead of
        being written into a closed socket and counted as the server's failure."""
        if self.sock is None:
            return
        try:
            peeked = self.sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return  # open, nothing to read: as it should be
        except OSError:
            peeked = b""
        if not peeked:
            self.close()

    def connect(self) -> None:
        self.sock = socket.create_connection(self.address, timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _receive(self) -> None:
        assert self.sock is not None
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock, self.buffer = None, b""


def http_request(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return "\r\n".join([*lines, "", ""]).encode() + body


def post_event(body: bytes) -> bytes:
    return http_request(
        "POST",
        "/webhooks/instagram/",
        body,
        Content_Type="application/json",
        X_Hub_Signature_256=sign(body, SECRET),
    )


HEALTHZ = http_request("GET", "/healthz/")


class Phase(NamedTuple):
    latencies: list[float]  # of the measured requests (s)
    elapsed: float  # from the first measured request's start to the last ack (s)
    last_ack: float  # monotonic time
    failures: int  # not 200, of every request sent, the lead's too
    lead_latencies: list[float]
    sender_cpu: float  # the senders' CPU time (s)


class Senders:
    """`concurrency` sender processes, each with one keep-alive connection that it keeps
    through every phase, so that the loads compared meet the same spread of connections over
    gunicorn's workers (see `bench.stack.connections_per_process`). In a phase, request i is
    sent not before start + i/rate; the first `lead` requests bring the server from idle to a
    steady load and are not measured.

    Each sender is a process of its own, as Meta's are separate machines: threads of one
    process would wait for each other's turn at the interpreter lock between a response's
    arrival and its timing, which a busy server makes worse, and count that wait as server
    latency. The clock is the system's monotonic one, shared by the processes. A phase starts
    once every sender is forked, connected and waiting: a sender that started late would
    otherwise catch up on its schedule in a burst."""

    def __init__(
        self, port: int, phases: list[list[bytes]], concurrency: int, rate: float, lead: int = 0
    ) -> None:
        context = multiprocessing.get_context("fork")  # senders inherit `phases` as they are
        self.phases, self.rate, self.lead = phases, rate, lead
        self.next_index = [context.Value("q", 0) for _ in phases]
        self.start_at = [context.Value("d", 0.0) for _ in phases]
        self.go = [context.Event() for _ in phases]
        self.results = context.Queue()
        self.ready = context.Barrier(concurrency + 1)
        self.processes = [
            context.Process(target=self._send, args=(port,), daemon=True)
            for _ in range(concurrency)
        ]

    def __enter__(self) -> Senders:
        for process in self.processes:
            process.start()
        self.ready.wait(timeout=60)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self.processes:  # each ends after the last phase; or it is stopped
            process.join(timeout=5 if exc_info[0] is None else 0)
            if process.is_alive():
                process.terminate()
                process.join()

    def run(self, phase: int) -> Phase:
        self.start_at[phase].value = time.monotonic()
        self.go[phase].set()
        latencies: list[float] = []
        lead_latencies: list[float] = []
        first_began, last_ack, failures, cpu = float("inf"), 0.0, 0, 0.0
        for _ in self.processes:
            some, first, last, failed, some_lead, used = self.results.get()
            latencies += some
            lead_latencies += some_lead
            first_began, last_ack = min(first_began, first), max(last_ack, last)
            failures, cpu = failures + failed, cpu + used
        return Phase(latencies, last_ack - first_began, last_ack, failures, lead_latencies, cpu)

    def _send(self, port: int) -> None:
        conn = Connection(port)
        try:
            conn.connect()
        except OSError:
            conn.close()  # counted as a failure at its first request
        self.ready.wait(timeout=60)
        for phase, requests in enumerate(self.phases):
            self.go[phase].wait()
            conn.drop_if_closed()
            self.results.put(self._send_phase(conn, phase, requests))
        conn.close()

    def _send_phase(
        self, conn: Connection, phase: int, requests: list[bytes]
    ) -> tuple[list[float], float, float, int, list[float], float]:
        """This sender's share of a phase: (latencies, first measured start, last ack,
        failures, the lead's latencies, CPU seconds)."""
        cpu = time.process_time()
        start, next_index = self.start_at[phase].value, self.next_index[phase]
        latencies: list[float] = []
        lead_latencies: list[float] = []
        failures = 0
        first_began, last_ack = float("inf"), 0.0
        while True:
            with next_index.get_lock():
                index = next_index.value
                next_index.value += 1
            if index >= len(requests):
                break
            if self.rate > 0:
                delay = start + index / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            began = time.monotonic()
            try:
                status = conn.exchange(requests[index])
            except (OSError, ValueError, KeyError, IndexError):
                conn.close()
                status = 0
            done = time.monotonic()
            failures += status != 200
            if index < self.lead:
                lead_latencies.append(done - began)
                continue
            latencies.append(done - began)
            first_began, last_ack = min(first_began, began), max(last_ack, done)
        used = time.process_time() - cpu
        return latencies, first_began, last_ack, failures, lead_latencies, used

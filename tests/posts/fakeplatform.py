"""A real local HTTP server that plays a platform (the webhook contract) and injects faults.

It listens on 127.0.0.1 on a free port, in a thread. Every POST is recorded (raw body,
Idempotency-Key, signature check, arrival time) before the fault decides the answer, so tests
can assert that nothing arrived twice. ``fail_next(...)`` queues the behaviour of the next POSTs:

- ``ok``: 201 with ``{"id", "url"}``; the post exists from then on
- ``500``: 500, nothing created
- ``429``: 429 with ``Retry-After: <retry_after>``, nothing created
- ``429-reset``: 429 with ``x-rate-limit-reset: <epoch>`` (X's style), nothing created
- ``422``: 422 with ``{"error": ...}`` (a permanent refusal), nothing created
- ``timeout``: creates the post, then answers only after ``hang_seconds`` (longer than the client waits)
- ``drop``: creates the post, then closes the connection without an answer
- ``slow``: answers 201 after ``slow_seconds`` (late, but within the client's timeout)
- ``kill``: hands the caller to ``killer`` (which may SIGKILL the process making the call), then
  closes the connection without an answer; nothing created
- ``kill-created``: the same after creating the post

Without queued modes, ``faults`` (a `Faults`, seeded) draws the mode of each POST independently,
and ``Faults.kill_lookup`` the same for each lookup; without either, every POST is ``ok``.
``creations`` counts, per key, every POST that created (or would have created) a post: a key
counted twice is a post published twice.

``GET ?key=K`` answers 200 with the post created under K, else 404 (the lookup of the contract).
"""

import datetime as dt
import hashlib
import hmac
import json
import random
import sys
import threading
import time
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# "echo": a careless receiver that answers 400 with the request's secrets in its error.
MODES = {"ok", "500", "429", "429-reset", "422", "timeout", "drop", "slow", "kill", "kill-created", "echo"}
# What a killer gets: the caller's address (host, port); returns the pid it killed, or None.
Killer = Callable[[tuple[str, int]], int | None]


@dataclass(frozen=True)
class Faults:
    """Probabilities of each answer to a POST, drawn independently per request (the rest: ``ok``).

    ``kill``: the caller is killed during the call, half the time after the post was created.
    ``kill_lookup``: the same for each lookup (GET).
    """

    error_500: float = 0.0
    rate_429: float = 0.0
    rate_429_reset: float = 0.0
    timeout: float = 0.0
    drop: float = 0.0
    slow: float = 0.0
    refuse_422: float = 0.0
    kill: float = 0.0
    kill_lookup: float = 0.0

    def table(self) -> list[tuple[float, str]]:
        return [
            (self.error_500, "500"),
            (self.rate_429, "429"),
            (self.rate_429_reset, "429-reset"),
            (self.timeout, "timeout"),
            (self.drop, "drop"),
            (self.slow, "slow"),
            (self.refuse_422, "422"),
            (self.kill / 2, "kill"),
            (self.kill / 2, "kill-created"),
        ]

    def draw(self, rng: random.Random) -> str:
        """Return the mode of one POST."""
        point = rng.random()
        for probability, mode in self.table():
            if point < probability:
                return mode
            point -= probability
        return "ok"


@dataclass(frozen=True)
class Received:
    key: str
    body: bytes
    headers: dict[str, str]
    signature_ok: bool
    at: float
    mode: str

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class FakePlatform:
    secret: str = "webhook-secret"
    retry_after: float = 120.0
    reset_in: float = 90.0
    hang_seconds: float = 3.0
    slow_seconds: float = 0.3
    received: list[Received] = field(default_factory=list)
    lookups: list[str] = field(default_factory=list)
    created: dict[str, dict[str, str]] = field(default_factory=dict)
    creations: Counter[str] = field(default_factory=Counter)
    faults: Faults | None = None
    seed: int = 0
    killer: Killer | None = None
    kills: list[tuple[str, int]] = field(default_factory=list)  # (key, pid) of each caller killed
    # Seconds the platform's clock is ahead (or behind); when set, answers carry "created_at".
    clock_offset: float | None = None

    def __post_init__(self) -> None:
        self._modes: deque[str] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._random = random.Random(self.seed)
        self._serial = 0

    # Control ---------------------------------------------------------------------------------

    def start(self) -> "FakePlatform":
        platform = self

        class Handler(_Handler):
            fake = platform

        self._server = server_start(Handler)
        return self

    def stop(self) -> None:
        server_stop(self._server)
        self._server = None

    def __enter__(self) -> "FakePlatform":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def credentials(self) -> dict[str, str]:
        return {"url": self.url, "secret": self.secret}

    def fail_next(self, *modes: str) -> None:
        unknown = set(modes) - MODES
        if unknown:
            raise ValueError(f"unknown modes {unknown}")
        with self._lock:
            self._modes.extend(modes)

    # What happened ---------------------------------------------------------------------------

    def keys(self) -> list[str]:
        with self._lock:
            return [item.key for item in self.received]

    def duplicates(self) -> dict[str, int]:
        """Return keys created more than once and how often (a retried 5xx/429 is not a duplicate)."""
        with self._lock:
            return {key: count for key, count in self.creations.items() if count > 1}

    def modes(self) -> Counter[str]:
        """Return how many POSTs got each answer."""
        with self._lock:
            return Counter(item.mode for item in self.received)

    # Server side -----------------------------------------------------------------------------

    def _next_mode(self) -> str:
        with self._lock:
            if self._modes:
                return self._modes.popleft()
            return self.faults.draw(self._random) if self.faults else "ok"

    def _lookup_kills(self) -> bool:
        with self._lock:
            return bool(self.faults and self._random.random() < self.faults.kill_lookup)

    def _kill(self, client: tuple[str, int], key: str) -> None:
        pid = self.killer(client) if self.killer else None
        if pid is not None:
            with self._lock:
                self.kills.append((key, pid))

    def _signed(self, data: bytes, header: str) -> bool:
        expected = "sha256=" + hmac.new(self.secret.encode(), data, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, header)

    def _create(self, key: str) -> dict[str, str]:
        with self._lock:
            self.creations[key] += 1
            if key not in self.created:
                self._serial += 1
                number = self._serial
                self.created[key] = {"id": f"fake-{number}", "url": f"https://fake.example/posts/{number}"}
                if self.clock_offset is not None:
                    created = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.clock_offset)
                    self.created[key]["created_at"] = created.isoformat().replace("+00:00", "Z")
            return self.created[key]


class _Server(ThreadingHTTPServer):
    # A platform takes many connections at once; the default backlog of 5 would refuse a burst.
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A caller killed in the middle of sending its request is part of the tests, not an error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def server_start(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Serve ``handler`` on 127.0.0.1 at a free port, in a daemon thread; returns the server."""
    server = _Server(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.block_on_close = False
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def server_stop(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    fake: FakePlatform
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self, status: int, document: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(document).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client stopped waiting (the "timeout" fault)

    def do_POST(self) -> None:
        fake = self.fake
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        key = self.headers.get("Idempotency-Key", "")
        signature_ok = fake._signed(body, self.headers.get("X-Rounds-Signature", ""))
        mode = fake._next_mode() if signature_ok else "unsigned"
        with fake._lock:
            fake.received.append(
                Received(
                    key=key,
                    body=body,
                    headers=dict(self.headers.items()),
                    signature_ok=signature_ok,
                    at=time.time(),
                    mode=mode,
                )
            )
        if not signature_ok:
            self._answer(401, {"error": "bad signature"})
        elif mode == "500":
            self._answer(500, {"error": "upstream exploded"})
        elif mode == "429":
            self._answer(429, {"error": "slow down"}, {"Retry-After": str(int(fake.retry_after))})
        elif mode == "429-reset":
            self._answer(429, {"error": "rate limit"}, {"x-rate-limit-reset": str(int(time.time() + fake.reset_in))})
        elif mode == "422":
            self._answer(422, {"error": "Text is longer than 280 characters."})
        elif mode == "echo":
            signature = self.headers.get("X-Rounds-Signature", "")
            self._answer(
                400,
                {
                    "error": f"signature {signature} rejected; shared secret is {fake.secret}",
                    "echo": f"Authorization: Bearer tok-{fake.secret}\nCookie: session=abc123def456",
                    "access_token": "EAAB-leaked-token-123",
                },
            )
        elif mode == "drop":
            fake._create(key)
            self.close_connection = True  # no answer at all: the client sees the connection end
        elif mode in {"kill", "kill-created"}:
            if mode == "kill-created":
                fake._create(key)
            fake._kill(self.client_address[:2], key)  # the caller dies with the call in flight
            self.close_connection = True
        elif mode == "timeout":
            created = fake._create(key)
            time.sleep(fake.hang_seconds)
            self._answer(201, created)
        else:
            if mode == "slow":
                time.sleep(fake.slow_seconds)
            self._answer(201, fake._create(key))

    def do_GET(self) -> None:
        fake = self.fake
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        key = query.get("key", [""])[0]
        if not fake._signed(key.encode(), self.headers.get("X-Rounds-Signature", "")):
            self._answer(401, {"error": "bad signature"})
            return
        with fake._lock:
            fake.lookups.append(key)
            found = fake.created.get(key)
        if fake._lookup_kills():
            fake._kill(self.client_address[:2], key)
            self.close_connection = True
            return
        if found is None:
            self._answer(404, {"error": "not found"})
        else:
            self._answer(200, found)

    def do_DELETE(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        external_id = query.get("id", [""])[0]
        with self.fake._lock:
            gone = [key for key, value in self.fake.created.items() if value["id"] == external_id]
            for key in gone:
                del self.fake.created[key]
        self._answer(200 if gone else 404, {"deleted": bool(gone)})

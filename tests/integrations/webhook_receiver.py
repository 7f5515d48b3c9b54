"""A webhook receiver on loopback for the tests: an ``http.server`` in a thread that
records every request (headers and body) and answers with the statuses it is told to,
200 once they run out; it can hold the first request until released."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# This helper's own port range (tests/integrations; see docs/webhooks.md).
PORTS = range(8670, 8690)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str


@dataclass
class Receiver:
    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    hold_first: bool = False
    released: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, received: Received) -> int:
        with self._lock:
            first = not self.requests
            self.requests.append(received)
            self.arrived.set()
            status = self.statuses.pop(0) if self.statuses else 200
        if first and self.hold_first:
            self.released.wait(30)
        return status

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """The requests received, once there are ``count`` (fails after ``timeout``)."""
        deadline = threading.Event()
        for _tick in range(int(timeout * 20)):
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            deadline.wait(0.05)
        raise AssertionError(f"{len(self.requests)} of {count} requests arrived in {timeout} s")


def start() -> tuple[Receiver, ThreadingHTTPServer]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            status = receiver.answer(
                Received(headers=dict(self.headers.items()), body=body, path=self.path)
            )
            reply = b"ok" if status < 300 else b"receiver says no"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:
                pass  # the sender went away while the request was held

        def log_message(self, *args):
            pass

    for port in PORTS:
        try:
            server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
            break
        except OSError:
            continue
    else:
        raise AssertionError("no free port in 8670-8689 for the webhook receiver")
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    return receiver, server

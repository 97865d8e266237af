"""Which failures of a Rasa server send the turn on to the next one, against real sockets.

A server that gives no response at all (refused, or the connection dropped before the response
began) is passed over; one that took the turn and then timed out, or began answering, is not:
it may have done the turn, and the next server would do it twice.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.rasa_client import RasaClient, RasaUnavailable


class FakeRasa(BaseHTTPRequestHandler):
    """A working server: the REST webhook's replies and the tracker of the turn."""

    requests: list[str]

    def _reply(self, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append(f"POST {self.path}")
        self._reply([{"recipient_id": "c", "text": "Xin chào, tôi có thể giúp gì?"}])

    def do_GET(self) -> None:
        self.requests.append(f"GET {self.path.split('?')[0]}")
        self._reply({"events": [{"event": "user", "parse_data": {"intent": {"name": "greet"}}}]})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def working() -> Iterator[tuple[str, list[str]]]:
    """A working server's URL and the requests it received."""
    handler = type("Handler", (FakeRasa,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    server.shutdown()
    server.server_close()


class BrokenServer:
    """Accepts connections and then fails in one way (`behaviour`); counts the connections."""

    def __init__(self, behaviour: str) -> None:
        self.behaviour, self.connections = behaviour, 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.listener.accept()
            except OSError:  # closed at the end of the test
                return
            self.connections += 1
            threading.Thread(target=self._fail, args=(connection,), daemon=True).start()

    def _fail(self, connection: socket.socket) -> None:
        with connection:
            if self.behaviour == "close at once":  # before even reading the request
                return
            connection.recv(65536)  # the whole request (a small one)
            if self.behaviour == "reset":  # RST instead of FIN, as when a process dies with data unread
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif self.behaviour == "stall":  # alive, still working on the turn
                time.sleep(5)
            elif self.behaviour == "half a response":  # the status line and headers, then part of the body
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n[{")

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def broken(request: pytest.FixtureRequest) -> Iterator[BrokenServer]:
    server = BrokenServer(request.param)
    yield server
    server.close()


def conversation_preferring(client: RasaClient, url: str) -> str:
    return next(s for s in (f"conversation-{i}" for i in range(100)) if client.servers_for(s)[0] == url)


@pytest.mark.parametrize("broken", ["close at once", "close", "reset"], indirect=True)
def test_a_server_dropping_the_connection_unanswered_is_passed_over(
    broken: BrokenServer, working: tuple[str, list[str]]
) -> None:
    url, requests = working
    client = RasaClient([broken.url, url], timeout=5)
    turn = asyncio.run(client.send(conversation_preferring(client, broken.url), "xin chào"))
    assert turn.texts == ["Xin chào, tôi có thể giúp gì?"] and turn.intent == "greet"
    assert broken.connections == 2  # the webhook, then the tracker, each tried there first
    assert [r.split("/")[1] for r in requests] == ["webhooks", "conversations"]


@pytest.mark.parametrize("broken", ["stall", "half a response"], indirect=True)
def test_a_server_that_took_the_turn_is_not_passed_over(broken: BrokenServer, working: tuple[str, list[str]]) -> None:
    url, requests = working
    client = RasaClient([broken.url, url], timeout=1)
    with pytest.raises(RasaUnavailable):
        asyncio.run(client.send(conversation_preferring(client, broken.url), "xin chào"))
    assert broken.connections == 1 and requests == []  # not sent again: that turn may have been done


def test_a_refused_connection_is_passed_over(working: tuple[str, list[str]]) -> None:
    url, requests = working
    with socket.create_server(("127.0.0.1", 0)) as taken:  # a port nothing listens on once closed
        closed = f"http://127.0.0.1:{taken.getsockname()[1]}"
    client = RasaClient([closed, url], timeout=5)
    assert asyncio.run(client.send(conversation_preferring(client, closed), "xin chào")).intent == "greet"
    assert len(requests) == 2

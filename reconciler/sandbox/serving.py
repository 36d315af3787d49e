"""The sandbox's HTTP server: WSGI over HTTP/1.1 with keep-alive, one thread per connection.

werkzeug's development server closes the connection after every answer, so a client pays a TCP
connect, and the server a new thread, for every request: for a plan that sends a thousand
requests, that was as much as answering them. Clients of the sandbox (botocore, the aws CLI,
the Huawei Cloud SDK) keep their connections open, as they do against the cloud; this server
lets them. Every answer of the sandbox's application carries a Content-Length, which keep-alive
needs.
"""

from __future__ import annotations

import io
import socket
import struct
import sys
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_to_bytes

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SOCKET_KEY = "sandbox.socket"  # the connection's socket, for answers that reset it on purpose


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a client that keeps its connection open does not hold up stop()
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: WSGIApp) -> None:
        self.app = app
        super().__init__(address, _Handler)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Until shutdown(), or Ctrl-C (KeyboardInterrupt), which returns rather than raises."""
        try:
            super().serve_forever(poll_interval)
        except KeyboardInterrupt:
            return

    @property
    def host(self) -> str:
        return str(self.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # an answer goes out in one write, flushed when it is whole
    server: Server

    def setup(self) -> None:
        super().setup()
        # Answers are small and the client waits for each: never hold one back (Nagle).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return  # no access log

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # a client gone, or a connection the sandbox reset on purpose
            self.close_connection = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        answer: dict[str, Any] = {}

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            answer["status"], answer["headers"] = status, headers
            return lambda data: None  # the sandbox's application returns its body

        try:
            data = b"".join(self.server.app(self._environ(body), start_response))
        except ConnectionResetError:  # the application reset the connection on purpose
            self.close_connection = True
            return
        code, _, reason = answer["status"].partition(" ")
        self.send_response(int(code), reason or None)
        for name, value in answer["headers"]:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            # PEP 3333: percent-decoded, as latin-1 text
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": self.path,
            "REQUEST_URI": self.path,
            "SERVER_NAME": self.server.host,
            "SERVER_PORT": str(self.server.port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            SOCKET_KEY: self.connection,
        }
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ


def reset(environ: dict[str, Any]) -> None:
    """Drop the client's connection with a TCP reset, as a lost response looks to it."""
    sock: socket.socket | None = environ.get(SOCKET_KEY)
    if sock is None:
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    # close() waits for the server's file wrappers to let go; shutdown() cuts the connection now.
    sock.shutdown(socket.SHUT_RDWR)

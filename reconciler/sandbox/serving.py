"""The sandbox's HTTP server: WSGI over HTTP/1.1 with keep-alive, one thread per connection.

werkzeug's development server closes the connection after every answer, so a client pays a TCP
connect, and the server a new thread, for every request: for a plan that sends a thousand
requests, that was as much as answering them. Clients of the sandbox (botocore, the aws CLI,
the Huawei Cloud SDK) keep their connections open, as they do against the cloud; this server
lets them. Every answer of the sandbox's application carries a Content-Length, which keep-alive
needs.

A request runs only once it has arrived whole: a body is read by its Content-Length or its chunks,
and one cut short, malformed or past MAX_BODY is answered (or, if the client is gone, dropped)
without reaching the application. An idle connection is closed after IDLE_SECONDS, and stop()
ends every connection, so nothing answers from a stopped sandbox.
"""

from __future__ import annotations

import contextlib
import io
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_to_bytes

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SOCKET_KEY = "sandbox.socket"  # the connection's socket, for answers that reset it on purpose
# Lambda's largest request, CreateFunction with a 50 MB zip, is 67 MB of JSON once base64'd.
MAX_BODY = 80 << 20
IDLE_SECONDS = 60  # AWS's endpoints close idle connections too; clients reconnect
_LINGER_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends a RST


class Server(ThreadingHTTPServer):
    daemon_threads = True  # a client that keeps its connection open does not hold up stop()
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: WSGIApp) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        try:
            resetting = request.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8) == _LINGER_RESET
        except OSError:
            resetting = False
        if resetting:  # close() alone: a shutdown() first would send the client a FIN
            request.close()
        else:
            super().shutdown_request(request)

    def shutdown(self) -> None:
        """As socketserver's, without waiting out the loop's poll interval: the listening socket
        is shut down too, which wakes the loop at once (on Linux; elsewhere it wakes when the
        interval ends, as before). A stop is on the way out of every ``plan --sandbox``."""
        stopping = threading.Thread(target=super().shutdown, name="sandbox-stop")
        stopping.start()  # asks the loop to end, and waits for it
        with contextlib.suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        stopping.join()

    def close_connections(self) -> None:
        """End every connection still open, idle or not (after shutdown(): nothing answers)."""
        with self._open_lock:
            still_open = list(self._open)
        for sock in still_open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

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
    timeout = IDLE_SECONDS
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

    def handle_expect_100(self) -> bool:
        answered = super().handle_expect_100()
        self.wfile.flush()  # the interim answer goes out now, not with the final one
        return answered

    def _body(self) -> bytes | None:
        """The whole body; None if it is not coming whole (answered, or the client is gone)."""
        if self.headers.get("Transfer-Encoding", "").strip().lower() == "chunked":
            return self._chunked_body()
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        if not raw.strip().isdigit():
            self.send_error(400, "Content-Length is not a number of bytes")
            return None
        length = int(raw)
        if length > MAX_BODY:
            self.send_error(413, f"a body of at most {MAX_BODY} bytes")
            return None
        body = self.rfile.read(length)
        if len(body) < length:  # the client left mid-body: nothing to act on
            self.close_connection = True
            return None
        return body

    def _chunked_body(self) -> bytes | None:
        parts: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024)
            if not line:  # the client left
                self.close_connection = True
                return None
            digits = line.split(b";")[0].strip()
            try:
                chunk = int(digits, 16)
            except ValueError:
                self.send_error(400, "a chunk's size is not hexadecimal")
                return None
            if chunk == 0:
                while (trailer := self.rfile.readline(1024)) not in (b"\r\n", b"\n"):
                    if not trailer:
                        self.close_connection = True
                        return None
                return b"".join(parts)
            size += chunk
            if size > MAX_BODY:
                self.send_error(413, f"a body of at most {MAX_BODY} bytes")
                return None
            data = self.rfile.read(chunk)
            if len(data) < chunk or self.rfile.readline(1024) not in (b"\r\n", b"\n"):
                self.send_error(400, "a chunk is shorter than its size, or not ended")
                return None
            parts.append(data)

    def _serve(self) -> None:
        body = self._body()
        if body is None:
            return
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
    # The application answers nothing and the handler ends the connection; Server.shutdown_request
    # then closes it without a FIN first, so the client sees a reset, as a lost answer looks.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)

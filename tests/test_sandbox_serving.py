"""The sandbox's HTTP server keeps connections open, as AWS's endpoints do, and still drops one
when a fault says so."""

from __future__ import annotations

import http.client
import json
import socket

import pytest

from reconciler.sandbox import Sandbox
from tests.conftest import REGION, make_client

AUTH = {
    "Authorization": f"AWS4-HMAC-SHA256 Credential=x/20250101/{REGION}/lambda/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


IAM_AUTH = (
    "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/iam/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def _address(sandbox: Sandbox) -> tuple[str, int]:
    host, port = sandbox.url.removeprefix("http://").split(":")
    return host, int(port)


def _answer(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection or goes quiet for 2 s."""
    sock.settimeout(2)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return data


def _connect(sandbox: Sandbox) -> http.client.HTTPConnection:
    host, port = sandbox.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def test_requests_share_one_connection(sandbox: Sandbox) -> None:
    sandbox.seed({"region": REGION, "functions": [{"name": "api", "versions": 2}]})
    connection = _connect(sandbox)
    answers = []
    for path in ("/2015-03-31/functions/api", "/2015-03-31/functions/api/aliases") * 2:
        connection.request("GET", path, headers=AUTH)
        answer = connection.getresponse()
        assert answer.getheader("Connection") != "close"
        answers.append((answer.status, json.loads(answer.read())))
        sock = connection.sock
        assert sock is not None  # still open: the next request goes over it
    assert [status for status, _ in answers] == [200, 200, 200, 200]
    assert answers[1][1] == {"Aliases": []}
    connection.close()


def test_a_body_is_read_whole_and_the_connection_stays_usable(sandbox: Sandbox) -> None:
    sandbox.seed({"region": REGION, "functions": [{"name": "api", "versions": 2}]})
    connection = _connect(sandbox)
    body = json.dumps({"Name": "live", "FunctionVersion": "2", "Description": "x" * 200})
    connection.request("POST", "/2015-03-31/functions/api/aliases", body=body, headers=AUTH)
    created = connection.getresponse()
    assert (created.status, json.loads(created.read())["Description"]) == (201, "x" * 200)
    connection.request("GET", "/2015-03-31/functions/api/aliases/live", headers=AUTH)
    assert connection.getresponse().status == 200
    connection.close()


def test_a_reset_fault_drops_only_its_connection(sandbox: Sandbox) -> None:
    sandbox.seed({"region": REGION, "functions": [{"name": "api", "versions": 2}]})
    sandbox.add_fault("reset", "ListAliases", count=1)
    dropped = _connect(sandbox)
    dropped.request("GET", "/2015-03-31/functions/api/aliases", headers=AUTH)
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        dropped.getresponse()
    dropped.close()
    fresh = _connect(sandbox)
    fresh.request("GET", "/2015-03-31/functions/api/aliases", headers=AUTH)
    assert fresh.getresponse().status == 200
    fresh.close()


def test_a_request_whose_body_is_cut_short_is_not_executed(sandbox: Sandbox) -> None:
    """The client declares a body, sends part of it and goes away: the request is incomplete
    and is not acted on (here IAM would have created a role "deployer", a name never sent)."""
    full = (
        b"Action=CreateRole&Version=2010-05-08&AssumeRolePolicyDocument=%7B%7D"
        b"&RoleName=deployer-admin"
    )
    sent = full[: -len(b"-admin")]
    with socket.create_connection(_address(sandbox)) as sock:
        sock.sendall(
            b"POST / HTTP/1.1\r\nHost: iam.amazonaws.com\r\n"
            + f"Authorization: {IAM_AUTH}\r\n".encode()
            + b"Content-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {len(full)}\r\n\r\n".encode()
            + sent
        )
        sock.shutdown(socket.SHUT_WR)  # the client is gone mid-body
        answer = _answer(sock)
    roles = [r["RoleName"] for r in make_client(sandbox, "iam").list_roles()["Roles"]]
    assert "deployer" not in roles, answer[:200]
    assert not answer.startswith(b"HTTP/1.1 200")


def test_stop_ends_the_connections_it_kept_open() -> None:
    """After stop(), a client holding a kept-open connection (botocore's pool does) is not
    answered: the port is free for the next sandbox, and this connection must not reach the
    stopped one's state."""
    server = Sandbox(region=REGION).start()
    server.seed({"region": REGION, "functions": [{"name": "api", "versions": 1}]})
    connection = http.client.HTTPConnection(*_address(server), timeout=5)
    connection.request("GET", "/2015-03-31/functions/api", headers=AUTH)
    first = connection.getresponse()
    first.read()
    assert first.status == 200
    server.stop()
    answered = None
    try:
        connection.request("GET", "/2015-03-31/functions/api", headers=AUTH)
        answered = connection.getresponse().status
    except (OSError, http.client.HTTPException):
        pass
    finally:
        connection.close()
    assert answered is None, f"a stopped sandbox answered {answered}"


def test_a_chunked_body_is_read(sandbox: Sandbox) -> None:
    """An HTTP/1.1 client may send its body in chunks (curl, or requests with a generator): the
    request runs with the whole body, and the chunks are not read as a next request."""
    sandbox.seed({"region": REGION, "functions": [{"name": "api", "versions": 1}]})
    connection = http.client.HTTPConnection(*_address(sandbox), timeout=5)
    body = json.dumps({"Name": "live", "FunctionVersion": "1"}).encode()
    connection.request(
        "POST",
        "/2015-03-31/functions/api/aliases",
        body=iter([body]),
        headers={**AUTH, "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    answer = connection.getresponse()
    text = answer.read()
    connection.close()
    assert answer.status == 201, text[:200]


def test_expect_100_continue_is_answered_before_the_body(sandbox: Sandbox) -> None:
    """A client that sends "Expect: 100-continue" waits for the interim answer before its body:
    it goes out at once, not buffered with the final answer."""
    sandbox.seed({"region": REGION, "functions": [{"name": "api", "versions": 1}]})
    body = json.dumps({"Name": "live", "FunctionVersion": "1"}).encode()
    with socket.create_connection(_address(sandbox)) as sock:
        sock.sendall(
            b"POST /2015-03-31/functions/api/aliases HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: {AUTH['Authorization']}\r\nExpect: 100-continue\r\n".encode()
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        sock.settimeout(2)
        try:
            interim = sock.recv(1024)
        except TimeoutError:
            interim = b""
    assert interim.startswith(b"HTTP/1.1 100"), interim


@pytest.mark.parametrize("length", ["abc", "99999999999999"])
def test_a_malformed_content_length_gets_an_answer(
    sandbox: Sandbox, length: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """A Content-Length that is not a number, or past any request of the APIs served, is answered
    with a 4xx; the sandbox neither stays silent nor prints a traceback."""
    with socket.create_connection(_address(sandbox)) as sock:
        sock.sendall(
            b"POST /2015-03-31/functions/api/aliases HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: {AUTH['Authorization']}\r\nContent-Length: {length}\r\n\r\n".encode()
            + b"{}"
        )
        sock.shutdown(socket.SHUT_WR)
        answer = _answer(sock)
    assert answer.startswith(b"HTTP/1.1 4"), answer
    assert "Traceback" not in capfd.readouterr().err


def test_a_reset_fault_resets_the_connection(sandbox: Sandbox) -> None:
    """The "reset" fault drops the connection with a TCP reset (what botocore sees as
    "connection reset by peer"), not an orderly close."""
    sandbox.seed({"region": REGION, "functions": [{"name": "api", "versions": 1}]})
    sandbox.add_fault("reset", "ListAliases", count=1)
    with socket.create_connection(_address(sandbox)) as sock:
        sock.sendall(
            b"GET /2015-03-31/functions/api/aliases HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: {AUTH['Authorization']}\r\n\r\n".encode()
        )
        sock.settimeout(5)
        seen: list[bytes | str] = []
        for _ in range(2):  # a FIN reads as b"" (every time), a RST raises
            try:
                seen.append(sock.recv(1024))
            except ConnectionResetError:
                seen.append("reset")
                break
    assert "reset" in seen, seen


def test_a_service_the_sandbox_does_not_serve_is_named_in_a_400(sandbox: Sandbox) -> None:
    connection = _connect(sandbox)
    scope = f"AWS4-HMAC-SHA256 Credential=x/20250101/{REGION}/s3/aws4_request, x=y"
    connection.request("GET", "/bucket", headers={"Authorization": scope})
    answer = connection.getresponse()
    message = json.loads(answer.read())["message"]
    assert answer.status == 400
    assert message == ("the sandbox serves Lambda, IAM, STS, CloudWatch and FunctionGraph, not s3")
    connection.close()

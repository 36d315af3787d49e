"""The sandbox's HTTP server keeps connections open, as AWS's endpoints do, and still drops one
when a fault says so."""

from __future__ import annotations

import http.client
import json

import pytest

from reconciler.sandbox import Sandbox
from tests.conftest import REGION

AUTH = {
    "Authorization": f"AWS4-HMAC-SHA256 Credential=x/20250101/{REGION}/lambda/aws4_request, "
    "SignedHeaders=host, Signature=0"
}


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

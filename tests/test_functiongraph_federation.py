"""OpenID Connect federation on Huawei Cloud: a job holds an ID token, not a key.

The SDK trades the token at IAM for a temporary access key (HUAWEICLOUD_SDK_IDP_ID and
HUAWEICLOUD_SDK_ID_TOKEN_FILE), as the GitHub workflows do; here IAM is the sandbox's, over HTTP.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient, ListVersionAliasesRequest

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from reconciler.sandbox.huawei_iam import KEY_PATH, TOKEN_PATH
from tests.test_functiongraph_cli import FG_MANIFEST, PROJECT, REGION, fg_aliases, run
from tests.test_functiongraph_sandbox import URN

SUBJECT = (
    "repo:octo/estate:environment:production:job_workflow_ref:"
    "octo/estate/.github/workflows/reconcile-apply.yml@refs/heads/main"
)


def id_token(*, expires_in: float = 300, subject: str = SUBJECT) -> str:
    """A JWT shaped as GitHub's: the sandbox reads its claims, not its signature."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {
        "iss": "https://token.actions.githubusercontent.com",
        "aud": "iam.myhuaweicloud.com",
        "sub": subject,
        "exp": int(time.time() + expires_in),
    }
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


@pytest.fixture
def federated(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A FunctionGraph manifest, and a job's environment with an ID token and no key."""
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=4)
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    token_file = tmp_path / "id-token"
    token_file.write_text(id_token(), encoding="utf-8")
    monkeypatch.setenv("HUAWEICLOUD_SDK_IDP_ID", "github")
    monkeypatch.setenv("HUAWEICLOUD_SDK_ID_TOKEN_FILE", str(token_file))
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", sandbox.url)
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1", sandbox.url)
    directory = tmp_path / "manifests"
    directory.mkdir()
    (directory / "payments.yaml").write_text(FG_MANIFEST, encoding="utf-8")
    return directory


def test_a_job_with_an_id_token_plans_and_applies_with_a_temporary_key(
    sandbox: Sandbox, federated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(sandbox, capsys, "plan", str(federated))
    assert code == 0, err
    assert f"+ {PROJECT}/{REGION}/payments:live" in out
    code, out, err = run(sandbox, capsys, "apply", str(federated), "--auto-approve")
    assert code == 0, out + err
    assert fg_aliases(sandbox)["live"]["version"] == "v3"
    # One trade per command (one client per Region), and the token never reaches the output.
    assert sandbox.app.huawei_iam.trades == 2
    token = Path(federated.parent / "id-token").read_text(encoding="utf-8")
    assert token not in out + err
    assert token.split(".")[1] not in out + err


def test_concurrent_reads_trade_the_id_token_once(
    sandbox: Sandbox, federated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plan reads a Region's functions on several threads through one client: one trade, not
    one a thread, and no thread signs with half of a new key."""
    for n in range(12):
        sandbox.app.functiongraph.add_function(PROJECT, REGION, f"fn{n}", versions=2)
        (federated / f"fn{n}.yaml").write_text(
            FG_MANIFEST.replace("function: payments", f"function: fn{n}")
            .replace("v3", "v1")
            .replace("v4", "v2"),
            encoding="utf-8",
        )
    code, _, err = run(sandbox, capsys, "plan", str(federated))
    assert code == 0, err
    assert sandbox.app.huawei_iam.trades == 1


class _MalformedIam(http.server.BaseHTTPRequestHandler):
    """An IAM whose token call succeeds and whose temporary key answer is not IAM's."""

    credential: ClassVar[dict[str, Any]] = {}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"token": {}} if "id-token" in self.path else self.credential).encode()
        self.send_response(201)
        self.send_header("X-Subject-Token", "MIItoken")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(
    "credential",
    [
        {"credential": {"access": "A", "secret": "S", "securitytoken": "T"}},
        {"credential": {"access": "A", "secret": "S", "securitytoken": "T", "expires_at": "x"}},
        {"credentials": []},
    ],
)
def test_a_malformed_temporary_key_answer_is_named_as_iams(
    sandbox: Sandbox,
    federated: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    credential: dict[str, Any],
) -> None:
    _MalformedIam.credential = credential
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _MalformedIam)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        code, _, err = run(sandbox, capsys, "plan", str(federated))
    finally:
        server.shutdown()
        server.server_close()
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith("error: trading the ID token for a temporary key: malformed"), line


def test_an_expired_id_token_is_refused_in_one_line_and_nothing_is_written(
    sandbox: Sandbox, federated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (federated.parent / "id-token").write_text(id_token(expires_in=-60), encoding="utf-8")
    code, out, err = run(sandbox, capsys, "apply", str(federated), "--auto-approve")
    assert code == 1, out + err
    assert "Huawei Cloud IAM refused the OpenID Connect ID token (IAM.0103" in err
    assert "signing keys (GitHub rotates them)" in err  # what breaks a setup that used to work
    assert "Traceback" not in err
    assert fg_aliases(sandbox) == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"HUAWEICLOUD_SDK_ID_TOKEN_FILE": None}, "set HUAWEICLOUD_SDK_ID_TOKEN_FILE"),
        ({"HUAWEICLOUD_SDK_IDP_ID": None}, "set HUAWEICLOUD_SDK_IDP_ID"),
        ({"HUAWEICLOUD_SDK_ID_TOKEN_FILE": "/nonexistent/id-token"}, "cannot read the ID token"),
        (
            {"HUAWEICLOUD_SDK_IDP_ID": None, "HUAWEICLOUD_SDK_ID_TOKEN_FILE": None},
            "or HUAWEICLOUD_SDK_IDP_ID and HUAWEICLOUD_SDK_ID_TOKEN_FILE",
        ),
    ],
)
def test_incomplete_federation_settings_name_what_to_set(
    sandbox: Sandbox,
    federated: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, str | None],
    message: str,
) -> None:
    for name, value in change.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    code, out, err = run(sandbox, capsys, "plan", str(federated))
    assert code == 1, out + err
    assert message in err
    assert "Traceback" not in err
    assert sandbox.app.huawei_iam.trades == 0


def test_an_empty_token_file_is_refused(
    sandbox: Sandbox, federated: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (federated.parent / "id-token").write_text("\n", encoding="utf-8")
    code, _, err = run(sandbox, capsys, "plan", str(federated))
    assert code == 1
    assert "the file is empty" in err


def _post(sandbox: Sandbox, path: str, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    request = urllib.request.Request(
        sandbox.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, (answer.headers, json.loads(answer.read()))
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _temporary_key(sandbox: Sandbox) -> dict[str, str]:
    status, (headers, _) = _post(
        sandbox, TOKEN_PATH, {"auth": {"id_token": {"id": id_token()}}}, {"X-Idp-Id": "github"}
    )
    assert status == 201
    body = {
        "auth": {
            "identity": {
                "methods": ["token"],
                "token": {"id": headers["X-Subject-Token"], "duration_seconds": 900},
            }
        }
    }
    status, (_, answer) = _post(sandbox, KEY_PATH, body, {})
    assert status == 201
    credential: dict[str, str] = answer["credential"]
    return credential


def _client(sandbox: Sandbox, credentials: BasicCredentials) -> Any:
    return (
        FunctionGraphClient.new_builder()
        .with_credentials(credentials)
        .with_endpoints([sandbox.url])
        .build()
    )


def test_the_sandbox_refuses_a_temporary_key_without_its_security_token(
    sandbox: Sandbox,
) -> None:
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=1)
    key = _temporary_key(sandbox)
    bare = BasicCredentials(key["access"], key["secret"], PROJECT)
    with pytest.raises(ClientRequestException) as refused:
        _client(sandbox, bare).list_version_aliases(ListVersionAliasesRequest(URN))
    assert refused.value.status_code == 401
    assert "security token" in refused.value.error_msg
    wrong = BasicCredentials(key["access"], key["secret"], PROJECT).with_security_token("x")
    with pytest.raises(ClientRequestException):
        _client(sandbox, wrong).list_version_aliases(ListVersionAliasesRequest(URN))
    good = BasicCredentials(key["access"], key["secret"], PROJECT).with_security_token(
        key["securitytoken"]
    )
    answer = _client(sandbox, good).list_version_aliases(ListVersionAliasesRequest(URN))
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "code"),
    [
        (TOKEN_PATH, {"auth": {"id_token": {"id": "x"}}}, {"X-Idp-Id": "github"}, 400, "IAM.0101"),
        (TOKEN_PATH, {"auth": {"id_token": {"id": id_token()}}}, {}, 400, "IAM.0011"),
        (
            TOKEN_PATH,
            {"auth": {"id_token": {"id": id_token(subject="")}}},
            {"X-Idp-Id": "github"},
            401,
            "IAM.0104",
        ),
        (
            KEY_PATH,
            {"auth": {"identity": {"methods": ["token"], "token": {"id": "forged"}}}},
            {},
            401,
            "IAM.0301",
        ),
        (KEY_PATH, {"auth": {"identity": {"methods": ["password"]}}}, {}, 400, "IAM.0011"),
        (KEY_PATH, [], {}, 400, "IAM.0011"),
    ],
)
def test_the_sandbox_iam_refuses_what_iam_refuses(
    sandbox: Sandbox, path: str, body: Any, headers: dict[str, str], status: int, code: str
) -> None:
    answer = _post(sandbox, path, body, headers)
    assert answer[0] == status
    assert answer[1]["error_code"] == code


@pytest.mark.parametrize("duration", [899, 86_401, "900", True])
def test_a_temporary_key_lasts_from_15_minutes_to_a_day(sandbox: Sandbox, duration: Any) -> None:
    status, (headers, _) = _post(
        sandbox, TOKEN_PATH, {"auth": {"id_token": {"id": id_token()}}}, {"X-Idp-Id": "github"}
    )
    token = {"id": headers["X-Subject-Token"], "duration_seconds": duration}
    body = {"auth": {"identity": {"methods": ["token"], "token": token}}}
    status, answer = _post(sandbox, KEY_PATH, body, {})
    assert status == 400
    assert "duration_seconds" in answer["error_msg"]


def test_identity_conversion_rules_trust_the_jobs_each_aws_role_trusts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    common = ["permissions", "--trust-policy", "--repo", "octo/estate"]
    assert main([*common, "--provider", "functiongraph", "--plan", "--apply", "--rollout"]) == 0
    rules = json.loads(capsys.readouterr().out)
    assert [r["local"] for r in rules] == [
        [{"user": {"name": f"reconcile-{role}"}}, {"group": {"name": f"reconcile-{role}"}}]
        for role in ("plan", "apply", "rollout")
    ]
    for rule, role in zip(rules, ("plan", "apply", "rollout"), strict=True):
        assert main([*common, "--account", "123456789012", f"--{role}"]) == 0
        (statement,) = json.loads(capsys.readouterr().out)["Statement"]
        aws = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
        assert rule["remote"] == [{"type": "sub", "any_one_of": aws}]
    assert SUBJECT in rules[1]["remote"][0]["any_one_of"]
    assert SUBJECT not in rules[0]["remote"][0]["any_one_of"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--plan", "--account", "123456789012"], "no --account"),
        ([], "choose the roles"),
        (["--plan", "--repo", "octo/estate:*"], "expected OWNER/NAME"),
        (["--plan", "--branch", "refs/heads/main"], "expected a branch name"),
    ],
)
def test_identity_conversion_rules_refuse_what_would_widen_them(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    repo = [] if "--repo" in args else ["--repo", "octo/estate"]
    code = main(["permissions", "--trust-policy", "--provider", "functiongraph", *repo, *args])
    assert code == 1
    assert message in capsys.readouterr().err


def test_an_unreachable_iam_is_one_line_and_nothing_is_written(
    sandbox: Sandbox,
    federated: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _MalformedIam)
    port = closed.server_port
    closed.server_close()  # nothing listens there now
    monkeypatch.setenv("HUAWEICLOUD_SDK_IAM_ENDPOINT", f"http://127.0.0.1:{port}")
    code, _, err = run(sandbox, capsys, "apply", str(federated), "--auto-approve")
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith("error: trading the ID token for a temporary key: Huawei Cloud IAM"), (
        line
    )
    assert fg_aliases(sandbox) == {}

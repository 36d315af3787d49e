"""Seeding writes into moto's state, and GetFunction is answered from it: both must leave the
sandbox exactly as moto's own API would, which these tests check against that API."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.cli import main
from reconciler.errors import SeedError
from reconciler.sandbox import Sandbox
from tests.conftest import ACCOUNT, REGION, make_client

FN = "payments-api"
ROOT = Path(__file__).resolve().parent.parent


def _moto_api(sandbox: Sandbox, path: str, query: dict[str, str] | None = None) -> Any:
    """The same read, asked of moto's own HTTP API in process (no sandbox layer)."""
    status, body = sandbox.app.functions.call("GET", path, REGION, query=query)
    return status, json.loads(body)


def _sandbox_api(sandbox: Sandbox, path: str, query: dict[str, str] | None = None) -> Any:
    """The read over HTTP, as a client sends it (boto3 would drop the nulls on the wire)."""
    url = f"{sandbox.url}{path}?{urllib.parse.urlencode(query or {})}"
    auth = f"AWS4-HMAC-SHA256 Credential=sandbox/20250101/{REGION}/lambda/aws4_request, x=y"
    request = urllib.request.Request(url, headers={"Authorization": auth})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _undecorated(config: dict[str, Any]) -> dict[str, Any]:
    """What moto answers: without the RevisionId and dead-letter configuration the sandbox's own
    layer adds (moto keeps neither)."""
    return {k: v for k, v in config.items() if k not in ("RevisionId", "DeadLetterConfig")}


@pytest.mark.parametrize("qualifier", [None, "$LATEST", "1", "3"])
def test_get_function_answers_what_motos_api_answers(
    sandbox: Sandbox, qualifier: str | None
) -> None:
    sandbox.seed({"functions": [{"name": FN, "versions": 3}]})
    query = {"Qualifier": qualifier} if qualifier else {}
    for suffix in ("", "/configuration"):
        path = f"/2015-03-31/functions/{FN}{suffix}"
        status, answer = _sandbox_api(sandbox, path, query)
        assert (status, _moto_api(sandbox, path, query)[0]) == (200, 200)
        expected = _moto_api(sandbox, path, query)[1]
        if not suffix:
            assert answer.keys() == expected.keys()
            answer, expected = answer["Configuration"], expected["Configuration"]
        assert _undecorated(answer) == _undecorated(expected)
        assert answer["RevisionId"]  # the sandbox's layer still decorates it


@pytest.mark.parametrize(
    ("function", "qualifier", "missing"),
    [
        ("nope", None, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope"),
        (FN, "7", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FN}:7"),
    ],
)
def test_a_missing_function_or_version_is_the_404_motos_api_gives(
    sandbox: Sandbox, function: str, qualifier: str | None, missing: str
) -> None:
    sandbox.seed({"functions": [{"name": FN, "versions": 3}]})
    query = {"Qualifier": qualifier} if qualifier else {}
    with pytest.raises(ClientError) as excinfo:
        make_client(sandbox).get_function(FunctionName=function, **query)
    error = excinfo.value.response["Error"]
    status, expected = _moto_api(sandbox, f"/2015-03-31/functions/{function}", query)
    assert (excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"]) == (
        404,
        "ResourceNotFoundException",
    )
    assert status == 404
    assert error["Message"] == expected["message"] == f"Function not found: {missing}"


def test_seeding_twice_creates_nothing_twice_and_publishes_only_what_is_missing(
    sandbox: Sandbox,
) -> None:
    sandbox.seed({"functions": [{"name": FN, "versions": 2}]})
    lam = make_client(sandbox)
    before = lam.get_function(FunctionName=FN, Qualifier="2")["Configuration"]
    sandbox.seed({"functions": [{"name": FN, "versions": 4}]})
    sandbox.seed({"functions": [{"name": FN, "versions": 1}]})  # "at least 1": nothing to do
    versions = lam.list_versions_by_function(FunctionName=FN)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2", "3", "4"]
    again = lam.get_function(FunctionName=FN, Qualifier="2")["Configuration"]
    assert again["CodeSha256"] == before["CodeSha256"]
    assert again["LastModified"] == before["LastModified"]
    assert len({v["CodeSha256"] for v in versions[1:]}) == 4  # each version its own code


def test_seeded_versions_carry_their_roles_and_dead_letter_targets(sandbox: Sandbox) -> None:
    dlq = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    sandbox.seed(
        {
            "functions": [
                {
                    "name": FN,
                    "role": "payments-exec",
                    "versions": [{}, {"role": "other-role"}, {"dead_letter": dlq}],
                }
            ]
        }
    )
    lam = make_client(sandbox)
    roles = [
        lam.get_function(FunctionName=FN, Qualifier=str(n))["Configuration"]["Role"]
        for n in (1, 2, 3)
    ]
    role = f"arn:aws:iam::{ACCOUNT}:role/"
    assert roles == [role + "payments-exec", role + "other-role", role + "payments-exec"]
    third = lam.get_function(FunctionName=FN, Qualifier="3")["Configuration"]
    assert third["DeadLetterConfig"] == {"TargetArn": dlq}
    assert (
        "DeadLetterConfig" not in lam.get_function(FunctionName=FN, Qualifier="1")["Configuration"]
    )


def test_a_seed_moto_refuses_is_a_seed_error_naming_the_function(sandbox: Sandbox) -> None:
    with pytest.raises(SeedError, match=r"cannot seed function payments-api: .*role"):
        sandbox.seed({"functions": [{"name": FN, "role": "arn:aws:iam::999999999999:role/x"}]})


def test_seeding_works_after_a_reset(sandbox: Sandbox) -> None:
    """moto's reset replaces its backends: seeding must find the new ones."""
    sandbox.seed({"functions": [{"name": FN, "versions": 1}]})
    sandbox.reset()
    sandbox.seed({"functions": [{"name": FN, "versions": 2}]})
    versions = make_client(sandbox).list_versions_by_function(FunctionName=FN)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]


def test_seeding_versions_onto_an_existing_function_rotates_its_revision(
    sandbox: Sandbox,
) -> None:
    """Seeding more versions onto a function publishes them, which rotates $LATEST's
    RevisionId as PublishVersion does: the old one no longer guards a write."""
    sandbox.seed({"region": REGION, "functions": [{"name": "api", "versions": 1}]})
    lam = make_client(sandbox)
    before = lam.get_function(FunctionName="api")["Configuration"]["RevisionId"]
    sandbox.seed({"region": REGION, "functions": [{"name": "api", "versions": 3}]})
    with pytest.raises(ClientError) as refused:
        lam.update_function_configuration(FunctionName="api", Description="x", RevisionId=before)
    assert refused.value.response["Error"]["Code"] == "PreconditionFailedException"


@pytest.mark.parametrize("value", ["0x_", "2024-13-45", "0b_"])
def test_a_seed_file_yaml_cannot_build_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """PyYAML's YAML 1.1 constructors raise ValueError on some scalars that scan as numbers or
    dates (0x_, a 13th month): that is the file's fault, named as such, never a traceback."""
    seed = tmp_path / "seed.yaml"
    seed.write_text(f"functions:\n  - name: f\n    versions: {value}\n", encoding="utf-8")
    code = main(["plan", str(ROOT / "manifests"), "--sandbox", "--sandbox-seed", str(seed)])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith(f"error: {seed}: not valid YAML"), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "alias",
    [
        "{name: live, version: 1, routing: {weight: 0.1}}",
        "{name: live, version: 1, routing: {version: 2}}",
        "{name: live, version: 1, routing: {version: 2, weight: ten}}",
        "{name: live, version: 1, routing: 2}",
        "{name: live, version: 1, provisioned_concurrency: many}",
    ],
    ids=["no-version", "no-weight", "weight-text", "not-a-mapping", "concurrency-text"],
)
def test_a_seed_alias_lambda_cannot_read_is_one_line_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], alias: str
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(f"functions:\n  - {{name: f, versions: 3, aliases: [{alias}]}}\n", "utf-8")
    code = main(["plan", str(ROOT / "manifests"), "--sandbox", "--sandbox-seed", str(seed)])
    _, err = capsys.readouterr()
    assert code == 1
    (line,) = err.strip().splitlines()
    assert line.startswith(f"error: {seed}: functions[0].aliases[0]"), err

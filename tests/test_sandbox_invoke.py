"""Invoke in the sandbox: it runs no code (no Docker), so it answers from a table, or says so."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.sandbox import Sandbox
from tests.conftest import REGION


@pytest.fixture
def api(sandbox: Sandbox) -> Sandbox:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {"name": "smoke", "versions": 2, "aliases": [{"name": "live", "version": 2}]}
            ],
        }
    )
    return sandbox


def test_invoke_answers_from_the_table(api: Sandbox, lam: Any) -> None:
    api.set_invoke_result("smoke", payload={"status": "Succeeded"})
    answer = lam.invoke(FunctionName="smoke", InvocationType="RequestResponse", Payload=b"{}")
    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert json.loads(answer["Payload"].read()) == {"status": "Succeeded"}
    assert answer["ExecutedVersion"] == "$LATEST"
    assert answer["ResponseMetadata"]["RequestId"]


def test_a_qualifier_has_its_own_answer_and_a_function_error(api: Sandbox, lam: Any) -> None:
    api.set_invoke_result("smoke", payload={"status": "Succeeded"})
    api.set_invoke_result(
        "smoke", "live", payload={"errorMessage": "boom"}, function_error="Unhandled"
    )
    answer = lam.invoke(FunctionName="smoke", Qualifier="live")
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert answer["ExecutedVersion"] == "2"  # the alias's version
    assert json.loads(answer["Payload"].read()) == {"errorMessage": "boom"}
    assert json.loads(lam.invoke(FunctionName="smoke:1")["Payload"].read()) == {
        "status": "Succeeded"
    }


def test_the_admin_endpoint_sets_answers_too(api: Sandbox, lam: Any) -> None:
    request = urllib.request.Request(
        f"{api.url}/_sandbox/config",
        data=json.dumps(
            {"invoke": [{"function": "smoke", "payload": {"status": "Succeeded"}}]}
        ).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request) as reply:
        assert reply.status == 200
    assert json.loads(lam.invoke(FunctionName="smoke")["Payload"].read()) == {"status": "Succeeded"}


def test_without_an_answer_invoke_says_the_sandbox_runs_no_code(api: Sandbox, lam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.invoke(FunctionName="smoke")
    error = excinfo.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error["Error"]["Code"] == "SandboxCannotRunCode"
    assert "set_invoke_result" in error["Error"]["Message"]


def test_invoking_a_missing_function_is_404(api: Sandbox, lam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.invoke(FunctionName="nope")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(("weight", "executed"), [(0.0, "2"), (1.0, "1")])
def test_an_alias_invokes_its_version_weighted_by_its_routing(
    api: Sandbox, lam: Any, weight: float, executed: str
) -> None:
    lam.update_alias(
        FunctionName="smoke",
        Name="live",
        RoutingConfig={"AdditionalVersionWeights": {"1": weight}},
    )
    api.set_invoke_result("smoke", payload={})
    versions = {
        lam.invoke(FunctionName="smoke", Qualifier="live")["ExecutedVersion"] for _ in range(20)
    }
    assert versions == {executed}


def test_an_even_split_runs_both_versions(api: Sandbox, lam: Any) -> None:
    lam.update_alias(
        FunctionName="smoke", Name="live", RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}}
    )
    api.set_invoke_result("smoke", payload={})
    versions = [
        lam.invoke(FunctionName="smoke", Qualifier="live")["ExecutedVersion"] for _ in range(64)
    ]
    assert set(versions) == {"1", "2"}  # all 64 on one side: one chance in 2**63

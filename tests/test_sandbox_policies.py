"""Resource policies in the sandbox: kept per qualifier, so an alias has its own (the contract)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.sandbox import Sandbox
from tests.conftest import ACCOUNT, REGION


@pytest.fixture
def api(sandbox: Sandbox) -> Sandbox:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {"name": "api", "versions": 2, "aliases": [{"name": "live", "version": 2}]}
            ],
        }
    )
    return sandbox


def permit(lam: Any, sid: str, qualifier: str | None = None) -> dict[str, Any]:
    extra = {"Qualifier": qualifier} if qualifier else {}
    return dict(
        lam.add_permission(
            FunctionName="api",
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            **extra,
        )
    )


def test_an_alias_has_a_policy_of_its_own(api: Sandbox, lam: Any) -> None:
    added = permit(lam, "from-events", "live")
    statement = json.loads(added["Statement"])
    assert statement["Sid"] == "from-events"
    assert statement["Resource"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:api:live"
    policy = json.loads(lam.get_policy(FunctionName="api", Qualifier="live")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["from-events"]
    with pytest.raises(ClientError) as excinfo:  # the function itself has none
        lam.get_policy(FunctionName="api")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_statement_id_is_unique_per_policy_and_can_be_removed(api: Sandbox, lam: Any) -> None:
    permit(lam, "s1", "live")
    with pytest.raises(ClientError) as excinfo:
        permit(lam, "s1", "live")
    assert excinfo.value.response["Error"]["Code"] == "ResourceConflictException"
    lam.remove_permission(FunctionName="api", StatementId="s1", Qualifier="live")
    with pytest.raises(ClientError) as excinfo:
        lam.get_policy(FunctionName="api", Qualifier="live")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_policy_on_a_missing_alias_is_404(api: Sandbox, lam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        permit(lam, "s1", "nope")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_deleting_an_alias_deletes_its_policy(api: Sandbox, lam: Any) -> None:
    permit(lam, "s1", "live")
    lam.delete_alias(FunctionName="api", Name="live")
    lam.create_alias(FunctionName="api", Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as excinfo:
        lam.get_policy(FunctionName="api", Qualifier="live")
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"

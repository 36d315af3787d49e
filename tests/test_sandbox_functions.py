"""LAMBDA_CONTRACT.md, "Functions, versions and qualifiers": each rule as a test against the
sandbox, through boto3 over HTTP (and the aws CLI where it is installed)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.sandbox import Sandbox
from tests.conftest import ACCOUNT, REGION, make_client

FN = "payments-api"
FN_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FN}"


@pytest.fixture(autouse=True)
def _function(sandbox: Sandbox) -> None:
    sandbox.seed(
        {"functions": [{"name": FN, "versions": 3, "aliases": [{"name": "live", "version": 2}]}]}
    )


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: dict[str, Any] = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def message_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Message"])


def unvalidated(sandbox: Sandbox) -> Any:
    """A client that sends what it is given: the server's checks, not botocore's."""
    return make_client(sandbox, parameter_validation=False)


# -- every answer carries an x-amzn-RequestId header -------------------------------------------


def test_every_answer_of_the_alias_api_has_a_request_id(sandbox: Sandbox, lam: Any) -> None:
    answers = [
        lam.list_aliases(FunctionName=FN),
        lam.get_alias(FunctionName=FN, Name="live"),
        lam.create_alias(FunctionName=FN, Name="beta", FunctionVersion="1"),
        lam.update_alias(FunctionName=FN, Name="beta", FunctionVersion="3"),
        lam.delete_alias(FunctionName=FN, Name="beta"),
        lam.list_versions_by_function(FunctionName=FN),
        lam.get_function(FunctionName=FN),
    ]
    ids = [a["ResponseMetadata"].get("RequestId") for a in answers]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("kind", ["throttle", "error", "conflict"])
def test_errors_made_by_the_sandbox_have_a_request_id(sandbox: Sandbox, kind: str) -> None:
    sandbox.add_fault(kind, "GetAlias", count=1)
    once = make_client(sandbox, retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ClientError) as excinfo:
        once.get_alias(FunctionName=FN, Name="live")
    assert excinfo.value.response["ResponseMetadata"].get("RequestId")


def test_a_missing_alias_has_a_request_id(lam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.get_alias(FunctionName=FN, Name="nope")
    assert excinfo.value.response["ResponseMetadata"].get("RequestId")


# -- numbers are ASCII digits, of a sane length ------------------------------------------------


@pytest.mark.parametrize("raw", ["\u0661\u0660", "1" * 5000, "+5", " 5", "0x10", "\u0663"])
@pytest.mark.parametrize("call", ["list_aliases", "list_versions_by_function"])
def test_max_items_is_ascii_digits_in_range(sandbox: Sandbox, raw: str, call: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        getattr(unvalidated(sandbox), call)(FunctionName=FN, MaxItems=raw)
    assert error_of(excinfo) == ("ValidationException", 400)


@pytest.mark.parametrize("marker", ["\u0661", "1" * 5000, "-1"])
def test_a_version_marker_that_is_not_ours_is_refused(sandbox: Sandbox, marker: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        make_client(sandbox).list_versions_by_function(FunctionName=FN, Marker=marker)
    assert error_of(excinfo) == ("InvalidParameterValueException", 400)


@pytest.mark.parametrize("qualifier", ["\u0661", "\u0663", "1" * 5000])
def test_provisioned_concurrency_qualifier_is_ascii(sandbox: Sandbox, qualifier: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        unvalidated(sandbox).put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier=qualifier, ProvisionedConcurrentExecutions=1
        )
    assert error_of(excinfo) == ("ValidationException", 400)


# -- error messages follow AWS's wording -------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda lam: lam.get_alias(FunctionName=FN, Name="nope"),
        lambda lam: lam.update_alias(FunctionName=FN, Name="nope", FunctionVersion="1"),
    ],
    ids=["get", "update"],
)
def test_a_missing_alias_is_named_as_aws_names_it(lam: Any, call: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        call(lam)
    assert error_of(excinfo) == ("ResourceNotFoundException", 404)
    assert message_of(excinfo) == f"Cannot find alias arn: {FN_ARN}:nope"


def test_a_missing_version_is_named_as_aws_names_it(lam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(FunctionName=FN, Name="beta", FunctionVersion="42")
    assert message_of(excinfo) == f"Function not found: {FN_ARN}:42"


def test_an_invalid_alias_name_gets_the_services_words_only(lam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(FunctionName=FN, Name="2024", FunctionVersion="1")
    assert message_of(excinfo) == (
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
    )

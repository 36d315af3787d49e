"""LAMBDA_CONTRACT.md, "Functions, versions and qualifiers": each rule as a test against the
sandbox, through boto3 over HTTP (and the aws CLI where it is installed)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
import urllib.request
import zipfile
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


# -- RevisionIds of functions and versions -------------------------------------------------------


def zip_code(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", f"def handler(event, context):\n    return {text!r}\n")
    return buffer.getvalue()


def config(lam: Any, qualifier: str = "$LATEST") -> dict[str, Any]:
    got = lam.get_function_configuration(FunctionName=FN, Qualifier=qualifier)
    return {k: v for k, v in got.items() if k != "ResponseMetadata"}


def version_numbers(lam: Any) -> list[str]:
    pages = lam.get_paginator("list_versions_by_function").paginate(FunctionName=FN)
    return [v["Version"] for page in pages for v in page["Versions"]]


def test_functions_and_versions_carry_a_revision_id_in_every_answer(lam: Any) -> None:
    latest = config(lam)["RevisionId"]
    assert latest
    assert lam.get_function(FunctionName=FN)["Configuration"]["RevisionId"] == latest
    versions = lam.list_versions_by_function(FunctionName=FN)["Versions"]
    assert versions[0]["RevisionId"] == latest
    assert len({v["RevisionId"] for v in versions}) == 4
    assert config(lam, "2")["RevisionId"] == versions[2]["RevisionId"]
    listed = [f for f in lam.list_functions()["Functions"] if f["FunctionName"] == FN]
    assert listed[0]["RevisionId"] == latest


def test_latest_revision_rotates_on_every_code_and_configuration_update_and_publish(
    lam: Any,
) -> None:
    seen = [config(lam)["RevisionId"]]
    same = config(lam)["Description"]
    updated = lam.update_function_configuration(FunctionName=FN, Description=same)
    seen.append(updated["RevisionId"])  # a redundant update rotates it too
    assert config(lam)["RevisionId"] == seen[-1]
    seen.append(lam.update_function_code(FunctionName=FN, ZipFile=zip_code("new"))["RevisionId"])
    published = lam.publish_version(FunctionName=FN)
    seen.append(config(lam)["RevisionId"])
    assert published["Version"] == "4"
    assert len(set(seen)) == 4, seen


def test_a_published_version_never_changes(lam: Any) -> None:
    before = config(lam, "1")
    lam.update_function_configuration(FunctionName=FN, Description="changed", Timeout=9)
    lam.update_function_code(FunctionName=FN, ZipFile=zip_code("other"))
    lam.publish_version(FunctionName=FN)
    assert config(lam, "1") == before


def test_alias_writes_change_neither_the_function_nor_its_versions(lam: Any) -> None:
    def revisions() -> list[str]:
        return [config(lam, q)["RevisionId"] for q in ("$LATEST", "1", "2", "3")]

    before = revisions()
    lam.create_alias(FunctionName=FN, Name="beta", FunctionVersion="1")
    lam.update_alias(FunctionName=FN, Name="beta", FunctionVersion="3")
    lam.update_alias(
        FunctionName=FN, Name="live", RoutingConfig={"AdditionalVersionWeights": {"3": 0.1}}
    )
    lam.delete_alias(FunctionName=FN, Name="beta")
    assert revisions() == before


@pytest.mark.parametrize(
    "write",
    [
        lambda lam, rev: lam.publish_version(FunctionName=FN, RevisionId=rev),
        lambda lam, rev: lam.update_function_code(
            FunctionName=FN, ZipFile=zip_code("x"), RevisionId=rev
        ),
        lambda lam, rev: lam.update_function_configuration(
            FunctionName=FN, Description="guarded", RevisionId=rev
        ),
    ],
    ids=["publish", "code", "configuration"],
)
def test_function_writes_are_guarded_by_revision_id(lam: Any, write: Any) -> None:
    lam.update_function_code(FunctionName=FN, ZipFile=zip_code("unpublished"))
    before, versions = config(lam), version_numbers(lam)
    with pytest.raises(ClientError) as excinfo:
        write(lam, "0" * 8 + "-0000-0000-0000-" + "0" * 12)
    assert error_of(excinfo) == ("PreconditionFailedException", 412)
    assert (config(lam), version_numbers(lam)) == (before, versions)
    write(lam, before["RevisionId"])  # the current one is accepted
    assert config(lam)["RevisionId"] != before["RevisionId"]


def test_publish_refuses_a_code_sha256_that_is_not_latests(lam: Any) -> None:
    lam.update_function_code(FunctionName=FN, ZipFile=zip_code("unpublished"))
    latest = config(lam)
    with pytest.raises(ClientError) as excinfo:
        lam.publish_version(FunctionName=FN, CodeSha256="not-the-hash")
    assert error_of(excinfo) == ("InvalidParameterValueException", 400)
    assert message_of(excinfo) == (
        f"CodeSHA256 (not-the-hash) is different from current CodeSHA256 in $LATEST "
        f"({latest['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST."
    )
    assert version_numbers(lam)[-1] == "3"
    assert lam.publish_version(FunctionName=FN, CodeSha256=latest["CodeSha256"])["Version"] == "4"


def test_publishing_with_nothing_changed_returns_the_last_version_again(lam: Any) -> None:
    lam.update_function_code(FunctionName=FN, ZipFile=zip_code("unpublished"))
    first = lam.publish_version(FunctionName=FN)
    latest = config(lam)["RevisionId"]
    again = lam.publish_version(FunctionName=FN)
    assert (again["Version"], again["RevisionId"]) == (first["Version"], first["RevisionId"])
    assert config(lam)["RevisionId"] == latest  # nothing was published, nothing rotated
    assert version_numbers(lam) == ["$LATEST", "1", "2", "3", "4"]


def test_versions_are_listed_latest_first_then_in_ascending_order(sandbox: Sandbox) -> None:
    sandbox.seed({"functions": [{"name": "twelve", "versions": 12}]})
    pages = make_client(sandbox).get_paginator("list_versions_by_function")
    listed = [v["Version"] for p in pages.paginate(FunctionName="twelve") for v in p["Versions"]]
    assert listed == ["$LATEST", *(str(n) for n in range(1, 13))]  # 10 after 9, not after 1


def test_a_kept_dead_letter_configuration_is_in_the_update_answer(lam: Any) -> None:
    target = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    updated = lam.update_function_configuration(
        FunctionName=FN, DeadLetterConfig={"TargetArn": target}
    )
    assert updated["DeadLetterConfig"] == {"TargetArn": target}
    assert config(lam)["DeadLetterConfig"] == {"TargetArn": target}
    other = lam.update_function_configuration(FunctionName=FN, Description="dlq kept")
    assert other["DeadLetterConfig"] == {"TargetArn": target}


# -- qualifiers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ask",
    [
        {"FunctionName": FN, "Qualifier": "live"},
        {"FunctionName": f"{FN}:live"},
        {"FunctionName": f"{FN_ARN}:live"},
        {"FunctionName": f"{FN_ARN}:live", "Qualifier": "live"},
    ],
    ids=["qualifier", "name", "arn", "both"],
)
def test_an_alias_qualifier_resolves_to_its_versions_configuration(
    lam: Any, ask: dict[str, str]
) -> None:
    version = config(lam, "2")
    for got in (lam.get_function_configuration(**ask), lam.get_function(**ask)["Configuration"]):
        assert got["FunctionArn"] == f"{FN_ARN}:live"
        assert got["Version"] == "2"
        assert got["RevisionId"] == version["RevisionId"]
        assert got["CodeSha256"] == version["CodeSha256"]


def test_a_version_qualifier_in_the_arn_is_that_version(lam: Any) -> None:
    assert lam.get_function_configuration(FunctionName=f"{FN_ARN}:1")["Version"] == "1"
    assert lam.get_function(FunctionName=f"{FN}:$LATEST")["Configuration"]["Version"] == "$LATEST"


@pytest.mark.parametrize(
    ("name", "qualifier"), [(f"{FN}:1", "2"), (f"{FN_ARN}:live", "1"), (f"{FN}:live", "$LATEST")]
)
def test_a_qualifier_that_contradicts_the_arns_is_400(lam: Any, name: str, qualifier: str) -> None:
    for call in (lam.get_function, lam.get_function_configuration):
        with pytest.raises(ClientError) as excinfo:
            call(FunctionName=name, Qualifier=qualifier)
        assert error_of(excinfo) == ("InvalidParameterValueException", 400)
        assert message_of(excinfo) == (
            "The derived qualifier from the function name does not match the specified qualifier."
        )


@pytest.mark.parametrize("qualifier", ["has.dot", "ünï", "a" * 129, "has space"])
def test_an_invalid_qualifier_is_a_validation_error(sandbox: Sandbox, qualifier: str) -> None:
    lam = unvalidated(sandbox)
    for call in (lam.get_function, lam.get_function_configuration, lam.delete_function):
        with pytest.raises(ClientError) as excinfo:
            call(FunctionName=FN, Qualifier=qualifier)
        assert error_of(excinfo) == ("ValidationException", 400)


@pytest.mark.parametrize("qualifier", ["nope", "42"])
def test_a_missing_qualifier_is_404_naming_it(lam: Any, qualifier: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.get_function(FunctionName=FN, Qualifier=qualifier)
    assert error_of(excinfo) == ("ResourceNotFoundException", 404)
    assert message_of(excinfo) == f"Function not found: {FN_ARN}:{qualifier}"


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        ({"FunctionName": FN, "Qualifier": "$LATEST"}, "$LATEST version cannot be deleted"),
        ({"FunctionName": f"{FN}:$LATEST"}, "$LATEST version cannot be deleted"),
        ({"FunctionName": f"{FN_ARN}:$LATEST"}, "$LATEST version cannot be deleted"),
        ({"FunctionName": f"{FN}:live"}, "Deletion of aliases"),
    ],
    ids=["latest", "latest-in-name", "latest-in-arn", "alias"],
)
def test_delete_function_refuses_latest_alone_and_aliases_with_json_errors(
    lam: Any, ask: dict[str, str], message: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.delete_function(**ask)
    assert error_of(excinfo) == ("InvalidParameterValueException", 400)
    assert message_of(excinfo).startswith(message)
    assert version_numbers(lam) == ["$LATEST", "1", "2", "3"]


@pytest.mark.parametrize("name", [f"{FN}:3", f"{FN_ARN}:3", FN])
def test_delete_function_deletes_a_version_by_any_spelling(lam: Any, name: str) -> None:
    qualifier = {"Qualifier": "3"} if name == FN else {}
    assert (
        lam.delete_function(FunctionName=name, **qualifier)["ResponseMetadata"]["HTTPStatusCode"]
        == 204
    )
    assert version_numbers(lam) == ["$LATEST", "1", "2"]


# -- the aws CLI, unchanged, where it is installed -------------------------------------------------


def aws(sandbox: Sandbox, *args: str) -> Any:
    if shutil.which("aws") is None:
        pytest.skip("the aws CLI is not installed")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": "sandbox",
        "AWS_SECRET_ACCESS_KEY": "sandbox",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        ["aws", "--endpoint-url", sandbox.url, "--output", "json", "lambda", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_cli_reads_an_alias_qualifier(sandbox: Sandbox) -> None:
    got = aws(sandbox, "get-function-configuration", "--function-name", FN, "--qualifier", "live")
    assert (got["FunctionArn"], got["Version"]) == (f"{FN_ARN}:live", "2")
    assert got["RevisionId"]


def test_cli_update_keeps_and_shows_the_dead_letter_configuration(sandbox: Sandbox) -> None:
    target = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    got = aws(
        sandbox,
        "update-function-configuration",
        "--function-name",
        FN,
        "--dead-letter-config",
        f"TargetArn={target}",
    )
    assert got["DeadLetterConfig"] == {"TargetArn": target}


# -- provisioned concurrency --------------------------------------------------------------------


def test_a_new_configuration_is_in_progress_then_ready(sandbox: Sandbox, lam: Any) -> None:
    sandbox.set_provisioned_ready_after(0.3)
    put = lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=5
    )
    assert (put["ResponseMetadata"]["HTTPStatusCode"], put["Status"]) == (202, "IN_PROGRESS")
    assert put["AllocatedProvisionedConcurrentExecutions"] == 0
    got = lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert (got["Status"], got["RequestedProvisionedConcurrentExecutions"]) == ("IN_PROGRESS", 5)
    time.sleep(0.35)
    got = lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert (got["Status"], got["AllocatedProvisionedConcurrentExecutions"]) == ("READY", 5)


def test_ready_delay_is_a_switch_on_the_admin_endpoint(sandbox: Sandbox, lam: Any) -> None:
    request = urllib.request.Request(
        f"{sandbox.url}/_sandbox/config",
        data=json.dumps({"provisioned_ready_seconds": 0}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["provisioned_ready_seconds"] == 0
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="2", ProvisionedConcurrentExecutions=1
    )
    got = lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="2")
    assert got["Status"] == "READY"


@pytest.mark.parametrize(
    ("first", "second", "message"),
    [
        (
            "2",
            "live",
            "Alias can't be used for Provisioned Concurrency configuration on an "
            "already Provisioned version",
        ),
        ("live", "2", "Version is pointed by a Provisioned Concurrency alias"),
    ],
    ids=["version-then-alias", "alias-then-version"],
)
def test_a_version_and_an_alias_on_it_cannot_both_have_one(
    lam: Any, first: str, second: str, message: str
) -> None:
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier=first, ProvisionedConcurrentExecutions=1
    )
    with pytest.raises(ClientError) as excinfo:
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier=second, ProvisionedConcurrentExecutions=1
        )
    assert error_of(excinfo) == ("ResourceConflictException", 409)
    assert message_of(excinfo) == message
    lam.put_provisioned_concurrency_config(  # another version is fine, and so is a new count
        FunctionName=FN, Qualifier="1", ProvisionedConcurrentExecutions=2
    )
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier=first, ProvisionedConcurrentExecutions=3
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            "put_provisioned_concurrency_config",
            "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
        ),
        (
            "get_provisioned_concurrency_config",
            "The function resource provided must be an alias or a published version.",
        ),
        (
            "delete_provisioned_concurrency_config",
            "The function resource provided must be an alias or a published version.",
        ),
    ],
)
def test_never_on_latest(lam: Any, call: str, message: str) -> None:
    extra = {"ProvisionedConcurrentExecutions": 1} if call.startswith("put") else {}
    with pytest.raises(ClientError) as excinfo:
        getattr(lam, call)(FunctionName=FN, Qualifier="$LATEST", **extra)
    assert error_of(excinfo) == ("InvalidParameterValueException", 400)
    assert message_of(excinfo) == message


def test_list_provisioned_concurrency_configs(lam: Any) -> None:
    assert (
        lam.list_provisioned_concurrency_configs(FunctionName=FN)["ProvisionedConcurrencyConfigs"]
        == []
    )
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=4
    )
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="1", ProvisionedConcurrentExecutions=2
    )
    listed = lam.list_provisioned_concurrency_configs(FunctionName=FN)
    configs = {c["FunctionArn"]: c for c in listed["ProvisionedConcurrencyConfigs"]}
    assert set(configs) == {f"{FN_ARN}:1", f"{FN_ARN}:live"}
    assert configs[f"{FN_ARN}:live"]["RequestedProvisionedConcurrentExecutions"] == 4
    assert listed["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as excinfo:
        lam.list_provisioned_concurrency_configs(FunctionName="nope")
    assert error_of(excinfo) == ("ResourceNotFoundException", 404)


def test_deleting_an_alias_deletes_its_configuration_and_errors_name_the_alias(lam: Any) -> None:
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=4
    )
    lam.delete_alias(FunctionName=FN, Name="live")
    with pytest.raises(ClientError) as excinfo:
        lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert error_of(excinfo) == ("ResourceNotFoundException", 404)
    assert message_of(excinfo) == f"Cannot find alias arn: {FN_ARN}:live"
    assert (
        lam.list_provisioned_concurrency_configs(FunctionName=FN)["ProvisionedConcurrencyConfigs"]
        == []
    )
    lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="2")
    with pytest.raises(ClientError) as excinfo:
        lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="live")
    assert error_of(excinfo) == ("ProvisionedConcurrencyConfigNotFoundException", 404)
    assert message_of(excinfo) == "No Provisioned Concurrency Config found for this function"


def test_weighted_routing_with_provisioned_concurrency_is_a_switch(
    sandbox: Sandbox, lam: Any
) -> None:
    routing = {"AdditionalVersionWeights": {"3": 0.1}}
    lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    lam.update_alias(FunctionName=FN, Name="live", RoutingConfig=routing)  # allowed by default
    lam.update_alias(FunctionName=FN, Name="live", RoutingConfig={"AdditionalVersionWeights": {}})
    sandbox.refuse_weighted_provisioned_aliases(True)
    with pytest.raises(ClientError) as excinfo:
        lam.update_alias(FunctionName=FN, Name="live", RoutingConfig=routing)
    assert error_of(excinfo) == ("InvalidParameterValueException", 400)
    lam.create_alias(FunctionName=FN, Name="canary", FunctionVersion="1", RoutingConfig=routing)
    with pytest.raises(ClientError) as excinfo:
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier="canary", ProvisionedConcurrentExecutions=1
        )
    assert error_of(excinfo) == ("InvalidParameterValueException", 400)


def test_a_seeded_configuration_is_ready_from_the_start(sandbox: Sandbox, lam: Any) -> None:
    sandbox.seed(
        {
            "functions": [
                {
                    "name": "warm",
                    "versions": 1,
                    "aliases": [{"name": "live", "version": 1, "provisioned_concurrency": 3}],
                }
            ]
        }
    )
    got = lam.get_provisioned_concurrency_config(FunctionName="warm", Qualifier="live")
    assert (got["Status"], got["AllocatedProvisionedConcurrentExecutions"]) == ("READY", 3)

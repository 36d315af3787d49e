"""Every alias rule of LAMBDA_CONTRACT.md, stated as a test through boto3 over HTTP."""

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
    sandbox.seed({"functions": [{"name": FN, "versions": 3}]})


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: dict[str, Any] = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


# -- shapes ------------------------------------------------------------------------------------


def test_alias_without_description_or_routing_reads_back_empty_and_keyless(lam: Any) -> None:
    created = lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")
    got = lam.get_alias(FunctionName=FN, Name="live")
    listed = lam.list_aliases(FunctionName=FN)["Aliases"][0]
    for alias in (created, got, listed):
        assert alias["Description"] == ""
        assert "RoutingConfig" not in alias
        assert alias["AliasArn"] == f"{FN_ARN}:live"
        assert alias["FunctionVersion"] == "1"


def test_removing_routing_with_empty_weights_removes_the_key(lam: Any) -> None:
    lam.create_alias(
        FunctionName=FN,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}},
    )
    assert lam.get_alias(FunctionName=FN, Name="live")["RoutingConfig"] == {
        "AdditionalVersionWeights": {"2": 0.25}
    }
    updated = lam.update_alias(
        FunctionName=FN, Name="live", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert "RoutingConfig" not in updated
    assert "RoutingConfig" not in lam.get_alias(FunctionName=FN, Name="live")


def test_status_codes_of_each_call(lam: Any) -> None:
    def status(response: dict[str, Any]) -> int:
        return int(response["ResponseMetadata"]["HTTPStatusCode"])

    assert status(lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")) == 201
    assert status(lam.get_alias(FunctionName=FN, Name="live")) == 200
    assert status(lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="2")) == 200
    assert status(lam.list_aliases(FunctionName=FN)) == 200
    assert status(lam.delete_alias(FunctionName=FN, Name="live")) == 204
    assert status(lam.delete_alias(FunctionName=FN, Name="live")) == 204  # missing: still 204


# -- constraints -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["live", "2024-01-02", "a" * 128, "_canary", "blue-green_2", "x"])
def test_valid_alias_names(lam: Any, name: str) -> None:
    assert lam.create_alias(FunctionName=FN, Name=name, FunctionVersion="1")["Name"] == name


@pytest.mark.parametrize("name", ["2024", "0", "a" * 129, "has.dot", "has space", "ünï"])
def test_invalid_alias_names_are_validation_errors(lam: Any, name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(FunctionName=FN, Name=name, FunctionVersion="1")
    assert error_of(excinfo) == ("ValidationException", 400)
    assert lam.list_aliases(FunctionName=FN)["Aliases"] == []


def test_description_length_limit(lam: Any) -> None:
    lam.create_alias(FunctionName=FN, Name="ok", FunctionVersion="1", Description="d" * 256)
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(FunctionName=FN, Name="long", FunctionVersion="1", Description="d" * 257)
    assert error_of(excinfo) == ("ValidationException", 400)


@pytest.mark.parametrize("function", [FN, f"{ACCOUNT}:function:{FN}", FN_ARN])
def test_function_by_name_partial_arn_and_arn(lam: Any, function: str) -> None:
    created = lam.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
    assert created["AliasArn"] == f"{FN_ARN}:live"
    assert lam.get_alias(FunctionName=function, Name="live")["Name"] == "live"
    assert [a["Name"] for a in lam.list_aliases(FunctionName=function)["Aliases"]] == ["live"]
    lam.update_alias(FunctionName=function, Name="live", FunctionVersion="2")
    lam.delete_alias(FunctionName=function, Name="live")
    assert lam.list_aliases(FunctionName=FN)["Aliases"] == []


def test_function_name_longer_than_64_is_a_validation_error(lam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.list_aliases(FunctionName="f" * 65)
    assert error_of(excinfo) == ("ValidationException", 400)


@pytest.mark.parametrize(
    "call",
    [
        lambda lam: lam.list_aliases(FunctionName="nope"),
        lambda lam: lam.create_alias(FunctionName="nope", Name="live", FunctionVersion="1"),
        lambda lam: lam.get_alias(FunctionName=FN, Name="missing"),
        lambda lam: lam.update_alias(FunctionName=FN, Name="missing", FunctionVersion="1"),
        lambda lam: lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="99"),
        lambda lam: lam.list_aliases(
            FunctionName=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{FN}"
        ),
    ],
    ids=["list-fn", "create-fn", "get", "update", "version", "other-region"],
)
def test_missing_things_are_404(lam: Any, call: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        call(lam)
    assert error_of(excinfo) == ("ResourceNotFoundException", 404)


def test_latest_is_a_valid_version_and_other_words_are_not(lam: Any) -> None:
    assert (
        lam.create_alias(FunctionName=FN, Name="dev", FunctionVersion="$LATEST")["FunctionVersion"]
        == "$LATEST"
    )
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(FunctionName=FN, Name="bad", FunctionVersion="latest")
    assert error_of(excinfo) == ("ValidationException", 400)


@pytest.mark.parametrize(
    ("version", "weights", "code", "status"),
    [
        ("1", {"2": 0.1, "3": 0.1}, "InvalidParameterValueException", 400),
        ("1", {"$LATEST": 0.1}, "ValidationException", 400),
        ("1", {"2": 1.5}, "ValidationException", 400),
        ("1", {"2": -0.1}, "ValidationException", 400),
        ("1", {"1": 0.1}, "InvalidParameterValueException", 400),
        ("$LATEST", {"2": 0.1}, "InvalidParameterValueException", 400),
        ("1", {"42": 0.1}, "ResourceNotFoundException", 404),
    ],
    ids=[
        "two-extra",
        "latest-key",
        "above-1",
        "below-0",
        "own-version",
        "latest-primary",
        "missing",
    ],
)
def test_routing_rules(
    sandbox: Sandbox, version: str, weights: dict[str, float], code: str, status: int
) -> None:
    lam = make_client(
        sandbox, parameter_validation=False
    )  # the server's own checks, not botocore's
    routing = {"AdditionalVersionWeights": weights}
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(
            FunctionName=FN, Name="live", FunctionVersion=version, RoutingConfig=routing
        )
    assert error_of(excinfo) == (code, status)
    lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")

    def alias() -> dict[str, Any]:
        got = lam.get_alias(FunctionName=FN, Name="live")
        return {k: v for k, v in got.items() if k != "ResponseMetadata"}

    before = alias()
    with pytest.raises(ClientError) as excinfo:
        lam.update_alias(
            FunctionName=FN, Name="live", FunctionVersion=version, RoutingConfig=routing
        )
    assert error_of(excinfo) == (code, status)
    assert alias() == before


def test_two_routing_messages_say_what_the_service_says(lam: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(
            FunctionName=FN,
            Name="live",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.1, "3": 0.1}},
        )
    assert "cannot be greater than 1" in str(excinfo.value)
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(
            FunctionName=FN,
            Name="live",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"1": 0.1}},
        )
    assert "is already included in routing configuration" in str(excinfo.value)


@pytest.mark.parametrize("weight", [0.0, 1.0, 0.05])
def test_weights_at_and_within_the_bounds(lam: Any, weight: float) -> None:
    alias = lam.create_alias(
        FunctionName=FN,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": weight}},
    )
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": weight}


def test_update_validates_the_resulting_alias(lam: Any) -> None:
    lam.create_alias(
        FunctionName=FN,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
    )
    with pytest.raises(ClientError) as excinfo:  # routing kept, now onto its own version
        lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="2")
    assert error_of(excinfo) == ("InvalidParameterValueException", 400)


@pytest.mark.parametrize(
    "versions",
    [
        [{}, {"role": "other-role"}],
        [{}, {"dead_letter": f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"}],
    ],
    ids=["role", "dead-letter"],
)
def test_weighted_versions_must_share_role_and_dead_letter(
    sandbox: Sandbox, lam: Any, versions: list[dict[str, str]]
) -> None:
    sandbox.seed({"functions": [{"name": "mixed", "versions": versions}]})
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(
            FunctionName="mixed",
            Name="live",
            FunctionVersion="1",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}},
        )
    assert error_of(excinfo) == ("InvalidParameterValueException", 400)


def test_dead_letter_configuration_reads_back_per_version(sandbox: Sandbox, lam: Any) -> None:
    target = f"arn:aws:sqs:{REGION}:{ACCOUNT}:dlq"
    sandbox.seed({"functions": [{"name": "dlq", "versions": [{}, {"dead_letter": target}]}]})
    assert (
        "DeadLetterConfig"
        not in lam.get_function(FunctionName="dlq", Qualifier="1")["Configuration"]
    )
    config = lam.get_function_configuration(FunctionName="dlq", Qualifier="2")
    assert config["DeadLetterConfig"] == {"TargetArn": target}


# -- RevisionId --------------------------------------------------------------------------------


def test_every_update_makes_a_new_revision_even_one_that_changes_nothing(lam: Any) -> None:
    revisions = [lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")["RevisionId"]]
    for _ in range(3):
        revisions.append(lam.update_alias(FunctionName=FN, Name="live")["RevisionId"])
    assert len(set(revisions)) == 4


def test_update_with_a_stale_revision_is_412_and_changes_nothing(lam: Any) -> None:
    first = lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")
    second = lam.update_alias(
        FunctionName=FN, Name="live", RevisionId=first["RevisionId"], Description="x"
    )
    with pytest.raises(ClientError) as excinfo:
        lam.update_alias(
            FunctionName=FN, Name="live", RevisionId=first["RevisionId"], FunctionVersion="3"
        )
    assert error_of(excinfo) == ("PreconditionFailedException", 412)
    now = lam.get_alias(FunctionName=FN, Name="live")
    assert (now["FunctionVersion"], now["RevisionId"]) == ("1", second["RevisionId"])


def test_alias_writes_do_not_change_the_function_or_its_versions(lam: Any) -> None:
    def revisions() -> list[dict[str, Any]]:  # RevisionId and the rest of the configuration
        configs = [
            lam.get_function_configuration(FunctionName=FN, Qualifier=q) for q in ("$LATEST", "1")
        ]
        return [{k: v for k, v in c.items() if k != "ResponseMetadata"} for c in configs]

    before = revisions()
    assert all(config["RevisionId"] for config in before)
    lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")
    lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="2")
    assert revisions() == before


def test_duplicate_create_is_409_resource_conflict(lam: Any) -> None:
    lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="2")
    assert error_of(excinfo) == ("ResourceConflictException", 409)
    assert lam.get_alias(FunctionName=FN, Name="live")["FunctionVersion"] == "1"


# -- listing -----------------------------------------------------------------------------------


def test_pagination_is_sorted_by_name_and_follows_markers(lam: Any) -> None:
    names = [f"a{i:02d}" for i in range(25)]
    for name in reversed(names):
        lam.create_alias(FunctionName=FN, Name=name, FunctionVersion=str(1 + len(name) % 3))
    seen: list[str] = []
    kwargs: dict[str, Any] = {"FunctionName": FN, "MaxItems": 10}
    pages = 0
    while True:
        page = lam.list_aliases(**kwargs)
        pages += 1
        seen += [a["Name"] for a in page["Aliases"]]
        if "NextMarker" not in page:
            break
        kwargs["Marker"] = page["NextMarker"]
    assert (seen, pages) == (names, 3)
    paginator = lam.get_paginator("list_aliases")
    listed = [
        a["Name"]
        for p in paginator.paginate(FunctionName=FN, PaginationConfig={"PageSize": 7})
        for a in p["Aliases"]
    ]
    assert listed == names


def test_default_page_is_50_and_max_items_is_bounded(lam: Any) -> None:
    for i in range(60):
        lam.create_alias(FunctionName=FN, Name=f"alias-{i:02d}", FunctionVersion="1")
    page = lam.list_aliases(FunctionName=FN)
    assert len(page["Aliases"]) == 50
    assert "NextMarker" in page
    assert len(lam.list_aliases(FunctionName=FN, MaxItems=10000)["Aliases"]) == 60
    with pytest.raises(ClientError) as excinfo:
        lam.list_aliases(FunctionName=FN, MaxItems=10001)
    assert error_of(excinfo) == ("ValidationException", 400)


def test_function_version_filter(lam: Any) -> None:
    lam.create_alias(FunctionName=FN, Name="a", FunctionVersion="1")
    lam.create_alias(FunctionName=FN, Name="b", FunctionVersion="2")
    lam.create_alias(FunctionName=FN, Name="c", FunctionVersion="1")
    listed = lam.list_aliases(FunctionName=FN, FunctionVersion="1")["Aliases"]
    assert [a["Name"] for a in listed] == ["a", "c"]


def test_aliases_belong_to_their_region(sandbox: Sandbox, lam: Any) -> None:
    sandbox.seed({"functions": [{"name": FN, "region": "us-east-1", "versions": 1}]})
    lam.create_alias(FunctionName=FN, Name="live", FunctionVersion="1")
    other = make_client(sandbox, region="us-east-1")
    assert other.list_aliases(FunctionName=FN)["Aliases"] == []


# -- provisioned concurrency, which the sandbox keeps for aliases and versions -----------------


def test_provisioned_concurrency_on_an_alias(lam: Any) -> None:
    lam.create_alias(FunctionName=FN, Name="warm", FunctionVersion="1")
    with pytest.raises(ClientError) as excinfo:
        lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="warm")
    assert error_of(excinfo) == ("ProvisionedConcurrencyConfigNotFoundException", 404)
    put = lam.put_provisioned_concurrency_config(
        FunctionName=FN, Qualifier="warm", ProvisionedConcurrentExecutions=5
    )
    assert (put["ResponseMetadata"]["HTTPStatusCode"], put["Status"]) == (202, "IN_PROGRESS")
    got = lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="warm")
    assert got["RequestedProvisionedConcurrentExecutions"] == 5
    lam.delete_alias(FunctionName=FN, Name="warm")
    lam.create_alias(FunctionName=FN, Name="warm", FunctionVersion="1")
    with pytest.raises(ClientError):  # deleting the alias deleted its configuration
        lam.get_provisioned_concurrency_config(FunctionName=FN, Qualifier="warm")


@pytest.mark.parametrize(("qualifier", "code"), [("$LATEST", 400), ("nope", 404), ("42", 404)])
def test_provisioned_concurrency_needs_an_alias_or_published_version(
    lam: Any, qualifier: str, code: int
) -> None:
    with pytest.raises(ClientError) as excinfo:
        lam.put_provisioned_concurrency_config(
            FunctionName=FN, Qualifier=qualifier, ProvisionedConcurrentExecutions=1
        )
    assert error_of(excinfo)[1] == code


# -- listing versions ------------------------------------------------------------------------


def test_list_versions_pages_at_most_50_whatever_max_items_says(sandbox: Sandbox, lam: Any) -> None:
    sandbox.seed({"functions": [{"name": "many", "versions": 60}]})
    first = lam.list_versions_by_function(FunctionName="many", MaxItems=100)
    assert len(first["Versions"]) == 50
    assert first["Versions"][0]["Version"] == "$LATEST"
    second = lam.list_versions_by_function(FunctionName="many", Marker=first["NextMarker"])
    assert [v["Version"] for v in second["Versions"]] == [str(n) for n in range(50, 61)]
    assert "NextMarker" not in second
    small = lam.list_versions_by_function(FunctionName="many", MaxItems=7)
    assert len(small["Versions"]) == 7
    paginator = lam.get_paginator("list_versions_by_function")
    every = [
        v["Version"] for page in paginator.paginate(FunctionName="many") for v in page["Versions"]
    ]
    assert every == ["$LATEST", *(str(n) for n in range(1, 61))]

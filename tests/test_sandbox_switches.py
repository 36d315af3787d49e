"""The sandbox's realism switches, accounting, admin endpoint and seeding, each shown working."""

from __future__ import annotations

import json
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from reconciler.sandbox import Sandbox
from reconciler.sandbox.realism import is_read
from tests.conftest import make_client

FN = "orders"


@pytest.fixture(autouse=True)
def _function(sandbox: Sandbox) -> None:
    sandbox.seed(
        {"functions": [{"name": FN, "versions": 3, "aliases": [{"name": "live", "version": 1}]}]}
    )
    sandbox.reset_stats()


def admin(sandbox: Sandbox, method: str, route: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{sandbox.url}/_sandbox/{route}", data=data, method=method)
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_a_burst_over_the_quota_is_throttled_and_botocore_retries_succeed(sandbox: Sandbox) -> None:
    sandbox.set_quotas({"*": 20.0})
    lam = make_client(sandbox, retries={"mode": "standard", "max_attempts": 10})
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: lam.list_aliases(FunctionName=FN), range(40)))
    assert all(r["Aliases"][0]["Name"] == "live" for r in results)
    stats = sandbox.stats()
    assert stats["throttled"].get("ListAliases", 0) > 0
    assert stats["calls"]["ListAliases"] == 40 + stats["throttled"]["ListAliases"]


def test_throttled_answer_carries_code_reason_and_retry_after(sandbox: Sandbox) -> None:
    sandbox.realism.clock = lambda: 0.0  # time stands still: the bucket never refills
    sandbox.set_quotas({"*": 1.0})
    lam = make_client(sandbox, retries={"mode": "standard", "total_max_attempts": 1})
    lam.list_aliases(FunctionName=FN)
    with pytest.raises(ClientError) as excinfo:
        lam.list_aliases(FunctionName=FN)
    response = excinfo.value.response
    assert response["Error"]["Code"] == "TooManyRequestsException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Reason"] == "CallerRateLimitExceeded"
    assert int(response["retryAfterSeconds"]) >= 1


def test_a_call_is_counted_against_the_quota_when_it_arrives_not_when_it_is_answered(
    sandbox: Sandbox,
) -> None:
    """A call that arrives before the budget has a token is throttled, however long the way
    back takes: deciding after the latency let calls that arrived together through together."""
    now = [0.0]
    sandbox.realism.clock = lambda: now[0]
    sandbox.realism.sleep = lambda seconds: now.__setitem__(0, now[0] + seconds)
    sandbox.set_quotas({"*": 1.0})  # one a second, a burst of one
    lam = make_client(sandbox, retries={"mode": "standard", "total_max_attempts": 1})
    lam.list_aliases(FunctionName=FN)  # arrives at 0.0 and takes the token
    now[0] = 0.5  # the next arrives half a second later: half a token
    sandbox.set_latency(1000)  # answered a second after it arrived, when a token is back
    with pytest.raises(ClientError) as excinfo:
        lam.list_aliases(FunctionName=FN)
    assert excinfo.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert now[0] == 1.5  # the throttled answer took its latency too
    assert sandbox.stats()["throttled"] == {"ListAliases": 1}


def test_aws_quotas_give_get_function_its_own_budget(sandbox: Sandbox) -> None:
    sandbox.realism.clock = lambda: 0.0  # time stands still: no bucket refills during the test
    sandbox.aws_quotas()
    lam = make_client(sandbox, retries={"mode": "standard", "total_max_attempts": 1})
    for _ in range(15):
        lam.list_aliases(FunctionName=FN)
    with pytest.raises(ClientError):
        lam.get_alias(FunctionName=FN, Name="live")  # the 16th control-plane call in a second
    for _ in range(20):
        lam.get_function(FunctionName=FN, Qualifier="1")  # GetFunction's 100/s is apart
    assert sandbox.stats()["throttled"] == {"GetAlias": 1}


def test_latency_is_added_to_every_call(sandbox: Sandbox, lam: Any) -> None:
    sandbox.set_latency(80)
    started = time.perf_counter()
    lam.list_aliases(FunctionName=FN)
    assert time.perf_counter() - started >= 0.08  # a lower bound: it cannot be faster


def test_injected_500_is_a_service_exception_that_retries_get_past(sandbox: Sandbox) -> None:
    sandbox.add_fault("error", "ListAliases", count=1)
    once = make_client(sandbox, retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ClientError) as excinfo:
        once.list_aliases(FunctionName=FN)
    assert excinfo.value.response["Error"]["Code"] == "ServiceException"
    sandbox.add_fault("error", "ListAliases", count=2)
    retrying = make_client(sandbox, retries={"mode": "standard", "max_attempts": 3})
    assert retrying.list_aliases(FunctionName=FN)["Aliases"][0]["Name"] == "live"
    assert sandbox.stats()["faults"] == {"ListAliases:error": 3}


def test_reset_connection_is_seen_as_a_dropped_connection(sandbox: Sandbox) -> None:
    sandbox.add_fault("reset", "GetAlias", count=1)
    once = make_client(sandbox, retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        once.get_alias(FunctionName=FN, Name="live")
    sandbox.add_fault("reset", "GetAlias", count=1)
    assert make_client(sandbox).get_alias(FunctionName=FN, Name="live")["Name"] == "live"


@pytest.mark.parametrize("kind", ["commit-then-error", "commit-then-reset"])
def test_commit_then_fail_makes_a_retried_update_meet_its_own_success(
    sandbox: Sandbox, lam: Any, kind: str
) -> None:
    revision = lam.get_alias(FunctionName=FN, Name="live")["RevisionId"]
    sandbox.add_fault(kind, "UpdateAlias", count=1)
    with pytest.raises(ClientError) as excinfo:
        lam.update_alias(FunctionName=FN, Name="live", FunctionVersion="2", RevisionId=revision)
    assert excinfo.value.response["Error"]["Code"] == "PreconditionFailedException"
    assert lam.get_alias(FunctionName=FN, Name="live")["FunctionVersion"] == "2"
    assert sandbox.stats()["calls"]["UpdateAlias"] == 2


def test_commit_then_fail_makes_a_retried_create_meet_409(sandbox: Sandbox, lam: Any) -> None:
    sandbox.add_fault("commit-then-error", "CreateAlias", count=1)
    with pytest.raises(ClientError) as excinfo:
        lam.create_alias(FunctionName=FN, Name="beta", FunctionVersion="3")
    assert excinfo.value.response["Error"]["Code"] == "ResourceConflictException"
    assert lam.get_alias(FunctionName=FN, Name="beta")["FunctionVersion"] == "3"


def test_faults_by_rate(sandbox: Sandbox) -> None:
    sandbox.add_fault("error", "GetAlias", count=None, rate=1.0)
    lam = make_client(sandbox, retries={"mode": "standard", "max_attempts": 2})
    with pytest.raises(ClientError):
        lam.get_alias(FunctionName=FN, Name="live")
    assert lam.list_aliases(FunctionName=FN)["Aliases"]  # other operations are untouched
    sandbox.clear_faults()
    assert lam.get_alias(FunctionName=FN, Name="live")["Name"] == "live"


def test_out_of_band_writer_changes_an_alias_between_two_calls(sandbox: Sandbox, lam: Any) -> None:
    sandbox.change_alias_after(
        "ListAliases", FN, "live", FunctionVersion="3", Description="by hand"
    )
    read = lam.list_aliases(FunctionName=FN)["Aliases"][0]
    assert read["FunctionVersion"] == "1"  # the call itself saw the old state
    with pytest.raises(ClientError) as excinfo:
        lam.update_alias(
            FunctionName=FN, Name="live", FunctionVersion="2", RevisionId=read["RevisionId"]
        )
    assert excinfo.value.response["Error"]["Code"] == "PreconditionFailedException"
    now = lam.get_alias(FunctionName=FN, Name="live")
    assert (now["FunctionVersion"], now["Description"]) == ("3", "by hand")


def test_accounting_splits_reads_and_writes(sandbox: Sandbox, lam: Any) -> None:
    lam.list_aliases(FunctionName=FN)
    lam.get_alias(FunctionName=FN, Name="live")
    lam.create_alias(FunctionName=FN, Name="beta", FunctionVersion="2")
    stats = sandbox.stats()
    assert stats["calls"] == {"CreateAlias": 1, "GetAlias": 1, "ListAliases": 1}
    assert (stats["reads"], stats["writes"]) == (2, 1)
    assert admin(sandbox, "GET", "stats") == stats
    assert admin(sandbox, "DELETE", "stats")["total"] == 0


@pytest.mark.parametrize(
    ("operation", "read"),
    [
        ("ListAliases", True),
        ("sts:GetCallerIdentity", True),
        ("CreateAlias", False),
        ("iam:CreateRole", False),
    ],
)
def test_reads_are_known_by_name_whatever_the_service(operation: str, read: bool) -> None:
    assert is_read(operation) is read


def test_admin_endpoint_switches_and_seeds(sandbox: Sandbox) -> None:
    config = admin(sandbox, "POST", "config", {"quotas": "aws", "latency_ms": 5})
    assert config["quotas"]["*"] == 15.0
    assert config["latency_ms"] == 5
    admin(sandbox, "POST", "config", {"quotas": None, "latency_ms": 0})
    admin(
        sandbox,
        "POST",
        "seed",
        {"functions": [{"name": "fresh", "versions": 2, "aliases": [{"name": "a", "version": 2}]}]},
    )
    lam = make_client(sandbox)
    assert lam.get_alias(FunctionName="fresh", Name="a")["FunctionVersion"] == "2"
    admin(sandbox, "POST", "faults", {"kind": "error", "operation": "GetAlias", "count": 1})
    once = make_client(sandbox, retries={"mode": "standard", "total_max_attempts": 1})
    with pytest.raises(ClientError):
        once.get_alias(FunctionName="fresh", Name="a")
    changed = admin(
        sandbox, "POST", "aliases/eu-west-1/fresh", {"Name": "a", "FunctionVersion": "1"}
    )
    assert changed["FunctionVersion"] == "1"
    admin(sandbox, "POST", "reset")
    with pytest.raises(ClientError):
        lam.list_aliases(FunctionName="fresh")


def test_seed_file_with_roles_routing_and_regions(sandbox: Sandbox, tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "functions:\n"
        "  - name: checkout\n"
        "    versions: 4\n"
        "    role: checkout-exec\n"
        "    aliases:\n"
        "      - {name: live, version: 3, description: prod, routing: {version: 4, weight: 0.1}}\n"
        "  - name: checkout\n"
        "    region: us-east-1\n"
        "    versions: 1\n",
        encoding="utf-8",
    )
    sandbox.seed_file(seed)
    lam = make_client(sandbox)
    live = lam.get_alias(FunctionName="checkout", Name="live")
    assert live["RoutingConfig"] == {"AdditionalVersionWeights": {"4": 0.1}}
    assert lam.get_function(FunctionName="checkout", Qualifier="4")["Configuration"][
        "Role"
    ].endswith("role/checkout-exec")
    versions = make_client(sandbox, region="us-east-1").list_versions_by_function(
        FunctionName="checkout"
    )
    assert [v["Version"] for v in versions["Versions"]] == ["$LATEST", "1"]

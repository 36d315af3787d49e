"""The applier: guards, settling after 409/412, outcomes, and convergence.

Unit tests use the in-memory provider; the tests at the end talk to the sandbox over HTTP.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from reconciler.applier import Outcome, apply
from reconciler.errors import TransientError
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, Route
from reconciler.plan import Action, Plan
from reconciler.planner import DesiredFunction, plan
from reconciler.providers.aws_lambda import AwsLambdaProvider
from reconciler.providers.memory import MemoryProvider
from reconciler.sandbox import Sandbox
from tests.conftest import ACCOUNT, REGION, make_client, make_provider

T = FunctionTarget(ACCOUNT, REGION, "orders")


def plan_for(provider: Any, *aliases: DesiredAlias, prune: bool = False) -> Plan:
    desired = [DesiredFunction(T, aliases, prune=prune)]
    return plan(desired, {T: provider.read_function(T)})


def test_creates_updates_deletes_and_reports_each(tmp_path: object) -> None:
    memory = MemoryProvider()
    memory.add_function(
        T, DesiredAlias("live", "1"), DesiredAlias("old", "1"), DesiredAlias("same", "2")
    )
    the_plan = plan_for(
        memory,
        DesiredAlias("live", "2"),
        DesiredAlias("new", "3"),
        DesiredAlias("same", "2"),
        prune=True,
    )
    report = apply(the_plan, memory)
    assert {r.change.alias: r.outcome for r in report.results} == {
        "live": Outcome.UPDATED,
        "new": Outcome.CREATED,
        "old": Outcome.DELETED,
        "same": Outcome.UNCHANGED,
    }
    assert sorted(memory.aliases[T]) == ["live", "new", "same"]
    assert (
        plan_for(
            memory,
            DesiredAlias("live", "2"),
            DesiredAlias("new", "3"),
            DesiredAlias("same", "2"),
            prune=True,
        ).has_changes
        is False
    )


def test_second_apply_makes_no_write() -> None:
    memory = MemoryProvider([T])
    desired = (DesiredAlias("live", "1", "text", Route("2", 0.1)),)
    apply(plan_for(memory, *desired), memory)
    writes = memory.writes
    report = apply(plan_for(memory, *desired), memory)
    assert memory.writes == writes
    assert {r.outcome for r in report.results} == {Outcome.UNCHANGED}


def test_update_of_an_alias_changed_since_the_plan_is_stale_and_left_alone() -> None:
    memory = MemoryProvider()
    memory.add_function(T, DesiredAlias("live", "1"), DesiredAlias("beta", "1"))
    the_plan = plan_for(memory, DesiredAlias("live", "2"), DesiredAlias("beta", "3"))
    memory.change(T, "live", version="5")
    report = apply(the_plan, memory)
    outcomes = {r.change.alias: r for r in report.results}
    assert outcomes["live"].outcome is Outcome.STALE
    assert "changed by someone else since the plan (version 1 -> 5)" in outcomes["live"].message
    assert outcomes["beta"].outcome is Outcome.UPDATED  # the others still go ahead
    assert memory.aliases[T]["live"].version == "5"


def test_a_stale_description_change_is_not_told_as_a_version() -> None:
    memory = MemoryProvider()
    memory.add_function(T, DesiredAlias("live", "1", "old"))
    the_plan = plan_for(memory, DesiredAlias("live", "1", "new"))
    memory.change(T, "live", description="by hand")
    (result,) = apply(the_plan, memory).results
    assert result.outcome is Outcome.STALE
    assert "(description changed)" in result.message
    assert "version" not in result.message


def test_update_meeting_412_is_done_when_live_already_matches() -> None:
    memory = MemoryProvider()
    memory.add_function(T, DesiredAlias("live", "1"))
    the_plan = plan_for(memory, DesiredAlias("live", "2"))
    memory.change(T, "live", version="2")  # someone already did it: this apply wrote nothing
    (result,) = apply(the_plan, memory).results
    assert result.outcome is Outcome.UNCHANGED
    assert result.message == "already as planned: nothing written"


@pytest.mark.parametrize(
    ("hand_version", "outcome"), [("3", Outcome.UNCHANGED), ("9", Outcome.STALE)]
)
def test_create_meeting_409(hand_version: str, outcome: Outcome) -> None:
    memory = MemoryProvider([T])
    the_plan = plan_for(memory, DesiredAlias("live", "3"))
    memory.put(T, DesiredAlias("live", hand_version))
    (result,) = apply(the_plan, memory).results
    assert result.outcome is outcome
    assert memory.aliases[T]["live"].version == hand_version


def test_delete_rereads_and_refuses_a_moved_revision() -> None:
    memory = MemoryProvider()
    memory.add_function(T, DesiredAlias("old", "1"), DesiredAlias("gone", "1"))
    the_plan = plan_for(memory, prune=True)
    memory.change(T, "old", description="someone cares about this")
    memory.delete_alias(T, "gone")
    results = {r.change.alias: r.outcome for r in apply(the_plan, memory).results}
    assert results == {"old": Outcome.STALE, "gone": Outcome.UNCHANGED}
    assert "old" in memory.aliases[T]


class FlakyProvider(MemoryProvider):
    """Fails every write to one alias, as an unreachable service would."""

    def update_alias(
        self, target: FunctionTarget, desired: DesiredAlias, revision_id: str
    ) -> LiveAlias:
        if desired.name == "broken":
            raise TransientError("updating broken: 500 ServiceException")
        return super().update_alias(target, desired, revision_id)


def test_a_failure_is_reported_and_the_rest_still_applied() -> None:
    flaky = FlakyProvider()
    flaky.add_function(T, DesiredAlias("broken", "1"), DesiredAlias("fine", "1"))
    report = apply(plan_for(flaky, DesiredAlias("broken", "2"), DesiredAlias("fine", "2")), flaky)
    outcomes = {r.change.alias: (r.outcome, r.message) for r in report.results}
    assert outcomes["broken"] == (Outcome.FAILED, "updating broken: 500 ServiceException")
    assert outcomes["fine"][0] is Outcome.UPDATED


def test_stopping_skips_what_was_not_attempted() -> None:
    memory = MemoryProvider([T])
    the_plan = plan_for(
        memory, DesiredAlias("a", "1"), DesiredAlias("b", "1"), DesiredAlias("c", "1")
    )
    calls = iter([False, True])
    report = apply(the_plan, memory, should_stop=lambda: next(calls, True))
    assert [r.outcome for r in report.results] == [
        Outcome.CREATED,
        Outcome.SKIPPED,
        Outcome.SKIPPED,
    ]
    assert report.interrupted
    assert sorted(memory.aliases[T]) == ["a"]
    assert [
        c.alias
        for c in plan_for(
            memory, DesiredAlias("a", "1"), DesiredAlias("b", "1"), DesiredAlias("c", "1")
        ).actions
    ] == ["b", "c"]


# -- against the sandbox, over HTTP -------------------------------------------------------------


@pytest.fixture
def aws(sandbox: Sandbox) -> AwsLambdaProvider:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {"name": "orders", "versions": 4, "aliases": [{"name": "live", "version": 1}]}
            ],
        }
    )
    sandbox.reset_stats()
    return make_provider(sandbox)


def test_sandbox_apply_then_second_apply_writes_nothing(
    sandbox: Sandbox, aws: AwsLambdaProvider
) -> None:
    desired = (DesiredAlias("live", "2", "prod", Route("3", 0.1)), DesiredAlias("dev", "$LATEST"))
    report = apply(plan_for(aws, *desired), aws)
    assert [r.outcome for r in report.results] == [Outcome.CREATED, Outcome.UPDATED]
    revisions = {
        a["Name"]: a["RevisionId"]
        for a in make_client(sandbox).list_aliases(FunctionName="orders")["Aliases"]
    }
    sandbox.reset_stats()
    again = apply(plan_for(aws, *desired), aws)
    assert {r.outcome for r in again.results} == {Outcome.UNCHANGED}
    assert sandbox.stats()["writes"] == 0
    after = {
        a["Name"]: a["RevisionId"]
        for a in make_client(sandbox).list_aliases(FunctionName="orders")["Aliases"]
    }
    assert after == revisions


def test_sandbox_412_when_changed_after_the_plan(sandbox: Sandbox, aws: AwsLambdaProvider) -> None:
    the_plan = plan_for(aws, DesiredAlias("live", "2"))
    sandbox.change_alias("orders", "live", FunctionVersion="4", Description="hotfix by hand")
    (result,) = apply(the_plan, aws).results
    assert result.outcome is Outcome.STALE
    live = make_client(sandbox).get_alias(FunctionName="orders", Name="live")
    assert (live["FunctionVersion"], live["Description"]) == ("4", "hotfix by hand")


def test_sandbox_409_on_create_after_the_plan(sandbox: Sandbox, aws: AwsLambdaProvider) -> None:
    the_plan = plan_for(aws, DesiredAlias("live", "1"), DesiredAlias("beta", "2"))
    sandbox.change_alias("orders", "beta", FunctionVersion="3")
    results = {r.change.alias: r.outcome for r in apply(the_plan, aws).results}
    assert results["beta"] is Outcome.STALE
    assert (
        make_client(sandbox).get_alias(FunctionName="orders", Name="beta")["FunctionVersion"] == "3"
    )


@pytest.mark.parametrize("kind", ["commit-then-error", "commit-then-reset"])
@pytest.mark.parametrize("operation", ["UpdateAlias", "CreateAlias"])
def test_sandbox_commit_then_fail_retry_counts_as_done(
    sandbox: Sandbox, aws: AwsLambdaProvider, kind: str, operation: str
) -> None:
    the_plan = plan_for(aws, DesiredAlias("live", "2"), DesiredAlias("beta", "3"))
    sandbox.add_fault(kind, operation, count=1)
    report = apply(the_plan, aws)
    assert {r.outcome for r in report.results} == {Outcome.CREATED, Outcome.UPDATED}
    assert sandbox.stats()["faults"] == {f"{operation}:{kind}": 1}
    assert any(r.message == "already in the desired state" for r in report.results)
    assert not plan_for(aws, DesiredAlias("live", "2"), DesiredAlias("beta", "3")).has_changes


def test_sandbox_out_of_band_write_between_plan_and_apply_survives(
    sandbox: Sandbox, aws: AwsLambdaProvider
) -> None:
    sandbox.change_alias_after("ListAliases", "orders", "live", FunctionVersion="3")
    the_plan = plan_for(
        aws, DesiredAlias("live", "2")
    )  # reads version 1; the hand change lands after
    assert the_plan.changes[0].action is Action.UPDATE
    (result,) = apply(the_plan, aws).results
    assert result.outcome is Outcome.STALE
    assert (
        make_client(sandbox).get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "3"
    )


def test_sandbox_missing_function_reads_as_missing(aws: AwsLambdaProvider) -> None:
    missing = FunctionTarget(ACCOUNT, REGION, "nope")
    assert aws.read_function(missing) == LiveFunction(missing, (), exists=False)


def test_sandbox_failure_mid_apply_loses_nothing_and_next_run_converges(
    sandbox: Sandbox, aws: AwsLambdaProvider
) -> None:
    desired = (DesiredAlias("a", "1"), DesiredAlias("b", "2"), DesiredAlias("live", "3"))
    sandbox.add_fault("error", "CreateAlias", count=5)  # more than botocore's retries for one call
    report = apply(plan_for(aws, *desired), aws)
    assert [r.outcome for r in report.results] == [Outcome.FAILED, Outcome.CREATED, Outcome.UPDATED]
    assert "ServiceException" in report.results[0].message
    assert [r.outcome for r in apply(plan_for(aws, *desired), aws).results] == [
        Outcome.CREATED,
        Outcome.UNCHANGED,
        Outcome.UNCHANGED,
    ]


# -- every outcome is true -----------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["UpdateAlias", "CreateAlias"])
def test_sandbox_a_write_that_landed_behind_errors_on_every_attempt_is_done(
    sandbox: Sandbox, aws: AwsLambdaProvider, operation: str
) -> None:
    the_plan = plan_for(aws, DesiredAlias("live", "2"), DesiredAlias("beta", "3"))
    sandbox.add_fault("commit-then-error", operation, count=10)  # every attempt botocore makes
    report = apply(the_plan, aws)
    assert {r.outcome for r in report.results} == {Outcome.CREATED, Outcome.UPDATED}
    landed = next(r for r in report.results if r.change.action.name.title() in operation)
    assert "the alias is as planned" in landed.message
    assert not plan_for(aws, DesiredAlias("live", "2"), DesiredAlias("beta", "3")).has_changes


def test_sandbox_a_delete_that_landed_behind_errors_is_done(
    sandbox: Sandbox, aws: AwsLambdaProvider
) -> None:
    the_plan = plan_for(aws, prune=True)
    sandbox.add_fault("commit-then-error", "DeleteAlias", count=10)
    (result,) = apply(the_plan, aws).results
    assert (result.change.action, result.outcome) == (Action.DELETE, Outcome.DELETED)
    assert make_client(sandbox).list_aliases(FunctionName="orders")["Aliases"] == []


def test_sandbox_a_conflict_on_creating_an_alias_that_does_not_exist_is_a_failure_not_stale(
    sandbox: Sandbox, aws: AwsLambdaProvider
) -> None:
    """409 also means 'another operation is in progress': with no alias there, nobody else made
    it, so the create failed (apply again), it was not refused as stale."""
    the_plan = plan_for(aws, DesiredAlias("live", "1"), DesiredAlias("beta", "2"))
    sandbox.add_fault("conflict", "CreateAlias", count=10)
    results = {r.change.alias: r for r in apply(the_plan, aws).results}
    assert results["beta"].outcome is Outcome.FAILED
    assert "409" in results["beta"].message or "Conflict" in results["beta"].message
    assert "someone else" not in results["beta"].message


# -- concurrent writes ---------------------------------------------------------------------------


class CountingProvider(AwsLambdaProvider):
    """The real provider, counting how many of its writes are in flight at once."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0

    def create_alias(self, target: FunctionTarget, desired: DesiredAlias) -> LiveAlias:
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return super().create_alias(target, desired)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_sandbox_writes_run_concurrently_and_the_report_keeps_plan_order(
    sandbox: Sandbox, aws: AwsLambdaProvider
) -> None:
    names = [f"alias-{i:02d}" for i in range(12)]
    counting = CountingProvider(
        region=REGION,
        endpoint_url=sandbox.url,
        credentials={"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
        rate=1000,
    )
    the_plan = plan_for(counting, *(DesiredAlias(n, "2") for n in names), DesiredAlias("live", "3"))
    sandbox.set_latency(100)  # so that calls last long enough to overlap
    landed: list[str] = []
    report = apply(the_plan, counting, workers=6, on_result=lambda r: landed.append(r.change.alias))
    sandbox.set_latency(0)
    assert [r.change.alias for r in report.results] == [*names, "live"]  # plan order
    assert {r.outcome for r in report.results} == {Outcome.CREATED, Outcome.UPDATED}
    assert sorted(landed) == sorted([*names, "live"])
    assert sandbox.stats()["calls"]["CreateAlias"] == len(names)
    assert 2 <= counting.most_in_flight <= 6


def test_stopping_concurrent_writes_finishes_those_in_flight_and_skips_the_rest() -> None:
    memory = MemoryProvider([T])
    names = [f"alias-{i:02d}" for i in range(40)]
    the_plan = plan_for(memory, *(DesiredAlias(n, "1") for n in names))
    done: list[str] = []
    report = apply(
        the_plan,
        memory,
        workers=4,
        should_stop=lambda: len(done) >= 5,
        on_result=lambda r: done.append(r.change.alias),
    )
    assert report.interrupted
    outcomes = [r.outcome for r in report.results]
    created = outcomes.count(Outcome.CREATED)
    assert 5 <= created < len(names)
    assert outcomes.count(Outcome.SKIPPED) == len(names) - created
    assert len(memory.aliases[T]) == created  # every write that started finished and is reported

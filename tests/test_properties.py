"""Properties of plan and apply for random estates, against the sandbox over HTTP.

- apply, then plan: nothing left to do;
- unmanaged aliases are untouched unless pruned and not kept;
- under random throttling, 500s and commit-then-fail, repeated applies converge, and an alias
  changed by another writer after the plan is never overwritten by that plan.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.applier import Outcome, apply
from reconciler.errors import TransientError
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, Route
from reconciler.plan import Plan
from reconciler.planner import DesiredFunction, plan
from reconciler.providers.aws_lambda import AwsLambdaProvider
from reconciler.sandbox import Sandbox
from tests.conftest import ACCOUNT, REGION, make_provider

VERSIONS = 5
TARGET = FunctionTarget(ACCOUNT, REGION, "props")
NAMES = ["live", "beta", "dev", "canary", "legacy-a", "legacy-b", "2024-01-02"]
PUBLISHED = [str(v) for v in range(1, VERSIONS + 1)]
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@st.composite
def aliases(draw: st.DrawFn, name: str) -> DesiredAlias:
    version = draw(st.sampled_from([*PUBLISHED, "$LATEST"]))
    description = draw(st.sampled_from([None, "", "prod", "canary: 5 % # ünïcode"]))
    routing = None
    if version != "$LATEST" and draw(st.booleans()):
        extra = draw(st.sampled_from([v for v in PUBLISHED if v != version]))
        weight = draw(st.sampled_from([0.0, 0.05, 0.125, 0.5, 1.0]) | st.floats(0.0, 1.0))
        routing = Route(extra, weight)
    return DesiredAlias(name, version, description, routing)


@st.composite
def estates(
    draw: st.DrawFn,
) -> tuple[list[DesiredAlias], list[DesiredAlias], bool, tuple[str, ...]]:
    live_names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=5))
    wanted_names = draw(st.lists(st.sampled_from(NAMES), unique=True, max_size=5))
    live = [draw(aliases(n)) for n in live_names]
    wanted = [draw(aliases(n)) for n in wanted_names]
    prune = draw(st.booleans())
    keep = draw(st.sampled_from([(), ("legacy-*",), ("legacy-a", "2024-*")])) if prune else ()
    return live, wanted, prune, keep


def start(sandbox: Sandbox, live: list[DesiredAlias]) -> AwsLambdaProvider:
    sandbox.reset()
    sandbox.seed({"region": REGION, "functions": [{"name": TARGET.name, "versions": VERSIONS}]})
    for alias in live:
        changes: dict[str, Any] = {
            "FunctionVersion": alias.version,
            "Description": alias.description or "",
        }
        if alias.routing is not None:
            changes["RoutingConfig"] = {
                "AdditionalVersionWeights": {alias.routing.version: alias.routing.weight}
            }
        sandbox.change_alias(TARGET.name, alias.name, REGION, **changes)
    return make_provider(sandbox)


def plan_of(provider: AwsLambdaProvider, function: DesiredFunction) -> Plan:
    return plan([function], {TARGET: provider.read_function(TARGET)})


def live_now(provider: AwsLambdaProvider) -> dict[str, LiveAlias]:
    return {a.name: a for a in provider.read_function(TARGET).aliases}


@SETTINGS
@given(estate=estates())
def test_apply_then_plan_is_empty_and_unmanaged_aliases_are_untouched(
    sandbox_server: Sandbox,
    estate: tuple[list[DesiredAlias], list[DesiredAlias], bool, tuple[str, ...]],
) -> None:
    live, wanted, prune, keep = estate
    provider = start(sandbox_server, live)
    function = DesiredFunction(TARGET, tuple(wanted), prune=prune, keep=keep)
    before = live_now(provider)
    report = apply(plan_of(provider, function), provider)
    assert not {Outcome.FAILED, Outcome.STALE} & {r.outcome for r in report.results}
    assert not plan_of(provider, function).has_changes
    after = live_now(provider)
    unmanaged = set(before) - {a.name for a in wanted}
    for name in unmanaged:
        if prune and not function.keeps(name):
            assert name not in after
        else:
            assert after[name] == before[name]  # same RevisionId: not even touched


@settings(SETTINGS, max_examples=12)
@given(
    estate=estates(),
    fault_rate=st.sampled_from([0.05, 0.15]),
    kinds=st.lists(
        st.sampled_from(["throttle", "error", "commit-then-error", "commit-then-reset"]),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    meddle=st.integers(0, len(NAMES) - 1),
)
def test_repeated_applies_converge_under_faults_and_never_overwrite_a_later_hand_change(
    sandbox_server: Sandbox,
    estate: tuple[list[DesiredAlias], list[DesiredAlias], bool, tuple[str, ...]],
    fault_rate: float,
    kinds: list[str],
    meddle: int,
) -> None:
    live, wanted, prune, keep = estate
    provider = start(sandbox_server, live)
    function = DesiredFunction(TARGET, tuple(wanted), prune=prune, keep=keep)
    for kind in kinds:
        operation = "*" if kind in ("throttle", "error") else "*Alias"
        sandbox_server.add_fault(kind, operation, count=None, rate=fault_rate)

    first = _plan_with_retries(provider, function)
    touched = [c for c in first.actions if c.before is not None]
    if touched:  # another writer changes an alias this plan will update or delete
        victim = touched[meddle % len(touched)]
        hand = sandbox_server.change_alias(
            TARGET.name, victim.alias, REGION, Description="changed by hand after the plan"
        )
        apply(first, provider)
        now = live_now(provider).get(victim.alias)
        assert now is not None
        assert now.revision_id == hand["RevisionId"]
        assert now.description == "changed by hand after the plan"
    else:
        apply(first, provider)

    for _ in range(6):
        current = _plan_with_retries(provider, function)
        if not current.has_changes:
            break
        apply(current, provider)
    sandbox_server.clear_faults()
    assert not plan_of(provider, function).has_changes


def _plan_with_retries(provider: AwsLambdaProvider, function: DesiredFunction) -> Plan:
    """A read can fail after botocore's own retries; a scheduled job would simply run again."""
    for _ in range(5):
        try:
            return plan_of(provider, function)
        except TransientError:
            continue
    return plan_of(provider, function)

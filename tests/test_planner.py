"""The planner, as tables: live state and desired state in, actions and field differences out."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reconciler.errors import InputError, ManifestError
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, Route
from reconciler.manifests import load_manifests
from reconciler.plan import Action, FieldDiff, Targets
from reconciler.planner import DesiredFunction, check_account, plan, resolve

T = FunctionTarget("123456789012", "eu-west-1", "payments-api")


def live(name: str, version: str, description: str = "", routing: Route | None = None) -> LiveAlias:
    return LiveAlias(name, version, description, routing, f"rev-{name}-{version}")


def want(
    name: str, version: str, description: str | None = None, routing: Route | None = None
) -> DesiredAlias:
    return DesiredAlias(name, version, description, routing)


CASES = [
    (
        "create",
        [],
        [want("live", "1")],
        [(Action.CREATE, "live", [FieldDiff("version", None, "1")])],
    ),
    ("no-op", [live("live", "1")], [want("live", "1")], [(Action.NOOP, "live", [])]),
    (
        "version",
        [live("live", "1")],
        [want("live", "2")],
        [(Action.UPDATE, "live", [FieldDiff("version", "1", "2")])],
    ),
    (
        "description-unmanaged-when-omitted",
        [live("live", "1", "set by hand")],
        [want("live", "1")],
        [(Action.NOOP, "live", [])],
    ),
    (
        "description-managed",
        [live("live", "1", "old")],
        [want("live", "1", "new")],
        [(Action.UPDATE, "live", [FieldDiff("description", "old", "new")])],
    ),
    (
        "description-cleared",
        [live("live", "1", "old")],
        [want("live", "1", "")],
        [(Action.UPDATE, "live", [FieldDiff("description", "old", "")])],
    ),
    (
        "routing-added",
        [live("live", "1")],
        [want("live", "1", routing=Route("2", 0.1))],
        [(Action.UPDATE, "live", [FieldDiff("routing", None, {"version": "2", "weight": 0.1})])],
    ),
    (
        "routing-removed",
        [live("live", "1", routing=Route("2", 0.1))],
        [want("live", "1")],
        [(Action.UPDATE, "live", [FieldDiff("routing", {"version": "2", "weight": 0.1}, None)])],
    ),
    (
        "weight-changed",
        [live("live", "1", routing=Route("2", 0.05))],
        [want("live", "1", routing=Route("2", 0.25))],
        [(Action.UPDATE, "live", [FieldDiff("routing.weight", 0.05, 0.25)])],
    ),
    (
        "weight-within-tolerance",
        [live("live", "1", routing=Route("2", 0.1))],
        [want("live", "1", routing=Route("2", 0.1 + 1e-12))],
        [(Action.NOOP, "live", [])],
    ),
    (
        "promotion",
        [live("live", "1", routing=Route("2", 0.5))],
        [want("live", "2")],
        [
            (
                Action.UPDATE,
                "live",
                [
                    FieldDiff("routing", {"version": "2", "weight": 0.5}, None),
                    FieldDiff("version", "1", "2"),
                ],
            )
        ],
    ),
    (
        "unmanaged-left-alone",
        [live("live", "1"), live("hand-made", "1")],
        [want("live", "1")],
        [(Action.NOOP, "live", [])],
    ),
    (
        "latest",
        [live("dev", "1")],
        [want("dev", "$LATEST")],
        [(Action.UPDATE, "dev", [FieldDiff("version", "1", "$LATEST")])],
    ),
    (
        "sorted-by-name",
        [],
        [want("zeta", "1"), want("alpha", "1")],
        [
            (Action.CREATE, "alpha", [FieldDiff("version", None, "1")]),
            (Action.CREATE, "zeta", [FieldDiff("version", None, "1")]),
        ],
    ),
]


@pytest.mark.parametrize(
    ("current", "desired", "expected"),
    [pytest.param(c, d, e, id=name) for name, c, d, e in CASES],
)
def test_plan_table(
    current: list[LiveAlias],
    desired: list[DesiredAlias],
    expected: list[tuple[Action, str, list[FieldDiff]]],
) -> None:
    result = plan([DesiredFunction(T, tuple(desired))], {T: LiveFunction(T, tuple(current))})
    assert [(c.action, c.alias, list(c.diffs)) for c in result.changes] == expected


@pytest.mark.parametrize(
    ("prune", "keep", "deleted", "unmanaged"),
    [
        (False, (), [], ["legacy-blue", "old"]),
        (True, (), ["legacy-blue", "old"], []),
        (True, ("legacy-*",), ["old"], ["legacy-blue"]),
    ],
    ids=["no-prune", "prune", "prune-keep"],
)
def test_prune_and_keep(
    prune: bool, keep: tuple[str, ...], deleted: list[str], unmanaged: list[str]
) -> None:
    current = (live("live", "1"), live("old", "1"), live("legacy-blue", "1"))
    function = DesiredFunction(T, (want("live", "1"),), prune=prune, keep=keep)
    result = plan([function], {T: LiveFunction(T, current)})
    assert [c.alias for c in result.changes if c.action is Action.DELETE] == deleted
    assert sorted(a.name for _, a in result.unmanaged) == unmanaged
    for change in result.actions:
        assert change.before is not None
        assert change.after is None


def test_missing_function_is_reported_and_planned_nothing() -> None:
    result = plan(
        [DesiredFunction(T, (want("live", "1"),))], {T: LiveFunction(T, (), exists=False)}
    )
    assert result.missing_functions == (T,)
    assert result.changes == ()


def test_plan_is_deterministic_across_input_orders() -> None:
    other = FunctionTarget("123456789012", "eu-west-1", "aardvark")
    functions = [
        DesiredFunction(T, (want("b", "1"), want("a", "2"))),
        DesiredFunction(other, (want("x", "1"),)),
    ]
    state = {T: LiveFunction(T, (live("a", "1"),)), other: LiveFunction(other, ())}
    forward, backward = plan(functions, state), plan(list(reversed(functions)), state)
    assert forward == backward
    assert [c.address for c in forward.changes] == [
        "123456789012/eu-west-1/aardvark:x",
        "123456789012/eu-west-1/payments-api:a",
        "123456789012/eu-west-1/payments-api:b",
    ]


def test_summary_counts() -> None:
    current = (live("change", "1"), live("gone", "1"), live("same", "1"))
    desired = (want("change", "2"), want("new", "1"), want("same", "1"))
    result = plan([DesiredFunction(T, desired, prune=True)], {T: LiveFunction(T, current)})
    assert result.summary() == "1 to add, 1 to change, 1 to destroy."


def test_resolve_takes_region_and_account_from_arn_manifest_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "function: arn:aws:lambda:us-east-1:123456789012:function:a\naliases: []\n---\n"
        "function: b\nregion: eu-central-1\naliases: []\n---\n"
        "function: c\naliases: []\n",
        encoding="utf-8",
    )
    desired = resolve(
        load_manifests([tmp_path]).manifests,
        default_region="ap-south-1",
        default_account="123456789012",
    )
    assert [d.target.address for d in desired] == [
        "123456789012/us-east-1/a",
        "123456789012/eu-central-1/b",
        "123456789012/ap-south-1/c",
    ]


def test_resolve_refuses_a_missing_region_and_the_guard_another_account(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        'function: a\nregion: eu-west-1\naccount: "210987654321"\naliases: []\n'
        "---\nfunction: b\naliases: []\n",
        encoding="utf-8",
    )
    manifests = load_manifests([tmp_path]).manifests
    with pytest.raises(ManifestError, match="no Region for b"):
        resolve(manifests, default_region=None, default_account="123456789012")
    desired = resolve(manifests, default_region="eu-west-1", default_account="123456789012")
    with pytest.raises(ManifestError) as excinfo:
        check_account(desired, "123456789012")
    (problem,) = excinfo.value.problems
    assert (problem.line, problem.column) == (1, 1)
    assert "210987654321" in problem.message
    assert "123456789012" in problem.message
    check_account(desired[1:], "123456789012")  # only its own account's function: fine


@pytest.mark.parametrize(
    ("patterns", "selected"),
    [
        ((), ["orders:beta", "orders:live", "payments-api:live"]),
        (("orders:live",), ["orders:live"]),
        (("*:live",), ["orders:live", "payments-api:live"]),
        (("orders",), ["orders:beta", "orders:live"]),
        (("pay*",), ["payments-api:live"]),
        (("123456789012/eu-west-1/orders:b*",), ["orders:beta"]),
        (("orders:live", "payments-api"), ["orders:live", "payments-api:live"]),
    ],
)
def test_targets_select_aliases_and_functions(
    patterns: tuple[str, ...], selected: list[str]
) -> None:
    orders = FunctionTarget("123456789012", "eu-west-1", "orders")
    functions = [
        DesiredFunction(orders, (want("live", "2"), want("beta", "1"))),
        DesiredFunction(T, (want("live", "3"),)),
    ]
    state = {orders: LiveFunction(orders, ()), T: LiveFunction(T, ())}
    targets = Targets(patterns)
    result = targets.select(plan(functions, state))
    assert [f"{c.target.name}:{c.alias}" for c in result.changes] == selected
    read = [d.target.name for d in functions if targets.function(d.target)]
    assert set(read) >= {s.split(":")[0] for s in selected}


@pytest.mark.parametrize("pattern", ["nothing*", "orders:nothing", "*/us-east-1/*"])
def test_a_target_that_selects_nothing_is_refused(pattern: str) -> None:
    orders = FunctionTarget("123456789012", "eu-west-1", "orders")
    functions = [DesiredFunction(orders, (want("live", "2"),))]
    targets = Targets(("orders:live", pattern))
    with pytest.raises(InputError, match=re.escape(f"--target {json.dumps(pattern)} matches no")):
        targets.select(plan(functions, {orders: LiveFunction(orders, ())}))

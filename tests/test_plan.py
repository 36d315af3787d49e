"""Saved plans: applied exactly as shown, intact, and holding only what apply may make."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.applier import apply
from reconciler.errors import InputError, PlanFileError
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, Route
from reconciler.plan import (
    Action,
    Change,
    Plan,
    content_digest,
    dumps_plan,
    loads_plan,
    plan_problems,
)
from reconciler.planner import DesiredFunction, plan
from reconciler.providers.memory import MemoryProvider
from reconciler.render import plan_text

T = FunctionTarget("123456789012", "eu-west-1", "payments-api")


def live(name: str, version: str, description: str = "", routing: Route | None = None) -> LiveAlias:
    return LiveAlias(name, version, description, routing, f"rev-{name}-{version}")


def sample() -> Plan:
    """A create, an update, a delete (prune: true, keep: legacy-*) and an alias left alone."""
    current = (
        live("live", "6", routing=Route("7", 0.05)),
        live("old", "3"),
        live("legacy-v1", "1"),
        live("same", "2"),
    )
    desired = (
        DesiredAlias("live", "7", "text"),
        DesiredAlias("beta", "$LATEST"),
        DesiredAlias("same", "2"),
    )
    made = plan(
        [DesiredFunction(T, desired, prune=True, keep=("legacy-*",))],
        {T: LiveFunction(T, current)},
        manifests_digest="abc",
    )
    return made.stamped("2026-01-01T00:00:00+00:00")


def document() -> dict[str, Any]:
    return dict(json.loads(dumps_plan(sample())))


def resealed(data: dict[str, Any]) -> str:
    """A deliberately edited plan with a matching digest: what the other checks must catch."""
    data["digest"] = content_digest(data)
    return json.dumps(data)


def test_round_trip() -> None:
    original = sample()
    text = dumps_plan(original)
    assert loads_plan(text) == original
    assert '"revision_id": "rev-live-6"' in text
    assert json.loads(text)["digest"].startswith("sha256:")
    delete = next(c for c in loads_plan(text).changes if c.action is Action.DELETE)
    assert (delete.alias, delete.prune, delete.keep) == ("old", True, ("legacy-*",))


def test_unknown_fields_of_a_later_minor_version_are_ignored() -> None:
    data = document()
    data["format_version"] = "2.7"
    data["future_field"] = [1]
    data["changes"][0]["future_field"] = {"x": 1}
    assert loads_plan(resealed(data)).changes == sample().changes


@pytest.mark.parametrize("version", ["1.0", "4.0", "0.9", ""])
def test_another_major_version_is_refused(version: str) -> None:
    data = document()
    data["format_version"] = version
    with pytest.raises(PlanFileError, match="not readable by this version"):
        loads_plan(resealed(data))


@pytest.mark.parametrize(
    "edit",
    [
        ('"version": "7"', '"version": "3"'),  # what apply would send
        ('"before": "6"', '"before": "5"'),  # what the reviewer would read
        ('"destroy": 1', '"destroy": 0'),  # the summary
        ('"created_at": "2026', '"created_at": "2027'),
    ],
)
def test_a_file_changed_after_it_was_written_is_refused(edit: tuple[str, str]) -> None:
    text = dumps_plan(sample())
    assert edit[0] in text
    with pytest.raises(PlanFileError, match="the plan file was changed after it was written"):
        loads_plan(text.replace(edit[0], edit[1], 1))


def test_what_is_shown_is_derived_from_what_apply_sends() -> None:
    """Even a resealed file cannot show one version and send another: stored diffs are not read."""
    data = document()
    update = next(c for c in data["changes"] if c["action"] == "update")
    assert {"field": "version", "before": "6", "after": "7"} in update["diffs"]
    update["after"]["version"] = "3"  # diffs still say 6 -> 7
    update["reason"] = "cosmetic"
    shown = plan_text(loads_plan(resealed(data)))
    assert "    version: 6 -> 3\n" in shown
    assert "6 -> 7" not in shown
    assert "cosmetic" not in shown


def test_a_delete_shows_the_prune_policy_it_was_planned_under() -> None:
    shown = plan_text(sample())
    assert "- 123456789012/eu-west-1/payments-api:old  (not in the manifest; prune: true)" in shown


def said(error: Exception) -> str:
    """An error's message and its detail lines, as the CLI prints them."""
    return "\n".join([str(error), *getattr(error, "details", ())])


def changed(path: list[Any], value: Any) -> dict[str, Any]:
    data = document()
    node: Any = data
    for key in path[:-1]:
        node = (
            node[key]
            if not isinstance(key, str) or not key.startswith("@")
            else next(c for c in node if c["action"] == key[1:])
        )
    node[path[-1]] = value
    return data


DAMAGED = [
    (["changes", "@update", "after", "version"], 7, "changes[1].after.version must be text"),
    (["changes", "@update", "before"], None, "action update needs 'before'"),
    (["changes", "@create", "before"], {"x": 1}, "changes[0].before.name is missing"),
    (["changes", "@update", "action"], "explode", "is not one of create, update, delete"),
    (["changes", "@update", "after", "routing"], {"version": "8", "weight": "x"}, "number"),
    (["changes"], {"a": 1}, "changes must be a list"),
    (["changes", 0], "text", "changes[0] must be an object"),
    (["changes", "@delete", "prune"], "yes", "must be true or false"),
    (["changes", "@update", "alias"], ["live"], "alias must be text"),
    (["unmanaged"], [{"account": "1"}], "unmanaged[0].region is missing"),
]


@pytest.mark.parametrize(("path", "value", "message"), DAMAGED)
def test_a_damaged_file_is_refused_with_where(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(PlanFileError, match=r"damaged|cannot be applied") as excinfo:
        loads_plan(resealed(changed(path, value)))
    assert message in said(excinfo.value)


REFUSED = [
    (["changes", "@update", "after", "version"], "017", "write version '017' as 17"),
    (["changes", "@update", "after", "version"], "0", "numbered from 1"),
    (["changes", "@update", "after", "version"], "1" * 1024, None),  # long, but a number
    (["changes", "@update", "after", "version"], "1" * 5000, "at most 1024 characters"),
    (["changes", "@update", "after", "version"], "١٢", "must be a published version number"),
    (["changes", "@update", "account"], "١٢٣٤٥٦٧٨٩٠١٢", "is not a function ARN"),
    (["changes", "@update", "after", "description"], "x" * 257, "longer than 256"),
    (["changes", "@update", "after", "routing"], {"version": "7", "weight": 0.1}, "already"),
    (["changes", "@update", "after", "routing"], {"version": "8", "weight": 1.5}, "between"),
    (["changes", "@create", "after", "routing"], {"version": "8", "weight": 0.1}, "$LATEST"),
    (["changes", "@update", "alias"], "2024", "digits only"),
    (["changes", "@update", "after", "name"], "other", 'names alias "other" inside'),
    (["changes", "@update", "function"], "orders:live", "is not a function ARN"),
    (["changes", "@update", "partition"], "aws-cn", "is not that of eu-west-1"),
    (["changes", "@update", "before", "revision_id"], "", "no RevisionId"),
    (["changes", "@delete", "prune"], False, "does not record prune: true"),
    (["changes", "@delete", "keep"], ["o*"], "keep globs protect"),
    (["changes", "@update", "after", "description"], None, None),  # fine: leaves it alone
]


@pytest.mark.parametrize(("path", "value", "message"), REFUSED)
def test_every_change_is_checked_against_the_service_rules_and_the_prune_policy(
    path: list[Any], value: Any, message: str | None
) -> None:
    text = resealed(changed(path, value))
    if message is None:
        loads_plan(text)
        return
    with pytest.raises(PlanFileError, match="cannot be applied") as excinfo:
        loads_plan(text)
    assert message in said(excinfo.value)


def test_an_update_that_changes_nothing_is_refused() -> None:
    data = document()
    update = next(c for c in data["changes"] if c["action"] == "update")
    update["after"] = {"name": "live", "version": "6", "routing": {"version": "7", "weight": 0.05}}
    with pytest.raises(PlanFileError) as excinfo:
        loads_plan(resealed(data))
    assert "an update that changes nothing" in said(excinfo.value)


def test_two_changes_for_one_alias_are_refused_in_a_file_and_by_apply() -> None:
    data = document()
    data["changes"].append(next(c for c in data["changes"] if c["action"] == "update"))
    with pytest.raises(PlanFileError) as excinfo:
        loads_plan(resealed(data))
    assert "two changes for one alias" in said(excinfo.value)
    memory = MemoryProvider()
    memory.add_function(T, DesiredAlias("live", "1"))
    current = memory.read_function(T).aliases[0]
    twice = Plan(
        (
            Change(Action.UPDATE, T, "live", current, DesiredAlias("live", "2")),
            Change(Action.UPDATE, T, "live", current, DesiredAlias("live", "3")),
        )
    )
    assert plan_problems(twice) == [
        '"123456789012/eu-west-1/payments-api:live": two changes for one alias'
    ]
    with pytest.raises(InputError, match="nothing was changed") as refused:
        apply(twice, memory)
    assert "two changes for one alias" in said(refused.value)
    assert memory.calls["UpdateAlias"] == 0


def test_apply_refuses_an_unpruned_delete_whatever_produced_it() -> None:
    memory = MemoryProvider()
    memory.add_function(T, DesiredAlias("live", "1"))
    current = memory.read_function(T).aliases[0]
    with pytest.raises(InputError) as excinfo:
        apply(Plan((Change(Action.DELETE, T, "live", current, None),)), memory)
    assert "does not record prune: true" in said(excinfo.value)
    assert memory.calls["GetAlias"] + memory.calls["DeleteAlias"] == 0


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1" * 5000])
def test_numbers_json_allows_but_no_plan_holds_are_refused(number: str) -> None:
    text = dumps_plan(sample()).replace('"weight": 0.05', f'"weight": {number}', 1)
    assert number in text
    with pytest.raises(PlanFileError):
        loads_plan(text)


@pytest.mark.parametrize("depth", [10, 100_000])
def test_deep_nesting_is_an_error_not_a_crash(depth: int) -> None:
    data = document()
    data["changes"][0]["before"] = "@"
    text = resealed(data).replace('"@"', "[" * depth + "]" * depth)
    with pytest.raises(PlanFileError):
        loads_plan(text)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_resealed_edit_is_read_as_a_valid_plan_or_refused(data: st.DataObject) -> None:
    """Whatever a hostile or careless edit puts anywhere, loads_plan returns a plan apply may make
    or raises PlanFileError: never another exception."""
    document_ = document()
    leaves: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in list(items):
            leaves.append((node, key))
            if isinstance(value, dict | list):
                walk(value)

    walk(document_)
    node, key = data.draw(st.sampled_from(leaves))
    json_values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=6,
    )
    node[key] = data.draw(json_values)
    try:
        loaded = loads_plan(resealed(document_))
    except PlanFileError:
        return
    assert plan_problems(loaded) == []

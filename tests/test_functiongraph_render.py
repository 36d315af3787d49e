"""FunctionGraph in plans as people read them: version names as they are, rules in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, Route, RouteRule
from reconciler.plan import Action, Change, Plan, content_digest, dumps_plan
from reconciler.planner import DesiredFunction, plan
from reconciler.render import plan_markdown, plan_text, show_value, traffic
from reconciler.rollout.model import Rollout

RULES = (RouteRule("x-canary", "in", "internal,qa"), RouteRule("x-beta", "=", "1"))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ({"version": "v4", "weight": 0.1}, "10% to v4"),
        ({"version": "1.0", "weight": 0.25}, "25% to 1.0"),
        ({"version": "13", "weight": 0.05}, "5% to v13"),  # Lambda's, as before
        (
            Route("v4", 0.0, RULES, "or").to_dict(),
            "requests with x-canary in internal,qa or x-beta = 1 to v4",
        ),
        (
            {"version": "v4", "rules": [{"header": "x\x1b", "op": "=", "value": "a"}]},
            "requests with x\\x1b = a to v4",
        ),
    ],
)
def test_routing_values(value: object, shown: str) -> None:
    assert show_value(value) == shown


def test_traffic_of_a_rule_route_names_its_rules() -> None:
    assert traffic("v3", Route("v4", 0.0, RULES[:1])) == ("`v3` · `v4 for x-canary in internal,qa`")
    assert traffic("latest", None).startswith("`latest ")


def test_markdown_shows_functiongraph_routing_in_words() -> None:
    target = FunctionTarget("0" * 32, "ap-southeast-1", "checkout", "", "functiongraph", "default")
    desired = (
        DesiredAlias("live", "v3", None, Route("v4", 0.1)),
        DesiredAlias("beta", "v3", None, Route("v4", 0.0, RULES[:1])),
    )
    made = plan([DesiredFunction(target, desired)], {target: LiveFunction(target, ())})
    text = plan_markdown(made)
    assert "routing: 10% to v4" in text
    assert "routing: `requests with x-canary in internal,qa to v4`" in text
    assert "{'version'" not in text


def test_a_rule_routed_version_is_shown_inert() -> None:
    """The version a rule routes to is shown with its control characters escaped."""
    rules = [{"header": "x", "op": "=", "value": "a"}]
    shown = show_value({"version": "v4\x1b[2J", "rules": rules, "combine": "and"})
    assert "\x1b" not in shown


def test_a_saved_plan_cannot_put_terminal_escapes_on_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A hand-edited plan file (its digest recomputed) whose ``before`` names a version with
    terminal escapes is refused or shown inert by show: never raw ESC or BEL."""
    target = FunctionTarget(
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "ap-southeast-1",
        "payments",
        "",
        "functiongraph",
        "default",
    )
    before = LiveAlias(
        "live", "v3", "", Route("v4", 0.0, (RouteRule("x", "=", "a"),)), "2026-01-01 00:00:00|ab"
    )
    change = Change(Action.UPDATE, target, "live", before, DesiredAlias("live", "v3"))
    document = json.loads(dumps_plan(Plan((change,))))
    document["changes"][0]["before"]["routing"]["version"] = "v4\x1b]0;owned\x07\x1b[2J"
    document["digest"] = content_digest(document)
    saved = tmp_path / "plan.json"
    saved.write_text(json.dumps(document), encoding="utf-8")
    code = main(["show", str(saved)])
    out, err = capsys.readouterr()
    assert "\x1b" not in out + err
    assert "\x07" not in out + err
    assert code == 1  # a version name FunctionGraph would never list


@pytest.mark.parametrize(
    ("rollout", "refused"),
    [
        (Rollout((10, 50), 60), None),
        (Rollout((10, 50), 60, alarms=("errors",)), "a rollout gated on alarms"),
        (Rollout((10, 50), 60, before="smoke", after="smoke"), None),
        (
            Rollout((10, 50), 60, before="urn:fss:ap-southeast-1:p:function:default:x:latest"),
            "name the hook by its function name",
        ),
    ],
)
def test_a_saved_plan_carries_a_functiongraph_rollout_without_alarms(
    rollout: Rollout, refused: str | None
) -> None:
    """Manifests refuse alarms on a FunctionGraph rollout, and hooks named by URN; so does a
    saved plan: FunctionGraph has no CloudWatch alarms, and a hook runs beside its function."""
    from reconciler.errors import PlanFileError  # noqa: PLC0415
    from reconciler.plan import loads_plan  # noqa: PLC0415

    target = FunctionTarget(
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "ap-southeast-1",
        "payments",
        "",
        "functiongraph",
        "default",
    )
    before = LiveAlias("live", "v1", "", None, "2026-01-01 00:00:00|ab")
    after = DesiredAlias("live", "v2", rollout=rollout)
    text = dumps_plan(Plan((Change(Action.UPDATE, target, "live", before, after),)))
    if refused is None:
        assert loads_plan(text).changes[0].rollout == rollout
        return
    with pytest.raises(PlanFileError) as caught:
        loads_plan(text)
    assert refused in " ".join(caught.value.details)


FG = FunctionTarget("0" * 32, "ap-southeast-1", "payments", "", "functiongraph", "default")


@pytest.mark.parametrize(
    ("version", "extra"), [("v3", "3"), ("3", "v3")], ids=["on-v3-to-3", "on-3-to-v3"]
)
def test_two_functiongraph_versions_never_render_alike(version: str, extra: str) -> None:
    """FunctionGraph version names are free text: "3" and "v3" are two versions, and what the
    reviewer reads names exactly the version apply writes, in text and in markdown."""
    desired = DesiredAlias("live", version, None, Route(extra, 0.1))
    unmanaged = LiveAlias("old", extra, "", None, "2026-01-01 00:00:00|ab")
    made = plan(
        [DesiredFunction(FG, (desired,))],
        {FG: LiveFunction(FG, (unmanaged,))},
    )
    text = plan_text(made)
    assert f"routing: 10% to {extra}\n" in text, text
    assert f"-> {extra}\n" in text, text  # the unmanaged alias
    markdown = plan_markdown(made)
    row = next(line for line in markdown.splitlines() if line.startswith("| + |"))
    assert f"routing: 10% to {extra} |" in row, row
    assert f"`{version} " in row, row
    assert f"`{extra} 10%`" in row, row
    assert f"&rarr; {extra}\n" in markdown + "\n", markdown


def test_lambda_versions_still_read_as_people_say_them() -> None:
    target = FunctionTarget("123456789012", "eu-west-1", "api")
    desired = DesiredAlias("live", "12", None, Route("13", 0.05))
    made = plan([DesiredFunction(target, (desired,))], {target: LiveFunction(target, ())})
    assert "routing: 5% to v13" in plan_text(made)
    assert "`v13 5%`" in plan_markdown(made)

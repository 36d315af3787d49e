"""Rollouts in manifests and plans: validation with file:line, the plan's words, the saved plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.applier import apply
from reconciler.cli import main
from reconciler.errors import InputError, ManifestError, PlanFileError
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, Route
from reconciler.manifests import load_manifests
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
from reconciler.rollout.model import Rollout, duration_text, linear_steps, parse_duration
from reconciler.sandbox import Sandbox
from tests.conftest import REGION

T = FunctionTarget("123456789012", "eu-west-1", "payments-api")
GATED = Rollout((5, 25, 50), 600, ("payments-api-errors", "payments-api-p99"))

MANIFEST = """\
function: payments-api
region: eu-west-1
aliases:
  - name: live
    version: 13
    rollout:
      steps: [5, 25, 50]
      bake: 10m
      alarms: [payments-api-errors, payments-api-p99]
  - name: beta
    version: 13
    rollout: {canary: 10, bake: 5m, hooks: {before: smoke}}
  - name: new
    version: 13
    rollout: {linear: 10, bake: 1m}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rollout", "line", "message"),
    [
        ("{steps: [5, 50, 25], bake: 1m}", 6, "steps must go up: 25 follows 50"),
        ("{steps: [5, 5], bake: 1m}", 6, "steps must go up: 5 follows 5"),
        ("{steps: [5, 100], bake: 1m}", 6, "from 1 to 99 (100 is implied last), not 100"),
        ("{steps: [0.05], bake: 1m}", 6, "write 5 for 5 %"),
        ("{steps: [], bake: 1m}", 6, "steps must list at least one percentage"),
        ("{canary: 5, bake: 10}", 6, "bake: write a duration with its unit, such as 10s or 10m"),
        ("{canary: 5, bake: 2d}", 6, "a duration is a whole number and a unit, s, m or h"),
        ("{canary: 5, bake: 25h}", 6, "a bake is at most 24h"),
        ("{canary: 5, linear: 10, bake: 1m}", 6, "give exactly one of steps, canary or linear"),
        ("{bake: 1m}", 6, "give exactly one of steps, canary or linear"),
        ("{canary: 5}", 6, "'bake' is required here"),
        ("{canary: 5, bake: 1m, alarms: [a, a]}", 6, "alarm 'a' is listed twice"),
        ("{canary: 5, bake: 1m, hook: {}}", 6, "did you mean 'hooks'?"),
        ("{canary: 5, bake: 1m, hooks: {befor: x}}", 6, "did you mean 'before'?"),
        ("{canary: 5, bake: 1m, hooks: {before: 'x:live'}}", 6, "without a qualifier"),
    ],
)
def test_a_bad_rollout_is_refused_at_its_line(
    tmp_path: Path, rollout: str, line: int, message: str
) -> None:
    text = "function: f\nregion: eu-west-1\naliases:\n  - name: live\n    version: 2\n"
    path = write(tmp_path, f"{text}    rollout: {rollout}\n")
    with pytest.raises(ManifestError) as caught:
        load_manifests([path])
    shown = [str(p) for p in caught.value.problems]
    assert any(s.startswith(f"{path}:{line}:") and message in s for s in shown), shown


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    routing: {version: 1, weight: 0.5}\n", "rollout sets the routing itself"),
        ("", "a rollout moves to a published version, not $LATEST"),
    ],
)
def test_a_rollout_with_routing_or_to_latest_is_refused(
    tmp_path: Path, extra: str, message: str
) -> None:
    version = "$LATEST" if not extra else "2"
    path = write(
        tmp_path,
        f"function: f\nregion: eu-west-1\naliases:\n  - name: live\n    version: {version}\n"
        f"{extra}    rollout: {{canary: 5, bake: 1m}}\n",
    )
    with pytest.raises(ManifestError) as caught:
        load_manifests([path])
    assert [p.line for p in caught.value.problems] == [4]
    assert message in caught.value.problems[0].message


def test_shorthands_become_steps() -> None:
    assert linear_steps(10) == (10, 20, 30, 40, 50, 60, 70, 80, 90)
    assert linear_steps(30) == (30, 60, 90)
    assert linear_steps(60) == (60,)
    assert [parse_duration(t) for t in ("45s", "10m", "2h")] == [45, 600, 7200]
    assert [duration_text(s) for s in (45, 600, 5400, 3601)] == ["45s", "10m", "1h30m", "1h1s"]


def test_the_plan_line_says_what_the_rollout_will_do() -> None:
    assert GATED.describe("12", "13") == (
        "12 -> 13 via 5% -> 25% -> 50% -> 100%, 10m each, gated on 2 alarms (about 30m)"
    )
    assert Rollout((10,), 300, (), "smoke").describe("1", "2") == (
        "1 -> 2 via 10% -> 100%, 5m each, gated on a before hook (about 5m)"
    )
    assert (
        Rollout((50,), 30, ("a",), "h", "h").gates()
        == "gated on 1 alarm and before and after hooks"
    )
    assert Rollout((50,), 30).gates() == "with no alarm or hook"


def planned(before: LiveAlias | None, after: DesiredAlias) -> Any:
    current = LiveFunction(T, () if before is None else (before,))
    return plan([DesiredFunction(T, (after,))], {T: current}).changes[0]


@pytest.mark.parametrize(
    ("before", "after", "is_rollout"),
    [
        (LiveAlias("live", "12", "", None, "r"), DesiredAlias("live", "13", rollout=GATED), True),
        (None, DesiredAlias("live", "13", rollout=GATED), False),  # a create applies at once
        (
            LiveAlias("live", "13", "", None, "r"),
            DesiredAlias("live", "13", "new words", rollout=GATED),
            False,  # same version: the description applies at once
        ),
        (LiveAlias("live", "12", "", None, "r"), DesiredAlias("live", "13"), False),
    ],
)
def test_only_a_version_change_with_a_rollout_is_a_rollout(
    before: LiveAlias | None, after: DesiredAlias, is_rollout: bool
) -> None:
    change = planned(before, after)
    assert change.action is not Action.NOOP
    assert (change.rollout is not None) is is_rollout


def test_a_saved_plan_carries_the_rollout_and_is_format_3() -> None:
    change = planned(
        LiveAlias("live", "12", "", None, "r"), DesiredAlias("live", "13", rollout=GATED)
    )
    saved = Plan((change,), manifests_digest="d")
    text = dumps_plan(saved)
    data = json.loads(text)
    assert data["format_version"] == "3.0"
    assert data["changes"][0]["after"]["rollout"] == {
        "steps": [5, 25, 50],
        "bake_seconds": 600,
        "alarms": ["payments-api-errors", "payments-api-p99"],
        "hooks": {"before": None, "after": None},
    }
    assert loads_plan(text) == saved
    plain = Plan((planned(LiveAlias("live", "12", "", None, "r"), DesiredAlias("live", "13")),))
    assert json.loads(dumps_plan(plain))["format_version"] == "2.1"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("steps", [50, 25]), "steps must go up"),
        (("steps", [5, 100]), "from 1 to 99"),
        (("steps", ["5"]), "must be a list of whole numbers"),
        (("bake_seconds", 0), "the bake must be from 1s"),
        (("bake_seconds", 1.5), "must be a whole number"),
        (("alarms", ["a", "a"]), "an alarm is listed twice"),
        (("hooks", None), "hooks must be an object"),
    ],
)
def test_a_saved_rollout_is_read_strictly_and_checked_again(
    edit: tuple[str, Any], message: str
) -> None:
    change = planned(
        LiveAlias("live", "12", "", None, "r"), DesiredAlias("live", "13", rollout=GATED)
    )
    data = json.loads(dumps_plan(Plan((change,))))
    data["changes"][0]["after"]["rollout"][edit[0]] = edit[1]
    data["digest"] = content_digest(data)
    with pytest.raises(PlanFileError) as caught:
        loads_plan(json.dumps(data))
    assert message in " ".join([str(caught.value), *caught.value.details])


def test_plan_problems_refuse_a_rollout_with_routing() -> None:
    bad = DesiredAlias("live", "13", routing=Route("14", 0.5), rollout=GATED)
    change = Change(Action.UPDATE, T, "live", LiveAlias("live", "12", "", None, "r"), bad)
    assert any("a rollout and routing together" in p for p in plan_problems(Plan((change,))))


@pytest.fixture
def estate(sandbox: Sandbox, tmp_path: Path) -> Path:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {
                    "name": "payments-api",
                    "versions": 13,
                    "aliases": [
                        {"name": "live", "version": 12},
                        {"name": "beta", "version": 12},
                    ],
                    "alarms": [{"name": "payments-api-errors"}, {"name": "payments-api-p99"}],
                },
                {"name": "smoke", "hook": "succeed"},
            ],
        }
    )
    (tmp_path / "m.yaml").write_text(MANIFEST, encoding="utf-8")
    return tmp_path


def test_plan_shows_a_rollout_in_text_markdown_and_json(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["plan", str(estate), "--endpoint-url", sandbox.url]) == 0
    out = capsys.readouterr().out
    assert (
        "~ 123456789012/eu-west-1/payments-api:live  12 -> 13 via 5% -> 25% -> 50% -> 100%, "
        "10m each, gated on 2 alarms (about 30m)\n"
    ) in out
    assert (
        "~ 123456789012/eu-west-1/payments-api:beta  12 -> 13 via 10% -> 100%, 5m each, "
        "gated on a before hook (about 5m)\n"
    ) in out
    assert "    version: 12 -> 13" not in out  # the rollout line says it
    assert "+ 123456789012/eu-west-1/payments-api:new\n    version: 13\n" in out  # created at once
    assert main(["plan", str(estate), "-o", "markdown", "--endpoint-url", sandbox.url]) == 0
    markdown = capsys.readouterr().out
    assert (
        "rollout: `12 -> 13 via 5% -> 25% -> 50% -> 100%, 10m each, gated on 2 alarms (about 30m)`"
    ) in markdown
    assert main(["plan", str(estate), "-o", "json", "--endpoint-url", sandbox.url]) == 0
    document = json.loads(capsys.readouterr().out)
    live = next(c for c in document["changes"] if c["alias"] == "live")
    assert live["after"]["rollout"]["steps"] == [5, 25, 50]
    assert live["reason"] == "rollout 5% -> 25% -> 50% -> 100%"


def test_the_applier_never_makes_a_rollout_in_one_write() -> None:
    change = planned(
        LiveAlias("live", "12", "", None, "r"), DesiredAlias("live", "13", rollout=GATED)
    )
    with pytest.raises(InputError) as caught:
        apply(Plan((change,)), MemoryProvider())
    assert "a rollout, made step by step" in caught.value.details[0]


def test_the_plan_says_when_a_rollout_is_under_way() -> None:
    under_way = LiveAlias("live", "12", "", Route("13", 0.25), "r")
    change = planned(under_way, DesiredAlias("live", "13", rollout=GATED))
    assert change.rollout is not None
    text = plan_text(Plan((change,)))
    assert text.startswith(
        "~ 123456789012/eu-west-1/payments-api:live  12 -> 13 via 5% -> 25% -> 50% -> 100%, "
        "10m each, gated on 2 alarms (about 30m); under way, at 25% on v13 (step 2 of 4); "
        "next: 50% after a 10m bake from the next apply\n"
    )
    assert "routing" not in text

"""policy.yaml beside the manifests: every rule, and a bad policy, each with file:line; exit 1 and
nothing written. Against the sandbox over HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from tests.test_rollout_engine import alias, apply, estate, manifest, write, writes

__all__ = ["estate"]


def plan(sandbox: Sandbox, folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["plan", str(folder), "--endpoint-url", sandbox.url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def policy(folder: Path, text: str) -> Path:
    path = folder / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rules", "rollout", "words"),
    [
        (
            'require_rollout: ["prod-*", "live"]\n',
            None,
            "breaks require_rollout ({policy}:1): payments-api:live changes version 12 -> 13 "
            "only through a rollout",
        ),
        (
            "max_step: 25\n",
            "{steps: [5, 25, 50], bake: 1s}",
            "breaks max_step ({policy}:1): payments-api:live goes from 50% to 100% in one step, "
            "more than 25 points",
        ),
        (
            "# gates\nmin_bake: 5m\n",
            "{canary: 10, bake: 30s}",
            "breaks min_bake ({policy}:2): payments-api:live bakes 30s, less than 5m",
        ),
        (
            "freeze:\n  - {from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z', "
            "reason: year-end}\n",
            "{canary: 10, bake: 1s}",
            "breaks freeze ({policy}:1): no version change from 2020-01-01T00:00:00+00:00 to "
            "2099-01-01T00:00:00+00:00 (year-end)",
        ),
    ],
)
def test_each_rule_fails_the_plan_and_the_apply_naming_it(
    sandbox: Sandbox,
    estate: Path,
    capsys: pytest.CaptureFixture[str],
    rules: str,
    rollout: str | None,
    words: str,
) -> None:
    text = (
        manifest(rollout)
        if rollout
        else manifest("{canary: 5, bake: 1s}").rsplit("\n    rollout", 1)[0] + "\n"
    )
    path = write(estate, text)
    rule_file = policy(estate, rules)
    code, out = plan(sandbox, estate, capsys)
    assert code == 1
    assert f"{path}:4:5: " + words.format(policy=rule_file) in out
    assert apply(sandbox, estate) == 1
    assert writes(sandbox) == 0
    assert alias(sandbox) == ("12", None)


def test_rules_that_are_kept_let_the_rollout_through(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(estate, manifest("{steps: [25, 50, 75], bake: 1s}"))
    policy(
        estate,
        'require_rollout: ["live"]\nmax_step: 25\nmin_bake: 1s\n'
        "freeze: [{from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z'}]\n",
    )
    assert plan(sandbox, estate, capsys)[0] == 0
    assert apply(sandbox, estate) == 0
    assert alias(sandbox) == ("13", None)


def test_a_freeze_holds_a_rollout_under_way_but_still_rolls_back(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(estate, manifest("{steps: [10, 50], bake: 1s, alarms: [payments-api-errors]}"))
    assert apply(sandbox, estate, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.1)
    policy(estate, "freeze: [{from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z'}]\n")
    time.sleep(1.1)
    capsys.readouterr()
    assert apply(sandbox, estate) == 0
    assert "held at 10% on v13: frozen until 2099-01-01" in capsys.readouterr().out
    assert alias(sandbox) == ("12", 0.1)
    sandbox.set_alarm_state("payments-api-errors", "ALARM")
    assert apply(sandbox, estate) == 4  # a rollback is always allowed
    assert alias(sandbox) == ("12", None)


ROUTED = (
    "function: payments-api\nregion: eu-west-1\naliases:\n"
    "  - name: live\n    version: 12\n    routing: {version: 13, weight: 0.99}\n"
)


@pytest.mark.parametrize(
    ("rules", "words"),
    [
        (
            'require_rollout: ["live"]\n',
            "breaks require_rollout ({policy}:1): payments-api:live changes version 12 -> 12 "
            "with 99% to 13 only through a rollout",
        ),
        (
            "freeze:\n  - {from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z', "
            "reason: year-end}\n",
            "breaks freeze ({policy}:1): no version change from 2020-01-01T00:00:00+00:00 to "
            "2099-01-01T00:00:00+00:00 (year-end)",
        ),
    ],
)
def test_traffic_sent_to_another_version_by_routing_is_a_version_change_for_the_gates(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str], rules: str, words: str
) -> None:
    """Routing moves traffic as surely as a version does: 99 % to v13 by routing meets freeze and
    require_rollout like a change of version to 13; nothing is written."""
    path = write(estate, ROUTED)
    rule_file = policy(estate, rules)
    code, out = plan(sandbox, estate, capsys)
    assert code == 1
    assert f"{path}:4:5: " + words.format(policy=rule_file) in out
    assert apply(sandbox, estate) == 1
    assert writes(sandbox) == 0
    assert alias(sandbox) == ("12", None)


def test_less_traffic_to_the_routed_version_is_not_held_by_a_freeze(
    sandbox: Sandbox, estate: Path
) -> None:
    """Taking traffic away from a routed version (back towards the alias's own) is not a release:
    a freeze lets it through, as it lets rollbacks through."""
    routing = {"AdditionalVersionWeights": {"13": 0.3}}
    sandbox.change_alias("payments-api", "live", FunctionVersion="12", RoutingConfig=routing)
    write(estate, ROUTED.replace("0.99", "0.1"))
    policy(estate, "freeze: [{from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z'}]\n")
    assert apply(sandbox, estate) == 0
    assert alias(sandbox) == ("12", 0.1)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("max_step: 0\n", 1, "max_step: Input should be greater than or equal to 1"),
        ("max_step: ten\n", 1, "max_step"),
        ("min_bake: 5\n", 1, "min_bake"),
        ("min_bake: 5d\n", 1, "a duration is a whole number and a unit"),
        ("maxstep: 25\n", 1, "unknown key 'maxstep'"),
        (
            "freeze: [{from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z'}]\n",
            1,
            "'to' must be later",
        ),
        ("freeze:\n  - {from: '2026-01-01', to: '2026-01-02T00:00:00Z'}\n", 2, "no time zone"),
        ("require_rollout: live\n", 1, "require_rollout"),
    ],
)
def test_a_bad_policy_is_refused_at_its_line(
    sandbox: Sandbox,
    estate: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    line: int,
    words: str,
) -> None:
    write(estate, manifest("{canary: 10, bake: 1s}"))
    rule_file = policy(estate, text)
    code, out = plan(sandbox, estate, capsys)
    assert code == 1
    problem = next(x for x in out.splitlines() if x.startswith(str(rule_file)))
    assert problem.startswith(f"{rule_file}:{line}:")
    assert words in problem
    assert writes(sandbox) == 0


def test_a_policy_file_is_not_read_as_a_manifest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "m.yaml").write_text("function: f\nregion: eu-west-1\naliases: []\n")
    policy(tmp_path, "max_step: 25\n")
    assert main(["validate", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("1 file, 1 function")


def test_a_saved_plan_meets_the_freeze_that_began_after_it_was_made(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(estate, manifest("{canary: 10, bake: 1s}"))
    saved = estate.parent / f"{estate.name}-plan.json"
    assert main(["plan", str(estate), "--out", str(saved), "--endpoint-url", sandbox.url]) == 0
    policy(estate, "freeze: [{from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z'}]\n")
    capsys.readouterr()
    code = main(
        [
            "apply",
            str(saved),
            "--manifests",
            str(estate),
            "--auto-approve",
            "--endpoint-url",
            sandbox.url,
        ]
    )
    assert code == 1
    assert "breaks freeze" in capsys.readouterr().err
    assert writes(sandbox) == 0


def test_a_saved_plan_with_a_rollout_is_applied_only_beside_its_manifests(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """policy.yaml lives beside the manifests: a saved plan that carries a rollout is refused
    without --manifests (exit 1, nothing written), so a freeze that began after it was made is
    never skipped by leaving the option out."""
    write(estate, manifest("{canary: 10, bake: 1s}"))
    saved = estate.parent / f"{estate.name}-plan.json"
    assert main(["plan", str(estate), "--out", str(saved), "--endpoint-url", sandbox.url]) == 0
    policy(estate, "freeze: [{from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z'}]\n")
    capsys.readouterr()
    code = main(["apply", str(saved), "--auto-approve", "--endpoint-url", sandbox.url])
    assert code == 1
    assert "apply it with --manifests DIR" in capsys.readouterr().err
    assert writes(sandbox) == 0
    assert alias(sandbox) == ("12", None)


def test_in_a_freeze_the_scheduled_runner_still_watches_rollouts_under_way(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(estate, manifest("{steps: [10, 50], bake: 1h, alarms: [payments-api-errors]}"))
    assert apply(sandbox, estate, "--no-wait") == 0
    # A freeze begins, and a plain version change waits in the manifests.
    write(
        estate,
        manifest("{steps: [10, 50], bake: 1h, alarms: [payments-api-errors]}")
        + ("  - name: beta\n    version: 13\n"),
    )
    sandbox.change_alias("payments-api", "beta", FunctionVersion="12")
    policy(estate, "freeze: [{from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z'}]\n")
    assert apply(sandbox, estate) == 1  # the approved apply: the plain change breaks the freeze
    assert apply(sandbox, estate, "--rollouts-only", "--no-wait") == 0  # the runner: watches
    sandbox.set_alarm_state("payments-api-errors", "ALARM")
    assert apply(sandbox, estate, "--rollouts-only", "--no-wait") == 4
    assert alias(sandbox) == ("12", None)

"""The plan tells the truth about a rollout: what apply will do to it now, read from the live alias
and the rollout's tag, in text, markdown, JSON and the exit code, against the sandbox over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from tests.conftest import make_client
from tests.test_rollout_engine import (
    TAG,
    alias,
    apply,
    backdate,
    estate,
    manifest,
    set_tag,
    tags,
    write,
    writes,
)

__all__ = ["estate"]  # the fixture, shared


def run(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--endpoint-url", sandbox.url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def plan(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], path: Path, *args: str
) -> tuple[int, str]:
    return run(sandbox, capsys, "plan", str(path), "--detailed-exitcode", *args)


def test_the_plan_says_a_rolled_back_rollout_is_held_and_how_to_try_again(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {before: smoke-fail}}"))
    assert apply(sandbox, path) == 4
    capsys.readouterr()
    code, out = plan(sandbox, capsys, path)
    assert code == 0, out  # apply will write nothing: no change to show
    assert "12 -> 13 via" not in out
    line = next(x for x in out.splitlines() if "payments-api:live" in x)
    assert "v12 -> v13 rolled back: hook smoke-fail failed at " in line, line
    assert "apply writes nothing while that failure stands" in line, line
    assert "to try again: reconcile rollout retry payments-api:live" in line, line
    assert "Plan:" not in out
    assert out.rstrip().endswith("1 rollout held.")
    code, out = plan(sandbox, capsys, path, "-o", "markdown")
    assert code == 0
    assert "### reconcile plan: no changes; 1 rollout held." in out
    assert "rolled back: hook smoke-fail failed at " in out
    assert "`reconcile rollout retry payments-api:live`" in out
    code, out = plan(sandbox, capsys, path, "-o", "json")
    document = json.loads(out[: out.rindex("}") + 1])
    assert document["summary"]["change"] == 0
    assert document["summary"]["held"] == 1
    (change,) = [c for c in document["changes"] if c["alias"] == "live"]
    assert change["standing"]["phase"] == "rolled back"
    assert change["standing"]["apply_writes"] is False
    assert change["rollout_tag"] == tags(sandbox)[TAG]


def test_the_plan_names_the_alarm_that_rolled_a_rollout_back(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h, alarms: [payments-api-p99]}"))
    assert apply(sandbox, path, "--no-wait") == 0
    sandbox.set_alarm_state("payments-api-p99", "ALARM")
    assert apply(sandbox, path, "--no-wait") == 4
    sandbox.set_alarm_state("payments-api-p99", "OK")
    capsys.readouterr()
    code, out = plan(sandbox, capsys, path)
    assert code == 0, out
    assert "v12 -> v13 rolled back: alarm payments-api-p99 fired at " in out


def test_the_plan_says_where_a_rollout_under_way_stands_and_what_comes_next(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    capsys.readouterr()
    code, out = plan(sandbox, capsys, path)
    assert code == 2, out  # apply will move it on
    assert "under way, at 10% on v13 (step 1 of 3); next: 50% at " in out, out
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in out


def test_a_canary_by_hand_below_the_first_step_is_held_a_full_bake_then_moved_on(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """25 % on v13 by hand, steps [50]: taken over where it is, as a canary at a step is."""
    sandbox.change_alias(
        "payments-api",
        "live",
        FunctionVersion="12",
        RoutingConfig={"AdditionalVersionWeights": {"13": 0.25}},
    )
    path = write(estate, manifest("{steps: [50], bake: 1h}"))
    capsys.readouterr()
    code, out = plan(sandbox, capsys, path)
    assert code == 2, out
    assert (
        "under way, at 25% on v13 (below step 1 of 2); next: 50% after a 1h bake from the "
        "next apply" in out
    ), out
    before = writes(sandbox)
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.25)  # held: its bake starts now
    assert writes(sandbox) == before
    assert "weight=0.25" in tags(sandbox)[TAG]
    backdate(sandbox, 3600)
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.5)


def test_a_rollout_over_a_canary_by_hand_on_another_version_says_it_removes_it(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.change_alias(
        "payments-api",
        "live",
        FunctionVersion="12",
        RoutingConfig={"AdditionalVersionWeights": {"14": 0.3}},
    )
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    capsys.readouterr()
    code, out = plan(sandbox, capsys, path)
    assert code == 2, out
    assert "12 -> 13 via 10% -> 50% -> 100%" in out, out
    assert "; not started; removes 30% on v14" in out, out
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.1)


def test_a_function_at_lambdas_tag_limit_is_refused_a_rollout_while_planning(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lambda holds 50 tags a function: the rollout's own would be the 51st."""
    lam = make_client(sandbox)
    arn = lam.get_function(FunctionName="payments-api")["Configuration"]["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={f"team{i}": "payments" for i in range(49)})
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    capsys.readouterr()
    assert plan(sandbox, capsys, path)[0] == 2  # room for one more
    lam.tag_resource(Resource=arn, Tags={"team49": "payments"})
    code, out = plan(sandbox, capsys, path)
    assert code == 1, out
    assert "the function has 50 tags, and Lambda holds at most 50 a function" in out, out
    before = writes(sandbox)
    assert apply(sandbox, path, "--no-wait") == 1
    assert alias(sandbox) == ("12", None)
    assert writes(sandbox) == before


def test_the_plan_says_a_rollout_someone_else_changed_is_left_as_it_is(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    sandbox.change_alias(
        "payments-api",
        "live",
        FunctionVersion="12",
        RoutingConfig={"AdditionalVersionWeights": {"13": 0.3}},
    )
    capsys.readouterr()
    code, out = plan(sandbox, capsys, path)
    assert code == 0, out
    assert "v12 -> v13 stopped: " in out
    assert "apply leaves it as it is" in out
    before = writes(sandbox)
    assert apply(sandbox, path) == 3
    assert writes(sandbox) == before


def test_the_plan_says_a_freeze_holds_a_rollout_under_way(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1s}"))
    assert apply(sandbox, path, "--no-wait") == 0
    (estate / "policy.yaml").write_text(
        "freeze: [{from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z', reason: audit}]\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    code, out = plan(sandbox, capsys, estate)
    assert code == 0, out
    assert "v12 -> v13 held at 10% on v13: frozen until 2099-01-01T00:00:00+00:00 (audit)" in out
    before = writes(sandbox)
    assert apply(sandbox, estate, "--no-wait") == 0
    assert (writes(sandbox), alias(sandbox)) == (before, ("12", 0.1))


def test_a_saved_plan_that_showed_a_rollout_held_does_not_start_it_after_a_retry(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(estate, manifest("{canary: 10, bake: 1s, hooks: {before: smoke-fail}}"))
    assert apply(sandbox, estate) == 4
    saved = estate.parent / f"{estate.name}-plan.json"
    assert run(sandbox, capsys, "plan", str(estate), "--out", str(saved))[0] == 0
    assert run(sandbox, capsys, "rollout", "retry", "payments-api:live")[0] == 0
    code, out = run(
        sandbox, capsys, "apply", str(saved), "--auto-approve", "--manifests", str(estate)
    )
    assert code == 3, out
    assert "plan again" in out
    assert (writes(sandbox), alias(sandbox)) == (0, ("12", None))


def test_a_rollout_reverted_in_the_manifest_is_planned_as_a_rollback_and_can_start_again(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mid-rollout the manifest goes back to v12 (a git revert), then forward to v13 again."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.1)
    write(estate, manifest("{steps: [10, 50], bake: 1h}", version=12))
    capsys.readouterr()
    code, out = plan(sandbox, capsys, path)
    assert code == 2, out
    assert "~ 123456789012/eu-west-1/payments-api:live  rolls back the rollout v12 -> v13 " in out
    assert "(at 10% on v13): v12 takes all the traffic at once" in out
    assert apply(sandbox, path) == 0
    assert alias(sandbox) == ("12", None)
    assert TAG not in tags(sandbox)  # the rollout is over: nothing recorded
    write(estate, manifest("{steps: [10, 50], bake: 1h}", version=13))
    capsys.readouterr()
    code = apply(sandbox, path, "--no-wait")
    out = capsys.readouterr().out
    assert (code, alias(sandbox)) == (0, ("12", 0.1)), out


def test_a_rollout_dropped_from_the_manifest_for_another_version_forgets_its_tag(
    sandbox: Sandbox, estate: Path
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    write(
        estate,
        "function: payments-api\nregion: eu-west-1\naliases:\n  - name: live\n    version: 14\n",
    )
    assert apply(sandbox, path) == 0
    assert alias(sandbox) == ("14", None)
    assert TAG not in tags(sandbox)


@pytest.mark.parametrize(
    ("steps", "then"),
    [
        ("[20, 50]", 0.2),  # the live 10 % is below every step: the first is next
        ("[5, 50]", 0.5),  # between two steps: the one above it is next
        ("[10, 30, 50]", 0.3),  # on a step: the one after it
    ],
)
def test_steps_changed_mid_rollout_carry_on_from_the_live_weight(
    sandbox: Sandbox,
    estate: Path,
    capsys: pytest.CaptureFixture[str],
    steps: str,
    then: float,
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    assert "weight=0.1" in tags(sandbox)[TAG]  # every step records its weight
    write(estate, manifest(f"{{steps: {steps}, bake: 1h}}"))
    capsys.readouterr()
    code = apply(sandbox, path, "--no-wait")
    out = capsys.readouterr().out
    assert (code, alias(sandbox)) == (0, ("12", 0.1)), out  # its bake is not over yet
    assert "someone else" not in out
    backdate(sandbox, 3600)
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", then)


def test_status_says_an_abort_in_words(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    assert run(sandbox, capsys, "rollout", "abort", "payments-api:live")[0] == 0
    code, out = run(sandbox, capsys, "rollout", "status", str(path))
    assert code == 0
    assert "aborted by hand" in out, out
    assert "by_hand" not in out
    code, out = run(sandbox, capsys, "apply", str(path), "--auto-approve")
    assert code == 4
    assert "(aborted by hand)" in out, out


def test_the_apply_and_drift_headlines_count_the_rollouts(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    code, out = run(sandbox, capsys, "apply", str(path), "--auto-approve", "--no-wait")
    assert code == 0
    assert (
        "Apply: 0 created, 0 updated, 0 deleted, 0 unchanged, 0 stale, 0 failed; "
        "rollouts: 1 in progress.\n"
    ) in out
    args = ("apply", str(path), "--auto-approve", "--no-wait", "-o", "markdown")
    code, out = run(sandbox, capsys, *args)
    assert code == 0
    assert out.startswith(
        "### reconcile apply: 0 created, 0 updated, 0 deleted, 0 unchanged, 0 stale, 0 failed; "
        "rollouts: 1 in progress.\n"
    ), out
    code, out = run(sandbox, capsys, "drift", str(path))
    assert code == 0
    assert out.startswith(
        "No drift: 0 managed aliases match the manifests; 1 rollout in progress (not drift).\n"
    ), out
    code, out = run(sandbox, capsys, "drift", str(path), "-o", "markdown")
    assert out.startswith("### No drift\n\n0 managed aliases match the manifests; 1 rollout in "), (
        out
    )


def test_a_failed_after_hook_never_moves_the_alias_to_a_version_only_the_tag_names(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """live is on 13, as the manifest says, and a tag (anyone who may tag the function can
    write one) says a rollout from 5 to 13 is at its end. Its after hook fails: the failure is
    recorded and said, but the alias stays on 13; 5 is a version nothing checked."""
    sandbox.change_alias("payments-api", "live", FunctionVersion="13")
    set_tag(sandbox, "from=5 to=13 step=2 since=2026-11-22T04:00:00Z")
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {after: smoke-fail}}"))
    sandbox.reset_stats()
    code, out = run(sandbox, capsys, "apply", str(path), "--auto-approve")
    assert (code, alias(sandbox), writes(sandbox)) == (1, ("13", None), 0), out
    assert "the alias stays on v13" in out, out
    assert "failed=hook" in tags(sandbox)[TAG]  # the next apply runs the hook no more
    sandbox.reset_stats()
    assert run(sandbox, capsys, "apply", str(path), "--auto-approve")[0] == 0
    assert sandbox.stats()["calls"].get("Invoke", 0) == 0
    assert alias(sandbox) == ("13", None)


def test_a_failed_after_hook_rolls_back_when_the_same_run_wrote_100(
    sandbox: Sandbox, estate: Path
) -> None:
    """The runner that replaced 12 with 13 knows 12 from the alias it read: that one rolls back."""
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {after: smoke-fail}}"))
    assert apply(sandbox, path) == 4
    assert alias(sandbox) == ("12", None)


def test_a_saved_plan_applied_after_its_rollout_ended_is_stale_and_records_nothing(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan saved at 10 %; the scheduled runner then finishes the rollout (13, its tag gone).
    The saved plan, applied later, is stale: it writes no new record (which would make a later
    apply finish the rollout a second time) and says nothing is in progress."""
    path = write(estate, manifest("{canary: 10, bake: 1h, hooks: {after: smoke-ok}}"))
    assert apply(sandbox, path, "--no-wait") == 0
    saved = tmp_path / "plan.json"
    assert run(sandbox, capsys, "plan", str(path), "--out", str(saved))[0] == 0
    backdate(sandbox, 3600)
    assert apply(sandbox, path, "--no-wait", "--rollouts-only") == 0
    assert (alias(sandbox), TAG in tags(sandbox)) == (("13", None), False)
    code, out = run(
        sandbox,
        capsys,
        "apply",
        str(saved),
        "--auto-approve",
        "--no-wait",
        "--manifests",
        str(estate),
    )
    assert code == 3, out
    assert "in progress" not in out, out
    assert TAG not in tags(sandbox)
    assert alias(sandbox) == ("13", None)


def test_a_start_in_the_future_is_refused_by_the_plan_as_by_apply(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tag whose since= lies in the future: the plan refuses it (exit 1) as apply does, and
    never promises a step at that time."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    set_tag(sandbox, "from=12 to=13 step=1 since=2099-01-01T00:00:00Z weight=0.1")
    code, out = plan(sandbox, capsys, path)
    assert code == 1, out
    assert "in the future; remove it, or set it right" in out, out
    assert "next: 50% at 2099" not in out, out


def test_a_failure_recorded_with_a_start_in_the_future_still_rolls_back(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A recorded failure whatever its since= says: the plan says apply rolls back, and apply
    does, to the version the alias is on (the safe direction)."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    set_tag(sandbox, "from=12 to=13 step=1 since=2099-01-01T00:00:00Z failed=alarm why=errors")
    code, out = plan(sandbox, capsys, path)
    assert code == 2, out  # a change: the rollback
    assert "apply rolls back to v12" in out, out
    assert apply(sandbox, path, "--no-wait") == 4
    assert alias(sandbox) == ("12", None)


def test_the_plan_says_when_apply_will_finish_a_rollout_at_100(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A runner stopped between the write of 100 % and its after hook: the alias matches the
    manifest, but apply will invoke the after hook and remove the record. The plan says so,
    counts it (exit 2 with --detailed-exitcode), and carries it in the plan file; drift does
    not call it drift; once apply has finished it, the plan has nothing to say."""
    sandbox.change_alias("payments-api", "live", FunctionVersion="13")
    set_tag(sandbox, "from=12 to=13 step=2 since=2026-11-22T04:00:00Z")
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {after: smoke-ok}}"))
    code, out = plan(sandbox, capsys, path)
    assert code == 2, out
    assert "Rollouts at 100% that apply finishes:" in out, out
    assert "apply runs the after hook smoke-ok, then removes the rollout's record" in out, out
    assert "1 rollout to finish" in out, out
    saved = tmp_path / "plan.json"
    code, _ = run(sandbox, capsys, "plan", str(path), "--out", str(saved))
    assert code == 0
    (change,) = [c for c in json.loads(saved.read_text())["changes"] if c["alias"] == "live"]
    assert change["standing"]["phase"] == "at 100%"
    assert change["standing"]["apply_writes"] is True
    code, out = run(sandbox, capsys, "plan", str(path), "--output", "markdown")
    assert "**Rollouts at 100% that apply finishes:**" in out, out
    code, out = run(sandbox, capsys, "drift", str(path))
    assert code == 0, out  # the alias is as the manifests say
    sandbox.reset_stats()
    code, out = run(sandbox, capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out
    assert sandbox.stats()["calls"]["Invoke"] == 1  # as the plan said
    assert TAG not in tags(sandbox)
    code, out = plan(sandbox, capsys, path)
    assert code == 0, out
    assert out.startswith("No changes."), out


def test_a_failed_after_hook_at_100_is_said_by_the_plan_to_leave_the_alias(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Finishing a rollout another run took to 100 %: a failing after hook is recorded, and the
    alias stays where it is (only the run that wrote 100 % rolls back). The plan says both."""
    sandbox.change_alias("payments-api", "live", FunctionVersion="13")
    set_tag(sandbox, "from=12 to=13 step=2 since=2026-11-22T04:00:00Z")
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {after: smoke-fail}}"))
    code, out = plan(sandbox, capsys, path)
    assert code == 2, out
    assert "if it fails, the failure is recorded and the alias stays on v13" in out, out
    sandbox.reset_stats()
    code, out = run(sandbox, capsys, "apply", str(path), "--auto-approve")
    assert (alias(sandbox), writes(sandbox)) == (("13", None), 0), out


def test_a_record_of_another_version_at_100_is_not_a_rollout_to_finish(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tag about a rollout to another version than the alias is on: apply leaves it (the
    rollout it names is not this alias's), and the plan says no change."""
    sandbox.change_alias("payments-api", "live", FunctionVersion="13")
    set_tag(sandbox, "from=11 to=12 step=2 since=2026-11-22T04:00:00Z")
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {after: smoke-ok}}"))
    code, out = plan(sandbox, capsys, path)
    assert (code, out.startswith("No changes.")) == (0, True), out
    sandbox.reset_stats()
    run(sandbox, capsys, "apply", str(path), "--auto-approve")
    assert sandbox.stats()["calls"].get("Invoke", 0) == 0

"""Rollouts against the sandbox over HTTP, as `reconcile apply` drives them: the issue's
acceptance list, one test each, with bakes of a second or so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.providers.aws_lambda import AwsLambdaProvider
from reconciler.rollout.cloud import AlarmBoard, RolloutCloud
from reconciler.sandbox import Sandbox
from tests.conftest import REGION, make_client

ROOT = Path(__file__).resolve().parent.parent
TAG = "reconciler:rollout:live"


def manifest(rollout: str, version: int = 13) -> str:
    return (
        f"function: payments-api\nregion: {REGION}\naliases:\n"
        f"  - name: live\n    version: {version}\n    rollout: {rollout}\n"
    )


@pytest.fixture
def estate(sandbox: Sandbox, tmp_path: Path) -> Path:
    """payments-api:live on version 12 of 14; two alarms, OK; two hooks."""
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {
                    "name": "payments-api",
                    "versions": 14,
                    "aliases": [{"name": "live", "version": 12}],
                    "alarms": [{"name": "payments-api-errors"}, {"name": "payments-api-p99"}],
                },
                {"name": "smoke-ok", "hook": "succeed"},
                {"name": "smoke-fail", "hook": "fail"},
            ],
        }
    )
    sandbox.reset_stats()
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "payments-api.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def apply(sandbox: Sandbox, path: Path, *args: str) -> int:
    return main(["apply", str(path), "--auto-approve", "--endpoint-url", sandbox.url, *args])


def alias(sandbox: Sandbox) -> tuple[str, float | None]:
    answer = make_client(sandbox).get_alias(FunctionName="payments-api", Name="live")
    weights = (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
    return answer["FunctionVersion"], next(iter(weights.values()), None)


def tags(sandbox: Sandbox) -> dict[str, str]:
    lam = make_client(sandbox)
    arn = lam.get_function(FunctionName="payments-api")["Configuration"]["FunctionArn"]
    return dict(lam.list_tags(Resource=arn)["Tags"])


def writes(sandbox: Sandbox) -> int:
    return int(sandbox.stats()["calls"].get("UpdateAlias", 0))


@pytest.fixture
def seen(sandbox: Sandbox) -> Iterator[list[tuple[str, float | None]]]:
    """Every distinct state of the alias, in order, as another reader polling it sees them."""
    states: list[tuple[str, float | None]] = []
    done = threading.Event()

    def watch() -> None:
        client = make_client(sandbox)
        while not done.is_set():
            try:
                answer = client.get_alias(FunctionName="payments-api", Name="live")
            except Exception:
                time.sleep(0.02)
                continue
            weights = (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            state = (answer["FunctionVersion"], next(iter(weights.values()), None))
            if not states or states[-1] != state:
                states.append(state)
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    yield states
    done.set()
    thread.join()


def when_at(sandbox: Sandbox, weight: float, then: Callable[[], object]) -> threading.Thread:
    """Do ``then`` once the alias is seen at ``weight`` on the new version: mid-bake, however
    slowly the apply got there."""

    client = make_client(sandbox)

    def watch() -> None:
        for _ in range(3000):
            answer = client.get_alias(FunctionName="payments-api", Name="live")
            weights = (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            if weights.get("13") == weight:
                then()
                return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_three_step_rollout_reaches_100_with_each_weight_in_order(
    sandbox: Sandbox,
    estate: Path,
    seen: list[tuple[str, float | None]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = write(
        estate,
        manifest(
            "{steps: [5, 25, 50], bake: 1s, alarms: [payments-api-errors, payments-api-p99], "
            "hooks: {before: smoke-ok, after: smoke-ok}}"
        ),
    )
    assert apply(sandbox, path) == 0
    time.sleep(0.1)
    assert seen == [("12", None), ("12", 0.05), ("12", 0.25), ("12", 0.5), ("13", None)]
    out = capsys.readouterr().out
    steps = [line for line in out.splitlines() if line.startswith("step")]
    assert [line.split(": ", 1)[1].split(" (")[0] for line in steps] == [
        "5% on v13",
        "25% on v13",
        "50% on v13",
        "100% on v13",
    ]
    assert "rollout completed" in out
    assert writes(sandbox) == 4  # one UpdateAlias a step
    assert sandbox.stats()["calls"]["Invoke"] == 2  # the before and after hooks
    assert TAG not in tags(sandbox)  # done: nothing left recorded
    assert apply(sandbox, path) == 0  # and again: nothing to do
    assert writes(sandbox) == 4


def test_an_alarm_mid_bake_rolls_back_and_the_failure_stands(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 2s, alarms: [payments-api-p99]}"))
    timer = when_at(sandbox, 0.1, lambda: sandbox.set_alarm_state("payments-api-p99", "ALARM"))
    assert apply(sandbox, path) == 4
    timer.join()
    assert alias(sandbox) == ("12", None)
    out = capsys.readouterr().out
    assert "to v12: alarm payments-api-p99 is in ALARM" in out
    assert "failed=alarm why=payments-api-p99" in tags(sandbox)[TAG]
    sandbox.set_alarm_state("payments-api-p99", "OK")
    before = writes(sandbox)
    assert apply(sandbox, path) == 4  # the failure stands: no write, and it says why
    assert writes(sandbox) == before
    out = capsys.readouterr().out
    assert "no write while that failure stands" in out
    assert "reconcile rollout retry payments-api:live" in out


def test_a_failing_before_hook_moves_no_traffic(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {before: smoke-fail}}"))
    assert apply(sandbox, path) == 4
    assert alias(sandbox) == ("12", None)
    assert writes(sandbox) == 0
    out = capsys.readouterr().out
    assert 'hook smoke-fail answered {"status": "Failed"}' in out
    assert "no traffic moved" in out
    assert apply(sandbox, path) == 4
    assert writes(sandbox) == 0


def test_a_new_version_starts_over_after_a_failure(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {before: smoke-fail}}"))
    assert apply(sandbox, path) == 4
    write(estate, manifest("{canary: 10, bake: 1s}", version=14))
    assert apply(sandbox, path) == 0
    assert alias(sandbox) == ("14", None)


def test_an_out_of_band_change_mid_rollout_stops_it_and_survives(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1s}"))
    # Right after the first step is recorded, someone else sets 30 %.
    sandbox.change_alias_after(
        "TagResource",
        "payments-api",
        "live",
        FunctionVersion="12",
        RoutingConfig={"AdditionalVersionWeights": {"13": 0.3}},
    )
    assert apply(sandbox, path) == 3
    assert alias(sandbox) == ("12", 0.3)  # their change survives
    assert "changed by someone else" in capsys.readouterr().out
    before = writes(sandbox)
    assert apply(sandbox, path) == 3  # and a fresh runner does not take it over either
    assert writes(sandbox) == before
    assert alias(sandbox) == ("12", 0.3)


def backdate(sandbox: Sandbox, seconds: int) -> None:
    """Move the recorded start of the step back: its bake passes without waiting for it."""
    lam = make_client(sandbox)
    arn = lam.get_function(FunctionName="payments-api")["Configuration"]["FunctionArn"]
    words = dict(w.split("=", 1) for w in tags(sandbox)[TAG].split())
    since = datetime.strptime(words["since"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    words["since"] = (since - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    value = " ".join(f"{k}={v}" for k, v in words.items())
    lam.tag_resource(Resource=arn, Tags={TAG: value})


def test_no_wait_makes_one_due_step_per_call(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h, alarms: [payments-api-errors]}"))
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.1)
    assert "rollout in progress" in capsys.readouterr().out
    assert apply(sandbox, path, "--no-wait") == 0  # the bake has not passed: nothing moves
    assert alias(sandbox) == ("12", 0.1)
    assert writes(sandbox) == 1
    backdate(sandbox, 3600)
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.5)  # one step, not two
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.5)
    backdate(sandbox, 3600)
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("13", None)
    assert "rollout completed" in capsys.readouterr().out
    assert writes(sandbox) == 3
    assert TAG not in tags(sandbox)


def reconcile(sandbox: Sandbox, path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "reconciler", "apply", str(path), "--auto-approve"),
            *(
                "--endpoint-url",
                sandbox.url,
            ),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def wait_for_line(process: subprocess.Popen[str], start: str) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(start):
            return line
    raise AssertionError(f"no line starting {start!r}; stderr: {process.stderr.read()}")  # type: ignore[union-attr]


def test_sigkill_mid_bake_then_a_rerun_resumes_at_the_same_step(
    sandbox: Sandbox, estate: Path, seen: list[tuple[str, float | None]]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 2s}"))
    process = reconcile(sandbox, path)
    assert "10% on v13" in wait_for_line(process, "step")
    process.kill()  # SIGKILL: no clean-up of any kind
    process.wait()
    assert alias(sandbox) == ("12", 0.1)
    assert "step=1" in tags(sandbox)[TAG]
    assert main(["apply", str(path), "--auto-approve", "--endpoint-url", sandbox.url]) == 0
    time.sleep(0.1)
    # Never back to 0 %, never 10 % written again, never a step skipped.
    assert seen == [("12", None), ("12", 0.1), ("12", 0.5), ("13", None)]
    assert writes(sandbox) == 3


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_bake_stops_cleanly_and_traffic_stays(
    sandbox: Sandbox, estate: Path, signum: int
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 30s}"))
    process = reconcile(sandbox, path)
    wait_for_line(process, "step")
    process.send_signal(signum)
    out, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert "traffic stays at 10% on v13" in out
    assert alias(sandbox) == ("12", 0.1)
    assert "step=1" in tags(sandbox)[TAG]


def test_preflight_refuses_a_rollout_that_would_fail_midway(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {
                    "name": "payments-api",
                    "versions": [{}, {}, {"role": "other-role"}],
                    "aliases": [
                        {"name": "live", "version": 1, "provisioned_concurrency": 2},
                        {"name": "beta", "version": 1},
                    ],
                    "alarms": [{"name": "payments-api-errors"}],
                }
            ],
        }
    )
    path = tmp_path / "m.yaml"
    path.write_text(
        f"function: payments-api\nregion: {REGION}\naliases:\n"
        "  - name: live\n    version: 2\n"
        "    rollout: {canary: 10, bake: 1s, alarms: [payments-api-errors, nope-alarm], "
        "hooks: {before: nope-hook}}\n"
        "  - name: beta\n    version: 3\n    rollout: {canary: 10, bake: 1s}\n",
        encoding="utf-8",
    )
    before = writes(sandbox)
    assert main(["apply", str(path), "--auto-approve", "--endpoint-url", sandbox.url]) == 1
    err = capsys.readouterr().err
    assert f"{path}:4:5: payments-api:live: alarm 'nope-alarm' does not exist in {REGION}" in err
    assert "payments-api:live: hook function 'nope-hook' does not exist" in err
    assert "payments-api:live has provisioned concurrency (2)" in err
    assert f"{path}:7:5: payments-api:beta: versions 1 and 3 have different execution roles" in err
    assert writes(sandbox) == before
    assert "payments-api-errors'" not in err


def test_rollouts_only_moves_rollouts_under_way_and_nothing_else(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1s}"))
    assert apply(sandbox, path, "--rollouts-only", "--no-wait") == 0
    assert alias(sandbox) == ("12", None)  # not under way: starting one needs the approved apply
    assert writes(sandbox) == 0
    assert apply(sandbox, path, "--no-wait") == 0
    extra = "  - name: beta\n    version: 14\n"
    write(estate, manifest("{steps: [10, 50], bake: 1s}") + extra)
    time.sleep(1.1)
    assert apply(sandbox, path, "--rollouts-only", "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.5)
    aliases = make_client(sandbox).list_aliases(FunctionName="payments-api")["Aliases"]
    assert [a["Name"] for a in aliases] == ["live"]  # beta was not created


def test_the_apply_markdown_draws_the_traffic_and_the_moment_an_alarm_fired(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 2s, alarms: [payments-api-p99]}"))
    timer = when_at(sandbox, 0.1, lambda: sandbox.set_alarm_state("payments-api-p99", "ALARM"))
    assert apply(sandbox, path, "-o", "markdown") == 4
    timer.join()
    out = capsys.readouterr().out
    assert "| rolled back | " in out
    chart = out.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert chart.startswith("xychart-beta\n")
    assert " alarm" in chart.split("x-axis", 1)[1].split("\n", 1)[0]
    assert chart.rstrip().endswith("line [10, 10, 0]")  # step 1, the alarm, the rollback


def test_the_apply_report_carries_each_rollout(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    report = estate / "report.json"
    assert apply(sandbox, path, "--no-wait", "-o", "json", "--report", str(report)) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads(report.read_text(encoding="utf-8"))
    assert printed == saved
    (rollout,) = saved["rollouts"]
    assert (rollout["outcome"], rollout["from"], rollout["to"]) == ("in progress", "12", "13")
    assert [e["percent"] for e in rollout["events"]] == [10]


def test_an_alarm_deleted_mid_bake_fails_the_rollout(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 2s, alarms: [payments-api-p99]}"))
    cloudwatch = make_client(sandbox, "cloudwatch")
    timer = when_at(sandbox, 0.1, lambda: cloudwatch.delete_alarms(AlarmNames=["payments-api-p99"]))
    assert apply(sandbox, path) == 4
    timer.join()
    assert alias(sandbox) == ("12", None)
    assert "alarm payments-api-p99 no longer exists" in capsys.readouterr().out


def test_the_alarms_of_every_rollout_are_read_together(sandbox: Sandbox, estate: Path) -> None:
    now = [0.0]
    provider = AwsLambdaProvider(region=REGION, endpoint_url=sandbox.url)
    board = AlarmBoard(RolloutCloud(provider), max_age=1.0, clock=lambda: now[0])
    board.watch(REGION, ["payments-api-errors"])
    board.watch(REGION, ["payments-api-p99"])

    def calls() -> int:
        return int(sandbox.stats()["calls"].get("monitoring:DescribeAlarms", 0))

    sandbox.reset_stats()
    both = {"payments-api-errors": "OK", "payments-api-p99": "OK"}
    assert board.states(REGION, ["payments-api-errors"]) == both  # one read for both rollouts
    assert board.states(REGION, ["payments-api-p99"]) == both
    assert calls() == 1
    now[0] = 1.0
    sandbox.set_alarm_state("payments-api-p99", "ALARM")
    assert board.states(REGION, ["payments-api-p99"])["payments-api-p99"] == "ALARM"
    assert calls() == 2


def test_a_hook_is_invoked_once_even_when_lambda_fails_to_answer(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {before: smoke-ok}}"))
    sandbox.add_fault("error", "Invoke")  # a 500: boto3 would retry it, and run the hook twice
    assert apply(sandbox, path) == 4
    assert sandbox.stats()["calls"]["Invoke"] == 1
    assert alias(sandbox) == ("12", None)
    assert "no traffic moved" in capsys.readouterr().out


def test_a_rollout_does_not_start_while_an_alarm_fires(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.set_alarm_state("payments-api-p99", "ALARM")
    path = write(estate, manifest("{canary: 10, bake: 1s, alarms: [payments-api-p99]}"))
    assert apply(sandbox, path) == 4
    assert writes(sandbox) == 0
    assert "alarm payments-api-p99 is in ALARM; no traffic moved" in capsys.readouterr().out


def test_rollouts_of_one_apply_run_side_by_side(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.change_alias("payments-api", "beta", FunctionVersion="12")
    path = write(
        estate,
        manifest("{canary: 50, bake: 1s}")
        + "  - name: beta\n    version: 13\n    rollout: {canary: 20, bake: 1s}\n",
    )
    assert apply(sandbox, path) == 0
    steps = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step")]
    firsts = [i for i, line in enumerate(steps) if "(step 1 of 2)" in line]
    lasts = [i for i, line in enumerate(steps) if "100% on v13" in line]
    assert len(firsts) == len(lasts) == 2
    assert max(firsts) < min(lasts)  # both first steps before either end: side by side


def test_a_runner_killed_after_the_last_write_is_finished_by_the_next(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # As a runner leaves it when killed between the write of 100 % and its after hook.
    sandbox.change_alias("payments-api", "live", FunctionVersion="13")
    lam = make_client(sandbox)
    arn = lam.get_function(FunctionName="payments-api")["Configuration"]["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={TAG: "from=12 to=13 step=2 since=2026-11-22T04:00:00Z"})
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {after: smoke-ok}}"))
    sandbox.reset_stats()
    assert apply(sandbox, path) == 0
    assert sandbox.stats()["calls"]["Invoke"] == 1  # the after hook, once
    assert writes(sandbox) == 0
    assert TAG not in tags(sandbox)
    assert "rollout completed" in capsys.readouterr().out


def test_a_canary_by_hand_is_taken_over_never_moved_back(
    sandbox: Sandbox, estate: Path, seen: list[tuple[str, float | None]]
) -> None:
    routing = {"AdditionalVersionWeights": {"13": 0.3}}  # the manifest's routing until now
    sandbox.change_alias("payments-api", "live", FunctionVersion="12", RoutingConfig=routing)
    path = write(estate, manifest("{steps: [10, 50], bake: 1s}"))
    assert apply(sandbox, path, "--no-wait") == 0  # held where it is, a full bake from now
    assert alias(sandbox) == ("12", 0.3)
    assert "weight=0.3" in tags(sandbox)[TAG]
    assert writes(sandbox) == 0
    assert apply(sandbox, path) == 0
    time.sleep(0.1)
    moved = [state for state in seen if state != ("12", None)]  # before the hand change
    assert moved == [("12", 0.3), ("12", 0.5), ("13", None)]  # never back to 10 %


def set_tag(sandbox: Sandbox, value: str) -> None:
    lam = make_client(sandbox)
    arn = lam.get_function(FunctionName="payments-api")["Configuration"]["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={TAG: value})


def test_a_tag_that_names_a_later_step_at_the_live_weight_does_not_skip_steps(
    sandbox: Sandbox, estate: Path
) -> None:
    """A rewritten tag never skips a step: the step is the live weight's place among the steps,
    whatever step the tag names; here 10 % is step 1, so a tag saying step 3 at 10 % moves it on
    to step 2 (25 %), never to 50 % or 100 %."""
    path = write(estate, manifest("{steps: [10, 25, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.1)
    set_tag(sandbox, "from=12 to=13 step=3 since=2020-01-01T00:00:00Z weight=0.1")
    code = apply(sandbox, path, "--no-wait")
    assert (code, alias(sandbox)) == (0, ("12", 0.25))


def test_rollouts_only_never_takes_over_a_canary_set_by_hand(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The scheduled runner (--no-wait --rollouts-only, no reviewers) moves on only rollouts an
    approved apply started, as their tag records: routing to the new version set by hand, with no
    tag, is left as it is and nothing is recorded; a normal apply takes it over."""
    routing = {"AdditionalVersionWeights": {"13": 0.1}}
    sandbox.change_alias("payments-api", "live", FunctionVersion="12", RoutingConfig=routing)
    path = write(estate, manifest("{steps: [5, 25, 50], bake: 1s}"))
    for _ in range(3):
        assert apply(sandbox, path, "--no-wait", "--rollouts-only") == 0
        time.sleep(1.1)
    assert alias(sandbox) == ("12", 0.1)
    assert writes(sandbox) == 0
    assert TAG not in tags(sandbox)
    assert "not taken over by --rollouts-only" in capsys.readouterr().out
    assert apply(sandbox, path, "--no-wait") == 0  # the approved apply takes it over
    assert "weight=0.1" in tags(sandbox)[TAG]
    time.sleep(1.1)
    assert apply(sandbox, path, "--no-wait", "--rollouts-only") == 0  # now it is recorded
    assert alias(sandbox) == ("12", 0.25)


def test_an_alarm_rolls_back_even_when_another_runner_moved_a_step_meanwhile(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A rollback that meets a 412 because another runner's step of the same rollout landed
    meanwhile (here 50 %, right after the failure was recorded) reads the alias again and rolls
    back with the fresh RevisionId: the version whose alarm fired is left with no traffic, exit 4,
    and the failure stays recorded."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1h, alarms: [payments-api-errors]}"))
    assert apply(sandbox, path, "--no-wait") == 0
    sandbox.set_alarm_state("payments-api-errors", "ALARM")
    sandbox.change_alias_after(  # the other runner's step 2, as it lands
        "TagResource",
        "payments-api",
        "live",
        FunctionVersion="12",
        RoutingConfig={"AdditionalVersionWeights": {"13": 0.5}},
    )
    code = apply(sandbox, path, "--no-wait")
    out = capsys.readouterr().out
    assert (code, alias(sandbox)) == (4, ("12", None)), out
    assert "failed=alarm" in tags(sandbox)[TAG]


def test_a_step_is_not_made_over_a_failure_another_runner_recorded(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tag is read again before each step: when another runner has recorded a failure of this
    rollout during this one's bake, no step is made, that record is not overwritten, and the
    exit is 4 (the failure stands)."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1s}"))
    since = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    failed = f"from=12 to=13 step=1 since={since} failed=alarm why=payments-api-errors"

    def record_a_failure() -> None:  # once this runner's own record of step 1 has landed
        while TAG not in tags(sandbox):
            time.sleep(0.02)
        set_tag(sandbox, failed)

    timer = when_at(sandbox, 0.1, record_a_failure)
    code = apply(sandbox, path)
    timer.join()
    assert (code, alias(sandbox)) == (4, ("12", 0.1)), capsys.readouterr().out
    assert tags(sandbox)[TAG] == failed


def test_a_start_in_the_future_in_the_tag_is_not_believed(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tag whose since= lies in the future (set by hand to 2099) would hold the rollout for
    years: it is an unreadable tag, exit 1 with a line that says to remove it or set it right,
    and nothing is written."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1m}"))
    assert apply(sandbox, path, "--no-wait") == 0
    set_tag(sandbox, "from=12 to=13 step=1 since=2099-01-01T00:00:00Z")
    capsys.readouterr()
    before = writes(sandbox)
    assert apply(sandbox, path, "--no-wait") == 1
    captured = capsys.readouterr()  # refused while planning, as an unreadable tag is
    assert "in the future; remove it, or set it right" in captured.out + captured.err
    assert writes(sandbox) == before
    assert alias(sandbox) == ("12", 0.1)

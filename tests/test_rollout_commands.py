"""`reconcile rollout status|promote|abort|retry`, and drift telling rollouts apart, against the
sandbox over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from tests.test_rollout_engine import TAG, alias, apply, estate, manifest, tags, write, writes

__all__ = ["estate"]  # the fixture, shared


def run(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--endpoint-url", sandbox.url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def started(sandbox: Sandbox, estate: Path, rollout: str = "{steps: [10, 50], bake: 1h}") -> Path:
    path = write(estate, manifest(rollout))
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("12", 0.1)
    return path


def test_status_shows_a_rollout_in_progress_in_text_markdown_and_json(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = started(sandbox, estate, "{steps: [10, 50], bake: 1h, alarms: [payments-api-errors]}")
    sandbox.set_alarm_state("payments-api-errors", "INSUFFICIENT_DATA")
    capsys.readouterr()
    code, out = run(sandbox, capsys, "rollout", "status", str(path))
    assert code == 0
    line = next(x for x in out.splitlines() if "payments-api:live" in x)
    assert "v12 -> v13  in progress  step 1 of 3  10% on v13  since " in line
    assert "next step due " in line
    assert line.endswith("alarms: payments-api-errors INSUFFICIENT_DATA")
    code, out = run(sandbox, capsys, "rollout", "status", str(path), "-o", "markdown")
    assert "| v12 &rarr; v13 | in progress | 1 of 3 | 10% on v13 |" in out
    assert "```mermaid\nxychart-beta\n" in out
    assert "    bar [0, 10, 0, 0]\n    line [0, 10, 50, 100]" in out
    code, out = run(sandbox, capsys, "rollout", "status", str(path), "-o", "json")
    (entry,) = json.loads(out[: out.rindex("}") + 1])["rollouts"]
    assert (entry["phase"], entry["step"], entry["percent"]) == ("in progress", "1 of 3", 10)
    assert entry["alarms"] == [{"name": "payments-api-errors", "state": "INSUFFICIENT_DATA"}]


def test_status_says_when_nothing_is_in_progress(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1h}", version=12))
    assert run(sandbox, capsys, "rollout", "status", str(path)) == (
        0,
        "No rollout in progress or rolled back.\n",
    )


def test_promote_goes_to_100_now(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = started(sandbox, estate)
    code, out = run(sandbox, capsys, "rollout", "promote", "payments-api:live")
    assert code == 0
    assert "promoted: v13 takes all the traffic" in out
    assert alias(sandbox) == ("13", None)
    assert TAG not in tags(sandbox)
    assert apply(sandbox, path) == 0  # nothing left to do
    assert alias(sandbox) == ("13", None)


def test_abort_rolls_back_now_and_retry_starts_over(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = started(sandbox, estate, "{steps: [10, 50], bake: 1s}")
    code, out = run(sandbox, capsys, "rollout", "abort", "payments-api:live")
    assert code == 0
    assert "aborted: rolled back to v12" in out
    assert alias(sandbox) == ("12", None)
    assert "failed=aborted" in tags(sandbox)[TAG]
    before = writes(sandbox)
    assert apply(sandbox, path) == 4  # the abort stands
    assert writes(sandbox) == before
    code, out = run(sandbox, capsys, "rollout", "status", str(path))
    assert "v12 -> v13  rolled back  step -  0% on v13" in out
    assert run(sandbox, capsys, "rollout", "retry", "payments-api:live")[0] == 0
    assert TAG not in tags(sandbox)
    assert apply(sandbox, path) == 0
    assert alias(sandbox) == ("13", None)


@pytest.mark.parametrize("command", ["promote", "abort", "retry"])
def test_by_hand_without_a_rollout_is_an_error_and_writes_nothing(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    code, out = run(sandbox, capsys, "rollout", command, "payments-api:live")
    assert code == 1
    assert "has no" in out
    assert writes(sandbox) == 0


def test_drift_tells_a_rollout_in_progress_or_rolled_back_apart(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    code, out = run(sandbox, capsys, "drift", str(path))
    assert code == 2  # not started: the manifest is ahead of the cloud, as for any change
    assert apply(sandbox, path, "--no-wait") == 0
    code, out = run(sandbox, capsys, "drift", str(path))
    assert code == 0
    assert "Rollouts (not drift):" in out
    assert "payments-api:live: v12 -> v13 in progress, 10% on v13" in out
    assert run(sandbox, capsys, "rollout", "abort", "payments-api:live")[0] == 0
    code, out = run(sandbox, capsys, "drift", str(path), "-o", "json")
    assert code == 0
    document = json.loads(out[: out.rindex("}") + 1])
    assert [r["phase"] for r in document["rollouts"]] == ["rolled back"]
    # Someone else moves it elsewhere: that is drift again.
    sandbox.change_alias("payments-api", "live", FunctionVersion="14")
    assert run(sandbox, capsys, "drift", str(path))[0] == 2


def test_a_freeze_refuses_a_promotion_but_not_an_abort(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started(sandbox, estate)
    rules = estate / "policy.yaml"
    rules.write_text(
        "freeze: [{from: '2020-01-01T00:00:00Z', to: '2099-01-01T00:00:00Z', reason: audit}]\n",
        encoding="utf-8",
    )
    code, out = run(
        sandbox, capsys, "rollout", "promote", "payments-api:live", "--manifests", str(estate)
    )
    assert code == 1
    assert f"breaks freeze ({rules}:1)" in out
    assert alias(sandbox) == ("12", 0.1)
    assert run(sandbox, capsys, "rollout", "abort", "payments-api:live")[0] == 0
    assert alias(sandbox) == ("12", None)


def test_status_markdown_keeps_an_alarm_name_with_a_bar_in_its_cell(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CloudWatch allows '|' in an alarm name, and GFM splits a table cell at '|' even inside a
    code span: every cell of the rollout tables has its bars escaped, so a row keeps its cells."""
    sandbox.put_alarm("errors|p99")
    path = write(estate, manifest("{steps: [10, 50], bake: 1h, alarms: ['errors|p99']}"))
    assert apply(sandbox, path, "--no-wait") == 0
    capsys.readouterr()
    code = main(["rollout", "status", str(path), "-o", "markdown", "--endpoint-url", sandbox.url])
    out = capsys.readouterr().out
    assert code == 0
    header = next(x for x in out.splitlines() if x.startswith("| alias |"))
    row = next(x for x in out.splitlines() if "payments-api:live" in x and x.startswith("|"))
    assert "errors\\|p99" in row
    assert row.replace("\\|", "").count("|") == header.count("|"), row


def test_the_apply_markdown_keeps_an_alarm_name_with_a_bar_in_its_cell(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The apply's rollout table carries messages with alarm names: escaped the same way."""
    sandbox.put_alarm("errors|p99")
    sandbox.set_alarm_state("errors|p99", "ALARM")
    path = write(estate, manifest("{steps: [10, 50], bake: 1h, alarms: ['errors|p99']}"))
    assert apply(sandbox, path, "--no-wait", "-o", "markdown") == 4
    out = capsys.readouterr().out
    header = next(x for x in out.splitlines() if x.startswith("| alias | outcome |"))
    row = next(x for x in out.splitlines() if "payments-api:live" in x and x.startswith("|"))
    assert "errors\\|p99" in row
    assert row.replace("\\|", "").count("|") == header.count("|"), row


def test_an_abort_met_by_a_step_landing_meanwhile_rolls_that_back_too(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """abort records the failure first; when its guarded write meets a 412 because a step of the
    same rollout landed meanwhile (30 % here), it reads the alias again and rolls back with the
    fresh RevisionId, so what it says (rolled back) is what happened."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    sandbox.change_alias_after(
        "TagResource",
        "payments-api",
        "live",
        FunctionVersion="12",
        RoutingConfig={"AdditionalVersionWeights": {"13": 0.3}},
    )
    code = main(["rollout", "abort", "payments-api:live", "--endpoint-url", sandbox.url])
    out = capsys.readouterr()
    assert code == 0, out.out + out.err
    assert "rolled back to v12" in out.out
    assert alias(sandbox) == ("12", None)
    assert "failed=aborted" in tags(sandbox)[TAG]


def test_an_abort_met_by_another_change_says_the_abort_is_recorded(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """When the alias was moved to something that is not this rollout's, abort leaves it as it
    is and says truthfully that the abort is recorded in the tag (not that nothing was written)."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    sandbox.change_alias_after("TagResource", "payments-api", "live", FunctionVersion="11")
    code = main(["rollout", "abort", "payments-api:live", "--endpoint-url", sandbox.url])
    out = capsys.readouterr()
    assert code == 1
    assert "the abort is recorded in the tag reconciler:rollout:live" in out.err
    assert "nothing was written" not in out.out + out.err
    assert alias(sandbox)[0] == "11"

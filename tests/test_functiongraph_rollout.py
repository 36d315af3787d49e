"""Rollouts on FunctionGraph, end to end through the CLI against the sandbox over HTTP with the
Huawei Cloud SDK: steps in order, --no-wait, status, promote, abort, retry, a killed runner
resumed, an out-of-band write stopping the rollout; and what FunctionGraph cannot do (alarms,
hooks) refused at validate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from huaweicloudsdkfunctiongraph.v2 import (
    CreateTagsRequest,
    KvItem,
    ListFunctionTagsRequest,
    UpdateFunctionTagsRequestBody,
)

from reconciler.cli import main
from reconciler.live import FunctionTarget
from reconciler.providers.functiongraph import FunctionGraphProvider
from reconciler.rollout.cloud import RolloutClouds
from reconciler.sandbox import Sandbox
from tests.test_functiongraph_sandbox import PROJECT, REGION, URN, fg_client

ROOT = Path(__file__).resolve().parent.parent
TAG = "reconciler:rollout:live"
SMOKE_URN = URN.replace(":payments:", ":smoke:")
State = tuple[str, int | None]


def manifest(rollout: str, version: str = "v4") -> str:
    return (
        f"provider: functiongraph\nfunction: payments\nproject: {PROJECT}\nregion: {REGION}\n"
        f"aliases:\n  - name: live\n    version: {version}\n    rollout: {rollout}\n"
    )


@pytest.fixture
def estate(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """payments:live on v3 of four versions, and the exports `sandbox serve` prints."""
    service = sandbox.app.functiongraph
    service.add_function(PROJECT, REGION, "payments", versions=4)
    service.put_alias(PROJECT, REGION, "payments", "live", version="v3")
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "sandbox")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "sandbox")
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1", sandbox.url)
    sandbox.reset_stats()
    return tmp_path


def write(folder: Path, text: str) -> Path:
    path = folder / "payments.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--endpoint-url", sandbox.url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def apply(sandbox: Sandbox, path: Path, *args: str) -> int:
    return main(["apply", str(path), "--auto-approve", "--endpoint-url", sandbox.url, *args])


def alias(sandbox: Sandbox) -> State:
    live = sandbox.app.functiongraph.aliases(PROJECT, REGION, "payments")["live"]
    weights = live.get("additional_version_weights") or {}
    return live["version"], next(iter(weights.values()), None)


def tags(sandbox: Sandbox) -> dict[str, str]:
    answer = fg_client(sandbox).list_function_tags(ListFunctionTagsRequest("functions", URN))
    return {t.key: t.value for t in answer.tags or []}


def set_tag(sandbox: Sandbox, value: str) -> None:
    body = UpdateFunctionTagsRequestBody(action="create", tags=[KvItem(key=TAG, value=value)])
    fg_client(sandbox).create_tags(CreateTagsRequest("functions", URN, body))


def backdate(sandbox: Sandbox, seconds: int) -> None:
    """Move the recorded start of the step back: its bake passes without waiting for it."""
    words = dict(w.split("=", 1) for w in tags(sandbox)[TAG].split())
    since = datetime.strptime(words["since"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    words["since"] = (since - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    set_tag(sandbox, " ".join(f"{k}={v}" for k, v in words.items()))


def writes(sandbox: Sandbox) -> int:
    return int(sandbox.stats()["calls"].get("functiongraph:UpdateVersionAlias", 0))


@pytest.fixture
def seen(sandbox: Sandbox, estate: Path) -> Iterator[list[State]]:
    """Every distinct state of the alias, in order, as another reader polling it sees them."""
    states: list[State] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            state = alias(sandbox)
            if not states or states[-1] != state:
                states.append(state)
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    yield states
    done.set()
    thread.join()


def when_at(sandbox: Sandbox, weight: int, then: Callable[[], object]) -> threading.Thread:
    """Do ``then`` once the alias is seen at ``weight`` % on v4: mid-bake."""

    def watch() -> None:
        for _ in range(3000):
            if alias(sandbox) == ("v3", weight):
                then()
                return
            time.sleep(0.01)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_a_rollout_reaches_100_with_each_weight_in_order(
    sandbox: Sandbox, estate: Path, seen: list[State], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1s}"))
    code, out = run(sandbox, capsys, "plan", str(path))
    assert code == 0, out
    assert "live  v3 -> v4 via 10% -> 50% -> 100%, 1s each" in out
    assert apply(sandbox, path) == 0
    time.sleep(0.05)
    assert seen == [("v3", None), ("v3", 10), ("v3", 50), ("v4", None)]
    assert writes(sandbox) == 3
    assert TAG not in tags(sandbox)  # the record is removed at the end
    out = capsys.readouterr().out
    assert "rollout completed" in out


def test_no_wait_makes_one_due_step_per_call_and_status_shows_it(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{linear: 40, bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v3", 40)
    recorded = tags(sandbox)[TAG]
    assert recorded.startswith("from=v3 to=v4 step=1 since=")
    assert apply(sandbox, path, "--no-wait") == 0  # the bake has not passed: nothing moves
    assert alias(sandbox) == ("v3", 40)
    capsys.readouterr()
    code, out = run(sandbox, capsys, "rollout", "status", str(path))
    assert "payments:live  v3 -> v4  in progress  step 1 of 3  40% on v4  since " in out, out
    code, out = run(sandbox, capsys, "rollout", "status", str(path), "-o", "json")
    assert code == 0, out
    (entry,) = json.loads(out[: out.rindex("}") + 1])["rollouts"]
    assert (entry["phase"], entry["step"], entry["percent"]) == ("in progress", "1 of 3", 40)
    backdate(sandbox, 3600)
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v3", 80)  # one step, not two
    backdate(sandbox, 3600)
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v4", None)
    assert writes(sandbox) == 3
    assert TAG not in tags(sandbox)


def test_an_out_of_band_write_mid_bake_stops_the_rollout_and_survives(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 2s}"))
    service = sandbox.app.functiongraph
    meddle = when_at(
        sandbox,
        10,
        lambda: service.put_alias(PROJECT, REGION, "payments", "live", description="by hand"),
    )
    assert apply(sandbox, path) == 3  # stale: nothing overwritten
    meddle.join()
    kept = service.aliases(PROJECT, REGION, "payments")["live"]
    assert (kept["version"], kept["description"]) == ("v3", "by hand")
    assert alias(sandbox) == ("v3", 10)
    assert "changed by someone else" in capsys.readouterr().out


def test_a_weight_moved_by_hand_stops_the_next_run_as_stale(sandbox: Sandbox, estate: Path) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    sandbox.app.functiongraph.put_alias(
        PROJECT, REGION, "payments", "live", additional_version_weights={"v4": 30}
    )
    backdate(sandbox, 3600)
    before = writes(sandbox)
    assert apply(sandbox, path, "--no-wait") == 3
    assert alias(sandbox) == ("v3", 30)
    assert writes(sandbox) == before


@pytest.mark.parametrize(
    "named",
    [
        ["payments:live", "--provider", "functiongraph", "--region", REGION],
        [f"{URN.removesuffix(':latest')}:live"],  # a URN says its cloud and Region itself
    ],
)
def test_promote_by_hand_goes_to_100_now(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str], named: list[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    capsys.readouterr()
    code, out = run(sandbox, capsys, "rollout", "promote", *named)
    assert code == 0, out
    assert "promoted" in out
    assert alias(sandbox) == ("v4", None)
    assert TAG not in tags(sandbox)
    assert apply(sandbox, path) == 0
    assert alias(sandbox) == ("v4", None)


def test_abort_rolls_back_and_stands_until_a_retry(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1s}"))
    assert apply(sandbox, path, "--no-wait") == 0
    capsys.readouterr()
    code, out = run(
        sandbox,
        capsys,
        "rollout",
        "abort",
        "payments:live",
        "--provider",
        "functiongraph",
        "--region",
        REGION,
    )
    assert code == 0, out
    assert "aborted: rolled back to v3; v4 stays out until a retry" in out
    assert alias(sandbox) == ("v3", None)
    assert "failed=aborted" in tags(sandbox)[TAG]
    before = writes(sandbox)
    assert apply(sandbox, path) == 4  # the abort stands
    assert writes(sandbox) == before
    code, out = run(sandbox, capsys, "drift", str(path))
    assert code == 0, out  # rolled back is not drift
    assert "payments:live" in out
    code, out = run(
        sandbox,
        capsys,
        "rollout",
        "retry",
        "payments:live",
        "--provider",
        "functiongraph",
        "--region",
        REGION,
    )
    assert code == 0, out
    assert TAG not in tags(sandbox)
    assert apply(sandbox, path) == 0
    assert alias(sandbox) == ("v4", None)


def reconcile(sandbox: Sandbox, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reconciler", "apply", str(path), "--auto-approve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=ROOT,
    )


def test_sigkill_mid_bake_then_a_rerun_resumes_at_the_same_step(
    sandbox: Sandbox, estate: Path, seen: list[State]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 2s}"))
    process = reconcile(sandbox, path)
    assert process.stdout is not None
    line = next((x for x in process.stdout if x.startswith("step")), "")
    assert "10% on v4 (step 1 of 3)" in line, process.stderr.read() if process.stderr else ""
    process.kill()  # SIGKILL: no clean-up of any kind
    process.wait()
    assert alias(sandbox) == ("v3", 10)
    assert "step=1" in tags(sandbox)[TAG]
    assert apply(sandbox, path) == 0
    time.sleep(0.05)
    assert seen == [("v3", None), ("v3", 10), ("v3", 50), ("v4", None)]
    assert writes(sandbox) == 3


@pytest.mark.parametrize(
    ("rollout", "line", "words"),
    [
        (
            "{canary: 10, bake: 1m, alarms: [payments-errors]}",
            "8:37",
            "CloudWatch alarms do not exist on FunctionGraph",
        ),
        (
            "{canary: 10, bake: 1m, hooks: {before: '" + SMOKE_URN + "'}}",
            "8:45",
            "name the hook by its function name",
        ),
    ],
)
def test_alarms_and_hooks_are_refused_at_validate_with_why(
    estate: Path, capsys: pytest.CaptureFixture[str], rollout: str, line: str, words: str
) -> None:
    path = write(estate, manifest(rollout))
    assert main(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}: " in err
    assert words in err


def test_a_rollout_to_latest_is_refused_at_validate(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1m}", version="latest"))
    assert main(["validate", str(path)]) == 1
    assert "a rollout moves to a published version, not latest" in capsys.readouterr().err


def test_permissions_for_rollouts_name_the_functiongraph_actions(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1m}"))
    assert main(["permissions", str(path), "--rollout", "--provider", "functiongraph"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert {
        "functiongraph:function:getAlias",
        "functiongraph:function:updateAlias",
        "functiongraph:function:listTags",
        "functiongraph:function:createTags",
        "functiongraph:function:deleteTags",
    } <= actions
    assert "functiongraph:function:createAlias" not in actions
    assert main(["permissions", str(path), "--apply", "--provider", "functiongraph"]) == 0
    applied = json.loads(capsys.readouterr().out)
    assert "functiongraph:function:createTags" in {
        a for s in applied["Statement"] for a in s["Action"]
    }


def test_the_state_tag_holds_functiongraph_versions_within_huawei_clouds_tag_rules() -> None:
    from reconciler import functiongraph as fg  # noqa: PLC0415
    from reconciler.rollout.state import RolloutState, tag_key  # noqa: PLC0415

    since = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
    held = RolloutState("v3", "1.0-rc_2", 1, since, weight=0.05)
    assert RolloutState.from_tag(held.to_tag()) == held
    longest = RolloutState("a" * 42, "b" * 42, 999, since, weight=0.0123456789)
    longest = longest.failing("aborted", "x" * 300, since)
    assert fg.tag_problem(tag_key("a" * fg.ALIAS_NAME_MAX), longest.to_tag()) is None
    assert RolloutState.from_tag(longest.to_tag()) == longest


def test_a_rollout_reverted_in_the_manifest_rolls_back_and_forgets_its_tag(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mid-rollout the manifest goes back to v3 (a git revert): one write back to v3, and the
    function's tag removed through FunctionGraph's own tag API, so v4 can start over later."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v3", 10)
    write(estate, manifest("{steps: [10, 50], bake: 1h}", version="v3"))
    capsys.readouterr()
    code, out = run(sandbox, capsys, "plan", str(path))
    assert code == 0, out
    assert "rolls back the rollout v3 -> v4 (at 10% on v4): v3 takes all the traffic" in out
    assert apply(sandbox, path) == 0
    assert alias(sandbox) == ("v3", None)
    assert TAG not in tags(sandbox)
    write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v3", 10)


def test_the_rollout_policy_moves_only_the_aliases_of_functions_with_rollouts(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(estate, manifest("{canary: 10, bake: 1m}"))
    (estate / "orders.yaml").write_text(
        manifest("{canary: 10, bake: 1m}")
        .replace("function: payments", "function: orders")
        .replace("    rollout: {canary: 10, bake: 1m}\n", ""),
        encoding="utf-8",
    )
    assert main(["permissions", str(estate), "--rollout", "--provider", "functiongraph"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    (moves,) = [
        s for s in document["Statement"] if "functiongraph:function:updateAlias" in s["Action"]
    ]
    assert moves["Resource"] == [f"FUNCTIONGRAPH:{REGION}:*:function:default/payments"]
    # Without any rollout, the rollout runner may move nothing at all.
    (estate / "payments.yaml").unlink()
    assert main(["permissions", str(estate), "--rollout", "--provider", "functiongraph"]) == 0
    document = json.loads(capsys.readouterr().out)
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert "functiongraph:function:updateAlias" not in actions
    assert all("*/*" not in r for s in document["Statement"] for r in s["Resource"])


@pytest.mark.parametrize(
    ("body", "read"),
    [
        ({"sys_tags": []}, {}),  # no tags: the key may be left out
        ({"tags": None, "sys_tags": None}, {}),
        ({"tags": [{"key": TAG, "value": "from=v3"}]}, {TAG: "from=v3"}),
        ({"tags": [{"key": TAG}]}, {TAG: ""}),  # an empty value may be left out too
        ({"tags": [{"key": 7, "value": "x"}]}, None),
        ({"tags": {"key": TAG}}, None),
        # One key twice, one value saying the rollout failed and one not: neither is believed.
        (
            {"tags": [{"key": TAG, "value": "from=v3 failed=alarm"}, {"key": TAG, "value": "x"}]},
            None,
        ),
    ],
)
def test_a_tag_listing_is_read_as_the_api_may_answer_it(body: Any, read: Any) -> None:
    import http.server  # noqa: PLC0415

    from reconciler.errors import MalformedAnswerError  # noqa: PLC0415
    from reconciler.live import FunctionTarget  # noqa: PLC0415
    from reconciler.providers.functiongraph import FunctionGraphProvider  # noqa: PLC0415

    class Answers(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        environ = {
            "HUAWEICLOUD_SDK_AK": "ak",
            "HUAWEICLOUD_SDK_SK": "sk",
            "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
        }
        url = f"http://127.0.0.1:{server.server_address[1]}"
        provider = FunctionGraphProvider(endpoint_url=url, environ=environ, rate=None)
        target = FunctionTarget(PROJECT, REGION, "payments", "", "functiongraph", "default")
        if read is None:
            with pytest.raises(MalformedAnswerError, match="reading the tags of"):
                provider.tags(target)
        else:
            assert provider.tags(target) == read
    finally:
        server.shutdown()
        server.server_close()


def test_rollouts_only_moves_a_rollout_under_way_and_starts_none(
    sandbox: Sandbox, estate: Path
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait", "--rollouts-only") == 0
    assert alias(sandbox) == ("v3", None)  # not started: that is the approved apply's
    assert writes(sandbox) == 0
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v3", 10)
    backdate(sandbox, 3600)
    assert apply(sandbox, path, "--no-wait", "--rollouts-only") == 0
    assert alias(sandbox) == ("v3", 50)
    assert writes(sandbox) == 2


def test_versions_named_with_digits_are_said_exactly_as_named(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """FunctionGraph versions are names: "3" is not "v3" (a version that exists as well), so
    every rollout message names the version apply writes, never a v before it."""
    service = sandbox.app.functiongraph
    service.add_function(PROJECT, REGION, "payments", versions=["3", "4"])
    service.put_alias(PROJECT, REGION, "payments", "live", version="3")
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}", version='"4"'))
    capsys.readouterr()
    assert apply(sandbox, path, "--no-wait") == 0
    out = capsys.readouterr().out
    assert "10% on 4 (step 1 of 3)" in out, out
    code, out = run(sandbox, capsys, "rollout", "status", str(path))
    assert code == 0, out
    assert "payments:live  3 -> 4  in progress  step 1 of 3  10% on 4  since " in out, out
    code, out = run(
        sandbox,
        capsys,
        "rollout",
        "abort",
        "payments:live",
        "--provider",
        "functiongraph",
        "--region",
        REGION,
    )
    assert code == 0, out
    assert "aborted: rolled back to 3; 4 stays out until a retry" in out, out


def fill_tags(sandbox: Sandbox, count: int) -> None:
    """The function's own tags, as its team set them (FunctionGraph holds 20 a function)."""
    items = [KvItem(key=f"team{i}", value="payments") for i in range(count)]
    body = UpdateFunctionTagsRequestBody(action="create", tags=items)
    fg_client(sandbox).create_tags(CreateTagsRequest("functions", URN, body))


def test_a_function_with_no_room_for_the_rollout_tag_is_refused_while_planning(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    fill_tags(sandbox, 19)
    assert run(sandbox, capsys, "plan", str(path))[0] == 0  # room for one more
    fill_tags(sandbox, 20)
    code, out = run(sandbox, capsys, "plan", str(path))
    assert code == 1, out
    assert "payments.yaml:6:5: payments:live: the function has 20 tags" in out, out
    assert "the function has 20 tags, and FunctionGraph holds at most 20" in out, out
    assert apply(sandbox, path, "--no-wait") == 1
    assert alias(sandbox) == ("v3", None)
    assert writes(sandbox) == 0


def test_a_rollout_tag_refused_at_apply_moves_no_traffic(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The function fills up between plan and apply: the step is recorded before it is
    written, so the refused tag leaves the traffic where it was."""
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    saved = tmp_path / "plan.json"
    assert run(sandbox, capsys, "plan", str(path), "--out", str(saved))[0] == 0
    fill_tags(sandbox, 20)
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
    assert code == 1, out
    assert "20 tags" in out, out
    assert alias(sandbox) == ("v3", None)
    assert writes(sandbox) == 0


def test_abort_rolls_back_even_when_it_cannot_record_the_abort(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.app.functiongraph.put_alias(
        PROJECT, REGION, "payments", "live", additional_version_weights={"v4": 10}
    )
    fill_tags(sandbox, 20)
    code, out = run(
        sandbox,
        capsys,
        "rollout",
        "abort",
        "payments:live",
        "--provider",
        "functiongraph",
        "--region",
        REGION,
    )
    assert code == 1, out
    assert "rolled back to v3, but the abort was not recorded" in out, out
    assert alias(sandbox) == ("v3", None)
    assert TAG not in tags(sandbox)


def test_a_canary_by_hand_below_the_first_step_is_held_a_full_bake_then_moved_on(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.app.functiongraph.put_alias(
        PROJECT, REGION, "payments", "live", additional_version_weights={"v4": 10}
    )
    path = write(estate, manifest("{steps: [20, 50], bake: 1h}"))
    code, out = run(sandbox, capsys, "plan", str(path))
    assert code == 0, out
    assert "under way, at 10% on v4 (below step 1 of 3); next: 20% after a 1h bake" in out, out
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v3", 10)  # held: its bake starts now
    assert writes(sandbox) == 0
    backdate(sandbox, 3600)
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v3", 20)


def test_header_rules_to_the_new_version_are_not_a_rollout_under_way(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A header rule routes x-canary requests to v4 (no share of the traffic): the rollout is
    not started, and its first step removes the rule; the plan says both."""
    rule = {"rule_type": "header", "param": "x-canary", "op": "=", "value": "yes"}
    sandbox.app.functiongraph.put_alias(
        PROJECT,
        REGION,
        "payments",
        "live",
        additional_version_strategy={"v4": {"rules": [rule], "combine_type": "and"}},
    )
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    code, out = run(sandbox, capsys, "plan", str(path))
    assert code == 0, out
    assert "under way" not in out, out
    assert "not started; removes the rule routing (x-canary = yes to v4)" in out, out
    code, out = run(sandbox, capsys, "plan", str(path), "-o", "json")
    (change,) = json.loads(out[: out.rindex("}") + 1])["changes"]
    assert change["standing"]["phase"] == "not started"
    assert "removes the rule routing" in change["standing"]["says"]
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v3", 10)


def test_a_revert_to_header_rules_says_where_the_requests_go(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    write(
        estate,
        f"provider: functiongraph\nfunction: payments\nproject: {PROJECT}\nregion: {REGION}\n"
        "aliases:\n  - name: live\n    version: v3\n"
        "    routing: {version: v4, rules: [{header: x-canary, in: [internal, qa]}]}\n",
    )
    capsys.readouterr()
    code, out = run(sandbox, capsys, "plan", str(path))
    assert code == 0, out
    assert "rolls back the rollout v3 -> v4 (at 10% on v4): v3 takes the rest at once; " in out
    assert "requests with x-canary in internal,qa go to v4" in out, out
    assert "v3 takes 100%" not in out, out


def test_a_rollout_to_another_version_names_the_one_it_ends(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    assert apply(sandbox, path, "--no-wait") == 0
    write(estate, manifest("{steps: [10, 50], bake: 1h}", version="v2"))
    capsys.readouterr()
    code, out = run(sandbox, capsys, "plan", str(path))
    assert code == 0, out
    assert "v3 -> v2 via " in out, out
    assert "not started; ends the rollout v3 -> v4 (at 10% on v4)" in out, out
    code, out = run(sandbox, capsys, "plan", str(path), "-o", "json")
    (change,) = json.loads(out[: out.rindex("}") + 1])["changes"]
    assert "ends the rollout v3 -> v4" in change["standing"]["says"]
    assert apply(sandbox, path, "--no-wait") == 0
    assert alias(sandbox) == ("v3", 10)
    assert "to=v2" in tags(sandbox)[TAG]


def test_a_rollout_over_a_canary_by_hand_to_another_version_names_it(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.app.functiongraph.put_alias(
        PROJECT, REGION, "payments", "live", additional_version_weights={"v2": 30}
    )
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    code, out = run(sandbox, capsys, "plan", str(path))
    assert code == 0, out
    assert "v3 -> v4 via " in out, out
    assert "not started; removes 30% on v2" in out, out


def test_a_hook_on_functiongraph_is_invoked_and_must_answer_succeeded(sandbox: Sandbox) -> None:
    """RolloutClouds invokes a FunctionGraph hook with InvokeFunction, by name in the function's
    project, Region and package, or by URN; only {"status": "Succeeded"} passes."""
    service = sandbox.app.functiongraph
    service.add_function(PROJECT, REGION, "payments", versions=2)
    service.add_function(PROJECT, REGION, "smoke", versions=1)
    environ = {
        "HUAWEICLOUD_SDK_AK": "sandbox",
        "HUAWEICLOUD_SDK_SK": "sandbox",
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
    }
    provider = FunctionGraphProvider(endpoint_url=sandbox.url, environ=environ, rate=None)
    clouds = RolloutClouds(SimpleNamespace(functiongraph=provider))
    target = FunctionTarget(
        PROJECT, REGION, "payments", provider="functiongraph", package="default"
    )
    event = {"function": "payments", "alias": "live"}
    smoke_urn = URN.replace(":payments:", ":smoke:")
    sandbox.set_hook("smoke", "succeed")
    assert clouds.invoke_hook(target, "smoke", event).ok
    assert clouds.invoke_hook(target, smoke_urn, event).ok
    sandbox.set_hook("smoke", "fail")
    failed = clouds.invoke_hook(target, "smoke", event)
    assert not failed.ok
    assert '{"status": "Failed"}' in failed.why
    sandbox.set_hook("smoke", "error")
    errored = clouds.invoke_hook(target, "smoke", event)
    assert not errored.ok
    assert "hook smoke failed" in errored.why
    missing = clouds.invoke_hook(target, "nothing", event)
    assert not missing.ok
    assert "nothing" in missing.why


def test_the_plan_says_when_apply_will_finish_a_rollout_at_100_on_functiongraph(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """live already on v4 as the manifest says, with the record of the rollout v3 -> v4 left:
    apply removes it, and the plan says so and counts it."""
    sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", "live", version="v4")
    set_tag(sandbox, "from=v3 to=v4 step=2 since=2026-11-22T04:00:00Z")
    path = write(estate, manifest("{steps: [10, 50], bake: 1h}"))
    code, out = run(sandbox, capsys, "plan", str(path), "--detailed-exitcode")
    assert code == 2, out
    assert "at 100% on v4 (the rollout from v3): apply removes the rollout's record" in out, out
    assert apply(sandbox, path) == 0
    assert TAG not in tags(sandbox)
    assert alias(sandbox) == ("v4", None)
    capsys.readouterr()
    code, out = run(sandbox, capsys, "plan", str(path), "--detailed-exitcode")
    assert (code, out.startswith("No changes.")) == (0, True), out


def hooked_estate(sandbox: Sandbox, estate: Path, hooks: str) -> Path:
    """payments:live on v3 moving to v4, with hooks of the function smoke beside it."""
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "smoke", versions=1)
    return write(estate, manifest(f"{{canary: 10, bake: 1s, hooks: {hooks}}}"))


def test_hooks_by_name_are_accepted_at_validate(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1m, hooks: {before: smoke, after: smoke}}"))
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_a_failing_before_hook_on_functiongraph_moves_no_traffic(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = hooked_estate(sandbox, estate, "{before: smoke}")
    sandbox.set_hook("smoke", "fail")
    code, out = run(sandbox, capsys, "apply", str(path), "--auto-approve")
    assert code == 4, out
    assert alias(sandbox) == ("v3", None)
    assert "failed=hook" in tags(sandbox)[TAG]
    assert sandbox.stats()["calls"]["functiongraph:InvokeFunction"] == 1


def test_hooks_on_functiongraph_that_succeed_let_the_rollout_finish(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = hooked_estate(sandbox, estate, "{before: smoke, after: smoke}")
    sandbox.set_hook("smoke", "succeed")
    code, out = run(sandbox, capsys, "apply", str(path), "--auto-approve")
    assert code == 0, out
    assert alias(sandbox) == ("v4", None)
    assert TAG not in tags(sandbox)
    assert sandbox.stats()["calls"]["functiongraph:InvokeFunction"] == 2


def test_a_failing_after_hook_on_functiongraph_rolls_back_from_the_run_that_wrote_100(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = hooked_estate(sandbox, estate, "{after: smoke}")
    sandbox.set_hook("smoke", "fail")
    code, out = run(sandbox, capsys, "apply", str(path), "--auto-approve")
    assert code == 4, out
    assert alias(sandbox) == ("v3", None)


def test_a_hook_function_that_does_not_exist_is_found_while_planning(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1s, hooks: {before: nowhere}}"))
    code, out = run(sandbox, capsys, "plan", str(path))
    assert code == 1, out
    assert "nowhere" in out
    assert "does not exist" in out, out
    assert writes(sandbox) == 0


def test_permissions_let_apply_and_the_runner_invoke_the_hooks_only(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(estate, manifest("{canary: 10, bake: 1m, hooks: {after: smoke}}"))
    hook = f"FUNCTIONGRAPH:{REGION}:*:function:default/smoke"
    for role in ("--apply", "--rollout", "--plan"):
        assert main(["permissions", str(path), role, "--provider", "functiongraph"]) == 0
        document: dict[str, Any] = json.loads(capsys.readouterr().out)
        on_hook = {a for s in document["Statement"] if hook in s["Resource"] for a in s["Action"]}
        invoking = {
            r
            for s in document["Statement"]
            if "functiongraph:function:invoke" in s["Action"]
            for r in s["Resource"]
        }
        assert "functiongraph:function:listVersion" in on_hook, (role, document)
        assert invoking == (set() if role == "--plan" else {hook}), (role, document)

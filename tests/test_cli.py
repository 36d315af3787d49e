"""The ``reconcile`` command end to end, against the sandbox over HTTP, as a user drives it."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
import typer

from reconciler.cli import Connection, _session, app, main
from reconciler.sandbox import Sandbox
from reconciler.sandbox.backends import botocore_loader
from tests.conftest import REGION, make_client

ROOT = Path(__file__).resolve().parent.parent

MANIFEST = """\
function: orders
region: eu-west-1
aliases:
  - name: live
    version: 2
    description: production
    routing: {version: 3, weight: 0.1}
  - name: beta
    version: 3
"""


@pytest.fixture
def estate(sandbox: Sandbox, tmp_path: Path) -> Path:
    """A sandbox where orders:live is on version 1, and a manifest that wants more."""
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {
                    "name": "orders",
                    "versions": 3,
                    "aliases": [
                        {"name": "live", "version": 1, "description": "production"},
                        {"name": "hand-made", "version": 1},
                    ],
                }
            ],
        }
    )
    sandbox.reset_stats()
    (tmp_path / "orders.yaml").write_text(MANIFEST, encoding="utf-8")
    return tmp_path


def run(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--endpoint-url", sandbox.url])
    out, err = capsys.readouterr()
    return code, out, err


def revisions(sandbox: Sandbox) -> dict[str, str]:
    aliases = make_client(sandbox).list_aliases(FunctionName="orders")["Aliases"]
    return {a["Name"]: a["RevisionId"] for a in aliases}


def test_plan_shows_creates_and_updates_and_writes_nothing(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = revisions(sandbox)
    sandbox.reset_stats()
    code, out, _ = run(sandbox, capsys, "plan", str(estate))
    assert code == 0
    assert "+ 123456789012/eu-west-1/orders:beta\n    version: 3\n" in out
    assert "~ 123456789012/eu-west-1/orders:live\n" in out
    assert "    routing: (none) -> 10% to v3\n" in out
    assert "    version: 1 -> 2\n" in out
    assert "123456789012/eu-west-1/orders:hand-made -> v1" in out  # unmanaged, reported
    assert out.rstrip().endswith("Plan: 1 to add, 1 to change, 0 to destroy.")
    assert "\x1b[" not in out  # no colour off a terminal
    stats = sandbox.stats()
    assert stats["writes"] == 0
    assert stats["calls"]["ListAliases"] == 1
    assert revisions(sandbox) == before


def test_detailed_exitcode(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(sandbox, capsys, "plan", str(estate), "--detailed-exitcode")[0] == 2
    assert run(sandbox, capsys, "apply", str(estate), "--auto-approve")[0] == 0
    assert run(sandbox, capsys, "plan", str(estate), "--detailed-exitcode")[0] == 0


def test_drift_then_apply_then_no_drift_then_apply_changes_nothing(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(sandbox, capsys, "drift", str(estate))
    assert code == 2
    assert out.startswith(
        "Drift: 1 managed alias differs, 1 missing, 0 to prune, 1 unmanaged, 0 functions missing."
    )
    code, out, err = run(sandbox, capsys, "apply", str(estate), "--auto-approve")
    assert code == 0
    assert "created  123456789012/eu-west-1/orders:beta" in out
    assert "updated  123456789012/eu-west-1/orders:live" in out
    assert "Plan: 1 to add, 1 to change, 0 to destroy." in err  # the plan is shown before applying
    code, out, _ = run(sandbox, capsys, "drift", str(estate))
    assert (code, out) == (
        0,
        "No drift: 2 managed aliases match the manifests. (1 unmanaged alias left alone.)\n",
    )
    settled = revisions(sandbox)
    sandbox.reset_stats()
    code, out, err = run(sandbox, capsys, "apply", str(estate))  # nothing to ask about
    assert code == 0
    assert "No changes." in err
    assert out == "Apply: 0 created, 0 updated, 0 deleted, 2 unchanged, 0 stale, 0 failed.\n"
    assert sandbox.stats()["writes"] == 0
    assert revisions(sandbox) == settled


def test_saved_plan_refused_as_stale_and_the_hand_change_survives(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    code, _, err = run(sandbox, capsys, "plan", str(estate), "--out", str(saved))
    assert code == 0
    assert f"reconcile apply {saved} --manifests {estate}\n" in err
    assert json.loads(saved.read_text())["format_version"] == "2.1"
    sandbox.change_alias("orders", "live", FunctionVersion="3", Description="hotfix by hand")
    code, out, _ = run(sandbox, capsys, "apply", str(saved), "--auto-approve")
    assert code == 3
    assert "stale    123456789012/eu-west-1/orders:live: it was changed by someone else" in out
    assert "created  123456789012/eu-west-1/orders:beta" in out  # the rest still applied
    live = make_client(sandbox).get_alias(FunctionName="orders", Name="live")
    assert (live["FunctionVersion"], live["Description"]) == ("3", "hotfix by hand")


def test_saved_plan_applies_exactly_that_plan(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    run(sandbox, capsys, "plan", str(estate), "--out", str(saved))
    (estate / "orders.yaml").write_text(
        MANIFEST.replace("version: 3\n", "version: 1\n"), encoding="utf-8"
    )
    code, _, _ = run(sandbox, capsys, "apply", str(saved), "--auto-approve")
    assert code == 0
    assert (
        make_client(sandbox).get_alias(FunctionName="orders", Name="beta")["FunctionVersion"] == "3"
    )


def test_the_same_saved_plan_applied_twice_says_the_second_time_changed_nothing(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (estate / "orders.yaml").write_text(
        MANIFEST.replace("region: eu-west-1\n", "region: eu-west-1\nprune: true\n"),
        encoding="utf-8",
    )
    saved = tmp_path / "plan.json"
    assert run(sandbox, capsys, "plan", str(estate), "--out", str(saved))[0] == 0
    code, out, _ = run(sandbox, capsys, "apply", str(saved), "--auto-approve")
    assert code == 0
    assert out.endswith("Apply: 1 created, 1 updated, 1 deleted, 0 unchanged, 0 stale, 0 failed.\n")
    code, out, _ = run(sandbox, capsys, "apply", str(saved), "--auto-approve")
    assert code == 0
    assert out.endswith("Apply: 0 created, 0 updated, 0 deleted, 3 unchanged, 0 stale, 0 failed.\n")
    assert "unchanged 123456789012/eu-west-1/orders:beta: already as planned" in out
    assert "unchanged 123456789012/eu-west-1/orders:hand-made: already gone" in out


def test_apply_refuses_without_confirmation_when_stdin_is_not_a_terminal(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(sandbox, capsys, "apply", str(estate))
    assert code == 1
    assert "--auto-approve" in err
    assert sandbox.stats()["writes"] == 0


def test_a_manifest_with_an_upper_case_extension_is_a_manifest_not_a_plan(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = estate / "orders.YAML"
    (estate / "orders.yaml").rename(manifest)
    code, out, _ = run(sandbox, capsys, "apply", str(manifest), "--auto-approve")
    assert code == 0
    assert "created  123456789012/eu-west-1/orders:beta" in out


def test_apply_report_file(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    run(sandbox, capsys, "apply", str(estate), "--auto-approve", "--report", str(report))
    results = {r["address"]: r for r in json.loads(report.read_text())["results"]}
    live = results["123456789012/eu-west-1/orders:live"]
    assert (live["action"], live["outcome"]) == ("update", "updated")
    assert live["revision_before"] != live["revision_after"]
    assert live["revision_after"] == revisions(sandbox)["live"]


@pytest.mark.parametrize(("command", "option"), [("apply", "--report"), ("plan", "--out")])
@pytest.mark.parametrize("where", ["missing/dir/file.json", "."])
def test_an_output_path_that_cannot_be_written_is_refused_before_any_call(
    sandbox: Sandbox,
    estate: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    option: str,
    where: str,
) -> None:
    path = tmp_path / where
    extra = ["--auto-approve"] if command == "apply" else []
    code, out, err = run(sandbox, capsys, command, str(estate), option, str(path), *extra)
    assert code == 1
    assert out == ""
    assert f"{path}: cannot write" in err
    assert "Traceback" not in err
    assert sandbox.stats()["total"] == 0


def test_a_report_that_fails_to_write_after_the_apply_still_leaves_every_outcome_shown(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        sandbox, capsys, "apply", str(estate), "--auto-approve", "--report", "/dev/full"
    )
    assert code == 1
    assert "created  123456789012/eu-west-1/orders:beta" in out
    assert "updated  123456789012/eu-west-1/orders:live" in out
    assert "error: /dev/full: cannot write the apply report: No space left on device" in err
    assert "Traceback" not in err


def test_markdown_and_json_outputs(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, markdown, _ = run(sandbox, capsys, "plan", str(estate), "--output", "markdown")
    assert markdown.startswith("### reconcile plan: 1 to add, 1 to change, 0 to destroy.")
    assert "| ~ | `live` | routing: (none) &rarr; 10% to v3<br>version: 1 &rarr; 2 |" in markdown
    assert "`v2 ██████████████████░░ 90%` · `v3 10%`" in markdown
    assert "<details><summary>1 unmanaged alias (left alone)</summary>" in markdown
    _, text, _ = run(sandbox, capsys, "plan", str(estate), "-o", "json")
    document = json.loads(text)
    assert document["summary"] == {
        "add": 1,
        "change": 1,
        "destroy": 0,
        "unchanged": 0,
        "held": 0,
    }
    assert {c["action"] for c in document["changes"]} == {"create", "update"}
    _, drift, _ = run(sandbox, capsys, "drift", str(estate), "-o", "json")
    assert json.loads(drift)["drift"] is True


def test_missing_function_is_an_error(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "m.yaml").write_text(MANIFEST.replace("orders", "ghost"), encoding="utf-8")
    saved = tmp_path / "plan.json"
    code, _, err = run(sandbox, capsys, "plan", str(tmp_path), "--out", str(saved))
    assert code == 1
    assert "functions not found: 123456789012/eu-west-1/ghost" in err
    assert not saved.exists()  # a plan apply would refuse is not saved
    assert "Saved the plan" not in err
    assert run(sandbox, capsys, "drift", str(tmp_path))[0] == 2  # for drift it is drift
    assert sandbox.stats()["writes"] == 0


def test_other_account_is_refused_before_any_alias_is_read(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "m.yaml").write_text('account: "210987654321"\n' + MANIFEST, encoding="utf-8")
    code, _, err = run(sandbox, capsys, "apply", str(tmp_path), "--auto-approve")
    assert code == 1
    assert "210987654321" in err
    assert "123456789012" in err
    assert sandbox.stats()["calls"] == {"sts:GetCallerIdentity": 1}


def test_environment_variables_never_reach_output(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_client(sandbox).update_function_configuration(
        FunctionName="orders", Environment={"Variables": {"DB_PASSWORD": "hunter2-secret"}}
    )
    outputs, codes = [], []
    saved, report = estate / "plan.json", estate / "report.json"
    for args in (
        ["plan", "-o", "json", "--out", str(saved)],
        ["plan", "-o", "markdown"],
        ["drift"],
        ["apply", "--auto-approve", "--report", str(report)],
    ):
        code, out, err = run(sandbox, capsys, args[0], str(estate), *args[1:])
        codes.append(code)
        outputs.append(out + err)
    assert codes == [0, 0, 2, 0]
    outputs += [saved.read_text(), report.read_text()]
    assert sandbox.stats()["calls"]["GetFunction"] > 0  # pre-flight read the versions...
    assert not any("hunter2" in o or "DB_PASSWORD" in o for o in outputs)  # ...and kept no secret


def test_validate_and_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "manifests")]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["schema"]) == 0
    shipped = json.loads((ROOT / "reconciler/schema/manifest.schema.json").read_text())
    assert json.loads(capsys.readouterr().out) == shipped


def test_plan_against_an_embedded_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", str(ROOT / "manifests"), "--sandbox"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "embedded sandbox" in err
    assert "routing: 5% to v13" in out
    assert "to add, 0 to change, 0 to destroy." in out


def test_embedded_sandbox_seed_shows_updates_and_prunes(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "plan",
            str(ROOT / "manifests"),
            "--sandbox",
            "--sandbox-seed",
            str(ROOT / "examples/live.yaml"),
        ]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert "~ 123456789012/eu-west-1/payments-api:live" in out
    assert "- 123456789012/eu-west-1/orders-intake:" in out
    assert "legacy-" in out  # kept by the keep-list, so reported as unmanaged


@pytest.mark.parametrize(
    ("sandbox", "rate", "paced_at"),
    [(True, None, None), (True, 5.0, 5.0), (False, None, 15.0), (False, 5.0, 5.0)],
)
def test_the_client_paces_itself_at_the_quotas_of_what_it_talks_to(
    sandbox: bool, rate: float | None, paced_at: float | None
) -> None:
    """AWS's budget by default; an embedded sandbox has no quotas, so nothing to pace against
    unless --rate says otherwise."""
    connection = Connection(None, None, None, sandbox, None, rate=rate)
    with _session(connection, [ROOT / "manifests"]) as (provider, _):
        assert provider.aws_lambda.rate == paced_at
        assert provider.functiongraph.rate == paced_at  # the same for both clouds


def test_the_embedded_sandbox_and_the_client_parse_botocore_models_once() -> None:
    """With --sandbox, boto3 reads botocore's endpoints and models through the loader moto
    has already parsed them with."""
    connection = Connection(None, None, None, True, None)
    with _session(connection, [ROOT / "manifests"]) as (provider, _):
        client = provider.aws_lambda.client("lambda", "eu-west-1")
        assert client._loader is botocore_loader()


def test_the_embedded_sandbox_is_not_asked_which_account_it_is() -> None:
    """--sandbox starts the sandbox as an account: the client knows it without asking STS, and
    reads aliases and versions as against AWS."""
    connection = Connection(None, None, None, True, None)
    with _session(connection, [ROOT / "manifests"]) as (provider, loaded):
        assert loaded is not None
        assert provider.aws_lambda.caller_account() == "123456789012"
        client = provider.aws_lambda.client("lambda", "eu-west-1")
        assert client.list_aliases(FunctionName="payments-api")["Aliases"] == []
        with urllib.request.urlopen(f"{client.meta.endpoint_url}/_sandbox/stats") as answer:
            calls = json.load(answer)["calls"]
    assert calls == {"ListAliases": 1}


def test_a_seed_file_naming_a_manifests_function_publishes_on_top_of_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The function is created once: the seed file's versions extend the manifests' (at least
    N published), and its aliases land on the same function."""
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "region: eu-west-1\n"
        "functions:\n"
        "  - name: payments-api\n"
        "    versions: 15\n"
        "    aliases: [{name: live, version: 15}]\n",
        encoding="utf-8",
    )
    code = main(["plan", str(ROOT / "manifests"), "--sandbox", "--sandbox-seed", str(seed)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "~ 123456789012/eu-west-1/payments-api:live" in out
    assert "version: 15 -> 12" in out


def test_the_example_estate_applies_against_a_served_sandbox_as_the_readme_shows(
    sandbox: Sandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """README, The sandbox: serve --seed examples/live.yaml, then drift and apply manifests/."""
    sandbox.seed_file(ROOT / "examples/live.yaml")
    for name, value in {  # what `sandbox serve` prints for FunctionGraph
        "HUAWEICLOUD_SDK_AK": "sandbox",
        "HUAWEICLOUD_SDK_SK": "sandbox",
        "HUAWEICLOUD_SDK_PROJECT_ID": "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1": sandbox.url,
    }.items():
        monkeypatch.setenv(name, value)
    manifests = str(ROOT / "manifests")
    assert run(sandbox, capsys, "drift", manifests)[0] == 2
    code, out, _ = run(sandbox, capsys, "apply", manifests, "--auto-approve")
    assert code == 0, out
    assert out.endswith("Apply: 4 created, 3 updated, 1 deleted, 2 unchanged, 0 stale, 0 failed.\n")
    assert run(sandbox, capsys, "drift", manifests)[:2] == (
        0,
        "No drift: 9 managed aliases match the manifests. (1 unmanaged alias left alone.)\n",
    )


def test_usage_errors_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan"]) == 1
    assert main(["plan", "x", "--output", "yaml"]) == 1
    assert main(["no-such-command"]) == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["sandbox", "serve", "--port", "99999"], "Input should be less than or equal to 65535"),
        (["sandbox", "serve", "--port", "-1"], "Input should be greater than or equal to 0"),
        (["plan", "M", "--sandbox", "--endpoint-url", "http://127.0.0.1:1"], "drop --endpoint-url"),
        (["plan", "M", "--sandbox-seed", "examples/live.yaml"], "add --sandbox, or drop it"),
        (["drift", "M", "--sandbox-seed", "examples/live.yaml"], "add --sandbox, or drop it"),
    ],
)
def test_options_that_cannot_work_together_are_refused_not_ignored(
    capsys: pytest.CaptureFixture[str], args: list[str], said: str
) -> None:
    args = [str(ROOT / "manifests") if a == "M" else a for a in args]
    assert main(args) == 1
    assert said in capsys.readouterr().err


def test_a_saved_plan_is_refused_on_an_embedded_sandbox(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    assert run(sandbox, capsys, "plan", str(estate), "--out", str(saved))[0] == 0
    assert main(["apply", str(saved), "--sandbox", "--auto-approve"]) == 1
    assert "a saved plan cannot be applied to an embedded sandbox" in capsys.readouterr().err


def test_messages_read_as_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(ROOT / "manifests/payments-api.yaml")]) == 0
    assert capsys.readouterr().out == "1 file, 1 function, 2 aliases: valid.\n"
    assert main(["validate", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err.startswith(f"{tmp_path / 'nope'}: no such file or directory\n")
    assert main(["plan", str(ROOT / "manifests"), "-o", "yaml"]) == 1
    err = capsys.readouterr().err
    assert "'yaml' is not one of 'text', 'markdown', 'json'" in err
    assert "Value error" not in err
    (tmp_path / "a.yaml").write_text(
        "function: fn\nregion: eu-west-1\naliases:\n  - {name: live, version: 1.5}\n"
    )
    assert main(["validate", str(tmp_path / "a.yaml")]) == 1
    err = capsys.readouterr().err
    assert "must be a published version number or $LATEST, not 1.5" in err
    assert "quote it" not in err


COMMANDS = [
    ["plan"],
    ["apply"],
    ["drift"],
    ["import"],
    ["show"],
    ["permissions"],
    ["groups"],
    ["validate"],
    ["schema"],
    ["sandbox", "serve"],
    ["rollout", "status"],
    ["rollout", "promote"],
    ["rollout", "abort"],
    ["rollout", "retry"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_at_80_columns_shows_every_option_whole(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    click_command = typer.main.get_command(app)
    for name in command:
        click_command = click_command.commands[name]  # type: ignore[attr-defined]
    assert main([*command, "--help"]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    for param in click_command.params:
        for option in param.opts:
            if option.startswith("-"):
                assert option in text, f"{option} is not shown whole"
    assert not any(getattr(p, "secondary_opts", ()) for p in click_command.params)
    assert "--no-" not in text.replace("--no-wait", "")  # flags are flags; --no-wait is one


SDKS = ("boto3", "botocore", "moto", "huaweicloudsdkcore", "huaweicloudsdkfunctiongraph")


@pytest.mark.parametrize(
    ("command", "unwanted"),
    [
        # The first thing anyone runs: the CLI and typer, not the models.
        (
            ["--help"],
            (
                "pydantic",
                "yaml",
                "deepdiff",
                "reconciler.render",
                "reconciler.plan",
                "reconciler.functiongraph",
                *SDKS,
            ),
        ),
        # Validation reads files: no cloud SDK, no sandbox, no rollout engine.
        (
            ["validate", "manifests/"],
            (*SDKS, "deepdiff", "reconciler.sandbox", "reconciler.rollout.engine"),
        ),
    ],
    ids=["help", "validate"],
)
def test_a_command_imports_only_what_it_needs(
    command: list[str], unwanted: tuple[str, ...]
) -> None:
    """Each command imports what it needs when it runs: --help and validate, the commands
    anyone runs first and most, load no SDK."""
    probe = (
        "import sys\n"
        "from reconciler.cli import main\n"
        f"main({command!r})\n"
        f"print([m for m in {unwanted!r} if m in sys.modules])\n"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert answer.stdout.splitlines()[-1] == "[]"


def test_console_script_and_module(tmp_path: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    version = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert (version.returncode, version.stdout) == (0, "reconcile 0.1.0\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("function: f\naliases: [\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 1
    assert f"{bad}:3:1: not valid YAML" in result.stderr


def test_sandbox_serve_prints_its_url_first_and_serves(tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "functions:\n  - {name: api, versions: 2, aliases: [{name: live, version: 2}]}\n",
        encoding="utf-8",
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "sandbox",
            "serve",
            "--seed",
            str(seed),
            "--region",
            REGION,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client: Any = boto3.client(
            "lambda",
            endpoint_url=url,
            region_name=REGION,
            aws_access_key_id="x",
            aws_secret_access_key="y",
        )
        assert client.get_alias(FunctionName="api", Name="live")["FunctionVersion"] == "2"
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert server.returncode == 130
    assert server.stderr is not None
    assert "Sandbox stopped." in server.stderr.read()


def on_terminal(args: list[str], answer: str = "", **env: str) -> tuple[int, str]:
    """Run reconcile with a pseudo-terminal as stdin, stdout and stderr; type ``answer``."""
    controller, terminal = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"TERM": "xterm"} | env
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler", *args],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=environment,
        close_fds=True,
    )
    os.close(terminal)
    output = b""
    answered = False
    while True:
        ready, _, _ = select.select([controller], [], [], 30)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        output += chunk
        if answer and not answered and b"Apply these changes?" in output:
            os.write(controller, answer.encode() + b"\r")
            answered = True
    os.close(controller)
    return process.wait(timeout=30), output.decode(errors="replace")


def test_colour_on_a_terminal_and_never_with_no_color(sandbox: Sandbox, estate: Path) -> None:
    args = ["plan", str(estate), "--endpoint-url", sandbox.url]
    code, coloured = on_terminal(args)
    assert code == 0
    assert "\x1b[33m~ 123456789012/eu-west-1/orders:live\x1b[0m" in coloured
    code, plain = on_terminal(args, NO_COLOR="1")
    assert code == 0
    assert "~ 123456789012/eu-west-1/orders:live" in plain
    assert "\x1b[3" not in plain


@pytest.mark.parametrize(("answer", "code", "writes"), [("n", 1, 0), ("y", 0, 2)])
def test_apply_asks_on_a_terminal(
    sandbox: Sandbox, estate: Path, answer: str, code: int, writes: int
) -> None:
    result, output = on_terminal(
        ["apply", str(estate), "--endpoint-url", sandbox.url], answer, NO_COLOR="1"
    )
    assert "Apply these changes? [y/N]" in output
    assert result == code
    assert sandbox.stats()["writes"] == writes


def test_target_limits_what_is_read_planned_and_applied(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.seed({"region": REGION, "functions": [{"name": "billing", "versions": 1}]})
    (estate / "billing.yaml").write_text(
        "function: billing\nregion: eu-west-1\naliases:\n  - {name: live, version: 1}\n",
        encoding="utf-8",
    )
    sandbox.reset_stats()
    code, out, _ = run(sandbox, capsys, "plan", str(estate), "--target", "orders:live")
    assert code == 0
    assert "orders:live" in out
    assert "orders:beta" not in out
    assert "billing" not in out
    assert "hand-made" not in out
    assert sandbox.stats()["calls"]["ListAliases"] == 1  # billing was not even read
    code, out, _ = run(
        sandbox, capsys, "apply", str(estate), "--auto-approve", "--target", "billing"
    )
    assert code == 0
    assert "created  123456789012/eu-west-1/billing:live" in out
    assert "orders" not in out
    assert revisions(sandbox).keys() == {"hand-made", "live"}  # orders:beta was not created
    assert (
        make_client(sandbox).get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"
    )


def test_target_on_a_saved_plan(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    run(sandbox, capsys, "plan", str(estate), "--out", str(saved))
    code, out, _ = run(sandbox, capsys, "apply", str(saved), "--auto-approve", "--target", "*:beta")
    assert code == 0
    assert "created  123456789012/eu-west-1/orders:beta" in out
    assert "orders:live" not in out
    assert (
        make_client(sandbox).get_alias(FunctionName="orders", Name="live")["FunctionVersion"] == "1"
    )


def test_apply_prints_each_outcome_as_it_lands(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.seed({"region": REGION, "functions": [{"name": "orders", "versions": 1}]})
    names = [f"alias-{i:02d}" for i in range(40)]  # more than the writes in flight at once
    (tmp_path / "orders.yaml").write_text(
        "function: orders\nregion: eu-west-1\naliases:\n"
        + "".join(f"  - {{name: {n}, version: 1}}\n" for n in names),
        encoding="utf-8",
    )
    sandbox.set_latency(200)
    args = [sys.executable, "-m", "reconciler", "apply", str(tmp_path), "--auto-approve"]
    with subprocess.Popen(
        [*args, "--endpoint-url", sandbox.url], stdout=subprocess.PIPE, text=True
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        written = sandbox.stats()["calls"].get("CreateAlias", 0)
        rest = process.stdout.read()
    sandbox.set_latency(0)
    assert re.fullmatch(r"created  123456789012/eu-west-1/orders:alias-\d\d\n", first)
    assert written < len(names)  # the first line came while the rest were still being written
    assert rest.endswith(
        "Apply: 40 created, 0 updated, 0 deleted, 0 unchanged, 0 stale, 0 failed.\n"
    )
    assert rest.count("created  ") == len(names) - 1


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_apply_finishes_the_call_in_flight_reports_and_converges_on_rerun(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], signum: int
) -> None:
    sandbox.seed({"region": REGION, "functions": [{"name": "orders", "versions": 1}]})
    names = [f"alias-{i:02d}" for i in range(12)]
    (tmp_path / "orders.yaml").write_text(
        "function: orders\nregion: eu-west-1\naliases:\n"
        + "".join(f"  - {{name: {n}, version: 1}}\n" for n in names),
        encoding="utf-8",
    )
    sandbox.set_latency(150)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "apply",
            str(tmp_path),
            "--auto-approve",
            "--endpoint-url",
            sandbox.url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while sandbox.stats()["calls"].get("CreateAlias", 0) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signum)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "Stopping after the call in flight" in err
    created = out.count("created  ")
    assert 2 <= created < len(names)
    assert out.count("skipped  ") == len(names) - created
    assert "Interrupted: the aliases marked skipped were not attempted; apply again." in out
    assert len(revisions(sandbox)) == created  # every call that started was finished and reported
    sandbox.set_latency(0)
    assert main(["apply", str(tmp_path), "--auto-approve", "--endpoint-url", sandbox.url]) == 0
    assert sorted(revisions(sandbox)) == names


def test_show_renders_a_saved_plan_without_calling_aws(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    run(sandbox, capsys, "plan", str(estate), "--out", str(saved))
    sandbox.reset_stats()
    assert main(["show", str(saved), "-o", "markdown", "--markdown-limit", "0"]) == 0
    assert "| ~ | `live` |" in capsys.readouterr().out
    assert main(["show", str(saved)]) == 0
    assert "Plan: 1 to add, 1 to change, 0 to destroy." in capsys.readouterr().out
    assert sandbox.stats()["total"] == 0
    assert main(["show", str(estate / "orders.yaml")]) == 1
    assert main(["show", str(tmp_path / "nowhere.json")]) == 1
    assert f"{tmp_path / 'nowhere.json'}: no such file" in capsys.readouterr().err


def test_permissions_are_least_privilege(capsys: pytest.CaptureFixture[str]) -> None:
    estate = str(ROOT / "manifests")  # on both clouds: each one's policy is asked for by name
    assert main(["permissions", "--plan", estate, "--provider", "functiongraph"]) == 0
    huawei = json.loads(capsys.readouterr().out)
    assert huawei["Statement"][0]["Action"] == [
        "functiongraph:function:getAlias",  # plan reads each alias as the guard does
        "functiongraph:function:listAlias",
        "functiongraph:function:listVersion",
    ]
    assert huawei["Statement"][0]["Resource"] == [
        "FUNCTIONGRAPH:ap-southeast-1:*:function:default/checkout"
    ]
    assert main(["permissions", "--plan", estate, "--provider", "lambda"]) == 0
    read_only = json.loads(capsys.readouterr().out)
    (statement,) = read_only["Statement"]
    assert statement["Action"] == [
        "lambda:GetFunction",
        "lambda:GetProvisionedConcurrencyConfig",
        "lambda:ListAliases",
    ]
    assert "arn:aws:lambda:eu-west-1:*:function:payments-api" in statement["Resource"]
    assert "arn:aws:lambda:eu-west-1:*:function:payments-api:*" in statement["Resource"]
    assert main(["permissions", "--apply", estate, "--provider", "lambda"]) == 0
    write, prune = json.loads(capsys.readouterr().out)["Statement"]
    assert {"lambda:CreateAlias", "lambda:UpdateAlias", "lambda:GetAlias"} <= set(write["Action"])
    assert "lambda:DeleteAlias" not in write["Action"]
    assert prune["Action"] == ["lambda:DeleteAlias", "lambda:GetAlias"]
    assert prune["Resource"] == [  # only the function whose manifest prunes
        "arn:aws:lambda:eu-west-1:*:function:orders-intake",
        "arn:aws:lambda:eu-west-1:*:function:orders-intake:*",
    ]
    assert main(["permissions", "--apply"]) == 0
    assert json.loads(capsys.readouterr().out)["Statement"][0]["Resource"] == [
        "arn:aws:lambda:*:*:function:*",
        "arn:aws:lambda:*:*:function:*:*",
    ]
    assert main(["permissions"]) == 1


def test_permissions_name_the_default_account_and_region_when_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["permissions", "--plan", str(ROOT / "manifests"), "--default-account", "123456789012"]
    assert main([*args, "--provider", "lambda"]) == 0
    (statement,) = json.loads(capsys.readouterr().out)["Statement"]
    assert "arn:aws:lambda:eu-west-1:123456789012:function:payments-api" in statement["Resource"]
    assert not any(":*:function:" in arn for arn in statement["Resource"])
    assert main([*args[:3], "--default-account", "12"]) == 1


def test_groups_fan_out_and_each_job_keeps_to_its_group(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (estate / "other-account.yaml").write_text(
        'function: ledger\nregion: us-east-1\naccount: "210987654321"\naliases:\n'
        "  - {name: live, version: 1}\n",
        encoding="utf-8",
    )
    # A manifest that names the default account explicitly joins the same group as one that
    # names none: two jobs never select one function.
    (estate / "explicit.yaml").write_text(
        'function: billing\nregion: eu-west-1\naccount: "123456789012"\naliases: []\n',
        encoding="utf-8",
    )
    assert main(["groups", str(estate), "--default-account", "123456789012"]) == 0
    matrix = json.loads(capsys.readouterr().out)
    assert matrix == {
        "include": [
            {
                "account": "123456789012",
                "provider": "lambda",
                "region": "eu-west-1",
                "target": "123456789012/eu-west-1/*",
            },
            {
                "account": "210987654321",
                "provider": "lambda",
                "region": "us-east-1",
                "target": "210987654321/us-east-1/*",
            },
        ]
    }
    sandbox.seed({"region": REGION, "functions": [{"name": "billing", "versions": 1}]})
    # The job for the sandbox's account plans its group; the other account's manifest is not its
    # business, so the account guard does not stop it.
    code, out, _ = run(
        sandbox, capsys, "plan", str(estate), "--target", matrix["include"][0]["target"]
    )
    assert code == 0
    assert "orders:live" in out
    assert "ledger" not in out
    code, _, err = run(sandbox, capsys, "plan", str(estate))
    assert code == 1
    assert "belongs to account 210987654321" in err


def test_groups_need_the_default_account_when_a_manifest_names_none(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["groups", str(estate)]) == 1
    err = capsys.readouterr().err
    assert f"{estate / 'orders.yaml'}:1:1: orders names no account" in err
    assert "--default-account" in err
    assert main(["groups", str(estate), "--default-account", "1234"]) == 1
    assert 'an account ID is 12 digits, not "1234"' in capsys.readouterr().err


@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_a_job_for_another_account_leaves_manifests_without_an_account_alone(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """The matrix job for the sandbox's account, when manifests that name none belong to another
    (the default role's): their functions are not its business, though they resolve there."""
    extra = ["--auto-approve"] if command == "apply" else []
    group = ["--target", "123456789012/eu-west-1/*", "--default-account", "210987654321"]
    code, _, err = run(sandbox, capsys, command, str(estate), *group, *extra)
    assert code == 1
    assert '--target "123456789012/eu-west-1/*" matches no function' in err
    assert sandbox.stats()["writes"] == 0
    assert "ListAliases" not in sandbox.stats()["calls"]
    # Without the target, the account guard refuses them: they are not this account's.
    code, _, err = run(
        sandbox, capsys, command, str(estate), "--default-account", "210987654321", *extra
    )
    assert code == 1
    assert "orders belongs to account 210987654321" in err
    assert sandbox.stats()["writes"] == 0


@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
@pytest.mark.parametrize(
    "glob",
    [
        "ordres",  # no such function: refused before any alias is read
        "orders:lvie",  # the function exists, the alias does not
        "123456789012/eu-west-2/*",  # another Region
    ],
)
def test_a_target_that_selects_nothing_is_an_error(
    sandbox: Sandbox,
    estate: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    glob: str,
) -> None:
    extra = ["--auto-approve"] if command == "apply" else []
    code, out, err = run(
        sandbox, capsys, command, str(estate), "--target", "orders:live", "--target", glob, *extra
    )
    assert code == 1
    assert f'--target "{glob}" matches no' in err
    assert out == ""
    assert sandbox.stats()["writes"] == 0
    if ":" not in glob:
        assert "ListAliases" not in sandbox.stats()["calls"]


def test_a_target_that_selects_nothing_in_a_saved_plan_is_an_error(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    assert run(sandbox, capsys, "plan", str(estate), "--out", str(saved))[0] == 0
    sandbox.reset_stats()
    code, _, err = run(sandbox, capsys, "apply", str(saved), "--auto-approve", "--target", "*:bta")
    assert code == 1
    assert '--target "*:bta" matches no alias' in err
    assert sandbox.stats()["writes"] == 0


def test_a_saved_plan_changed_after_it_was_written_is_refused_by_show_and_apply(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    assert run(sandbox, capsys, "plan", str(estate), "--out", str(saved))[0] == 0
    text = saved.read_text(encoding="utf-8")
    saved.write_text(text.replace('"version": "3"', '"version": "1"', 1), encoding="utf-8")
    sandbox.reset_stats()
    for args in (["show", str(saved)], ["apply", str(saved), "--auto-approve"]):
        code, out, err = (
            run(sandbox, capsys, *args)
            if args[0] == "apply"
            else (main(args), *capsys.readouterr())
        )
        assert code == 1
        assert "the plan file was changed after it was written" in err
        assert out == ""
    assert sandbox.stats()["total"] == 0


def test_a_saved_plan_is_refused_when_the_manifests_moved_on(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    saved = tmp_path / "plan.json"
    assert run(sandbox, capsys, "plan", str(estate), "--out", str(saved))[0] == 0
    (estate / "orders.yaml").write_text(
        MANIFEST.replace("version: 2", "version: 1"), encoding="utf-8"
    )
    sandbox.reset_stats()
    code, _, err = run(
        sandbox, capsys, "apply", str(saved), "--manifests", str(estate), "--auto-approve"
    )
    assert code == 1
    assert "the manifests have changed since this plan was made" in err
    assert sandbox.stats()["total"] == 0
    (estate / "orders.yaml").write_text(MANIFEST, encoding="utf-8")  # back as planned
    code, out, _ = run(
        sandbox, capsys, "apply", str(saved), "--manifests", str(estate), "--auto-approve"
    )
    assert code == 0
    assert "updated  123456789012/eu-west-1/orders:live" in out
    code, _, err = run(sandbox, capsys, "apply", str(estate), "--manifests", str(estate))
    assert code == 1
    assert "--manifests goes with a saved plan" in err


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_plan_sandbox_seeds_functions_in_every_partition(
    region: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Manifests in China and GovCloud Regions plan against the embedded sandbox: their
    execution roles are made in the Region's partition, as moto requires."""
    manifest = tmp_path / "api.yaml"
    manifest.write_text(
        f"function: api\nregion: {region}\naliases:\n  - name: live\n    version: 2\n",
        encoding="utf-8",
    )
    code = main(["plan", str(manifest), "--sandbox"])
    _, err = capsys.readouterr()
    assert code == 0, err


def test_rollout_status_with_sandbox_is_unpaced_like_every_other_command() -> None:
    """--rate defaults to the quotas of what a command talks to, for rollout status too."""
    command: Any = typer.main.get_command(app)
    status = command.commands["rollout"].commands["status"]
    rate = next(p for p in status.params if p.name == "rate")
    assert rate.default is None


def test_validate_checks_the_policy_beside_the_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """validate, and the pre-commit hook that calls it with the changed files, read policy.yaml
    as plan does: a typo in it fails there, not first in CI."""
    (tmp_path / "orders.yaml").write_text(MANIFEST, encoding="utf-8")
    (tmp_path / "policy.yaml").write_text("max_stepp: 25\n", encoding="utf-8")
    for args in ([str(tmp_path)], [str(tmp_path / "policy.yaml"), str(tmp_path / "orders.yaml")]):
        assert main(["validate", *args]) == 1
        err = capsys.readouterr().err
        assert f"{tmp_path / 'policy.yaml'}:1:1: " in err
        assert "max_stepp" in err
    (tmp_path / "policy.yaml").write_text("max_step: 25\n", encoding="utf-8")
    assert main(["validate", str(tmp_path)]) == 0
    assert "and policy.yaml: valid." in capsys.readouterr().out


def test_groups_with_rollouts_are_only_those_a_rollout_manifest_names(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (estate / "canary.yaml").write_text(
        "function: ledger\nregion: us-east-1\naliases:\n  - name: live\n    version: 2\n"
        "    rollout: {steps: [10, 50], bake: 5m}\n",
        encoding="utf-8",
    )
    assert main(["groups", str(estate), "--rollouts", "--default-account", "123456789012"]) == 0
    matrix = json.loads(capsys.readouterr().out)
    assert [g["target"] for g in matrix["include"]] == ["123456789012/us-east-1/*"]
    (estate / "canary.yaml").unlink()
    assert main(["groups", str(estate), "--rollouts", "--default-account", "123456789012"]) == 0
    assert json.loads(capsys.readouterr().out) == {"include": []}

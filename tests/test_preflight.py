"""Pre-flight: a plan that would fail at apply fails at plan, names the place, writes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from tests.conftest import ACCOUNT, REGION

DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:orders-dlq"


@pytest.fixture
def estate(sandbox: Sandbox) -> Sandbox:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {
                    "name": "orders",
                    "versions": [{}, {}, {"role": "other-role"}, {"dead_letter": DLQ}],
                    "aliases": [
                        {"name": "live", "version": 1, "description": "prod"},
                        {"name": "warm", "version": 1, "provisioned_concurrency": 3},
                    ],
                }
            ],
        }
    )
    sandbox.reset_stats()
    return sandbox


def plan(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], aliases: str, *args: str
) -> tuple[int, str]:
    manifest = tmp_path / "orders.yaml"
    manifest.write_text(
        f"function: orders\nregion: {REGION}\naliases:\n{aliases}", encoding="utf-8"
    )
    code = main([*args, str(tmp_path), "--endpoint-url", sandbox.url])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("aliases", "line", "words"),
    [
        ("  - {name: live, version: 9}\n", 4, "orders:live: version 9 of"),
        ("  - {name: beta, version: 1, routing: {version: 7, weight: 0.1}}\n", 4, "version 7 of"),
        (
            "  - {name: live, version: 2, routing: {version: 3, weight: 0.1}}\n",
            4,
            "different execution roles",
        ),
        (
            "  - {name: live, version: 1, routing: {version: 4, weight: 0.1}}\n",
            4,
            "different dead-letter configurations",
        ),
        (
            "  - {name: live, version: 1}\n"
            "  - {name: warm, version: 1, routing: {version: 2, weight: 0.5}}\n",
            5,
            "orders:warm has provisioned concurrency (3)",
        ),
    ],
    ids=["missing-version", "missing-routing-version", "roles", "dead-letter", "provisioned"],
)
@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_preflight_failures_exit_1_at_the_alias_line_and_write_nothing(
    estate: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    aliases: str,
    line: int,
    words: str,
    command: str,
) -> None:
    extra = ["--auto-approve"] if command == "apply" else []
    code, err = plan(estate, tmp_path, capsys, aliases, command, *extra)
    assert code == 1
    assert f"{tmp_path / 'orders.yaml'}:{line}:" in err
    assert words in err
    assert "nothing was changed" in err
    assert estate.stats()["writes"] == 0


def test_only_versions_the_plan_moves_to_are_read(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aliases = (
        "  - {name: live, version: 1, description: changed}\n"  # version unchanged: not read
        "  - {name: warm, version: 1}\n"
        "  - {name: beta, version: 2}\n"  # new: version 2 read
        "  - {name: dev, version: $LATEST}\n"  # $LATEST always exists with its function
    )
    code, _ = plan(estate, tmp_path, capsys, aliases, "plan")
    assert code == 0
    calls: dict[str, Any] = estate.stats()["calls"]
    assert calls["GetFunction"] == 1
    assert "GetProvisionedConcurrencyConfig" not in calls


def test_a_valid_weighted_plan_passes_and_applies(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    aliases = "  - {name: live, version: 1, routing: {version: 2, weight: 0.1}}\n"
    code, _ = plan(estate, tmp_path, capsys, aliases, "apply", "--auto-approve")
    assert code == 0
    assert estate.stats()["calls"]["UpdateAlias"] == 1


def test_versions_of_many_functions_are_read_concurrently_and_each_once(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = [f"svc-{i:02d}" for i in range(12)]
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {"name": n, "versions": 3, "aliases": [{"name": "live", "version": 1}]}
                for n in names
            ],
        }
    )
    for n in names:
        (tmp_path / f"{n}.yaml").write_text(
            f"function: {n}\nregion: {REGION}\naliases:\n"
            "  - {name: live, version: 2, routing: {version: 3, weight: 0.1}}\n"
            "  - {name: beta, version: 3}\n",
            encoding="utf-8",
        )
    sandbox.set_latency(50)
    sandbox.reset_stats()
    code = main(["plan", str(tmp_path), "--endpoint-url", sandbox.url])
    assert code == 0, capsys.readouterr().err
    stats = sandbox.stats()
    assert stats["calls"]["GetFunction"] == 2 * len(names)  # versions 2 and 3, once each
    assert stats["peak_in_flight"]["GetFunction"] > 1  # read side by side, not one by one

"""Reads at the API budget: concurrent, paced by a token bucket, slowed (not failed) by 429s."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from tests.conftest import REGION

FUNCTIONS = 30


@pytest.fixture
def estate(sandbox: Sandbox, tmp_path: Path) -> Path:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {"name": f"fn-{i:03d}", "versions": 2, "aliases": [{"name": "live", "version": 1}]}
                for i in range(FUNCTIONS)
            ],
        }
    )
    for i in range(FUNCTIONS):
        aliases = f"aliases:\n  - {{name: live, version: {1 + i % 2}}}\n"
        (tmp_path / f"fn-{i:03d}.yaml").write_text(
            f"function: fn-{i:03d}\nregion: {REGION}\n{aliases}", encoding="utf-8"
        )
    return tmp_path


def plan_json(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str], *args: str
) -> str:
    assert main(["plan", str(estate), "-o", "json", "--endpoint-url", sandbox.url, *args]) == 0
    out = capsys.readouterr().out
    # The time, and so the digest that covers it, differ from run to run.
    return "\n".join(
        line for line in out.splitlines() if '"created_at"' not in line and '"digest"' not in line
    )


def test_paced_at_the_default_rate_a_plan_is_never_throttled(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unpaced = plan_json(sandbox, estate, capsys)  # the whole estate at once, no quotas
    sandbox.aws_quotas()
    sandbox.set_latency(20)
    sandbox.reset_stats()
    paced = plan_json(sandbox, estate, capsys, "--rate", "15")
    stats = sandbox.stats()
    assert stats["throttled"] == {}
    assert stats["calls"]["ListAliases"] == FUNCTIONS
    assert paced == unpaced  # concurrent reads give the sequential result


def test_throttling_slows_the_bucket_instead_of_failing(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = plan_json(sandbox, estate, capsys)
    sandbox.set_quotas({"*": 10.0})  # someone else uses a third of the budget
    sandbox.reset_stats()
    assert plan_json(sandbox, estate, capsys, "--rate", "15") == expected
    stats = sandbox.stats()
    assert sum(stats["throttled"].values()) > 0
    assert stats["calls"]["ListAliases"] == FUNCTIONS + stats["throttled"]["ListAliases"]


def test_rate_must_be_positive(sandbox: Sandbox, estate: Path) -> None:
    assert main(["plan", str(estate), "--rate", "0", "--endpoint-url", sandbox.url]) == 1
    assert sandbox.stats()["total"] == 0

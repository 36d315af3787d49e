"""Rollout results as text lines, JSON and exit codes; untrusted text made inert here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.render import _md, apply_json, inert_text
from reconciler.rollout.engine import Outcome, RolloutResult

EXIT_STALE, EXIT_ROLLED_BACK, EXIT_INTERRUPTED = 3, 4, 130


def progress_line(address: str, kind: str, line: str) -> str:
    """One step of one rollout, as it happens."""
    return f"{kind:<11} {inert_text(address)}: {inert_text(line)}"


def result_line(result: RolloutResult) -> str:
    return f"{'rollout ' + result.outcome.value:<22} {inert_text(result.address)}: " + inert_text(
        result.message
    )


def summary(results: Sequence[RolloutResult]) -> str:
    counts = [
        f"{sum(1 for r in results if r.outcome is o)} {o.value}"
        for o in Outcome
        if any(r.outcome is o for r in results)
    ]
    return "Rollouts: " + ", ".join(counts) + "."


def results_text(results: Sequence[RolloutResult]) -> str:
    if not results:
        return ""
    return "".join(f"{result_line(r)}\n" for r in results) + summary(results) + "\n"


def result_to_dict(result: RolloutResult) -> dict[str, Any]:
    change = result.change
    return {
        "address": result.address,
        "outcome": result.outcome.value,
        "from": None if change.before is None else change.before.version,
        "to": None if change.after is None else change.after.version,
        "message": result.message,
        "events": [
            {"at": e.at.isoformat(timespec="seconds"), "percent": e.percent, "what": e.what}
            for e in result.events
        ],
    }


def exit_code(results: Sequence[RolloutResult]) -> int:
    """130 interrupted, 1 failed, 4 rolled back (or a failure stands), 3 stale, else 0."""
    outcomes = {r.outcome for r in results}
    if Outcome.INTERRUPTED in outcomes:
        return EXIT_INTERRUPTED
    if Outcome.FAILED in outcomes:
        return 1
    if Outcome.ROLLED_BACK in outcomes:
        return EXIT_ROLLED_BACK
    if Outcome.STALE in outcomes:
        return EXIT_STALE
    return 0


def render(results: Sequence[RolloutResult], output: str) -> str:
    """What follows apply's own report: each rollout's result (text, markdown), or nothing (JSON
    carries them in the report itself)."""
    if not results or output == "json":
        return ""
    if output == "markdown":
        return results_markdown(results)
    return results_text(results)


def results_markdown(results: Sequence[RolloutResult]) -> str:
    lines = ["", "#### Rollouts", "", "| alias | outcome | what happened |", "|---|---|---|"]
    lines += [f"| {_md(r.address)} | {r.outcome.value} | {_md(r.message)} |" for r in results]
    return "\n".join(lines) + "\n"


def with_rollouts(report: Any, results: Sequence[RolloutResult]) -> str:
    """The apply report as JSON, with the rollouts in it."""
    document = json.loads(apply_json(report))
    if results:
        document["rollouts"] = [result_to_dict(r) for r in results]
    return json.dumps(document, indent=2) + "\n"


def combined_exit(apply_exit: int, results: Sequence[RolloutResult]) -> int:
    """The apply's exit code with the rollouts': the more serious wins."""
    order = [0, EXIT_STALE, EXIT_ROLLED_BACK, 1, EXIT_INTERRUPTED]
    codes = [apply_exit, exit_code(results)]
    return max(codes, key=lambda c: order.index(c) if c in order else len(order))

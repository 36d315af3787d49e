"""Rollout results as text lines, JSON and exit codes; untrusted text made inert here."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from reconciler.render import _md, _row, apply_json, inert_text
from reconciler.rollout.engine import Outcome, Phase, RolloutResult, versions_named
from reconciler.rollout.model import version_word
from reconciler.rollout.status import RolloutStatus

EXIT_STALE, EXIT_ROLLED_BACK, EXIT_INTERRUPTED = 3, 4, 130


def progress_line(address: str, kind: str, line: str) -> str:
    """One step of one rollout, as it happens."""
    return f"{kind:<11} {inert_text(address)}: {inert_text(line)}"


def result_line(result: RolloutResult) -> str:
    return f"{'rollout ' + result.outcome.value:<22} {inert_text(result.address)}: " + inert_text(
        result.message
    )


def summary(results: Sequence[RolloutResult]) -> str:
    return f"Rollouts: {counts(results)}."


def counts(results: Sequence[RolloutResult]) -> str:
    """``1 completed, 1 rolled back``: how many rollouts ended each way."""
    return ", ".join(
        f"{sum(1 for r in results if r.outcome is o)} {o.value}"
        for o in Outcome
        if any(r.outcome is o for r in results)
    )


def headline(results: Sequence[RolloutResult]) -> str:
    """What the apply's headline adds for its rollouts: ``rollouts: 1 in progress``, or ""."""
    return f"rollouts: {counts(results)}" if results else ""


def drift_headline(found: Sequence[RolloutStatus]) -> str:
    """What the drift headline adds: ``1 rollout in progress (not drift)``, or ""."""
    if not found:
        return ""
    phases = list(dict.fromkeys(s.where.phase for s in found))
    parts = []
    for i, phase in enumerate(phases):
        number = sum(1 for s in found if s.where.phase is phase)
        noun = f" rollout{'s' * (number != 1)}" if i == 0 else ""
        parts.append(f"{number}{noun} {phase.value}")
    return ", ".join(parts) + " (not drift)"


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
    lines += [_row(_md(r.address), r.outcome.value, _md(r.message)) for r in results]
    for result in results:
        chart = events_chart(result)
        if chart is not None:
            lines += ["", chart]
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


# -- rollout status, and pictures ------------------------------------------------------------------

_TIME = "%Y-%m-%dT%H:%M:%SZ"
_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:/ %>-]")


def _mermaid_text(text: str) -> str:
    """Text inside a Mermaid chart: only characters that cannot end a string or start markup."""
    return _MERMAID_UNSAFE.sub("_", text)[:80]


def status_text(found: Sequence[RolloutStatus]) -> str:
    if not found:
        return "No rollout in progress or rolled back.\n"
    lines = []
    for s in found:
        parts = [
            inert_text(s.address),
            f"{s.said(s.old)} -> {s.said(s.new)}",
            s.where.phase.value,
            f"step {s.step_text()}",
            f"{s.percent}% on {s.said(s.new)}",
        ]
        since = s.where.since or (s.state.since if s.state else None)
        if since is not None:
            parts.append(f"since {since.strftime(_TIME)}")
        if s.due is not None:
            parts.append(f"next step due {s.due.strftime(_TIME)}")
        if s.where.message:
            parts.append(inert_text(s.where.message))
        if s.alarms:
            parts.append("alarms: " + ", ".join(f"{inert_text(n)} {st}" for n, st in s.alarms))
        lines.append("  ".join(parts))
    return "\n".join(lines) + "\n"


def status_markdown(found: Sequence[RolloutStatus]) -> str:
    lines = ["### reconcile rollout status", ""]
    if not found:
        return "\n".join([*lines, "No rollout in progress or rolled back."]) + "\n"
    lines += [
        "| alias | versions | state | step | traffic | next step due | alarms |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in found:
        alarms = "<br>".join(f"{_md(n)}: {st}" for n, st in s.alarms) or "none"
        due = s.due.strftime(_TIME) if s.due else "-"
        lines.append(  # each cell's '|' escaped: GFM splits cells at it even in code spans
            _row(
                _md(s.address),
                f"{_md(s.said(s.old))} &rarr; {_md(s.said(s.new))}",
                s.where.phase.value,
                s.step_text(),
                f"{s.percent}% on {_md(s.said(s.new))}",
                due,
                alarms,
            )
        )
    for s in found:
        lines += ["", status_chart(s)]
    return "\n".join(lines) + "\n"


def status_chart(s: RolloutStatus) -> str:
    """The rollout's steps as a Mermaid chart: the plan as a line, the weights reached as bars."""
    steps = [0, *s.rollout.steps, 100]
    reached = 0 if s.where.phase in (Phase.FAILED, Phase.ROLLBACK_PENDING) else s.percent
    bars = [w if w <= reached else 0 for w in steps]
    versions = f"{s.said(s.old)} to {s.said(s.new)}"
    title = f"{s.change.target.name}:{s.change.alias} {versions}: {s.where.phase.value}"
    labels = ", ".join(f'"{w}%"' for w in steps)
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f'    title "{_mermaid_text(title)}"',
            f"    x-axis [{labels}]",
            f'    y-axis "% on {_mermaid_text(s.said(s.new))}" 0 --> 100',
            f"    bar [{', '.join(map(str, bars))}]",
            f"    line [{', '.join(map(str, steps))}]",
            "```",
        ]
    )


def events_chart(result: RolloutResult) -> str | None:
    """What an apply did to one rollout, over time: the weight after each event, an alarm's
    moment named on the axis."""
    if not result.events:
        return None
    change = result.change
    new = change.after.version if change.after else "?"
    labels = ", ".join(
        f'"{e.at.strftime("%H:%M:%S")} {_mermaid_text(e.what.split(" ", 1)[0])}"'
        for e in result.events
    )
    title = f"{change.target.name}:{change.alias} {result.outcome.value}"
    said = version_word(new, named=versions_named(change.target))
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            f'    title "{_mermaid_text(title)}"',
            f"    x-axis [{labels}]",
            f'    y-axis "% on {_mermaid_text(said)}" 0 --> 100',
            f"    line [{', '.join(str(e.percent) for e in result.events)}]",
            "```",
        ]
    )


def drift_rollouts(found: Sequence[RolloutStatus], output: str) -> str:
    """Below a drift report: rollouts in progress or rolled back, which are not drift."""
    if not found or output == "json":
        return ""
    if output == "markdown":
        rows = [
            _row(
                _md(s.address),
                f"{_md(s.said(s.old))} &rarr; {_md(s.said(s.new))}",
                s.where.phase.value,
            )
            for s in found
        ]
        head = [
            "",
            "#### Rollouts (not drift)",
            "",
            "| alias | versions | state |",
            "|---|---|---|",
        ]
        return "\n".join([*head, *rows]) + "\n"
    lines = ["", "Rollouts (not drift):"]
    lines += [
        f"  {inert_text(s.address)}: {s.said(s.old)} -> {s.said(s.new)} "
        f"{s.where.phase.value}"
        + (f", {s.percent}% on {s.said(s.new)}" if s.where.phase.value == "in progress" else "")
        + (f" ({inert_text(s.where.message)})" if s.where.message else "")
        for s in found
    ]
    return "\n".join(lines) + "\n"


def drift_json_with(text: str, found: Sequence[RolloutStatus]) -> str:
    if not found:
        return text
    document = json.loads(text)
    document["rollouts"] = [s.to_dict() for s in found]
    return json.dumps(document, indent=2) + "\n"

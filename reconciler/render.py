"""Plans, apply reports and drift as text, markdown (for PR comments and issues) and JSON.

Pure: every function returns a string; the CLI decides where it goes and whether it has colour.

Names, versions, descriptions, reasons and messages come from manifests (any pull request's
author), from the cloud (anyone allowed UpdateAlias) or from a saved plan. Each format makes them
inert in one place: ``inert_text`` for text, ``_code`` and ``_html_code`` for markdown. JSON needs
nothing: ``json.dumps`` escapes what must be.
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal
from itertools import groupby
from typing import Any

from reconciler import functiongraph as fg
from reconciler.applier import ApplyReport, Outcome, Result
from reconciler.contract import LATEST
from reconciler.github import COMMENT_LIMIT
from reconciler.live import FunctionTarget, Route
from reconciler.plan import Action, Change, FieldDiff, Plan, plan_to_dict

_COLOURS = {Action.CREATE: "32", Action.UPDATE: "33", Action.DELETE: "31", Action.NOOP: "0"}
_OUTCOME_COLOURS = {Outcome.STALE: "33", Outcome.FAILED: "31", Outcome.SKIPPED: "33"}


def _paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code != "0" else text


# -- untrusted text ------------------------------------------------------------------------------

# Controls (C0, DEL, C1), format characters (bidi overrides, zero-width), surrogates, and the line
# and paragraph separators: each can move the cursor, hide text, reorder it or end a line.
_UNSEEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def inert_text(text: str) -> str:
    """Untrusted text for a terminal or a CI log: each control, format or separator character as
    a visible escape (``\\x1b``, ``\\u202e``); ``\\`` doubled, so every escape is unambiguous."""
    if text.isprintable() and "\\" not in text:  # the fast path, taken by nearly every name
        return text
    return "".join(
        _escape(char) if char == "\\" or unicodedata.category(char) in _UNSEEN else char
        for char in text
    )


def _route(value: Any) -> tuple[float, str] | None:
    """A routing value's weight and version; None for anything else (a forged plan's, say)."""
    if not isinstance(value, dict) or "version" not in value:
        return None
    weight = value.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        return None
    return weight, str(value["version"])


_NONE = "(none)"


def show_value(value: Any, *, named: bool = False) -> str:
    """A field's value as a person reads it in text: as it is, or quoted with escapes when it is
    empty, has spaces or quotes, or holds a character that ``inert_text`` escapes. ``named``:
    versions are FunctionGraph's names, shown as they are (see ``_v``)."""
    if value is None:
        return _NONE
    if route := _route(value):
        return f"{percent(route[0])} to {_v(route[1], show_value(route[1]), named=named)}"
    if isinstance(value, dict) and isinstance(value.get("rules"), list):  # FunctionGraph's
        version = str(value.get("version"))
        return f"requests with {_rules(value)} to {_v(version, show_value(version), named=True)}"
    if isinstance(value, float):
        return repr(value)  # the shortest exact form: 0.05000004 never shows as 0.05
    text = value if isinstance(value, str) else str(value)
    shown = inert_text(text)
    quoted = text in ("", _NONE) or text != text.strip() or " " in text or '"' in text
    if quoted or shown != text:
        return '"' + shown.replace('"', '\\"') + '"'
    return text


def _v(version: str, shown: str | None = None, *, named: bool = False) -> str:
    """A version as people say it (``shown``, when made inert otherwise): Lambda's 12 as v12,
    but $LATEST as it is. FunctionGraph's versions (``named``) are free-form names, always shown
    exactly as apply writes them: "3" and "v3" are two versions, never both shown as v3."""
    text = version if shown is None else shown
    if named:
        return text
    word = version == LATEST or fg.VERSION_RE.fullmatch(version) is not None
    return text if word and not version.isdigit() else f"v{text}"


def _named(target: FunctionTarget) -> bool:
    """Whether the function's versions are names (FunctionGraph's) rather than numbers."""
    return target.provider == fg.PROVIDER


def _rules(value: dict[str, Any]) -> str:
    """FunctionGraph's routing rules as a person reads them: ``x-canary in internal,qa``."""
    rules = [r for r in value["rules"] if isinstance(r, dict)]
    joiner = f" {inert_text(str(value.get('combine', 'and')))} "
    return joiner.join(
        inert_text(f"{r.get('header')} {r.get('op')} {r.get('value')}") for r in rules
    )


def count(number: int, noun: str) -> str:
    """``1 alias``, ``2 aliases``: the nouns used here take ``es`` or ``s``."""
    if number == 1:
        return f"1 {noun}"
    return f"{number} {noun}{'es' if noun.endswith('s') else 's'}"


def _matching(plan: Plan) -> str:
    number = plan.count(Action.NOOP)
    verb = "matches" if number == 1 else "match"
    return f"{count(number, 'managed alias')} {verb} the manifests."


def percent(weight: float, *, rest: bool = False) -> str:
    """A weight (or, with ``rest``, what is left of the traffic) as an exact percentage: 0.123456789
    is 12.3456789% and leaves 87.6543211%, never rounded, nor 5.0000000000000044% for 1 - 0.95."""
    if not math.isfinite(weight):
        return f"{weight}%"
    share = Decimal(repr(weight)) * 100
    share = (100 - share if rest else share).normalize()
    return f"{share:f}%" if share.adjusted() >= -12 else f"{share:e}%"


# -- text ----------------------------------------------------------------------------------------


def plan_text(plan: Plan, *, colour: bool = False) -> str:
    lines: list[str] = []
    for change in plan.actions:
        lines.extend(_change_lines(change, colour))
    if plan.finishing:
        if lines:
            lines.append("")
        lines.append("Rollouts at 100% that apply finishes:")
        lines.extend(
            f"  {inert_text(c.address)}  {inert_text(_standing_says(c))}" for c in plan.finishing
        )
    if plan.held:
        if lines:
            lines.append("")
        lines.append("Rollouts apply leaves as they are now:")
        lines.extend(f"  {inert_text(c.address)}  {inert_text(_held_text(c))}" for c in plan.held)
    if plan.unmanaged:
        lines.append("")
        lines.append("Unmanaged aliases (live, not in the manifests, left alone):")
        lines.extend(
            f"  {inert_text(target.alias_address(alias.name))} -> "
            f"{_v(alias.version, show_value(alias.version), named=_named(target))}"
            for target, alias in plan.unmanaged
        )
    if plan.missing_functions:
        lines.append("")
        lines.append("Functions that do not exist:")
        lines.extend(f"  {inert_text(target.address)}" for target in plan.missing_functions)
    if lines:
        lines.append("")
    missing = count(len(plan.missing_functions), "function")
    if plan.has_changes:
        lines.append(f"Plan: {plan.summary()}")
    elif plan.missing_functions:  # never "No changes" below a list of problems
        lines.append(f"Plan: {plan.summary()[:-1]}; {missing} not found.")
    else:
        lines.append(f"No changes. {_matching(plan)[:-1]}{_held_count(plan)}.")
    return "\n".join(lines) + "\n"


def _held_count(plan: Plan) -> str:
    held = len(plan.held)
    return f"; {held} rollout{'s' * (held != 1)} held" if held else ""


def _standing_says(change: Change) -> str:
    standing = change.standing
    assert standing is not None
    return standing.says


def _held_text(change: Change) -> str:
    """``v12 -> v13 rolled back: ...; to try again: reconcile rollout retry f:live``."""
    standing, before, after = change.standing, change.before, change.after
    assert standing is not None
    assert before is not None
    assert after is not None
    named = _named(change.target)
    text = f"{_v(before.version, named=named)} -> {_v(after.version, named=named)} {standing.says}"
    return f"{text}; {standing.then}" if standing.then else text


def _change_lines(change: Change, colour: bool) -> list[str]:
    head = f"{change.action.value} {inert_text(change.address)}"
    if change.action is Action.DELETE:
        head += f"  ({inert_text(change.reason)})"
    if (described := _rollout_text(change) or _replaced_text(change)) is not None:
        head += f"  {inert_text(described)}"
    lines = [_paint(head, _COLOURS[change.action], colour)]
    named = _named(change.target)
    for diff in _shown_diffs(change):
        field = inert_text(diff.field)
        after = show_value(diff.after, named=named)
        if change.action is Action.CREATE:
            lines.append(f"    {field}: {after}")
        else:
            lines.append(f"    {field}: {show_value(diff.before, named=named)} -> {after}")
    return lines


def _rollout_text(change: Change) -> str | None:
    """``12 -> 13 via 5% -> 25% -> 50% -> 100%, 10m each, gated on 2 alarms (about 30m)``."""
    rollout, before, after = change.rollout, change.before, change.after
    if rollout is None or before is None or after is None:
        return None
    described = rollout.describe(before.version, after.version)
    standing = change.standing
    if standing is not None and standing.says:
        described += f"; {standing.says}"
    elif before.routing is not None and before.routing.version == after.version:
        at = percent(before.routing.weight)
        described += f"; under way, at {at} on {_v(after.version, named=_named(change.target))}"
    return described


def _replaced_text(change: Change) -> str | None:
    """``rolls back the rollout v12 -> v13 (at 10% on v13): v12 takes all the traffic at once``."""
    ended, before, after = change.replaces, change.before, change.after
    if ended is None or before is None or before.routing is None or after is None:
        return None
    verb = "rolls back" if after.version == ended.old else "ends"
    named = _named(change.target)
    if after.routing is None:
        takes = "takes all the traffic at once"
    elif after.routing.rules:  # no share: the rules pick requests, the rest stay
        rules = f" {after.routing.combine} ".join(str(r) for r in after.routing.rules)
        takes = (
            f"takes the rest at once; requests with {rules} go to "
            f"{_v(after.routing.version, named=named)}"
        )
    else:
        takes = f"takes {percent(after.routing.weight, rest=True)} at once"
    old, new, to = (
        _v(v, named=_named(change.target)) for v in (ended.old, ended.new, after.version)
    )
    return (
        f"{verb} the rollout {old} -> {new} (at {percent(before.routing.weight)} "
        f"on {new}): {to} {takes}"
    )


def _shown_diffs(change: Change) -> tuple[FieldDiff, ...]:
    """A rollout's line says where version and routing go; the other fields are shown as ever."""
    if change.rollout is None:
        return change.diffs
    return tuple(d for d in change.diffs if d.field.split(".")[0] not in ("version", "routing"))


def apply_text(report: ApplyReport, *, colour: bool = False) -> str:
    lines = [line for r in report.results if (line := apply_line(r, colour=colour)) is not None]
    return "".join(f"{line}\n" for line in lines) + apply_tail(report)


def apply_line(result: Result, *, colour: bool = False) -> str | None:
    """One outcome as a line of text, as it lands; None for an alias apply had nothing to do to."""
    if not _worth_a_line(result):
        return None
    line = f"{result.outcome.value:<8} {inert_text(result.change.address)}"
    if result.message:
        line += f": {inert_text(result.message)}"
    return _paint(line, _OUTCOME_COLOURS.get(result.outcome, "0"), colour)


def _worth_a_line(result: Result) -> bool:
    """Every outcome but an alias that needed nothing (an attempted write that turned out needless
    says so: "unchanged: already as planned")."""
    return result.outcome is not Outcome.UNCHANGED or bool(result.message)


def apply_tail(report: ApplyReport, *, also: str = "") -> str:
    """What follows the outcomes: whether the apply was interrupted, and the counts (``also``:
    the rollouts')."""
    lines = []
    if report.interrupted:
        lines.append("Interrupted: the aliases marked skipped were not attempted; apply again.")
    lines.append(_and(report.summary(), also))
    return "\n".join(lines) + "\n"


def _and(sentence: str, also: str) -> str:
    """``Apply: 1 created.`` and ``rollouts: 1 completed`` make one sentence."""
    return f"{sentence.removesuffix('.')}; {also}." if also else sentence


def drift_text(plan: Plan, *, colour: bool = False, also: str = "") -> str:
    """``also``: the rollouts set apart, which are not drift."""
    if not drifted(plan):
        extra = (
            f" ({count(len(plan.unmanaged), 'unmanaged alias')} left alone.)"
            if plan.unmanaged
            else ""
        )
        return f"No drift: {_and(_matching(plan), also)}{extra}\n"
    return _and(drift_summary(plan), also) + "\n\n" + plan_text(plan, colour=colour)


def drifted(plan: Plan) -> bool:
    """Drift is a managed alias that differs or is missing, or a missing function; a rollout
    stopped by someone else's change is one that differs."""
    return bool(plan.actions) or bool(plan.held) or bool(plan.missing_functions)


def drift_summary(plan: Plan) -> str:
    differ = plan.count(Action.UPDATE)
    return (
        f"Drift: {count(differ, 'managed alias')} {'differs' if differ == 1 else 'differ'}, "
        f"{plan.count(Action.CREATE)} missing, {plan.count(Action.DELETE)} to prune, "
        f"{len(plan.unmanaged)} unmanaged, "
        f"{count(len(plan.missing_functions), 'function')} missing."
    )


# -- markdown ------------------------------------------------------------------------------------


def _code(text: str) -> str:
    """Untrusted text as a markdown code span: shown literally, never markup, a link or a mention.
    (In a table, ``_row`` escapes its ``|``: GFM splits cells even inside code spans.)"""
    content = inert_text(text)
    if not content:
        return '""'
    fence = "`" * (1 + max((len(run) for run in re.findall("`+", content)), default=0))
    # A backtick at either end would join the fence; CommonMark strips one space from each end.
    if content.strip(" ") and (content[0] in "` " or content[-1] in "` "):
        content = f" {content} "
    return f"{fence}{content}{fence}"


def _html_code(text: str) -> str:
    """Untrusted text inside raw HTML (a ``<summary>``), where markdown is not parsed."""
    return f"<code>{html.escape(inert_text(text))}</code>"


# Letters and digits make no markup, link or mention; seven hex digits could be a commit's link.
_PLAIN = re.compile(r"(?![0-9A-Fa-f]{7,}\Z)[A-Za-z0-9]+")


def _md(text: str) -> str:
    """Untrusted text in markdown: a plain word or number as it is, anything else a code span."""
    return text if _PLAIN.fullmatch(text) else _code(text)


def _md_value(value: Any, *, named: bool = False) -> str:
    """A field's value as a person reads it in markdown (``named``: as in ``show_value``)."""
    if value is None:
        return _NONE
    if route := _route(value):
        return f"{percent(route[0])} to {_v(route[1], _md(route[1]), named=named)}"
    if isinstance(value, dict) and isinstance(value.get("rules"), list):  # FunctionGraph's
        return _code(f"requests with {_rules(value)} to {value.get('version')}")
    if isinstance(value, float):
        return repr(value)
    return _md(value if isinstance(value, str) else str(value))


def _row(*cells: str) -> str:
    """A GFM table row; ``|`` splits cells even inside code spans, so each is escaped."""
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _by_function(changes: Iterable[Change]) -> Iterable[tuple[FunctionTarget, list[Change]]]:
    for target, group in groupby(changes, key=lambda c: c.target):
        yield target, list(group)


_MARGIN = 1_536  # room for the hidden marker and the workflow's own lines
BAR_WIDTH = 20
_VERBS = ((Action.CREATE, "to add"), (Action.UPDATE, "to change"), (Action.DELETE, "to destroy"))
OPEN_DETAILS_UP_TO = 30  # changes; past that, each function's table starts folded


def traffic(version: str, routing: Route | None, *, named: bool = False) -> str:
    """Where an alias sends its traffic, drawn: ``v12 ███████████████████░ 95% · v13 5%``
    (``named``: FunctionGraph's version names, as in ``show_value``)."""
    if routing is None:
        return _code(f"{_v(version, named=named)} {'█' * BAR_WIDTH} 100%")
    if routing.rules:
        rules = f" {routing.combine} ".join(str(rule) for rule in routing.rules)
        return f"{_code(_v(version, named=True))} · {_code(f'{routing.version} for {rules}')}"
    filled = round((1.0 - routing.weight) * BAR_WIDTH)
    bar = "█" * filled + "░" * (BAR_WIDTH - filled)
    return (
        f"{_code(f'{_v(version, named=named)} {bar} {percent(routing.weight, rest=True)}')} · "
        f"{_code(f'{_v(routing.version, named=named)} {percent(routing.weight)}')}"
    )


def _changes_cell(change: Change) -> str:
    if change.action is Action.DELETE:
        return _md(change.reason)
    parts = []
    if (described := _rollout_text(change) or _replaced_text(change)) is not None:
        parts.append(f"rollout: {_md(described)}")
    named = _named(change.target)
    for diff in _shown_diffs(change):
        field = _md(diff.field)
        after = _md_value(diff.after, named=named)
        if change.action is Action.CREATE:
            parts.append(f"{field}: {after}")
        else:
            parts.append(f"{field}: {_md_value(diff.before, named=named)} &rarr; {after}")
    return "<br>".join(parts)


def _after_cell(change: Change) -> str:
    if change.after is None:
        return "removed"
    return traffic(change.after.version, change.after.routing, named=_named(change.target))


def plan_markdown(
    plan: Plan, *, heading: str | None = None, limit: int | None = COMMENT_LIMIT
) -> str:
    """GitHub-flavoured markdown: a summary line, then a table per function in a collapsible
    block. Past ``limit`` characters, a summary per function instead (the full plan belongs in
    the job summary or an artifact: pass ``limit=None``)."""
    summary = plan.summary() if plan.has_changes else f"no changes{_held_count(plan)}."
    if plan.missing_functions:  # never "no changes" above a list of problems
        missing = count(len(plan.missing_functions), "function")
        summary = f"{summary.removesuffix('.')}; {missing} not found."
    head = [heading or f"### reconcile plan: {summary}", ""]
    held = _finishing_markdown(plan) + _held_markdown(plan)
    full = "\n".join(head + _function_tables(plan) + held + _seen_but_unmanaged(plan))
    if limit is None or _size(full) <= limit - _MARGIN:
        return full
    budget = limit - _MARGIN - _size("\n".join(head + held))
    return "\n".join(head + held + _summary_table(plan, budget))


def _finishing_markdown(plan: Plan) -> list[str]:
    """Rollouts at 100 % whose end apply makes: the after hook, the record's removal."""
    if not plan.finishing:
        return []
    lines = ["**Rollouts at 100% that apply finishes:**", ""]
    lines += [f"- {_code(c.address)}: {_code(_standing_says(c))}" for c in plan.finishing]
    return [*lines, ""]


def _held_markdown(plan: Plan) -> list[str]:
    """Rollouts apply leaves as they are, each with what a person may do about it."""
    if not plan.held:
        return []
    lines = ["**Rollouts apply leaves as they are now:**", ""]
    for change in plan.held:
        standing, before, after = change.standing, change.before, change.after
        assert standing is not None
        assert before is not None
        assert after is not None
        named = _named(change.target)
        said = (
            f"{_v(before.version, named=named)} -> {_v(after.version, named=named)} {standing.says}"
        )
        line = f"- {_code(change.address)}: {_code(said)}"
        if standing.then:  # our words, then the command to type
            words, _, command = standing.then.partition(": ")
            line += f"; {words}: {_code(command)}"
        lines.append(line)
    return [*lines, ""]


def _size(text: str) -> int:
    """Length as GitHub and its JavaScript count it, in UTF-16 units: an emoji is two."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for char in text if char > "\uffff")


def _function_tables(plan: Plan) -> list[str]:
    opened = " open" if len(plan.actions) <= OPEN_DETAILS_UP_TO else ""
    lines: list[str] = []
    for target, changes in _by_function(plan.actions):
        counts = ", ".join(
            f"{number} {verb}"
            for action, verb in _VERBS
            if (number := sum(c.action is action for c in changes))
        )
        lines += [
            f"<details{opened}><summary>{_html_code(target.name)} "
            f"({_html_code(target.account)} / {_html_code(target.region)}): {counts}</summary>",
            "",
            "| | alias | changes | traffic after |",
            "|---|---|---|---|",
        ]
        for change in changes:
            symbol = "&minus;" if change.action is Action.DELETE else change.action.value
            lines.append(
                _row(symbol, _code(change.alias), _changes_cell(change), _after_cell(change))
            )
        lines += ["", "</details>", ""]
    return lines


def _seen_but_unmanaged(plan: Plan) -> list[str]:
    lines: list[str] = []
    if plan.unmanaged:
        lines += [
            f"<details><summary>{count(len(plan.unmanaged), 'unmanaged alias')} (left alone)"
            "</summary>",
            "",
        ]
        lines += [
            f"- {_code(t.alias_address(a.name))} &rarr; "
            f"{_v(a.version, _md(a.version), named=_named(t))}"
            for t, a in plan.unmanaged
        ]
        lines += ["", "</details>", ""]
    if plan.missing_functions:
        lines.append("**Functions that do not exist:**")
        lines += [f"- {_code(t.address)}" for t in plan.missing_functions]
        lines.append("")
    return lines


def _summary_table(plan: Plan, budget: int) -> list[str]:
    lines = [
        "This plan is too large for one comment: here is what changes per function. "
        "The full plan is in the job summary and the plan artifact.",
        "",
        "| function | + | ~ | &minus; |",
        "|---|---|---|---|",
    ]
    used = sum(_size(line) + 1 for line in lines)
    groups = list(_by_function(plan.actions))
    for shown, (target, changes) in enumerate(groups):
        row = _row(
            _code(target.address),
            *(str(sum(c.action is action for c in changes)) for action, _ in _VERBS),
        )
        more = f"| _and {len(groups) - shown} more functions_ | | | |"
        if used + _size(row) + len(more) + 2 > budget:
            lines.append(more)
            break
        lines.append(row)
        used += _size(row) + 1
    if plan.unmanaged or plan.missing_functions:
        lines += [
            "",
            f"{count(len(plan.unmanaged), 'unmanaged alias')} left alone; "
            f"{count(len(plan.missing_functions), 'function')} missing.",
        ]
    return lines


def apply_markdown(report: ApplyReport, *, also: str = "") -> str:
    lines = [f"### reconcile apply: {_and(report.summary().removeprefix('Apply: '), also)}", ""]
    shown = [r for r in report.results if _worth_a_line(r)]
    if shown:
        lines += ["| outcome | alias | note |", "|---|---|---|"]
        lines += [
            _row(r.outcome.value, _code(r.change.address), _md(r.message) if r.message else "")
            for r in shown
        ]
    return "\n".join(lines) + "\n"


def drift_markdown(plan: Plan, *, limit: int | None = COMMENT_LIMIT, also: str = "") -> str:
    if not drifted(plan):
        return f"### No drift\n\n{_and(_matching(plan), also)}\n"
    return plan_markdown(plan, heading=f"### {_and(drift_summary(plan), also)}", limit=limit)


# -- json ----------------------------------------------------------------------------------------


def result_to_dict(result: Result) -> dict[str, Any]:
    return {
        "address": result.change.address,
        "action": result.change.action.name.lower(),
        "outcome": result.outcome.value,
        "revision_before": result.revision_before,
        "revision_after": result.revision_after,
        "error": result.message if result.outcome in (Outcome.FAILED, Outcome.STALE) else None,
        "message": result.message,
    }


def apply_json(report: ApplyReport) -> str:
    document = {
        "summary": {o.value: report.count(o) for o in Outcome},
        "interrupted": report.interrupted,
        "results": [result_to_dict(r) for r in report.results],
    }
    return json.dumps(document, indent=2) + "\n"


def drift_json(plan: Plan) -> str:
    document = plan_to_dict(plan)
    document["drift"] = drifted(plan)
    return json.dumps(document, indent=2) + "\n"

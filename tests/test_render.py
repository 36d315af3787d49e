"""Rendering: text and markdown as people read them, markdown that fits one GitHub comment, and
text from manifests and the cloud inert in every format."""

from __future__ import annotations

import unicodedata
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from reconciler.applier import ApplyReport, Outcome, Result
from reconciler.github import COMMENT_LIMIT
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, Route
from reconciler.plan import Action, Change, Plan
from reconciler.planner import DesiredFunction, plan
from reconciler.render import (
    apply_markdown,
    apply_text,
    drift_markdown,
    drift_text,
    inert_text,
    plan_markdown,
    plan_text,
    show_value,
    traffic,
)


@pytest.mark.parametrize(
    ("version", "routing", "drawn"),
    [
        ("12", Route("13", 0.05), "`v12 ███████████████████░ 95%` · `v13 5%`"),
        ("12", Route("13", 0.5), "`v12 ██████████░░░░░░░░░░ 50%` · `v13 50%`"),
        ("3", Route("4", 0.125), "`v3 ██████████████████░░ 87.5%` · `v4 12.5%`"),
        ("7", None, "`v7 ████████████████████ 100%`"),
    ],
)
def test_weighted_routing_is_drawn_as_a_bar(
    version: str, routing: Route | None, drawn: str
) -> None:
    assert traffic(version, routing) == drawn


def estate_plan(functions: int, aliases: int) -> Plan:
    desired, live = [], {}
    for f in range(functions):
        target = FunctionTarget("123456789012", "eu-west-1", f"service-{f:04d}")
        wanted = tuple(
            DesiredAlias(f"alias-{a:02d}", "2", f"description of alias {a}", Route("3", 0.1))
            for a in range(aliases)
        )
        current = tuple(LiveAlias(f"alias-{a:02d}", "1", "old", None, "r") for a in range(aliases))
        desired.append(DesiredFunction(target, wanted))
        live[target] = LiveFunction(target, current)
    return plan(desired, live)


def test_small_plan_shows_every_change_with_the_traffic_after() -> None:
    text = plan_markdown(estate_plan(1, 2))
    assert text.startswith("### reconcile plan: 0 to add, 2 to change, 0 to destroy.\n")
    assert (
        "<details open><summary><code>service-0000</code> "
        "(<code>123456789012</code> / <code>eu-west-1</code>): 2 to change</summary>"
    ) in text
    assert "| ~ | `alias-00` | description: old &rarr; `description of alias 0`<br>" in text
    assert "`v2 ██████████████████░░ 90%` · `v3 10%` |" in text


def test_a_3000_alias_plan_fits_in_one_comment() -> None:
    the_plan = estate_plan(300, 10)
    assert len(the_plan.actions) == 3000
    full = plan_markdown(the_plan, limit=None)
    assert len(full) > COMMENT_LIMIT  # too large as it is...
    comment = plan_markdown(the_plan)
    assert len(comment) <= COMMENT_LIMIT  # ...so it is summarised per function
    assert comment.startswith("### reconcile plan: 0 to add, 3000 to change, 0 to destroy.")
    assert "The full plan is in the job summary and the plan artifact." in comment
    assert "| `123456789012/eu-west-1/service-0000` | 0 | 10 | 0 |" in comment


def test_an_enormous_plan_still_fits_and_says_how_many_functions_are_not_listed() -> None:
    comment = plan_markdown(estate_plan(3000, 1))
    assert len(comment) <= COMMENT_LIMIT
    assert "more functions_ |" in comment


def utf16(text: str) -> int:
    """Length as GitHub's JavaScript counts it: an emoji is two."""
    return len(text.encode("utf-16-le")) // 2


def test_a_plan_of_emoji_fits_as_javascript_counts_length() -> None:
    """150 descriptions of 256 emoji are 51,000 characters but 90,000 UTF-16 units: the workflow's
    slice(0, 65536) would cut the comment, and the functions after the cut would vanish."""
    target = FunctionTarget("123456789012", "eu-west-1", "aaa-padding")
    wanted = tuple(DesiredAlias(f"alias-{a:03d}", "1", "\U0001f600" * 256) for a in range(150))
    last = FunctionTarget("123456789012", "eu-west-1", "zzz-last")
    the_plan = plan(
        [DesiredFunction(target, wanted), DesiredFunction(last, (DesiredAlias("live", "1"),))],
        {target: LiveFunction(target, ()), last: LiveFunction(last, ())},
    )
    assert len(plan_markdown(the_plan, limit=None)) < COMMENT_LIMIT
    comment = plan_markdown(the_plan)
    assert utf16(comment) <= COMMENT_LIMIT
    assert "zzz-last" in comment
    body = drift_markdown(the_plan)
    assert utf16(body) <= COMMENT_LIMIT
    assert "zzz-last" in body


def test_drift_markdown_fits_an_issue_body() -> None:
    body = drift_markdown(estate_plan(300, 10))
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith("### Drift: 3000 managed aliases differ")


# -- untrusted text is inert -------------------------------------------------------------------
# Descriptions and names come from manifests (any pull request's author) and from the cloud
# (anyone allowed UpdateAlias); saved plans can carry anything in any field.

GFM = MarkdownIt("gfm-like")  # tables, strikethrough, raw HTML and bare URLs linked, as on GitHub
ALLOWED_TAGS = {
    *("h3", "p", "strong", "em", "code", "br", "ul", "li", "details", "summary"),
    *("table", "thead", "tbody", "tr", "th", "td"),
}
VOID_TAGS = {"br", "img", "hr", "input", "wbr", "source"}
SYMBOLS = {Action.CREATE: "+", Action.UPDATE: "~", Action.DELETE: "\u2212"}

TRICKS = [
    "x\r<!--",
    "-->",
    "</details>",
    "</td></tr></table><details open><summary>",
    "<img src=x onerror=alert(1)>",
    "<!-- hidden -->",
    "<script>alert(1)</script>",
    "&lt;b&gt; &amp; &#64;",
    "`",
    "```",
    "``` ``x`` `",
    " `lead and trail` ",
    "@org/team",
    "cc @octocat",
    "![x](http://e/x.png)",
    "[click](javascript:alert(1))",
    "<https://evil.example>",
    "www.evil.com",
    "https://evil.example/x",
    "a | b || c",
    "a\\|b\\",
    "*em* _em_ **strong** ~~gone~~",
    "# heading\n> quote\n- item\n1. item",
    "\r\n\r\n| x | y |\n|---|---|",
    "\x1b[2J\x1b[H",
    "OK\rFAILED",
    "\x00\x07\x08\x7f\x85\x9b",
    "before\u2028after\u2029",
    "\u202egpj.exe",
    "\u2066isolate\u2069",
    "zero\u200bwidth\ufeff",
    ":+1: #1 GH-1 $x^2$",
    "[ref]: https://evil.example",
    "d" * 256,
]


class Page(HTMLParser):
    """What a reader of the rendered markdown sees: elements, text outside code, table rows."""

    def __init__(self, markdown: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hidden: list[str] = []  # comments, declarations, processing instructions
        self.prose: list[str] = []  # text outside <code>, where GitHub links @mentions
        self.rows: list[list[str]] = []  # the body rows of every table
        self.summaries: list[str] = []
        self._open: list[str] = []
        self._cells: list[str] = []
        self.feed(GFM.render(markdown))
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "tr":
            self._cells = []
        elif tag == "td":
            if not self._cells:
                self.rows.append(self._cells)
            self._cells.append("")
        elif tag == "summary":
            self.summaries.append("")
        if tag not in VOID_TAGS:
            self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if "code" not in self._open:
            self.prose.append(data)
        if "td" in self._open:
            self.rows[-1][-1] += data
        if "summary" in self._open:
            self.summaries[-1] += data

    def handle_comment(self, data: str) -> None:
        self.hidden.append(data)

    def handle_decl(self, decl: str) -> None:
        self.hidden.append(decl)

    def handle_pi(self, data: str) -> None:
        self.hidden.append(data)

    def unknown_decl(self, data: str) -> None:
        self.hidden.append(data)


def unsafe(text: str) -> list[str]:
    """Characters that move a terminal's cursor, reorder or hide what is read, or end a line."""
    return [
        c for c in text if c != "\n" and unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
    ]


def inert_page(markdown: str) -> Page:
    assert unsafe(markdown) == []
    page = Page(markdown)
    assert set(page.tags) <= ALLOWED_TAGS  # no link, image or any HTML of the text's own
    assert page.hidden == []  # no comment hides what follows
    assert "@" not in "".join(page.prose)  # no mention pings anyone
    return page


def trick_plan() -> Plan:
    """A description carrying each trick, changed to the next; a rollback, a create, a delete."""
    target = FunctionTarget("123456789012", "eu-west-1", "orders")
    others = FunctionTarget("123456789012", "eu-west-1", "billing")
    count = len(TRICKS)
    current = [LiveAlias(f"a{i:02d}", "1", trick, None, "r") for i, trick in enumerate(TRICKS)]
    wanted = [DesiredAlias(f"a{i:02d}", "1", TRICKS[(i + 1) % count]) for i in range(count)]
    current += [
        LiveAlias("rollback", "5", "", None, "r"),
        LiveAlias("zz-gone", "3", "x\r<!--", None, "r"),
    ]
    wanted += [DesiredAlias("rollback", "4", ""), DesiredAlias("new", "2", "</details><!--")]
    live = {
        target: LiveFunction(target, tuple(current)),
        others: LiveFunction(others, (LiveAlias("by-hand", "1", "<!--", None, "r"),)),
    }
    gone = FunctionTarget("123456789012", "eu-west-1", "gone")
    live[gone] = LiveFunction(gone, (), exists=False)
    return plan(
        [
            DesiredFunction(target, tuple(wanted), prune=True),
            DesiredFunction(others, ()),
            DesiredFunction(gone, ()),
        ],
        live,
    )


def test_descriptions_carrying_markup_stay_text_and_every_change_keeps_its_row() -> None:
    the_plan = trick_plan()
    page = inert_page(plan_markdown(the_plan))
    changes = the_plan.actions
    assert [row[:2] for row in page.rows] == [[SYMBOLS[c.action], c.alias] for c in changes]
    updates = [c for c in changes if c.alias.startswith("a")]
    assert len(updates) == len(TRICKS)
    for change, row in zip(changes, page.rows, strict=True):
        if change in updates:
            before, after = change.diffs[0].before, change.diffs[0].after
            assert row[2] == f"description: {inert_text(before)} \u2192 {inert_text(after)}"
    by_alias = {row[1]: row for row in page.rows}
    assert by_alias["rollback"][2] == "version: 5 \u2192 4"
    assert by_alias["new"][2] == f"version: 2description: {inert_text('</details><!--')}"
    assert by_alias["zz-gone"][2] == "not in the manifest; prune: true"
    assert page.summaries == [
        f"orders (123456789012 / eu-west-1): 1 to add, {len(TRICKS) + 1} to change, 1 to destroy",
        "1 unmanaged alias (left alone)",
    ]


def test_a_comment_cannot_hide_the_rows_after_it() -> None:
    """The issue's example: ``x\\r<!--`` made every later row an HTML comment."""
    target = FunctionTarget("123456789012", "eu-west-1", "orders")
    live = LiveFunction(
        target,
        (
            LiveAlias("a", "1", "x\r<!--", None, "r"),
            LiveAlias("b", "5", "", None, "r"),
            LiveAlias("c", "1", "", None, "r"),
        ),
    )
    wanted = (DesiredAlias("a", "1", "ok"), DesiredAlias("b", "4"))
    the_plan = plan([DesiredFunction(target, wanted, prune=True)], {target: live})
    page = inert_page(plan_markdown(the_plan))
    assert [row[:2] for row in page.rows] == [["~", "a"], ["~", "b"], ["\u2212", "c"]]


def assert_summary_rows(page: Page, targets: list[FunctionTarget]) -> None:
    """A large plan's summary: a row per function, its address; last perhaps ``and N more``."""
    shown = page.rows[:-1] if page.rows[-1][0].startswith("and ") else page.rows
    assert [row[0] for row in shown] == [inert_text(t.address) for t in targets][: len(shown)]
    assert len(shown) == len(targets) or page.rows[-1][0] == (
        f"and {len(targets) - len(shown)} more functions"
    )


def test_the_summary_of_a_large_plan_is_inert() -> None:
    names = [f"{trick}-{i}" for i, trick in enumerate(TRICKS)]
    targets = [FunctionTarget("123456789012", "eu-west-1", name) for name in names]
    changes = tuple(
        Change(
            Action.UPDATE,
            t,
            "live",
            LiveAlias("live", "1", "", None, "r"),
            DesiredAlias("live", "2"),
        )
        for t in targets
    )
    comment = plan_markdown(Plan(changes), limit=2_000)
    assert "The full plan is in the job summary" in comment
    page = inert_page(comment)
    assert page.rows[0][0] == inert_text(targets[0].address)
    assert_summary_rows(page, targets)


def test_drift_markdown_is_inert() -> None:
    the_plan = trick_plan()
    page = inert_page(drift_markdown(the_plan))
    assert page.rows == inert_page(plan_markdown(the_plan)).rows


def report_of(the_plan: Plan, messages: list[str]) -> ApplyReport:
    outcomes = [Outcome.FAILED, Outcome.STALE, Outcome.UPDATED]
    return ApplyReport(
        tuple(
            Result(change, outcomes[i % len(outcomes)], message=messages[i % len(messages)])
            for i, change in enumerate(the_plan.actions)
        )
    )


def test_apply_markdown_is_inert() -> None:
    the_plan = trick_plan()
    report = report_of(the_plan, TRICKS)
    page = inert_page(apply_markdown(report))
    assert page.rows == [
        [r.outcome.value, inert_text(r.change.address), inert_text(r.message)]
        for r in report.results
    ]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("production traffic", "production traffic"),
        ("ünïcode · 日本語 \u00a0", "ünïcode · 日本語 \u00a0"),
        ("\x1b[2J\x1b[H", "\\x1b[2J\\x1b[H"),
        ("OK\rFAILED\r\n", "OK\\rFAILED\\r\\n"),
        ("\t\x00\x7f\x85\x9b", "\\t\\x00\\x7f\\x85\\x9b"),
        ("a\u2028b\u2029", "a\\u2028b\\u2029"),
        ("\u202egpj.exe \u2066x\u2069", "\\u202egpj.exe \\u2066x\\u2069"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("\ud800", "\\ud800"),  # a lone surrogate, as a saved plan's JSON may carry
        ("tag\U000e0041", "tag\\U000e0041"),
        # a real backslash is doubled, so "\\x1b" can only be an escape
        ("C:\\temp\\x1b", "C:\\\\temp\\\\x1b"),
    ],
)
def test_text_shows_control_and_invisible_characters_as_escapes(text: str, shown: str) -> None:
    assert inert_text(text) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "(none)"),
        ("production", "production"),
        ("", '""'),
        ("two words", '"two words"'),
        (" padded", '" padded"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("C:\\temp", '"C:\\\\temp"'),
        ("\x1b[2J", '"\\x1b[2J"'),
        ("\u202eabc", '"\\u202eabc"'),
        (0.05, "0.05"),
        ({"version": "13", "weight": 0.05}, "5% to v13"),
        ({"version": "1\x1b", "weight": 0.5}, '50% to v"1\\x1b"'),
    ],
)
def test_a_value_is_shown_as_it_is_or_quoted_with_escapes(value: Any, shown: str) -> None:
    assert show_value(value) == shown


def text_outputs(the_plan: Plan, report: ApplyReport) -> list[str]:
    return [plan_text(the_plan), drift_text(the_plan), apply_text(report)]


def assert_text_lines(the_plan: Plan, report: ApplyReport) -> None:
    """No control character, and no line but those of the plan and the report."""
    for text in text_outputs(the_plan, report):
        assert unsafe(text) == []
    lines = plan_text(the_plan).split("\n")
    # a line per change and per field; a blank line, a heading and a line each per list; a blank
    # line and the summary; the final newline
    lists = [n for n in (len(the_plan.unmanaged), len(the_plan.missing_functions)) if n]
    diffs = sum(len(c.diffs) for c in the_plan.actions)
    assert len(lines) == len(the_plan.actions) + diffs + sum(2 + n for n in lists) + 3
    heads = [line for line in lines if line[:2] in ("+ ", "~ ", "- ")]
    assert heads == [
        f"{c.action.value} {inert_text(c.address)}"
        + (f"  ({inert_text(c.reason)})" if c.action is Action.DELETE else "")
        for c in the_plan.actions
    ]
    applied = apply_text(report).split("\n")
    assert applied[:-2] == [
        f"{r.outcome.value:<8} {inert_text(r.change.address)}: {inert_text(r.message)}"
        for r in report.results
    ]


def test_text_output_carries_no_control_characters_and_forges_no_lines() -> None:
    the_plan = trick_plan()
    assert_text_lines(the_plan, report_of(the_plan, TRICKS))


untrusted = st.one_of(
    st.sampled_from(TRICKS),
    st.text(st.characters(exclude_categories=()), min_size=1, max_size=20),
    st.lists(
        st.sampled_from([*TRICKS, *"`|\\<>&@![]()*_~:#\r\n\x1b\u2028\u202e "]), min_size=1
    ).map("".join),
)


@st.composite
def any_plan(draw: st.DrawFn) -> Plan:
    """A plan whose every name, version and description is any text."""
    targets = draw(
        st.lists(st.builds(FunctionTarget, untrusted, untrusted, untrusted), min_size=1, max_size=3)
    )
    routes = st.none() | st.builds(Route, untrusted, st.sampled_from([0.05, 0.5]))
    changes = []
    for target in dict.fromkeys(targets):
        for alias in draw(st.lists(untrusted, min_size=1, max_size=3, unique=True)):
            action = draw(st.sampled_from(list(SYMBOLS)))
            before = LiveAlias(alias, draw(untrusted), draw(untrusted), draw(routes), "r")
            after = DesiredAlias(alias, draw(untrusted), draw(untrusted), draw(routes))
            changes.append(
                Change(
                    action,
                    target,
                    alias,
                    None if action is Action.CREATE else before,
                    None if action is Action.DELETE else after,
                )
            )
    unmanaged = tuple(
        (target, LiveAlias(draw(untrusted), draw(untrusted), "", None, "r")) for target in targets
    )
    return Plan(tuple(changes), unmanaged, tuple(targets))


@settings(max_examples=150, deadline=None, database=None)
@given(the_plan=any_plan(), messages=st.lists(untrusted, min_size=1, max_size=4))
def test_any_text_anywhere_stays_inert_in_every_format(the_plan: Plan, messages: list[str]) -> None:
    page = inert_page(plan_markdown(the_plan, limit=None))
    assert [row[:2] for row in page.rows] == [
        [SYMBOLS[c.action], inert_text(c.alias)] for c in the_plan.actions
    ]
    functions = list(dict.fromkeys(c.target for c in the_plan.actions))
    assert [s.rpartition("): ")[0] for s in page.summaries[: len(functions)]] == [
        f"{inert_text(t.name)} ({inert_text(t.account)} / {inert_text(t.region)}" for t in functions
    ]
    summary = plan_markdown(the_plan, limit=1_600)
    assert "The full plan is in the job summary" in summary
    assert_summary_rows(inert_page(summary), functions)
    assert inert_page(drift_markdown(the_plan)).rows == page.rows
    report = report_of(the_plan, messages)
    page = inert_page(apply_markdown(report))
    assert [row[1] for row in page.rows] == [inert_text(r.change.address) for r in report.results]
    assert_text_lines(the_plan, report)


# -- shown as sent ---------------------------------------------------------------------------------


def test_a_weight_is_shown_exactly_as_it_is_sent() -> None:
    target = FunctionTarget("123456789012", "eu-west-1", "api")
    the_plan = plan(
        [
            DesiredFunction(
                target,
                (
                    DesiredAlias("live", "2", None, Route("3", 0.05)),
                    DesiredAlias("beta", "2", None, Route("3", 0.123456789)),
                ),
            )
        ],
        {
            target: LiveFunction(
                target,
                (
                    LiveAlias("live", "2", "", Route("3", 0.05000004), "r"),
                    LiveAlias("beta", "2", "", Route("3", 0.1), "r"),
                ),
            )
        },
    )
    text = plan_text(the_plan)
    assert "    routing.weight: 0.05000004 -> 0.05\n" in text
    assert "    routing.weight: 0.1 -> 0.123456789\n" in text
    markdown = plan_markdown(the_plan)
    assert "`routing.weight`: 0.05000004 &rarr; 0.05" in markdown
    assert "`v2 ██████████████████░░ 87.6543211%` · `v3 12.3456789%`" in markdown
    assert "`v2 ███████████████████░ 95%` · `v3 5%`" in markdown


def test_a_description_that_reads_none_is_told_apart_from_no_description() -> None:
    target = FunctionTarget("123456789012", "eu-west-1", "api")
    the_plan = plan(
        [DesiredFunction(target, (DesiredAlias("live", "1", "(none)"),))],
        {target: LiveFunction(target, ())},
    )
    assert '    description: "(none)"\n' in plan_text(the_plan)


def test_no_changes_is_never_said_above_or_below_missing_functions() -> None:
    ghost = FunctionTarget("123456789012", "eu-west-1", "ghost")
    the_plan = Plan((), (), (ghost,))
    text = plan_text(the_plan)
    assert "No changes" not in text
    assert text.endswith("Plan: 0 to add, 0 to change, 0 to destroy; 1 function not found.\n")
    markdown = plan_markdown(the_plan)
    assert markdown.startswith("### reconcile plan: no changes; 1 function not found.\n")


def test_latest_is_shown_as_latest_not_v_latest() -> None:
    target = FunctionTarget("123456789012", "eu-west-1", "api")
    the_plan = plan(
        [DesiredFunction(target, (DesiredAlias("dev", "$LATEST"),))],
        {target: LiveFunction(target, (LiveAlias("old", "$LATEST", "", None, "r"),))},
    )
    markdown = plan_markdown(the_plan)
    assert "`$LATEST ████████████████████ 100%`" in markdown
    assert "&rarr; `$LATEST`" in markdown or "&rarr; $LATEST" in markdown
    assert "v$LATEST" not in markdown + plan_text(the_plan)
    assert "123456789012/eu-west-1/api:old -> $LATEST\n" in plan_text(the_plan)

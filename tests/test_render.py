"""Rendering: text and markdown as people read them, and markdown that fits one GitHub comment."""

from __future__ import annotations

import pytest

from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, Route
from reconciler.plan import Plan
from reconciler.planner import DesiredFunction, plan
from reconciler.render import COMMENT_LIMIT, drift_markdown, plan_markdown, traffic


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
        "<details open><summary><code>service-0000</code> (123456789012 / eu-west-1): 2 to change"
        in text
    )
    assert "| ~ | `alias-00` | description: old &rarr; description of alias 0<br>" in text
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


def test_drift_markdown_fits_an_issue_body() -> None:
    body = drift_markdown(estate_plan(300, 10))
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith("### Drift: 3000 managed aliases differ")

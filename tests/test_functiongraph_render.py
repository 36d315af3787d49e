"""FunctionGraph in plans as people read them: version names as they are, rules in words."""

from __future__ import annotations

import pytest

from reconciler.live import DesiredAlias, FunctionTarget, LiveFunction, Route, RouteRule
from reconciler.planner import DesiredFunction, plan
from reconciler.render import plan_markdown, show_value, traffic

RULES = (RouteRule("x-canary", "in", "internal,qa"), RouteRule("x-beta", "=", "1"))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ({"version": "v4", "weight": 0.1}, "10% to v4"),
        ({"version": "1.0", "weight": 0.25}, "25% to 1.0"),
        ({"version": "13", "weight": 0.05}, "5% to v13"),  # Lambda's, as before
        (
            Route("v4", 0.0, RULES, "or").to_dict(),
            "requests with x-canary in internal,qa or x-beta = 1 to v4",
        ),
        (
            {"version": "v4", "rules": [{"header": "x\x1b", "op": "=", "value": "a"}]},
            "requests with x\\x1b = a to v4",
        ),
    ],
)
def test_routing_values(value: object, shown: str) -> None:
    assert show_value(value) == shown


def test_traffic_of_a_rule_route_names_its_rules() -> None:
    assert traffic("v3", Route("v4", 0.0, RULES[:1])) == ("`v3` · `v4 for x-canary in internal,qa`")
    assert traffic("latest", None).startswith("`latest ")


def test_markdown_shows_functiongraph_routing_in_words() -> None:
    target = FunctionTarget("0" * 32, "ap-southeast-1", "checkout", "", "functiongraph", "default")
    desired = (
        DesiredAlias("live", "v3", None, Route("v4", 0.1)),
        DesiredAlias("beta", "v3", None, Route("v4", 0.0, RULES[:1])),
    )
    made = plan([DesiredFunction(target, desired)], {target: LiveFunction(target, ())})
    text = plan_markdown(made)
    assert "routing: 10% to v4" in text
    assert "routing: `requests with x-canary in internal,qa to v4`" in text
    assert "{'version'" not in text

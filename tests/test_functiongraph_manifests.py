"""FunctionGraph manifests: their own rules, the other cloud's keys refused at file:line, one
owner per function whatever its spelling, and saved plans that name their cloud."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.errors import ManifestError, PlanFileError
from reconciler.functiongraph import FunctionGraphSpec
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, Route, RouteRule
from reconciler.manifests import load_manifests
from reconciler.plan import content_digest, dumps_plan, loads_plan, plan_problems
from reconciler.planner import DesiredFunction, check_project, plan, resolve

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
URN = f"urn:fss:ap-southeast-1:{PROJECT}:function:default:payments"
ISSUE_EXAMPLE = f"""\
provider: functiongraph
function: payments
package: default
project: {PROJECT}
region: ap-southeast-1
aliases:
  - name: live
    version: v3
    routing: {{version: v4, weight: 0.1}}
  - name: beta
    version: v3
    routing: {{version: v4, rules: [{{header: x-canary, in: [internal, qa]}}]}}
"""
FG = FunctionTarget(PROJECT, "ap-southeast-1", "payments", "", "functiongraph", "default")


def load(tmp_path: Path, *texts: str) -> Any:
    for n, text in enumerate(texts):
        (tmp_path / f"m{n}.yaml").write_text(text, encoding="utf-8")
    return load_manifests([tmp_path])


def problems(tmp_path: Path, *texts: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load(tmp_path, *texts)
    return [str(p) for p in caught.value.problems]


def test_an_alias_on_latest_may_route_as_the_api_example_does(tmp_path: Path) -> None:
    text = ISSUE_EXAMPLE.replace(
        "    version: v3\n    routing: {version: v4, w",
        "    version: latest\n    routing: {version: v4, w",
    )
    assert "version: latest" in text
    (desired,) = resolve(load(tmp_path, text).manifests, default_region=None, default_account="1")
    assert desired.aliases[0].version == "latest"


def test_the_example_loads_with_whole_percents_and_rules(tmp_path: Path) -> None:
    spec = load(tmp_path, ISSUE_EXAMPLE).specs[0]
    assert isinstance(spec, FunctionGraphSpec)
    (desired,) = resolve(
        load(tmp_path, ISSUE_EXAMPLE).manifests, default_region=None, default_account="1"
    )
    assert desired.target == FG
    live, beta = desired.aliases
    assert live.routing == Route("v4", 0.1)
    assert beta.routing == Route("v4", 0.0, (RouteRule("x-canary", "in", "internal,qa"),), "and")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            ISSUE_EXAMPLE + 'account: "123456789012"\n',
            "/m0.yaml:13:1: 'account' is a Lambda key; a FunctionGraph manifest names its project",
        ),
        (
            "function: f\nregion: eu-west-1\nproject: abc\naliases: [{name: live, version: 1}]\n",
            "/m0.yaml:3:1: 'project' is a FunctionGraph key; add 'provider: functiongraph'",
        ),
        (
            "function: f\npackage: default\naliases: [{name: live, version: 1}]\n",
            "/m0.yaml:2:1: 'package' is a FunctionGraph key",
        ),
        (
            ISSUE_EXAMPLE.replace(
                "    version: v3\n    routing: {version: v4, w",
                "    version: v3\n    rollout: {canary: 5, bake: 1m}\n    routing: {version: v4, w",
            ),
            "/m0.yaml:7:5: aliases: rollout sets the routing itself, step by step",
        ),
        (
            ISSUE_EXAMPLE.replace("weight: 0.1", "weight: 0.125"),
            "/m0.yaml:9:5: routing weight 0.125 must be a whole percent",
        ),
        (
            ISSUE_EXAMPLE.replace("name: beta", "name: 2beta"),
            "/m0.yaml:10:5: name: alias name '2beta' must start with a letter",
        ),
        (
            ISSUE_EXAMPLE.replace("function: payments", f"function: {URN}:v3"),
            "/m0.yaml:2:1: function: name the function, not its version or alias",
        ),
    ],
)
def test_problems_name_file_line_and_what_to_do(tmp_path: Path, text: str, expected: str) -> None:
    found = problems(tmp_path, text)
    assert any(expected in p for p in found), found


BAD_RULE = "    routing: {version: v4, rules: [{header: 'x canary', equals: qa}]}\n"
ELEVEN = (
    ISSUE_EXAMPLE.split("aliases:", maxsplit=1)[0]
    + "aliases:\n"
    + "".join(f"  - {{name: a{n}, version: v1}}\n" for n in range(11))
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            ISSUE_EXAMPLE.replace("in: [internal, qa]", "in: ['pay,ments', qa]"),
            "/m0.yaml:12:55: in: 'pay,ments' holds a comma, and the service joins the values "
            "with commas: list each value on its own",
        ),
        (
            ISSUE_EXAMPLE.replace("in: [internal, qa]", "equals: 'pay,ments'"),
            "/m0.yaml:12:55: equals: 'pay,ments' holds a comma; a rule's value has none (for "
            "several values, write in: [one, two])",
        ),
        (
            ISSUE_EXAMPLE.replace(
                "    routing: {version: v4, rules: [{header: x-canary, in: [internal, qa]}]}\n",
                BAD_RULE,
            ),
            "/m0.yaml:12:36: rules: a rule's header name 'x canary' may hold only letters, "
            "digits, '-' and '_'",
        ),
        (
            ELEVEN,
            "/m0.yaml:6:1: aliases: a FunctionGraph function has at most 10 aliases, not 11; "
            "remove 1",
        ),
        (
            ISSUE_EXAMPLE.replace("rules: [{header: x-canary, in: [internal, qa]}]", "rules: []"),
            "/m0.yaml:12:28: rules: list 1 to 10 rules, or use a weight instead",
        ),
        (
            ISSUE_EXAMPLE.replace("in: [internal, qa]", "in: []"),
            "/m0.yaml:12:55: in: list at least one value",
        ),
        (
            ISSUE_EXAMPLE.replace("provider: functiongraph", "provider: FunctionGraph"),
            "/m0.yaml:1:1: provider: write 'functiongraph' in lowercase, not 'FunctionGraph'",
        ),
        (
            ISSUE_EXAMPLE.replace("provider: functiongraph", "provider: huawei"),
            "/m0.yaml:1:1: provider: 'huawei' is not a cloud this tool knows: write lambda "
            "(the default) or functiongraph",
        ),
    ],
    ids=[
        "comma-in-in",
        "comma-in-equals",
        "one-bad-rule",
        "eleven-aliases",
        "no-rules",
        "no-values",
        "provider-case",
        "provider-unknown",
    ],
)
def test_one_mistake_is_one_problem_in_the_projects_words(
    tmp_path: Path, text: str, expected: str
) -> None:
    """One problem, naming file, line and what to do; never pydantic's own words ("Tuple
    should have at least 1 item") beside it."""
    (found,) = problems(tmp_path, text)
    assert found.endswith(expected), found


def test_no_region_or_project_is_a_problem_at_resolution(tmp_path: Path) -> None:
    text = ISSUE_EXAMPLE.replace(f"project: {PROJECT}\n", "")
    loaded = load(tmp_path, text)
    with pytest.raises(ManifestError, match="no project for payments"):
        resolve(loaded.manifests, default_region=None, default_account="1")
    (desired,) = resolve(
        loaded.manifests, default_region=None, default_account="1", default_project=PROJECT
    )
    assert desired.target == FG


def test_one_function_under_two_spellings_is_refused(tmp_path: Path) -> None:
    by_urn = ISSUE_EXAMPLE.replace("function: payments", f"function: {URN}:latest")
    found = problems(tmp_path, ISSUE_EXAMPLE, by_urn)
    assert len(found) == 1
    assert "is already managed at" in found[0]
    assert f"written '{URN}:latest'" in found[0] or "written 'payments'" in found[0]


def test_the_same_name_on_both_clouds_is_two_functions(tmp_path: Path) -> None:
    lambda_manifest = (
        "function: payments\nregion: ap-southeast-1\naliases: [{name: live, version: 1}]\n"
    )
    assert len(load(tmp_path, ISSUE_EXAMPLE, lambda_manifest).manifests) == 2


def test_the_project_guard_refuses_other_projects(tmp_path: Path) -> None:
    desired = resolve(
        load(tmp_path, ISSUE_EXAMPLE).manifests, default_region=None, default_account="1"
    )
    check_project(desired, PROJECT)
    with pytest.raises(ManifestError, match="belongs to project"):
        check_project(desired, "f" * 32)


def fg_plan() -> Any:
    current = (
        LiveAlias("live", "v3", "", Route("v4", 0.2), "2026-01-01 00:00:00|abc"),
        LiveAlias("beta", "v2", "", None, "2026-01-01 00:00:01|def"),
    )

    desired = (
        DesiredAlias("live", "v3", None, Route("v4", 0.1)),
        DesiredAlias("beta", "v3", None, Route("v4", 0.0, (RouteRule("x-canary", "=", "qa"),))),
    )
    return plan([DesiredFunction(FG, desired)], {FG: LiveFunction(FG, current)}).stamped("t")


def test_a_saved_plan_keeps_its_cloud_and_rules() -> None:
    made = fg_plan()
    text = dumps_plan(made)
    data = json.loads(text)
    assert {c["provider"] for c in data["changes"]} == {"functiongraph"}
    assert {c["package"] for c in data["changes"]} == {"default"}
    read = loads_plan(text)
    assert read == made
    assert read.changes[0].target.provider == "functiongraph"


def resealed(data: dict[str, Any]) -> str:
    data["digest"] = content_digest(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda c: c.update(provider="azure"),
            'provider "azure" is not one of lambda, functiongraph',
        ),
        (lambda c: c.pop("package"), "package is missing"),
        (lambda c: c.update(provider="lambda"), "is not a function ARN"),
        (lambda c: c["after"].update(version="$LATEST"), "FunctionGraph version name"),
        (lambda c: c["after"]["routing"].update(weight=0.005), "whole percent"),
        (lambda c: c["after"]["routing"].update(version="latest"), "published version"),
        (lambda c: c.update(alias="2live"), "must start with a letter"),
        (
            lambda c: c["after"].update(
                routing=None,
                rollout={
                    "steps": [10],
                    "bake_seconds": 60,
                    "alarms": [],
                    "hooks": {"before": URN.replace(PROJECT, "f" * 32) + ":latest"},
                },
            ),
            "name the hook by its function name",
        ),
    ],
)
def test_a_saved_plan_is_read_by_its_cloud_rules(edit: Any, message: str) -> None:
    data = json.loads(dumps_plan(fg_plan()))
    change = next(c for c in data["changes"] if c["alias"] == "live")
    edit(change)
    with pytest.raises(PlanFileError) as caught:
        loads_plan(resealed(data))
    assert message in " ".join([str(caught.value), *caught.value.details])


def test_a_plan_of_2_0_without_provider_is_lambda() -> None:
    target = FunctionTarget("123456789012", "eu-west-1", "f")

    made = plan(
        [DesiredFunction(target, (DesiredAlias("live", "1"),))],
        {target: LiveFunction(target, ())},
    )
    data = json.loads(dumps_plan(made))
    for change in data["changes"]:
        del change["provider"]
    assert loads_plan(resealed(data)).changes[0].target.provider == "lambda"
    assert plan_problems(made) == []

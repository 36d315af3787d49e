"""`reconcile permissions` with rollouts: apply gains exactly DescribeAlarms on the alarms,
InvokeFunction on the hooks and the tag actions on the managed functions; plan only reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main

ROLLED = """\
function: payments-api
region: eu-west-1
account: "123456789012"
aliases:
  - name: live
    version: 13
    rollout: {steps: [5, 50], bake: 1m, alarms: [payments-api-errors], hooks: {before: smoke}}
---
function: orders
region: eu-west-1
account: "123456789012"
aliases:
  - {name: live, version: 2}
"""


def policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], role: str, text: str
) -> dict[str, Any]:
    (tmp_path / "m.yaml").write_text(text, encoding="utf-8")
    assert main(["permissions", role, str(tmp_path)]) == 0
    return dict(json.loads(capsys.readouterr().out))


def actions(document: dict[str, Any]) -> set[str]:
    return {a for s in document["Statement"] for a in s["Action"]}


def test_apply_gains_exactly_the_rollout_actions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = policy(tmp_path, capsys, "--apply", ROLLED.replace("    rollout:", "    #"))
    rolled = policy(tmp_path, capsys, "--apply", ROLLED)
    assert actions(rolled) - actions(plain) == {
        "cloudwatch:DescribeAlarms",
        "lambda:InvokeFunction",
        "lambda:ListTags",
        "lambda:TagResource",
        "lambda:UntagResource",
    }
    by_sid = {s["Sid"]: s for s in rolled["Statement"]}
    function = "arn:aws:lambda:eu-west-1:123456789012:function:payments-api"
    assert by_sid["RolloutState"]["Resource"] == [function]  # not orders: it has no rollout
    assert by_sid["ReadRolloutAlarms"]["Resource"] == [
        "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:payments-api-errors"
    ]
    assert by_sid["RunRolloutHooks"]["Resource"] == [
        "arn:aws:lambda:eu-west-1:123456789012:function:smoke"
    ]


def test_plan_reads_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = policy(tmp_path, capsys, "--plan", ROLLED.replace("    rollout:", "    #"))
    rolled = policy(tmp_path, capsys, "--plan", ROLLED)
    assert actions(rolled) - actions(plain) == {"cloudwatch:DescribeAlarms", "lambda:ListTags"}
    assert not any(
        a.startswith(("lambda:Tag", "lambda:Untag", "lambda:Invoke")) for a in actions(rolled)
    )


def test_the_rollout_role_reads_moves_rollouts_and_never_creates_or_deletes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rolled = policy(tmp_path, capsys, "--rollout", ROLLED)
    assert actions(rolled) == {
        "lambda:ListAliases",
        "lambda:GetFunction",
        "lambda:GetProvisionedConcurrencyConfig",
        "lambda:GetAlias",
        "lambda:UpdateAlias",
        "lambda:ListTags",
        "lambda:TagResource",
        "lambda:UntagResource",
        "cloudwatch:DescribeAlarms",
        "lambda:InvokeFunction",
    }
    by_sid = {s["Sid"]: s for s in rolled["Statement"]}
    function = "arn:aws:lambda:eu-west-1:123456789012:function:payments-api"
    assert by_sid["MoveRollouts"]["Resource"] == [function, f"{function}:*"]  # not orders
    assert main(["permissions", "--rollout"]) == 0
    anywhere = json.loads(capsys.readouterr().out)
    assert {s["Sid"] for s in anywhere["Statement"]} >= {"MoveRollouts", "RolloutState"}
    assert main(["permissions", "--apply", "--rollout"]) == 1


def test_the_rollout_role_trusts_the_rollout_workflow(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["permissions", "--rollout", "--trust-policy", "--repo", "o/r", "--account"]
    assert main([*args, "123456789012"]) == 0
    (statement,) = json.loads(capsys.readouterr().out)["Statement"]
    (subject,) = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert subject.endswith(
        ":environment:rollout:job_workflow_ref:o/r/.github/workflows/"
        "reconcile-rollout.yml@refs/heads/main"
    )


@pytest.mark.parametrize("role", ["--apply", "--rollout"])
def test_the_printed_tag_permissions_are_held_to_the_rollout_tags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], role: str
) -> None:
    """TagResource and UntagResource are granted only for the reconciler's own tag keys
    (aws:TagKeys, which Lambda checks on both): neither role may rewrite a function's other tags
    (ABAC, cost), and ListTags, which has no tag keys, stays without the condition."""
    document = policy(tmp_path, capsys, role, ROLLED)
    writes = [
        s
        for s in document["Statement"]
        if set(s["Action"]) & {"lambda:TagResource", "lambda:UntagResource"}
    ]
    assert writes
    for statement in writes:
        assert set(statement["Action"]) == {"lambda:TagResource", "lambda:UntagResource"}
        assert statement["Condition"] == {
            "ForAllValues:StringLike": {"aws:TagKeys": ["reconciler:rollout:*"]}
        }
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(sids) == len(set(sids))


def test_an_alarm_name_with_iam_wildcard_characters_names_that_alarm_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """CloudWatch allows '*' and '?' in alarm names; in a policy's resource IAM reads them as
    wildcards (errors-* would grant every errors- alarm), so they are written as IAM's literal
    ${*} and ${?}."""
    text = ROLLED.replace("alarms: [payments-api-errors]", "alarms: ['errors-*', 'p99?', 'a$b']")
    document = policy(tmp_path, capsys, "--apply", text)
    by_sid = {s["Sid"]: s for s in document["Statement"]}
    prefix = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"
    assert by_sid["ReadRolloutAlarms"]["Resource"] == [
        prefix + "a${$}b",
        prefix + "errors-${*}",
        prefix + "p99${?}",
    ]

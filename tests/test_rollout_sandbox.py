"""What rollouts need of the sandbox: CloudWatch alarms, function tags as AWS limits them, and
hook functions that answer succeed, fail or error, after a delay; by seed, admin API and boto3."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from reconciler.errors import SeedError
from reconciler.sandbox import Sandbox
from tests.conftest import REGION, make_client

SEED = {
    "region": REGION,
    "functions": [
        {
            "name": "payments-api",
            "versions": 2,
            "alarms": [
                {"name": "payments-api-errors"},
                {"name": "payments-api-p99", "state": "ALARM"},
            ],
        },
        {"name": "smoke-ok", "hook": "succeed"},
        {"name": "smoke-fail", "hook": "fail"},
        {"name": "smoke-error", "hook": {"answer": "error"}},
        {"name": "smoke-slow", "hook": {"answer": "succeed", "delay_seconds": 0.3}},
    ],
}


@pytest.fixture
def api(sandbox: Sandbox) -> Sandbox:
    sandbox.seed(SEED)
    return sandbox


def admin(sandbox: Sandbox, route: str, document: Any) -> Any:
    request = urllib.request.Request(
        f"{sandbox.url}/_sandbox/{route}", data=json.dumps(document).encode(), method="POST"
    )
    with urllib.request.urlopen(request) as reply:
        return json.loads(reply.read())


def states(sandbox: Sandbox, *names: str) -> dict[str, str]:
    answer = make_client(sandbox, "cloudwatch").describe_alarms(AlarmNames=list(names))
    return {a["AlarmName"]: a["StateValue"] for a in answer["MetricAlarms"]}


def test_seeded_alarms_are_described_in_their_state_and_missing_ones_left_out(
    api: Sandbox,
) -> None:
    assert states(api, "payments-api-errors", "payments-api-p99", "no-such-alarm") == {
        "payments-api-errors": "OK",
        "payments-api-p99": "ALARM",
    }


def test_an_alarm_changes_state_through_cloudwatch_and_the_admin_api(api: Sandbox) -> None:
    make_client(api, "cloudwatch").set_alarm_state(
        AlarmName="payments-api-errors", StateValue="ALARM", StateReason="errors"
    )
    assert states(api, "payments-api-errors") == {"payments-api-errors": "ALARM"}
    admin(api, "alarms", {"name": "payments-api-errors", "state": "OK"})
    admin(api, "alarms", {"name": "new-alarm", "state": "INSUFFICIENT_DATA"})
    assert states(api, "payments-api-errors", "new-alarm") == {
        "payments-api-errors": "OK",
        "new-alarm": "INSUFFICIENT_DATA",
    }
    api.set_alarm_state("new-alarm", "ALARM")
    assert states(api, "new-alarm") == {"new-alarm": "ALARM"}


def test_a_seeded_alarm_in_an_unknown_state_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(SeedError, match="state is one of OK, ALARM, INSUFFICIENT_DATA"):
        sandbox.seed({"functions": [{"name": "f", "alarms": [{"name": "a", "state": "RED"}]}]})


@pytest.mark.parametrize(
    ("function", "payload", "error"),
    [
        ("smoke-ok", {"status": "Succeeded"}, None),
        ("smoke-fail", {"status": "Failed"}, None),
        ("smoke-error", {"errorMessage": "hook failed", "errorType": "Exception"}, "Unhandled"),
    ],
)
def test_hooks_answer_as_seeded(
    api: Sandbox, function: str, payload: Any, error: str | None
) -> None:
    answer = make_client(api).invoke(FunctionName=function, Payload=b"{}")
    assert json.loads(answer["Payload"].read()) == payload
    assert answer.get("FunctionError") == error


def test_a_slow_hook_answers_after_its_delay(api: Sandbox) -> None:
    started = time.monotonic()
    answer = make_client(api).invoke(FunctionName="smoke-slow", Payload=b"{}")
    assert time.monotonic() - started >= 0.3  # a lower bound: the delay was served
    assert json.loads(answer["Payload"].read()) == {"status": "Succeeded"}


def test_the_admin_api_sets_a_hook(api: Sandbox) -> None:
    admin(api, "config", {"hooks": [{"function": "smoke-ok", "answer": "error"}]})
    answer = make_client(api).invoke(FunctionName="smoke-ok", Payload=b"{}")
    assert answer["FunctionError"] == "Unhandled"
    with pytest.raises(urllib.error.HTTPError) as caught:
        admin(api, "config", {"hooks": [{"function": "smoke-ok", "answer": "maybe"}]})
    assert caught.value.code == 400


def function_arn(sandbox: Sandbox, name: str = "payments-api") -> str:
    return str(make_client(sandbox).get_function(FunctionName=name)["Configuration"]["FunctionArn"])


def test_tags_are_written_listed_and_removed(api: Sandbox) -> None:
    lam, arn = make_client(api), function_arn(api)
    value = "from=1 to=2 step=1 at=2026-11-22T04:00:00Z"
    lam.tag_resource(Resource=arn, Tags={"reconciler:rollout:live": value})
    assert lam.list_tags(Resource=arn)["Tags"] == {"reconciler:rollout:live": value}
    lam.untag_resource(Resource=arn, TagKeys=["reconciler:rollout:live"])
    assert lam.list_tags(Resource=arn)["Tags"] == {}
    calls = api.stats()["calls"]
    assert (calls["TagResource"], calls["ListTags"], calls["UntagResource"]) == (1, 2, 1)


@pytest.mark.parametrize(
    ("tags", "words"),
    [
        ({"k": '{"json": 1}'}, "Tag value for k must be 0-256 characters"),
        ({"k": "x" * 257}, "Tag value for k must be 0-256 characters"),
        ({"k" * 129: "v"}, "must be 1-128 characters"),
        ({"aws:owner": "v"}, "reserved for AWS use"),
        ({"a\nb": "v"}, "must be 1-128 characters"),
    ],
)
def test_tags_aws_refuses_are_refused(api: Sandbox, tags: dict[str, str], words: str) -> None:
    lam, arn = make_client(api), function_arn(api)
    with pytest.raises(ClientError) as caught:
        lam.tag_resource(Resource=arn, Tags=tags)
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert words in caught.value.response["Error"]["Message"]
    assert lam.list_tags(Resource=arn)["Tags"] == {}


def test_a_function_holds_at_most_50_tags(api: Sandbox) -> None:
    lam, arn = make_client(api), function_arn(api)
    lam.tag_resource(Resource=arn, Tags={f"k{i}": "v" for i in range(50)})
    lam.tag_resource(Resource=arn, Tags={"k0": "again"})  # a key already there is no new tag
    with pytest.raises(ClientError, match="at most 50 tags"):
        lam.tag_resource(Resource=arn, Tags={"one-more": "v"})
    assert len(lam.list_tags(Resource=arn)["Tags"]) == 50

"""What a rollout asks of AWS beyond aliases: tags on the function (its state), CloudWatch alarms
(its gates) and Invoke (its hooks); on FunctionGraph, its tags and InvokeFunction. Through the
providers' clients, so the same session, endpoint, budget and error mapping serve every call."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reconciler.errors import MalformedAnswerError, NotFoundError, ProviderError
from reconciler.functiongraph import PROVIDER as FUNCTIONGRAPH
from reconciler.functiongraph import parse_function
from reconciler.live import FunctionTarget
from reconciler.permissions import needs
from reconciler.providers.aws_lambda import AwsLambdaProvider, _ask, _clip, _mapped

DESCRIBE_ALARMS_MAX = 100  # names in one DescribeAlarms call
HOOK_SUCCEEDED = {"status": "Succeeded"}
FG_INVOKED = 200  # InvokeFunction's status when the function returned


@dataclass(frozen=True, slots=True)
class HookAnswer:
    """What a hook function said: ``ok`` only for a payload of {"status": "Succeeded"}."""

    ok: bool
    why: str = ""


class RolloutCloud:
    """Tags, alarms and hooks for rollouts, on the provider's clients."""

    def __init__(self, provider: AwsLambdaProvider) -> None:
        self.provider = provider

    @needs("lambda:ListTags")
    def tags(self, target: FunctionTarget) -> dict[str, str]:
        """The function's tags (ListTags); {} if the function is gone."""
        client = self.provider.client("lambda", target.region)
        doing = f"reading the tags of {target.address}"
        try:
            with _mapped(doing, "ListTags"):
                answer = _ask(client.list_tags, Resource=target.arn)
                tags = answer.get("Tags") or {}
                if not isinstance(tags, dict) or not all(
                    isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
                ):
                    raise MalformedAnswerError("Tags is not a map of text to text")
        except NotFoundError:
            return {}
        return dict(tags)

    @needs("lambda:TagResource")
    def tag(self, target: FunctionTarget, key: str, value: str) -> None:
        client = self.provider.client("lambda", target.region)
        with _mapped(f"tagging {target.address}", "TagResource", write=True):
            _ask(client.tag_resource, Resource=target.arn, Tags={key: value})

    @needs("lambda:UntagResource")
    def untag(self, target: FunctionTarget, key: str) -> None:
        client = self.provider.client("lambda", target.region)
        with _mapped(f"untagging {target.address}", "UntagResource", write=True):
            _ask(client.untag_resource, Resource=target.arn, TagKeys=[key])

    @needs("cloudwatch:DescribeAlarms")
    def alarm_states(self, region: str, names: Iterable[str]) -> dict[str, str]:
        """Each named alarm's state (OK, ALARM, INSUFFICIENT_DATA), 100 names a call; an alarm
        that does not exist is left out, as CloudWatch leaves it out."""
        wanted = sorted(set(names))
        client = self.provider.client("cloudwatch", region)
        states: dict[str, str] = {}
        for start in range(0, len(wanted), DESCRIBE_ALARMS_MAX):
            batch = wanted[start : start + DESCRIBE_ALARMS_MAX]
            with _mapped(f"reading alarms in {region}", "DescribeAlarms"):
                answer = _ask(
                    client.describe_alarms, AlarmNames=batch, MaxRecords=DESCRIBE_ALARMS_MAX
                )
                for kind in ("MetricAlarms", "CompositeAlarms"):
                    for alarm in answer.get(kind) or []:
                        name, state = _alarm(alarm)
                        if name in batch:
                            states[name] = state
        return states

    @needs("lambda:InvokeFunction")
    def invoke_hook(self, target: FunctionTarget, hook: str, event: dict[str, Any]) -> HookAnswer:
        """Invoke ``hook`` (RequestResponse) in the function's Region; a FunctionError, an error
        from Lambda, or a payload other than {"status": "Succeeded"} is a failure, with why."""
        client = self.provider.invoker(target.region)
        try:
            with _mapped(f"invoking the hook {hook}", "Invoke"):
                answer = _ask(
                    client.invoke,
                    FunctionName=hook,
                    InvocationType="RequestResponse",
                    Payload=json.dumps(event).encode(),
                )
                body = answer.get("Payload")
                raw = body.read() if body is not None else b""
        except ProviderError as exc:  # not answered: the hook did not say Succeeded
            return HookAnswer(False, str(exc))
        if answer.get("FunctionError"):
            return HookAnswer(False, f"hook {hook} failed ({_clip(str(answer['FunctionError']))})")
        return _hook_payload(hook, raw)


def _hook_payload(hook: str, raw: bytes) -> HookAnswer:
    """A hook's answer: only {"status": "Succeeded"} lets the rollout go on."""
    try:
        payload = json.loads(raw or b"null")
    except ValueError:
        return HookAnswer(False, f"hook {hook} answered something that is not JSON")
    if payload != HOOK_SUCCEEDED:
        shown = _clip(json.dumps(payload), 120)
        return HookAnswer(False, f'hook {hook} answered {shown}, not {{"status": "Succeeded"}}')
    return HookAnswer(True)


def fg_hook_target(target: FunctionTarget, hook: str) -> FunctionTarget:
    """A FunctionGraph hook: a function name in the function's project, Region and package,
    or a function URN."""
    ref = parse_function(hook)
    return replace(
        target,
        account=ref.project or target.account,
        region=ref.region or target.region,
        package=ref.package or target.package,
        name=ref.name,
    )


def _alarm(data: object) -> tuple[str, str]:
    if not isinstance(data, dict):
        raise MalformedAnswerError("an alarm is not an object")
    name, state = data.get("AlarmName"), data.get("StateValue")
    if not isinstance(name, str) or not isinstance(state, str):
        raise MalformedAnswerError("an alarm has no AlarmName or StateValue")
    return name, state


def first_in_alarm(alarms: Sequence[str], states: dict[str, str]) -> str | None:
    """The first of ``alarms`` in ALARM, or None."""
    return next((name for name in alarms if states.get(name) == "ALARM"), None)


class AlarmBoard:
    """The alarms of every rollout of a run, read together: at most one batched DescribeAlarms per
    Region every ``max_age`` seconds, however many rollouts watch them (CloudWatch allows
    DescribeAlarms a few calls a second per account)."""

    def __init__(
        self,
        cloud: RolloutCloud,
        max_age: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cloud = cloud
        self.max_age = max_age
        self.clock = clock
        self._names: dict[str, set[str]] = {}
        self._read: dict[str, tuple[float, frozenset[str], dict[str, str]]] = {}
        self._lock = threading.Lock()

    def watch(self, region: str, names: Iterable[str]) -> None:
        with self._lock:
            self._names.setdefault(region, set()).update(names)

    def states(self, region: str, names: Sequence[str]) -> dict[str, str]:
        """The states of the Region's watched alarms, ``names`` among them, read at most
        ``max_age`` seconds ago; an alarm that does not exist is left out."""
        with self._lock:
            watched = self._names.setdefault(region, set())
            watched.update(names)
            at, asked, states = self._read.get(region, (-math.inf, frozenset(), {}))
            if self.clock() - at >= self.max_age or not watched <= asked:
                asked = frozenset(watched)
                states = self.cloud.alarm_states(region, asked)
                self._read[region] = (self.clock(), asked, states)
            return states


class RolloutClouds(RolloutCloud):
    """Tags, alarms and hooks for the rollouts of an estate on Lambda and FunctionGraph: each
    call goes to its function's cloud. FunctionGraph keeps a rollout's state in a function tag
    as Lambda does and runs hooks with InvokeFunction; it has no CloudWatch alarms (manifests
    refuse them there).
    Lambda's clients are made only when a Lambda function is met."""

    def __init__(self, clouds: Any) -> None:  # a reconciler.providers.clouds.Clouds
        self.clouds = clouds
        self._lambda: RolloutCloud | None = None
        self._made = threading.Lock()

    def _on_lambda(self) -> RolloutCloud:
        with self._made:
            if self._lambda is None:
                self._lambda = RolloutCloud(self.clouds.aws_lambda)
            return self._lambda

    def _functiongraph(self, target: FunctionTarget) -> Any:
        return self.clouds.functiongraph if target.provider == FUNCTIONGRAPH else None

    def tags(self, target: FunctionTarget) -> dict[str, str]:
        on = self._functiongraph(target)
        if on is None:
            return self._on_lambda().tags(target)
        found: dict[str, str] = on.tags(target)
        return found

    def tag(self, target: FunctionTarget, key: str, value: str) -> None:
        on = self._functiongraph(target)
        if on is None:
            self._on_lambda().tag(target, key, value)
        else:
            on.tag(target, key, value)

    def untag(self, target: FunctionTarget, key: str) -> None:
        on = self._functiongraph(target)
        if on is None:
            self._on_lambda().untag(target, key)
        else:
            on.untag(target, key)

    def alarm_states(self, region: str, names: Iterable[str]) -> dict[str, str]:
        """CloudWatch's: only Lambda rollouts name alarms, so none asked reads nothing."""
        wanted = set(names)
        return self._on_lambda().alarm_states(region, wanted) if wanted else {}

    def invoke_hook(self, target: FunctionTarget, hook: str, event: dict[str, Any]) -> HookAnswer:
        on = self._functiongraph(target)
        if on is None:
            return self._on_lambda().invoke_hook(target, hook, event)
        try:
            status, raw = on.invoke(fg_hook_target(target, hook), event)
        except ProviderError as exc:  # not answered: the hook did not say Succeeded
            return HookAnswer(False, str(exc))
        if status != FG_INVOKED:
            return HookAnswer(False, f"hook {hook} failed (status {status})")
        return _hook_payload(hook, raw.encode())

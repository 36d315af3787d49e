"""The ``rollout`` key of an alias in a manifest: pydantic models, as strict as the rest.

```yaml
rollout:
  steps: [5, 25, 50]        # or canary: 10 (one step), or linear: 10 (10, 20, ... 90)
  bake: 10m                 # s, m or h
  alarms: [payments-api-errors]
  hooks: {before: payments-smoke, after: payments-smoke}
```
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from reconciler import contract
from reconciler.rollout.model import (
    ALARM_NAME_MAX,
    BAKE_MAX_SECONDS,
    DURATION_PATTERN,
    MAX_ALARMS,
    STEP_MAX,
    STEP_MIN,
    Rollout,
    duration_text,
    linear_steps,
    parse_duration,
    steps_problem,
)


def _whole_percent(value: Any) -> Any:
    """A step is a whole number: 5, not 5.0, "5", 0.05 or true."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"a step is a whole percentage from {STEP_MIN} to {STEP_MAX} (write 5 for 5 %), "
            f"not {value!r}"
        )
    if not STEP_MIN <= value <= STEP_MAX:
        raise ValueError(
            f"a step is a whole percentage from {STEP_MIN} to {STEP_MAX} (100 is implied last), "
            f"not {value}"
        )
    return value


def _duration(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"write a duration with its unit, such as {value}s or {value}m")
    seconds = parse_duration(value)
    if seconds > BAKE_MAX_SECONDS:
        raise ValueError(f"a bake is at most {duration_text(BAKE_MAX_SECONDS)}, not {value}")
    return value


def _hook_name(value: Any) -> Any:
    if isinstance(value, str):
        try:
            ref = contract.parse_function_name(value)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
        if ref.qualifier is not None:
            raise ValueError(f"name the hook function without a qualifier, not {value!r}")
    return value


Percent = Annotated[
    int,
    BeforeValidator(_whole_percent),
    WithJsonSchema({"type": "integer", "minimum": STEP_MIN, "maximum": STEP_MAX}),
]
Duration = Annotated[
    StrictStr,
    BeforeValidator(_duration),
    WithJsonSchema({"type": "string", "pattern": f"^{DURATION_PATTERN}$"}),
]
AlarmName = Annotated[
    StrictStr,
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": ALARM_NAME_MAX,
            "pattern": "^[^\\u0000-\\u001f\\u007f]+$",
        }
    ),
]
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def _shape(schema: dict[str, Any]) -> WithJsonSchema:
    """A shape key (steps, canary, linear): present means given, so null is not allowed."""
    return WithJsonSchema(schema)


HookFunction = Annotated[
    StrictStr,
    BeforeValidator(_hook_name),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": f"^{contract.FUNCTION_PATTERN}$",
            "maxLength": contract.FUNCTION_ARN_MAX,
        }
    ),
]


_PERCENT = {"type": "integer", "minimum": STEP_MIN, "maximum": STEP_MAX}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Hooks(_Model):
    """Lambda functions that validate the rollout; each must answer {"status": "Succeeded"}."""

    before: HookFunction | None = Field(
        default=None, description="Invoked before any traffic moves; a failure moves none."
    )
    after: HookFunction | None = Field(
        default=None, description="Invoked once 100 % is reached; a failure rolls back."
    )


class RolloutSpec(_Model):
    """A version change made in weight steps, each held while alarms are watched."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": ["steps"]},
                {"required": ["canary"]},
                {"required": ["linear"]},
            ]
        }
    )

    steps: Annotated[
        tuple[Percent, ...] | None,
        _shape(
            {
                "type": "array",
                "minItems": 1,
                "items": {"type": "integer", "minimum": STEP_MIN, "maximum": STEP_MAX},
            }
        ),
    ] = Field(
        default=None,
        description="Percent on the new version at each step, ascending, each 1-99; "
        "100 is implied last.",
    )
    canary: Annotated[Percent | None, _shape(_PERCENT)] = Field(
        default=None, description="One step at this percent, then 100."
    )
    linear: Annotated[Percent | None, _shape(_PERCENT)] = Field(
        default=None, description="Steps of this percent: linear: 10 is 10, 20, ... 90, then 100."
    )
    bake: Duration = Field(description="How long each step is held: 30s, 10m, 1h.")
    alarms: tuple[AlarmName, ...] = Field(
        default=(),
        max_length=MAX_ALARMS,
        description="CloudWatch alarms (same account and Region); any in ALARM rolls back.",
    )
    hooks: Hooks | None = Field(default=None, description="Validator functions.")

    @field_validator("steps")
    @classmethod
    def _ascending(cls, value: tuple[int, ...] | None) -> tuple[int, ...] | None:
        if value is not None:
            problem = steps_problem(value)
            if problem:
                raise ValueError(problem)
        return value

    @field_validator("alarms")
    @classmethod
    def _alarms(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not 1 <= len(name) <= ALARM_NAME_MAX:
                raise ValueError(f"an alarm name is 1 to {ALARM_NAME_MAX} characters")
            if _CONTROL.search(name):
                raise ValueError("an alarm name has no control characters")
        seen: set[str] = set()
        for name in value:
            if name in seen:
                raise ValueError(f"alarm {name!r} is listed twice")
            seen.add(name)
        return value

    @model_validator(mode="before")
    @classmethod
    def _no_null_shape(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("steps", "canary", "linear"):
                if key in data and data[key] is None:
                    raise ValueError(f"{key} is empty: give it a value, or leave it out")
        return data

    @model_validator(mode="after")
    def _one_shape(self) -> RolloutSpec:
        given = [k for k in ("steps", "canary", "linear") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of steps, canary or linear"
                + (f", not {' and '.join(given)}" if given else "")
            )
        return self

    def to_model(self) -> Rollout:
        if self.steps is not None:
            steps = self.steps
        elif self.canary is not None:
            steps = (self.canary,)
        else:
            assert self.linear is not None
            steps = linear_steps(self.linear)
        hooks = self.hooks or Hooks()
        return Rollout(
            steps=steps,
            bake=parse_duration(self.bake),
            alarms=self.alarms,
            before=hooks.before,
            after=hooks.after,
        )

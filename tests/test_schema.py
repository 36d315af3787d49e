"""The JSON Schema that editors check manifests with says what `reconcile validate` says.

Each document is written as JSON (which YAML reads as it is) and loaded as `validate` loads it;
its verdict must be the schema's, as a standard validator reads the shipped schema.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from reconciler.errors import ManifestError
from reconciler.manifests import load_manifests

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "reconciler/schema/manifest.schema.json").read_text(encoding="utf-8"))
BASE: dict[str, Any] = {
    "function": "f",
    "region": "eu-west-1",
    "aliases": [{"name": "live", "version": 1}],
}
ACCOUNT = "123456789012"
INDIC = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"


class _Gone:
    def __repr__(self) -> str:
        return "GONE"


GONE = _Gone()  # the key is left out


def doc(*changes: tuple[str, Any]) -> Any:
    """BASE with each dotted path ("aliases.0.name") set to a value, or left out with GONE."""
    document = copy.deepcopy(BASE)
    for path, value in changes:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part) if part.isdigit() else part]
        if value is GONE:
            del target[last]
        else:
            target[last] = value
    return document


def arn_text(name: str) -> str:
    return f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:{name}"


def arn(partition: str, region: str, account: str = ACCOUNT, name: str = "f") -> Any:
    text = f"arn:{partition}:lambda:{region}:{account}:function:{name}"
    return doc(("function", text), ("region", GONE))  # an ARN's Region is the function's


def routed(**routing: Any) -> Any:
    return doc(("aliases.0.version", 1), ("aliases.0.routing", routing))


def rolled(**rollout: Any) -> Any:
    return doc(("aliases.0.version", 2), ("aliases.0.rollout", {"bake": "1m", **rollout}))


# (id, document, valid?)
CASES: list[tuple[str, Any, bool]] = [
    ("base", BASE, True),
    ("not-an-object", [BASE], False),
    ("unknown-key", doc(("aliasses", [])), False),
    ("no-function", doc(("function", GONE)), False),
    ("no-aliases", doc(("aliases", GONE)), False),
    ("no-region", doc(("region", GONE)), True),
    # function: name, partial ARN or ARN, in a partition its Region is in
    ("function-name-64", doc(("function", "f" * 64)), True),
    ("function-name-65", doc(("function", "f" * 65)), False),
    ("function-name-with-space", doc(("function", "my func")), False),
    ("function-name-empty", doc(("function", "")), False),
    ("function-name-indic-digit", doc(("function", "f\u0661")), False),
    ("function-name-number", doc(("function", 12)), False),
    ("function-name-null", doc(("function", None)), False),
    ("qualified", doc(("function", "f:live")), False),
    ("function-keyword", doc(("function", "function:f")), True),
    ("partial-arn", doc(("function", f"{ACCOUNT}:function:f")), True),
    ("partial-arn-with-region", doc(("function", f"eu-west-1:{ACCOUNT}:function:f")), True),
    ("partial-arn-without-keyword", doc(("function", f"{ACCOUNT}:f")), False),
    ("partial-arn-over-140", doc(("function", f"eu-{'w' * 120}-1:{ACCOUNT}:function:f")), False),
    ("arn", arn("aws", "eu-west-1"), True),
    ("arn-name-64", arn("aws", "eu-west-1", name="f" * 64), True),
    ("arn-over-140", arn("aws", f"eu-{'w' * 60}-1", name="f" * 64), False),
    ("arn-without-keyword", doc(("function", f"arn:aws:lambda:eu-west-1:{ACCOUNT}:f")), False),
    ("arn-without-account", doc(("function", "arn:aws:lambda:eu-west-1:function:f")), False),
    ("arn-indic-account", arn("aws", "eu-west-1", INDIC), False),
    ("arn-without-partition", arn("", "eu-west-1"), False),
    ("arn-unknown-partition", arn("awsx", "eu-west-1"), False),
    ("arn-china", arn("aws-cn", "cn-north-1"), True),
    ("arn-china-elsewhere", arn("aws-cn", "eu-west-1"), False),
    ("arn-commercial-in-china", arn("aws", "cn-north-1"), False),
    ("arn-govcloud", arn("aws-us-gov", "us-gov-west-1"), True),
    ("arn-commercial-in-govcloud", arn("aws", "us-gov-west-1"), False),
    ("arn-iso", arn("aws-iso", "us-iso-east-1"), True),
    ("arn-iso-b", arn("aws-iso-b", "us-isob-east-1"), True),
    ("arn-iso-in-iso-b", arn("aws-iso", "us-isob-east-1"), False),
    ("arn-iso-b-in-iso-e", arn("aws-iso-b", "eu-isoe-west-1"), False),
    # region and account
    *(
        (f"region-{region!a}", doc(("region", region)), valid)
        for region, valid in [
            ("us-gov-west-1", True),
            ("us-isob-east-1", True),
            (None, True),
            ("Ireland", False),
            ("EU-WEST-1", False),
            ("eu-west-1 ", False),
            ("eu-west-\u0661", False),  # an Arabic-Indic 1
            (1, False),
        ]
    ),
    *(
        (f"account-{ascii(account)[:16]}", doc(("account", account)), valid)
        for account, valid in [
            (ACCOUNT, True),
            ("012345678901", True),
            (None, True),
            ("1234", False),
            ("12345678901a", False),
            (INDIC, False),
            (123456789012, False),
        ]
    ),
    # prune and keep
    *(
        (f"prune-{prune!r}", doc(("prune", prune)), valid)
        for prune, valid in [(True, True), (False, True), ("yes", False), (1, False), (None, False)]
    ),
    ("keep-with-prune", doc(("prune", True), ("keep", ["legacy-*"])), True),
    ("keep-without-prune", doc(("keep", ["legacy-*"])), False),
    ("keep-with-prune-false", doc(("prune", False), ("keep", ["legacy-*"])), False),
    ("keep-empty", doc(("keep", [])), True),
    ("keep-text", doc(("prune", True), ("keep", "legacy-*")), False),
    ("keep-number", doc(("prune", True), ("keep", [1])), False),
    # aliases
    ("aliases-empty", doc(("aliases", [])), True),
    ("aliases-object", doc(("aliases", {"name": "live", "version": 1})), False),
    ("alias-unknown-key", doc(("aliases.0.descripton", "x")), False),
    ("alias-not-an-object", doc(("aliases", ["live"])), False),
    *(
        (f"name-{ascii(name)[:16]}", doc(("aliases.0.name", name)), valid)
        for name, valid in [
            ("2024-01-02", True),
            ("on", True),
            ("a" * 128, True),
            ("a" * 129, False),
            ("", False),
            ("2024", False),
            ("li.ve", False),
            ("\u0661\u0662", False),
            (2024, False),
            (-5, False),
            (None, False),
            (GONE, False),
        ]
    ),
    *(
        (f"version-{ascii(version)[:16]}", doc(("aliases.0.version", version)), valid)
        for version, valid in [
            ("1", True),
            ("$LATEST", True),
            (10**30, True),
            (0, False),
            ("0", False),
            ("01", False),
            (-1, False),
            (1.5, False),
            (True, False),
            ("one", False),
            ("latest", False),
            ("\u0661", False),
            (None, False),
            (GONE, False),
        ]
    ),
    *(
        (
            f"description-{len(text) if isinstance(text, str) else text!r}",
            doc(("aliases.0.description", text)),
            valid,
        )
        for text, valid in [
            ("", True),
            ("x" * 256, True),
            (None, True),
            ("x" * 257, False),
            (5, False),
        ]
    ),
    # routing
    ("routing-null", doc(("aliases.0.routing", None)), True),
    ("routing", routed(version=2, weight=0.05), True),
    ("routing-text-version", routed(version="2", weight=0), True),
    ("routing-weight-1", routed(version=2, weight=1), True),
    ("routing-weight-above-1", routed(version=2, weight=1.5), False),
    ("routing-weight-negative", routed(version=2, weight=-0.1), False),
    ("routing-weight-text", routed(version=2, weight="0.5"), False),
    ("routing-weight-true", routed(version=2, weight=True), False),
    ("routing-no-weight", routed(version=2), False),
    ("routing-no-version", routed(weight=0.5), False),
    ("routing-to-latest", routed(version="$LATEST", weight=0.5), False),
    ("routing-to-0", routed(version=0, weight=0.5), False),
    ("routing-to-02", routed(version="02", weight=0.5), False),
    ("routing-to-1024-digits", routed(version="9" * 1024, weight=0.5), True),
    ("routing-to-1025-digits", routed(version="9" * 1025, weight=0.5), False),
    ("routing-extra-key", routed(version=2, weight=0.5, version2=3), False),
    ("routing-list", doc(("aliases.0.routing", [2, 0.5])), False),
    (
        "routing-from-latest",
        doc(("aliases.0.version", "$LATEST"), ("aliases.0.routing", {"version": 2, "weight": 0.5})),
        False,
    ),
]

# rollouts
CASES += [
    ("rollout-steps", rolled(steps=[5, 25, 50]), True),
    ("rollout-null", doc(("aliases.0.rollout", None)), True),
    ("rollout-steps-1-99", rolled(steps=[1, 99]), True),
    ("rollout-steps-100", rolled(steps=[5, 100]), False),
    ("rollout-steps-0", rolled(steps=[0, 5]), False),
    ("rollout-steps-empty", rolled(steps=[]), False),
    ("rollout-steps-float", rolled(steps=[5.5]), False),
    ("rollout-steps-text", rolled(steps=["5"]), False),
    ("rollout-steps-null", rolled(steps=None, canary=5), False),
    ("rollout-canary", rolled(canary=10), True),
    ("rollout-canary-100", rolled(canary=100), False),
    ("rollout-linear", rolled(linear=10), True),
    ("rollout-linear-true", rolled(linear=True), False),
    ("rollout-no-shape", rolled(), False),
    ("rollout-two-shapes", rolled(canary=10, linear=10), False),
    ("rollout-no-bake", doc(("aliases.0.version", 2), ("aliases.0.rollout", {"canary": 5})), False),
    ("rollout-bake-30s", rolled(canary=5, bake="30s"), True),
    ("rollout-bake-2h", rolled(canary=5, bake="2h"), True),
    ("rollout-bake-number", rolled(canary=5, bake=600), False),
    ("rollout-bake-days", rolled(canary=5, bake="1d"), False),
    ("rollout-bake-0s", rolled(canary=5, bake="0s"), False),
    ("rollout-bake-compound", rolled(canary=5, bake="1h30m"), False),
    ("rollout-alarms", rolled(canary=5, alarms=["payments-api-errors", "p99 > 1s"]), True),
    ("rollout-alarms-empty-name", rolled(canary=5, alarms=[""]), False),
    ("rollout-alarms-256", rolled(canary=5, alarms=["a" * 256]), False),
    ("rollout-alarms-control", rolled(canary=5, alarms=["a\nb"]), False),
    ("rollout-alarms-text", rolled(canary=5, alarms="a"), False),
    ("rollout-hooks", rolled(canary=5, hooks={"before": "smoke", "after": "smoke"}), True),
    ("rollout-hooks-after-arn", rolled(canary=5, hooks={"after": arn_text("smoke")}), True),
    ("rollout-hooks-before-qualified", rolled(canary=5, hooks={"before": "smoke:live"}), False),
    ("rollout-hooks-unknown", rolled(canary=5, hooks={"during": "smoke"}), False),
    ("rollout-unknown-key", rolled(canary=5, bakes="1m"), False),
    (
        "rollout-to-latest",
        doc(("aliases.0.rollout", {"canary": 5, "bake": "1m"}), ("aliases.0.version", "$LATEST")),
        False,
    ),
    (
        "rollout-with-routing",
        doc(
            ("aliases.0.version", 1),
            ("aliases.0.routing", {"version": 2, "weight": 0.5}),
            ("aliases.0.rollout", {"canary": 5, "bake": "1m"}),
        ),
        False,
    ),
]

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
FG_BASE: dict[str, Any] = {
    "provider": "functiongraph",
    "function": "payments",
    "project": PROJECT,
    "region": "ap-southeast-1",
    "aliases": [{"name": "live", "version": "v3"}],
}


def fg_doc(*changes: tuple[str, Any]) -> Any:
    """FG_BASE with each dotted path set to a value, or left out with GONE."""
    document = copy.deepcopy(FG_BASE)
    for path, value in changes:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part) if part.isdigit() else part]
        if value is GONE:
            del target[last]
        else:
            target[last] = value
    return document


def fg_routed(**routing: Any) -> Any:
    return fg_doc(("aliases.0.routing", routing))


def fg_rules(*rules: Any, **more: Any) -> Any:
    return fg_routed(version="v4", rules=list(rules), **more)


URN = f"urn:fss:ap-southeast-1:{PROJECT}:function:default:payments"
FG_ALIASES = [{"name": f"a{i}", "version": "v1"} for i in range(11)]
CASES += [
    ("fg-base", FG_BASE, True),
    ("fg-provider-lambda", doc(("provider", "lambda")), True),
    ("fg-provider-other", doc(("provider", "aws")), False),
    ("fg-account-on-functiongraph", fg_doc(("account", ACCOUNT)), False),
    ("fg-project-on-lambda", doc(("project", PROJECT)), False),
    ("fg-package-on-lambda", doc(("package", "default")), False),
    ("fg-function-urn", fg_doc(("function", URN), ("region", GONE), ("project", GONE)), True),
    ("fg-function-urn-latest", fg_doc(("function", f"{URN}:latest")), True),
    ("fg-function-urn-v3", fg_doc(("function", f"{URN}:v3")), False),
    ("fg-function-arn", fg_doc(("function", "arn:aws:lambda:eu-west-1:1:function:f")), False),
    ("fg-function-digit-first", fg_doc(("function", "1payments")), False),
    ("fg-function-61", fg_doc(("function", "f" * 61)), False),
    ("fg-package", fg_doc(("package", "billing")), True),
    ("fg-package-space", fg_doc(("package", "my package")), False),
    ("fg-project-short", fg_doc(("project", "0a1b")), False),
    ("fg-project-upper", fg_doc(("project", PROJECT.upper())), False),
    ("fg-project-absent", fg_doc(("project", GONE)), True),
    ("fg-region-bad", fg_doc(("region", "Singapore")), False),
    ("fg-region-3-digits", fg_doc(("region", "eu-west-101")), True),
    ("fg-prune", fg_doc(("prune", True)), True),
    ("fg-keep", fg_doc(("prune", True), ("keep", ["x*"])), True),
    ("fg-keep-without-prune", fg_doc(("keep", ["x*"])), False),
    ("fg-aliases-10", fg_doc(("aliases", FG_ALIASES[:10])), True),
    ("fg-rollout-steps", fg_doc(("aliases.0.rollout", {"steps": [10, 50], "bake": "1m"})), True),
    ("fg-rollout-canary", fg_doc(("aliases.0.rollout", {"canary": 10, "bake": "1m"})), True),
    ("fg-rollout-linear", fg_doc(("aliases.0.rollout", {"linear": 25, "bake": "30s"})), True),
    ("fg-rollout-bake-none", fg_doc(("aliases.0.rollout", {"canary": 10})), False),
    (
        "fg-rollout-alarms",
        fg_doc(("aliases.0.rollout", {"canary": 10, "bake": "1m", "alarms": ["errors"]})),
        False,
    ),
    (
        "fg-rollout-alarms-empty",
        fg_doc(("aliases.0.rollout", {"canary": 10, "bake": "1m", "alarms": []})),
        True,
    ),
    (
        "fg-rollout-alarms-null",
        fg_doc(("aliases.0.rollout", {"canary": 10, "bake": "1m", "alarms": None})),
        False,
    ),
    (
        "fg-rollout-hooks",
        fg_doc(
            (
                "aliases.0.rollout",
                {
                    "canary": 10,
                    "bake": "1m",
                    "hooks": {
                        "before": "urn:fss:ap-southeast-1:"
                        "0a1b2c3d4e5f60718293a4b5c6d7e8f9:function:default:s:latest"
                    },
                },
            )
        ),
        False,
    ),
    (
        "fg-rollout-hook-after",
        fg_doc(("aliases.0.rollout", {"canary": 10, "bake": "1m", "hooks": {"after": "9lives"}})),
        False,
    ),
    (
        "fg-rollout-hooks-by-name",
        fg_doc(("aliases.0.rollout", {"canary": 10, "bake": "1m", "hooks": {"before": "s"}})),
        True,
    ),
    (
        "fg-rollout-to-latest",
        fg_doc(("aliases.0.version", "latest"), ("aliases.0.rollout", {"canary": 1, "bake": "1s"})),
        False,
    ),
    (
        "fg-rollout-and-routing",
        fg_doc(
            ("aliases.0.rollout", {"canary": 10, "bake": "1m"}),
            ("aliases.0.routing", {"version": "v4", "weight": 0.1}),
        ),
        False,
    ),
    ("fg-aliases-11", fg_doc(("aliases", FG_ALIASES)), False),
    *(
        (f"fg-name-{ascii(name)[:16]}", fg_doc(("aliases.0.name", name)), valid)
        for name, valid in [
            ("a" * 64, True),
            ("a" * 65, False),
            ("2024-01-02", False),
            ("-live", False),
            ("live_2", True),
            ("li.ve", False),
        ]
    ),
    *(
        (f"fg-version-{ascii(version)[:16]}", fg_doc(("aliases.0.version", version)), valid)
        for version, valid in [
            ("latest", True),
            ("v3", True),
            ("1.0", True),
            (3, True),
            ("$LATEST", False),
            ("v" * 43, False),
            ("-v3", False),
            (1.5, False),
        ]
    ),
    ("fg-description-512", fg_doc(("aliases.0.description", "x" * 512)), True),
    ("fg-description-513", fg_doc(("aliases.0.description", "x" * 513)), False),
    ("fg-routing-weight", fg_routed(version="v4", weight=0.1), True),
    ("fg-routing-weight-99", fg_routed(version="v4", weight=0.99), True),
    ("fg-routing-weight-1.0", fg_routed(version="v4", weight=1.0), False),
    ("fg-routing-weight-0", fg_routed(version="v4", weight=0), False),
    ("fg-routing-weight-fraction", fg_routed(version="v4", weight=0.105), False),
    ("fg-routing-weight-text", fg_routed(version="v4", weight="0.1"), False),
    ("fg-routing-to-latest", fg_routed(version="latest", weight=0.1), False),
    (
        "fg-routing-from-latest",
        fg_doc(
            ("aliases.0.version", "latest"),
            ("aliases.0.routing", {"version": "v4", "weight": 0.1}),
        ),
        True,
    ),
    ("fg-routing-both", fg_rules({"header": "x", "equals": "a"}, weight=0.1), False),
    ("fg-routing-neither", fg_routed(version="v4"), False),
    ("fg-routing-rules-in", fg_rules({"header": "x-canary", "in": ["internal", "qa"]}), True),
    ("fg-routing-rules-equals-or", fg_rules({"header": "x", "equals": "qa"}, combine="or"), True),
    ("fg-routing-rules-xor", fg_rules({"header": "x", "equals": "a"}, combine="xor"), False),
    ("fg-routing-rules-empty", fg_rules(), False),
    ("fg-routing-rules-in-empty", fg_rules({"header": "x", "in": []}), False),
    ("fg-routing-rules-two-tests", fg_rules({"header": "x", "in": ["a"], "equals": "a"}), False),
    ("fg-routing-rules-no-test", fg_rules({"header": "x"}), False),
    ("fg-routing-rules-bad-header", fg_rules({"header": "x canary", "equals": "a"}), False),
    ("fg-routing-rules-bad-value", fg_rules({"header": "x", "equals": "a,b"}), False),
    ("fg-routing-rules-op", fg_rules({"header": "x", "equals": "a", "op": "="}), False),
]

# What validation refuses and no JSON Schema can say: comparisons between two values, and
# JSON's own model, in which 12.0 is the integer 12.
BEYOND_SCHEMA: list[tuple[str, Any]] = [
    ("arn-region-differs", doc(("function", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:f"))),
    (
        "arn-account-differs",
        doc(("function", f"{ACCOUNT}:function:f"), ("account", "210987654321")),
    ),
    ("routing-to-own-version", routed(version="1", weight=0.5)),
    (
        "same-alias-twice",
        doc(("aliases", [{"name": "live", "version": 1}, {"name": "live", "version": 2}])),
    ),
    ("version-12.0", doc(("aliases.0.version", 12.0))),
    ("rollout-steps-descending", rolled(steps=[50, 25])),
    ("rollout-steps-twice", rolled(steps=[5, 5])),
    ("rollout-alarm-twice", rolled(canary=5, alarms=["a", "a"])),
    ("rollout-bake-25h", rolled(canary=5, bake="25h")),
    # The API's 1024 characters: a schema could say it of integers only as a 1024-digit maximum.
    ("version-1025-digits", doc(("aliases.0.version", int("9" * 1025)))),
    ("fg-urn-project-differs", fg_doc(("function", URN), ("project", "f" * 32))),
    ("fg-routing-to-itself", fg_routed(version="v3", weight=0.1)),
]


def validate_says(tmp_path: Path, document: Any) -> bool:
    path = tmp_path / "m.yaml"
    path.write_text(json.dumps(document), encoding="utf-8")
    try:
        load_manifests([path])
    except ManifestError:
        return False
    return True


def test_the_shipped_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    ("document", "valid"), [pytest.param(d, v, id=name) for name, d, v in CASES]
)
def test_validate_and_the_schema_agree(tmp_path: Path, document: Any, valid: bool) -> None:
    assert validate_says(tmp_path, document) is valid
    assert Draft202012Validator(SCHEMA).is_valid(document) is valid


@pytest.mark.parametrize("document", [pytest.param(d, id=name) for name, d in BEYOND_SCHEMA])
def test_what_only_validate_can_refuse(tmp_path: Path, document: Any) -> None:
    assert Draft202012Validator(SCHEMA).is_valid(document)
    assert not validate_says(tmp_path, document)


def test_there_are_cases_on_every_key_of_the_schema() -> None:
    keys = {
        f"{name}.{key}" for name, schema in SCHEMA["$defs"].items() for key in schema["properties"]
    }
    named = " ".join(name for name, *_ in CASES)
    words = {
        "FunctionSpec.provider": "fg-provider-",
        "FunctionSpec.function": "arn",
        "FunctionSpec.region": "region",
        "FunctionSpec.account": "account",
        "FunctionSpec.prune": "prune",
        "FunctionSpec.keep": "keep",
        "FunctionSpec.aliases": "aliases",
        "AliasSpec.name": "name-",
        "AliasSpec.version": "version-",
        "AliasSpec.description": "description-",
        "AliasSpec.routing": "routing",
        "Routing.version": "routing-to-",
        "Routing.weight": "routing-weight",
        "AliasSpec.rollout": "rollout-",
        "RolloutSpec.steps": "rollout-steps",
        "RolloutSpec.canary": "rollout-canary",
        "RolloutSpec.linear": "rollout-linear",
        "RolloutSpec.bake": "rollout-bake",
        "RolloutSpec.alarms": "rollout-alarms",
        "RolloutSpec.hooks": "rollout-hooks",
        "Hooks.before": "rollout-hooks-before",
        "Hooks.after": "rollout-hooks-after",
        "FunctionGraphSpec.provider": "fg-base",
        "FunctionGraphSpec.function": "fg-function-",
        "FunctionGraphSpec.package": "fg-package",
        "FunctionGraphSpec.project": "fg-project-",
        "FunctionGraphSpec.region": "fg-region-",
        "FunctionGraphSpec.prune": "fg-prune",
        "FunctionGraphSpec.keep": "fg-keep",
        "FunctionGraphSpec.aliases": "fg-aliases-",
        "FgAliasSpec.name": "fg-name-",
        "FgAliasSpec.version": "fg-version-",
        "FgAliasSpec.description": "fg-description-",
        "FgAliasSpec.routing": "fg-routing-",
        "FgAliasSpec.rollout": "fg-rollout-",
        "FgRolloutSpec.steps": "fg-rollout-steps",
        "FgRolloutSpec.canary": "fg-rollout-canary",
        "FgRolloutSpec.linear": "fg-rollout-linear",
        "FgRolloutSpec.bake": "fg-rollout-bake",
        "FgRolloutSpec.alarms": "fg-rollout-alarms",
        "FgRolloutSpec.hooks": "fg-rollout-hooks",
        "FgHooks.before": "fg-rollout-hooks",
        "FgHooks.after": "fg-rollout-hook-after",
        "FgRouting.version": "fg-routing-to-",
        "FgRouting.weight": "fg-routing-weight",
        "FgRouting.rules": "fg-routing-rules-",
        "FgRouting.combine": "-or",
        "Rule.header": "bad-header",
        "Rule.equals": "rules-equals",
        "Rule.in": "rules-in",
    }
    assert set(words) == keys
    assert all(word in named for word in words.values())

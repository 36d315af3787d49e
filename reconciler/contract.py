"""The service's own rules for aliases, as stated in LAMBDA_CONTRACT.md.

Manifest validation and the sandbox both read these, so a plan never holds what the service refuses.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

ALIAS_NAME_MAX = 128
DESCRIPTION_MAX = 256
FUNCTION_NAME_MAX = 64
FUNCTION_ARN_MAX = 140
LIST_MAX_ITEMS = 10_000
LATEST = "$LATEST"
VERSION_MAX = 1024  # FunctionVersion's length limit in the API
TAGS_MAX = 50  # user tags a Lambda function holds (TagResource refuses more)

# Patterns are ASCII only ([0-9], never \d, which also matches other scripts' digits); their
# text is also the JSON Schema's, so the schema and validation say the same.
# Digits are allowed, digits only are not: "2024-01-02" is a name, "2024" is a ValidationException.
ALIAS_NAME_PATTERN = r"(?!^[0-9]+$)[a-zA-Z0-9_-]+"
ALIAS_NAME_RE = re.compile(ALIAS_NAME_PATTERN, re.ASCII)
VERSION_RE = re.compile(r"\$LATEST|[0-9]+", re.ASCII)
PUBLISHED_VERSION_RE = re.compile(r"[0-9]+", re.ASCII)
REGION_PATTERN = r"[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]"
REGION_RE = re.compile(REGION_PATTERN, re.ASCII)
ACCOUNT_PATTERN = r"[0-9]{12}"
ACCOUNT_RE = re.compile(ACCOUNT_PATTERN, re.ASCII)
FUNCTION_NAME_PATTERN = r"[a-zA-Z0-9_-]"
_FUNCTION_RE = re.compile(
    r"(?:arn:(?P<partition>aws[a-zA-Z-]*)?:lambda:)?"
    rf"(?:(?P<region>{REGION_PATTERN}):)?"
    rf"(?:(?P<account>{ACCOUNT_PATTERN}):)?"
    r"(?P<function_kw>function:)?"
    rf"(?P<name>{FUNCTION_NAME_PATTERN}+)"
    r"(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]+))?",
    re.ASCII,
)
# The Regions of each partition, as partition_of tells them apart (\1: the iso letter).
_PARTITION_REGIONS = (
    ("aws-cn", r"cn-[a-z]+-[0-9]"),
    ("aws-us-gov", r"[a-z]{2}-gov-[a-z]+-[0-9]"),
    ("aws-iso", r"[a-z]{2}-iso-[a-z]+-[0-9]"),
    ("aws-iso-([a-z])", r"[a-z]{2}-iso\1-[a-z]+-[0-9]"),
    ("aws", r"(?!cn-)[a-z]{2}-[a-z]+-[0-9]"),
)
# An unqualified FunctionName as parse_function_name accepts it, partition and all.
FUNCTION_PATTERN = (
    "(?:arn:(?:"
    + "|".join(f"{partition}:lambda:{region}" for partition, region in _PARTITION_REGIONS)
    + f"):{ACCOUNT_PATTERN}:function:"
    + f"|(?:{REGION_PATTERN}:)?(?:{ACCOUNT_PATTERN}:function:|function:)?)"
    + f"{FUNCTION_NAME_PATTERN}{{1,{FUNCTION_NAME_MAX}}}"
)


@dataclass(frozen=True)
class FunctionRef:
    """A function named by name, partial ARN or full ARN, split into its parts."""

    name: str
    region: str | None = None
    account: str | None = None
    partition: str | None = None
    qualifier: str | None = None


@functools.lru_cache(maxsize=4096)
def parse_function_name(text: str) -> FunctionRef:
    """Split a FunctionName as the service accepts it; ``ValueError`` says why it is not one."""
    match = _FUNCTION_RE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a function name, partial ARN (123456789012:function:NAME) "
            "or ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"
        )
    is_arn = text.startswith("arn:")
    if (is_arn or match["account"]) and not match["function_kw"]:
        raise ValueError(f"{text!r}: an ARN names a function as ...:function:NAME")
    if is_arn and not (match["region"] and match["account"]):
        raise ValueError(f"{text!r}: a full ARN carries both a Region and an account")
    if len(text) > FUNCTION_ARN_MAX:  # the service's limit on any FunctionName
        raise ValueError(f"{text!r} is longer than {FUNCTION_ARN_MAX} characters")
    if len(match["name"]) > FUNCTION_NAME_MAX:
        raise ValueError(f"function name {match['name']!r} is longer than {FUNCTION_NAME_MAX}")
    return FunctionRef(
        name=match["name"],
        region=match["region"],
        account=match["account"],
        partition=match["partition"],
        qualifier=match["qualifier"],
    )


def partition_problem(text: str) -> str | None:
    """Why the full ARN ``text`` names a partition its Region is not in, or None."""
    ref = parse_function_name(text)
    if not text.startswith("arn:") or ref.region is None:
        return None
    expected = partition_of(ref.region)
    if ref.partition == expected:
        return None
    partition = ref.partition or "(none)"
    return f"partition {partition} is not the partition of {ref.region} ({expected})"


def partition_of(region: str) -> str:
    """The AWS partition a Region belongs to (``FUNCTION_PATTERN`` says the same)."""
    parts = region.split("-")
    if len(parts) == 4 and parts[1] == "gov":
        return "aws-us-gov"
    if len(parts) == 4 and parts[1].startswith("iso"):
        letter = parts[1][3:]  # us-iso-east-1 is in aws-iso, us-isob-east-1 in aws-iso-b
        return f"aws-iso-{letter}" if letter else "aws-iso"
    if parts[0] == "cn":
        return "aws-cn"
    return "aws"


def version_problem(version: str) -> str | None:
    """Why ``version`` is not an alias's version as a manifest or plan may hold it, or None:
    $LATEST or a published version number written plainly (``7``, never ``07`` or ``0``)."""
    if len(version) > VERSION_MAX:
        return f"a version is at most {VERSION_MAX} characters, not {len(version)}"
    if VERSION_RE.fullmatch(version) is None:
        return f"version must be a published version number or $LATEST, not {version!r}"
    if version == LATEST:
        return None
    digits = version.lstrip("0")  # not int(): Python refuses to convert very long digit strings
    if not digits:
        return f"version {version} does not exist: published versions are numbered from 1"
    if digits != version:
        return f"write version {version!r} as {digits}"
    return None


def alias_name_problem(name: str) -> str | None:
    """Why the service would refuse ``name`` as an alias name, or None."""
    if not 1 <= len(name) <= ALIAS_NAME_MAX:
        return f"alias name must be 1 to {ALIAS_NAME_MAX} characters, not {len(name)}"
    if ALIAS_NAME_RE.fullmatch(name) is None:
        if PUBLISHED_VERSION_RE.fullmatch(name):
            return f"alias name {name!r} is digits only; add a letter, '-' or '_'"
        return f"alias name {name!r} may hold only letters, digits, '-' and '_'"
    return None


VALIDATION = "ValidationException"
INVALID_PARAMETER = "InvalidParameterValueException"


def routing_problem(version: str, weights: dict[str, float]) -> tuple[str, str] | None:
    """Why the service would refuse this routing for an alias on ``version``: (code, message)."""
    if len(weights) > 1:
        return (
            INVALID_PARAMETER,
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        )
    for extra, weight in weights.items():
        if PUBLISHED_VERSION_RE.fullmatch(extra) is None:
            return VALIDATION, f"routing version {extra!r} must be a published version number"
        if not 0.0 <= weight <= 1.0:
            return VALIDATION, f"routing weight {weight} must be between 0.0 and 1.0"
        if extra == version:
            return (
                INVALID_PARAMETER,
                f"version {extra} is already included in routing configuration",
            )
        if version == LATEST:
            return INVALID_PARAMETER, "an alias with weighted routing cannot point to $LATEST"
    return None

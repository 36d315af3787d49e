"""The alias half of the Lambda API, made to behave as LAMBDA_CONTRACT.md says.

It owns the aliases; it asks a ``FunctionDirectory`` (moto, behind the server) only whether
functions and versions exist and what their role and dead-letter configuration are.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from reconciler import contract
from reconciler.sandbox.realism import Realism


@dataclass(frozen=True)
class VersionConfig:
    """What a weighted alias needs to know of a version."""

    role: str
    dead_letter_target: str | None


class FunctionDirectory(Protocol):
    """Read access to functions and versions, owned by someone else."""

    def function_exists(self, account: str, region: str, name: str) -> bool: ...

    def version_config(
        self, account: str, region: str, name: str, version: str
    ) -> VersionConfig | None: ...


class ApiError(Exception):
    """An error answer of the service: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class ProvisionedRecord:
    """One provisioned concurrency configuration, on an alias or a published version."""

    executions: int
    since: float = field(default_factory=time.monotonic)
    last_modified: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    )

    def to_api(self, ready_after: float) -> dict[str, Any]:
        """Contract: "a new configuration starts IN_PROGRESS"; READY ``ready_after`` s later."""
        ready = time.monotonic() - self.since >= ready_after
        allocated = self.executions if ready else 0
        return {
            "RequestedProvisionedConcurrentExecutions": self.executions,
            "AvailableProvisionedConcurrentExecutions": allocated,
            "AllocatedProvisionedConcurrentExecutions": allocated,
            "Status": "READY" if ready else "IN_PROGRESS",
            "LastModified": self.last_modified,
        }


_NOT_ON_LATEST = "The function resource provided must be an alias or a published version."
# Qualifier's pattern and length in the API (1 to 128): $LATEST, a version or an alias name.
QUALIFIER_RE = re.compile(r"[a-zA-Z0-9$_-]{1,128}", re.ASCII)
_COUNT_RE = re.compile(r"[0-9]{1,9}", re.ASCII)  # a count as a query string carries it


def ascii_count(raw: str) -> int | None:
    """The number ``raw`` spells in ASCII digits (nine at most), else None: int() alone would
    take Arabic-Indic "10" (U+0661 U+0660) for 10 and spend seconds on a 5000-digit string."""
    return int(raw) if _COUNT_RE.fullmatch(raw) else None


def qualifier_problem(qualifier: str) -> ApiError | None:
    """The service's ValidationException for a qualifier outside its pattern, or None."""
    if QUALIFIER_RE.fullmatch(qualifier):
        return None
    return _validation(
        f"Value '{qualifier}' at 'qualifier' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)"
    )


def _validation(message: str) -> ApiError:
    return ApiError(400, contract.VALIDATION, f"1 validation error detected: {message}")


def _invalid(message: str) -> ApiError:
    return ApiError(400, contract.INVALID_PARAMETER, message)


def _not_found(message: str) -> ApiError:
    return ApiError(404, "ResourceNotFoundException", message)


@dataclass
class AliasRecord:
    """One stored alias."""

    name: str
    function_version: str
    description: str
    weights: dict[str, float]
    revision_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def to_api(self, function_arn: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "AliasArn": f"{function_arn}:{self.name}",
            "Name": self.name,
            "FunctionVersion": self.function_version,
            "Description": self.description,
            "RevisionId": self.revision_id,
        }
        if self.weights:  # no routing reads back as no RoutingConfig key at all
            body["RoutingConfig"] = {"AdditionalVersionWeights": dict(self.weights)}
        return body


@dataclass(frozen=True)
class Scope:
    """Who is calling, and where: the account and Region of the request's credentials."""

    account: str
    region: str
    partition: str = "aws"


_FunctionKey = tuple[str, str, str]  # account, region, function name


class AliasService:
    """Alias operations with the service's validation, status codes and RevisionId semantics."""

    def __init__(self, functions: FunctionDirectory, switches: Realism | None = None) -> None:
        self._functions = functions
        self._switches = switches or Realism()
        self._aliases: dict[_FunctionKey, dict[str, AliasRecord]] = {}
        self._provisioned: dict[_FunctionKey, dict[str, ProvisionedRecord]] = {}
        self._lock = threading.RLock()

    def reset(self) -> None:
        with self._lock:
            self._aliases.clear()
            self._provisioned.clear()

    # -- operations, each answering (status, body) or raising ApiError -------------------------

    def list_aliases(
        self, scope: Scope, function: str, params: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]]:
        key, arn = self._resolve(scope, function)
        max_items = self._max_items(params.get("MaxItems"))
        start = self._decode_marker(params["Marker"]) if params.get("Marker") else ""
        wanted = params.get("FunctionVersion")
        if wanted is not None and contract.VERSION_RE.fullmatch(wanted) is None:
            raise _validation(f"Value '{wanted}' at 'functionVersion' failed to satisfy constraint")
        with self._lock:
            records = sorted(self._aliases.get(key, {}).values(), key=lambda r: r.name)
            selected = [
                r
                for r in records
                if r.name >= start and (wanted is None or r.function_version == wanted)
            ]
            page = [r.to_api(arn) for r in selected[:max_items]]
        body: dict[str, Any] = {"Aliases": page}
        if len(selected) > max_items:
            body["NextMarker"] = self._encode_marker(selected[max_items].name)
        return 200, body

    def get_alias(self, scope: Scope, function: str, name: str) -> tuple[int, dict[str, Any]]:
        key, arn = self._resolve(scope, function)
        with self._lock:
            return 200, self._existing(key, arn, name).to_api(arn)

    def create_alias(
        self, scope: Scope, function: str, request: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        name = self._alias_name(request.get("Name"))
        version = self._version(request.get("FunctionVersion"), required=True) or ""
        description = self._description(request.get("Description", ""))
        weights = self._weights(request.get("RoutingConfig")) or {}
        key, arn = self._resolve(scope, function)
        with self._lock:
            if name in self._aliases.get(key, {}):
                raise ApiError(
                    409, "ResourceConflictException", f"Alias already exists: {arn}:{name}"
                )
            self._check_targets(key, arn, version, weights)
            record = AliasRecord(name, version, description or "", weights)
            self._aliases.setdefault(key, {})[name] = record
            return 201, record.to_api(arn)

    def update_alias(
        self, scope: Scope, function: str, name: str, request: Mapping[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        version = self._version(request.get("FunctionVersion"), required=False)
        description = self._description(request.get("Description"))
        weights = self._weights(request.get("RoutingConfig"))
        revision = request.get("RevisionId")
        key, arn = self._resolve(scope, function)
        with self._lock:
            record = self._existing(key, arn, name)
            if revision is not None and revision != record.revision_id:
                raise ApiError(
                    412,
                    "PreconditionFailedException",
                    "The Revision Id provided does not match the latest Revision Id. "
                    "Call the GetAlias API to retrieve the latest Revision Id",
                )
            new_version = record.function_version if version is None else version
            new_weights = record.weights if weights is None else weights
            self._check_targets(key, arn, new_version, new_weights)
            if new_weights and name in self._provisioned.get(key, {}):
                self._check_weighted_provisioned()
            record.function_version = new_version
            record.weights = dict(new_weights)
            if description is not None:
                record.description = description
            # Every successful update is a new revision, even one that changes nothing.
            record.revision_id = str(uuid.uuid4())
            return 200, record.to_api(arn)

    def delete_alias(self, scope: Scope, function: str, name: str) -> tuple[int, None]:
        key, _ = self._resolve(scope, function)
        self._alias_name(name)
        with self._lock:
            self._aliases.get(key, {}).pop(name, None)  # a missing alias is no error
            self._provisioned.get(key, {}).pop(name, None)
        return 204, None

    # -- provisioned concurrency, which moto does not have; configured on an alias or version ----

    def put_provisioned_concurrency(
        self,
        scope: Scope,
        function: str,
        qualifier: str | None,
        request: Mapping[str, Any],
        *,
        ready: bool = False,  # seeded: READY from the start
    ) -> tuple[int, dict[str, Any]]:
        key, arn = self._resolve(scope, function)
        executions = request.get("ProvisionedConcurrentExecutions")
        if not isinstance(executions, int) or isinstance(executions, bool) or executions < 1:
            raise _validation("Value at 'provisionedConcurrentExecutions' must be at least 1")
        with self._lock:
            qualifier = self._qualifier(
                key,
                arn,
                qualifier,
                "Provisioned Concurrency Configs cannot be applied to unpublished function "
                "versions.",
            )
            configs = self._provisioned.setdefault(key, {})
            aliases = self._aliases.get(key, {})
            alias = aliases.get(qualifier)
            # Contract: "a version and an alias pointing to it cannot both hold a configuration
            # (409 ResourceConflictException)".
            if alias is not None and alias.function_version in configs:
                raise ApiError(
                    409,
                    "ResourceConflictException",
                    "Alias can't be used for Provisioned Concurrency configuration on an already "
                    "Provisioned version",
                )
            if alias is None and any(
                a.function_version == qualifier and a.name in configs for a in aliases.values()
            ):
                raise ApiError(
                    409,
                    "ResourceConflictException",
                    "Version is pointed by a Provisioned Concurrency alias",
                )
            if alias is not None and alias.weights:
                self._check_weighted_provisioned()
            record = configs[qualifier] = ProvisionedRecord(executions)
            if ready:
                record.since = float("-inf")
            return 202, record.to_api(self._switches.provisioned_ready_seconds)

    def get_provisioned_concurrency(
        self, scope: Scope, function: str, qualifier: str | None
    ) -> tuple[int, dict[str, Any]]:
        key, arn = self._resolve(scope, function)
        with self._lock:
            qualifier = self._qualifier(key, arn, qualifier, _NOT_ON_LATEST)
            record = self._provisioned.get(key, {}).get(qualifier)
            if record is None:
                raise ApiError(
                    404,
                    "ProvisionedConcurrencyConfigNotFoundException",
                    "No Provisioned Concurrency Config found for this function",
                )
            return 200, record.to_api(self._switches.provisioned_ready_seconds)

    def delete_provisioned_concurrency(
        self, scope: Scope, function: str, qualifier: str | None
    ) -> tuple[int, None]:
        key, arn = self._resolve(scope, function)
        with self._lock:
            qualifier = self._qualifier(key, arn, qualifier, _NOT_ON_LATEST)
            self._provisioned.get(key, {}).pop(qualifier, None)
        return 204, None

    def list_provisioned_concurrency(
        self, scope: Scope, function: str, params: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]]:
        key, arn = self._resolve(scope, function)
        size = ascii_count(params.get("MaxItems", "50"))
        if size is None or not 1 <= size <= 50:
            raise _validation(
                f"Value '{params.get('MaxItems')}' at 'maxItems' failed to satisfy constraint: "
                "Member must have value between 1 and 50"
            )
        start = ascii_count(params.get("Marker") or "0")
        if start is None:
            raise _invalid(f"Invalid marker: {params.get('Marker')}")
        ready_after = self._switches.provisioned_ready_seconds
        with self._lock:
            configs = [
                {"FunctionArn": f"{arn}:{qualifier}", **record.to_api(ready_after)}
                for qualifier, record in sorted(self._provisioned.get(key, {}).items())
            ]
        body: dict[str, Any] = {"ProvisionedConcurrencyConfigs": configs[start : start + size]}
        if start + size < len(configs):
            body["NextMarker"] = str(start + size)
        return 200, body

    def _qualifier(self, key: _FunctionKey, arn: str, qualifier: str | None, on_latest: str) -> str:
        """Contract: provisioned concurrency "exists on aliases and versions, never on
        $LATEST"; a missing alias or version is named as the service names it."""
        if qualifier and (problem := qualifier_problem(qualifier)):
            raise problem
        if not qualifier or qualifier == contract.LATEST:
            raise _invalid(on_latest)
        if qualifier in self._aliases.get(key, {}):
            return qualifier
        if contract.PUBLISHED_VERSION_RE.fullmatch(qualifier) is None:
            raise _not_found(f"Cannot find alias arn: {arn}:{qualifier}")
        account, region, function = key
        if not self._functions.version_config(account, region, function, qualifier):
            raise _not_found(f"Function not found: {arn}:{qualifier}")
        return qualifier

    def _check_weighted_provisioned(self) -> None:
        """Whether the service refuses weighted routing on an alias with provisioned
        concurrency is not documented: a switch (``refuse_weighted_provisioned``), off by
        default."""
        if self._switches.refuse_weighted_provisioned:
            raise _invalid("Invalid alias configuration for Provisioned Concurrency")

    # -- direct access for seeding and out-of-band writers ---------------------------------------

    def put(self, scope: Scope, function: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """Create the alias, or update it unguarded if it exists, with the service's checks."""
        name = self._alias_name(request.get("Name"))
        key, _ = self._resolve(scope, function)
        with self._lock:
            if name in self._aliases.get(key, {}):
                return self.update_alias(scope, function, name, request)[1]
            return self.create_alias(scope, function, request)[1]

    def forget_function(self, scope: Scope, name: str) -> None:
        with self._lock:
            self._aliases.pop((scope.account, scope.region, name), None)
            self._provisioned.pop((scope.account, scope.region, name), None)

    def forget_version(self, scope: Scope, name: str, version: str) -> None:
        with self._lock:
            self._provisioned.get((scope.account, scope.region, name), {}).pop(version, None)

    def version_of(self, scope: Scope, function: str, alias: str) -> str | None:
        """The version an alias points to, or None if there is no such alias."""
        with self._lock:
            record = self._aliases.get((scope.account, scope.region, function), {}).get(alias)
            return None if record is None else record.function_version

    def invoked_version(
        self, scope: Scope, function: str, alias: str, draw: Callable[[], float]
    ) -> str | None:
        """The version an invocation of the alias runs: its own, or its routing's version for
        the share of invocations the routing weight gives (``draw`` is uniform in [0, 1))."""
        with self._lock:
            record = self._aliases.get((scope.account, scope.region, function), {}).get(alias)
            if record is None:
                return None
            for version, weight in record.weights.items():
                if draw() < weight:
                    return version
            return record.function_version

    # -- helpers ---------------------------------------------------------------------------------

    def _resolve(self, scope: Scope, function: str) -> tuple[_FunctionKey, str]:
        try:
            ref = contract.parse_function_name(function)
        except ValueError as exc:
            raise _validation(f"Value '{function}' at 'functionName' failed: {exc}") from None
        if ref.qualifier is not None:
            raise _invalid(f"Alias operations take an unqualified function name, not {function!r}")
        if (ref.region and ref.region != scope.region) or (
            ref.account and ref.account != scope.account
        ):
            raise _not_found(f"Function not found: {function}")
        if not self._functions.function_exists(scope.account, scope.region, ref.name):
            raise _not_found(
                f"Function not found: arn:{scope.partition}:lambda:{scope.region}:"
                f"{scope.account}:function:{ref.name}"
            )
        arn = f"arn:{scope.partition}:lambda:{scope.region}:{scope.account}:function:{ref.name}"
        return (scope.account, scope.region, ref.name), arn

    def _existing(self, key: _FunctionKey, arn: str, name: str) -> AliasRecord:
        self._alias_name(name)
        record = self._aliases.get(key, {}).get(name)
        if record is None:
            raise _not_found(f"Cannot find alias arn: {arn}:{name}")
        return record

    def _check_targets(
        self, key: _FunctionKey, arn: str, version: str, weights: Mapping[str, float]
    ) -> None:
        problem = contract.routing_problem(version, dict(weights))
        if problem is not None:
            code, message = problem
            raise ApiError(400, code, message)
        account, region, function = key
        configs = {}
        for wanted in (version, *weights):
            config = self._functions.version_config(account, region, function, wanted)
            if config is None:
                raise _not_found(f"Function not found: {arn}:{wanted}")
            configs[wanted] = config
        if weights:
            primary, extra = configs[version], configs[next(iter(weights))]
            if primary.role != extra.role:
                raise _invalid("The versions of a weighted alias must share one execution role")
            if primary.dead_letter_target != extra.dead_letter_target:
                raise _invalid(
                    "The versions of a weighted alias must share one dead-letter configuration"
                )

    @staticmethod
    def _alias_name(name: object) -> str:
        if not isinstance(name, str):
            raise _validation(
                "Value at 'name' failed to satisfy constraint: Member must not be null"
            )
        problem = contract.alias_name_problem(name)
        if problem is not None:
            raise _validation(
                f"Value '{name}' at 'name' failed to satisfy constraint: Member must satisfy "
                "regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
            )
        return name

    @staticmethod
    def _version(version: object, *, required: bool) -> str | None:
        if version is None and not required:
            return None
        if not isinstance(version, str) or contract.VERSION_RE.fullmatch(version) is None:
            raise _validation(
                f"Value '{version}' at 'functionVersion' failed to satisfy constraint: "
                r"Member must satisfy regular expression pattern: (\$LATEST|[0-9]+)"
            )
        return version

    @staticmethod
    def _description(description: object) -> str | None:
        if description is None:
            return None
        if not isinstance(description, str) or len(description) > contract.DESCRIPTION_MAX:
            raise _validation(
                "Value at 'description' failed to satisfy constraint: Member must have length "
                f"less than or equal to {contract.DESCRIPTION_MAX}"
            )
        return description

    @staticmethod
    def _weights(routing: object) -> dict[str, float] | None:
        if routing is None:
            return None
        if not isinstance(routing, dict):
            raise _validation("Value at 'routingConfig' failed to satisfy constraint")
        weights = routing.get("AdditionalVersionWeights") or {}
        if not isinstance(weights, dict) or not all(
            isinstance(w, int | float) and not isinstance(w, bool) for w in weights.values()
        ):
            raise _validation(
                "Value at 'routingConfig.additionalVersionWeights' must map to numbers"
            )
        return {str(k): float(v) for k, v in weights.items()}

    @staticmethod
    def _max_items(raw: str | None) -> int:
        if raw is None:
            return 50
        count = ascii_count(raw)
        if count is None or not 1 <= count <= contract.LIST_MAX_ITEMS:
            raise _validation(
                f"Value '{raw}' at 'maxItems' failed to satisfy constraint: Member must have "
                f"value between 1 and {contract.LIST_MAX_ITEMS}"
            )
        return count

    @staticmethod
    def _encode_marker(name: str) -> str:
        return base64.urlsafe_b64encode(name.encode()).decode()

    @staticmethod
    def _decode_marker(marker: str) -> str:
        try:
            return base64.urlsafe_b64decode(marker.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise _invalid(f"Invalid marker: {marker}") from None

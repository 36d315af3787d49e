"""FunctionGraph's alias and version API, served by the sandbox under ``/v2/`` beside Lambda's.

Paths, fields and refusals follow "Creating an Alias for a Function Version" and the rules of
``reconciler.functiongraph``; errors are FunctionGraph's JSON, ``{"error_code", "error_msg"}``.
The sandbox checks that a request is signed the way the Huawei Cloud SDK signs (an
``SDK-HMAC-SHA256`` Authorization and an ``X-Sdk-Date``), not the signature itself: any key works.
"""

from __future__ import annotations

import difflib
import json
import math
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from reconciler import functiongraph as fg

PREFIX = "/v2/"
SERVICE = "functiongraph"
# The WSGI environ key under which a Region's own endpoint names its Region (see
# ``Sandbox.region_url``); absent on the shared endpoint, which serves every Region.
ENDPOINT_REGION = "sandbox.functiongraph_region"
PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"  # the sandbox's project when none is named
VERSIONS_SEEDED_MAX = 1_000
# Operation names are the SDK's, so fault and out-of-band rules read as its calls do.
_ROUTES: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (re.compile(r"/v2/(?P<project>[^/]+)/fgs/functions/?"), {"GET": "ListFunctions"}),
    (
        re.compile(r"/v2/(?P<project>[^/]+)/fgs/functions/(?P<urn>[^/]+)/aliases/?"),
        {"GET": "ListVersionAliases", "POST": "CreateVersionAlias"},
    ),
    (
        re.compile(r"/v2/(?P<project>[^/]+)/fgs/functions/(?P<urn>[^/]+)/aliases/(?P<alias>[^/]+)"),
        {"GET": "ShowVersionAlias", "PUT": "UpdateVersionAlias", "DELETE": "DeleteVersionAlias"},
    ),
    (
        re.compile(r"/v2/(?P<project>[^/]+)/fgs/functions/(?P<urn>[^/]+)/versions/?"),
        {"GET": "ListFunctionVersions", "POST": "CreateFunctionVersion"},
    ),
    (
        re.compile(r"/v2/(?P<project>[^/]+)/fgs/functions/(?P<urn>[^/]+)/config/?"),
        {"GET": "ShowFunctionConfig"},
    ),
    (
        re.compile(r"/v2/(?P<project>[^/]+)/fgs/functions/(?P<urn>[^/]+)/invocations/?"),
        {"POST": "InvokeFunction"},
    ),
    # Function tags: the resource type is a path segment ("functions"), the resource its URN.
    (
        re.compile(r"/v2/(?P<project>[^/]+)/(?P<kind>[^/]+)/(?P<urn>[^/]+)/tags/?"),
        {"GET": "ListFunctionTags"},
    ),
    (
        re.compile(r"/v2/(?P<project>[^/]+)/(?P<kind>[^/]+)/(?P<urn>[^/]+)/tags/create"),
        {"POST": "CreateTags"},
    ),
    (
        re.compile(r"/v2/(?P<project>[^/]+)/(?P<kind>[^/]+)/(?P<urn>[^/]+)/tags/delete"),
        {"DELETE": "DeleteTags"},
    ),
]
_SIGNED = re.compile(r"SDK-HMAC-SHA256 Access=[^,]+, SignedHeaders=[^,]+, Signature=[0-9a-f]+")
VERSIONS_PAGE_MAX = 400  # ListFunctionVersions' maxitems
FUNCTIONS_PAGE_MAX = 400  # ListFunctions' maxitems


class FgError(Exception):
    """An error answer of FunctionGraph: HTTP status, error code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, str]:
        return {"error_code": self.code, "error_msg": self.message}


def _bad(message: str) -> FgError:
    return FgError(400, fg.BAD_REQUEST, message)


@dataclass(frozen=True)
class FgRequest:
    """One FunctionGraph request, named: its operation and path parameters, and the Region
    whose own endpoint it was sent to (``endpoint``; empty on the shared endpoint)."""

    operation: str
    project: str
    region: str
    urn: str
    alias: str | None
    kind: str = "functions"  # the tag APIs' resource type
    endpoint: str = ""


def name_request(method: str, path: str, endpoint: str = "") -> FgRequest | None:
    """The FunctionGraph operation a request calls, or None if it calls none. Its Region is
    its function URN's; a request naming no function (ListFunctions) has its endpoint's."""
    for pattern, methods in _ROUTES:
        match = pattern.fullmatch(path)
        if match is not None and method in methods:
            groups = match.groupdict()
            urn = groups.get("urn") or ""
            region = urn.split(":")[2] if urn.count(":") >= 3 else endpoint
            return FgRequest(
                methods[method],
                match["project"],
                region,
                urn,
                groups.get("alias"),
                groups.get("kind") or fg.TAG_RESOURCE_TYPE,
                endpoint,
            )
    return None


def signature_problem(headers: Mapping[str, str]) -> FgError | None:
    """A request not signed as the SDK signs is refused, as the gateway refuses it."""
    authorization = headers.get("authorization", "")
    if _SIGNED.match(authorization) is None or not headers.get("x-sdk-date"):
        return FgError(401, "APIGW.0301", "Incorrect IAM authentication information")
    return None


def _now() -> str:
    """``last_modified`` as the API document writes it."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class _Function:
    project: str
    region: str
    package: str
    name: str
    versions: list[str] = field(default_factory=list)  # published, in order
    aliases: dict[str, dict[str, Any]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def urn(self, version: str = fg.LATEST) -> str:
        return f"urn:fss:{self.region}:{self.project}:function:{self.package}:{self.name}:{version}"

    def has_version(self, version: str) -> bool:
        return version == fg.LATEST or version in self.versions


_Key = tuple[str, str, str, str]  # project, region, package, name


class FunctionGraphService:
    """Functions, versions and aliases of FunctionGraph, kept in memory, one lock for all."""

    def __init__(self) -> None:
        self._functions: dict[_Key, _Function] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._functions = {}

    # -- seeding and out-of-band writes (not API calls) -------------------------------------------

    def add_function(
        self,
        project: str,
        region: str,
        name: str,
        *,
        package: str = fg.DEFAULT_PACKAGE,
        versions: int | list[str] = 0,
    ) -> None:
        """Create the function if it is new, and publish versions v1...vN (or these names) that
        it does not have yet."""
        names = [f"v{n}" for n in range(1, versions + 1)] if isinstance(versions, int) else versions
        with self._lock:
            function = self._functions.setdefault(
                (project, region, package, name), _Function(project, region, package, name)
            )
            function.versions.extend(v for v in names if v not in function.versions)

    def seed(self, seed: FunctionGraphSeed) -> None:
        """Create a seed's function, versions and aliases, checked as the API checks them."""
        self.add_function(
            seed.project, seed.region, seed.name, package=seed.package, versions=list(seed.versions)
        )
        urn = fg.function_urn(seed.region, seed.project, seed.package, seed.name)
        for alias in seed.aliases:
            request = FgRequest("CreateVersionAlias", seed.project, seed.region, urn, None)
            try:
                self.handle(request, json.dumps(alias).encode(), {})
            except FgError as exc:
                raise FgError(
                    exc.status, exc.code, f"alias {alias['name']}: {exc.message}"
                ) from None

    def places(self) -> set[tuple[str, str]]:
        """The projects and Regions that have functions."""
        with self._lock:
            return {(f.project, f.region) for f in self._functions.values()}

    def put_alias(
        self,
        project: str,
        region: str,
        name: str,
        alias: str,
        *,
        package: str = fg.DEFAULT_PACKAGE,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create or change an alias as another writer would: unchecked, with a new
        ``last_modified``. ``fields``: version, description, additional_version_weights,
        additional_version_strategy."""
        with self._lock:
            function = self._functions[(project, region, package, name)]
            current = dict(function.aliases.get(alias, {"name": alias, "description": ""}))
            current.update(fields)
            current["last_modified"] = _now()
            current["alias_urn"] = function.urn(f"!{alias}")
            function.aliases[alias] = current
            return dict(current)

    def aliases(
        self, project: str, region: str, name: str, *, package: str = fg.DEFAULT_PACKAGE
    ) -> dict[str, dict[str, Any]]:
        """The function's aliases as the API shows them, by name; not an API call."""
        with self._lock:
            function = self._functions[(project, region, package, name)]
            return {n: dict(a) for n, a in function.aliases.items()}

    # -- the API ----------------------------------------------------------------------------------

    def handle(self, request: FgRequest, body: bytes, query: Mapping[str, str]) -> tuple[int, Any]:
        """Answer one request: (status, JSON body). ``FgError`` for a refusal."""
        with self._lock:
            if request.operation == "ListFunctions":
                return self._list_functions(request, query)
            if request.operation in _TAG_OPERATIONS and request.kind != fg.TAG_RESOURCE_TYPE:
                raise _bad(f"resource_type must be {fg.TAG_RESOURCE_TYPE}")
            function = self._function(request)
            operation = request.operation
            if operation in _TAG_OPERATIONS:
                return _tags(function, operation, body)
            if operation == "ListVersionAliases":
                return 200, [_listed(a) for _, a in sorted(function.aliases.items())]
            if operation == "CreateVersionAlias":
                return self._create(function, _object(body))
            if operation == "ListFunctionVersions":
                return self._versions(function, query)
            if operation == "CreateFunctionVersion":
                return self._publish(function, _object(body))
            if operation == "ShowFunctionConfig":
                return 200, _version_entry(function, fg.LATEST)
            if operation == "InvokeFunction":  # the caller answers from its table
                return 200, {"function": function.name}
            assert request.alias is not None  # the alias routes all have one
            alias = function.aliases.get(request.alias)
            if alias is None:
                raise FgError(404, *fg.ALIAS_NOT_FOUND)
            if operation == "ShowVersionAlias":
                return 200, dict(alias)
            if operation == "UpdateVersionAlias":
                return self._update(function, alias, _object(body))
            del function.aliases[request.alias]
            return 204, None

    def _function(self, request: FgRequest) -> _Function:
        try:
            ref = fg.parse_function(request.urn)
        except ValueError:
            raise _bad(f"invalid function urn: {request.urn}") from None
        if ref.project is None or ref.region is None or ref.package is None:
            raise _bad(f"invalid function urn: {request.urn}")
        if ref.project != request.project:
            raise FgError(404, *fg.FUNCTION_NOT_FOUND)
        if request.endpoint and ref.region != request.endpoint:  # another Region's function
            raise FgError(404, *fg.FUNCTION_NOT_FOUND)
        function = self._functions.get((ref.project, ref.region, ref.package, ref.name))
        if function is None:
            raise FgError(404, *fg.FUNCTION_NOT_FOUND)
        return function

    def _create(self, function: _Function, request: dict[str, Any]) -> tuple[int, Any]:
        name = request.get("name")
        if not isinstance(name, str):
            raise _bad("name is required")
        if problem := fg.alias_name_problem(name):
            raise _bad(problem)
        if name in function.aliases:
            raise FgError(409, *fg.ALIAS_EXISTS)
        if len(function.aliases) >= fg.ALIASES_MAX:
            raise FgError(400, *fg.TOO_MANY_ALIASES)
        alias = self._checked(function, request)
        alias.update(name=name, alias_urn=function.urn(f"!{name}"), last_modified=_now())
        function.aliases[name] = alias
        return 200, dict(alias)

    def _update(
        self, function: _Function, alias: dict[str, Any], request: dict[str, Any]
    ) -> tuple[int, Any]:
        if "name" in request and request["name"] != alias["name"]:
            raise _bad("an alias cannot be renamed")
        # A PUT names the alias whole: a description or routing it leaves out is cleared (what
        # the service keeps of an omitted field is undocumented; the provider omits none).
        checked = self._checked(function, request)
        checked.update(name=alias["name"], alias_urn=alias["alias_urn"], last_modified=_now())
        function.aliases[alias["name"]] = checked
        return 200, dict(checked)

    @staticmethod
    def _checked(function: _Function, request: dict[str, Any]) -> dict[str, Any]:
        """The alias a create or update asks for, or ``FgError`` saying what the service
        refuses."""
        version = request.get("version")
        if not isinstance(version, str) or not version:
            raise _bad("version is required")
        if problem := fg.version_problem(version):
            raise _bad(problem)
        if not function.has_version(version):
            raise FgError(404, *fg.VERSION_NOT_FOUND)
        description = request.get("description", "")
        if not isinstance(description, str):
            raise _bad("description must be a string")
        if len(description) > fg.DESCRIPTION_MAX:
            raise _bad(f"description is at most {fg.DESCRIPTION_MAX} characters")
        alias: dict[str, Any] = {"version": version, "description": description}
        weights = request.get("additional_version_weights")
        strategy = request.get("additional_version_strategy")
        if weights and strategy:
            raise _bad("set additional_version_weights or additional_version_strategy, not both")
        if weights:
            alias["additional_version_weights"] = _weights(function, version, weights)
        elif strategy:
            alias["additional_version_strategy"] = _strategy(function, version, strategy)
        elif weights is not None and not isinstance(weights, dict):
            raise _bad("additional_version_weights must be an object")
        return alias

    def _list_functions(self, request: FgRequest, query: Mapping[str, str]) -> tuple[int, Any]:
        """ListFunctions: the project's functions in the Region of the endpoint addressed
        (the ``latest`` of each), by package and name, paged by ``marker`` (an offset)."""
        if not request.endpoint:
            raise _bad(
                "the sandbox's shared endpoint serves every Region, and ListFunctions names "
                "none: send it to the Region's own endpoint (set "
                "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_<REGION> as `reconcile sandbox serve` "
                "prints it)"
            )
        package, name = query.get("package_name"), query.get("func_name")
        listed = [
            function
            for _, function in sorted(self._functions.items())
            if (function.project, function.region) == (request.project, request.endpoint)
            and package in (None, function.package)
            and name in (None, function.name)
        ]
        start, size = _page(query, FUNCTIONS_PAGE_MAX)
        page = listed[start : start + size]
        body: dict[str, Any] = {
            "functions": [_version_entry(function, fg.LATEST) for function in page],
            "count": len(listed),
            "next_marker": start + len(page) if start + len(page) < len(listed) else 0,
        }
        return 200, body

    def _versions(self, function: _Function, query: Mapping[str, str]) -> tuple[int, Any]:
        listed = [fg.LATEST, *function.versions]
        start, size = _page(query, VERSIONS_PAGE_MAX)
        page = listed[start : start + size]
        body: dict[str, Any] = {
            "versions": [_version_entry(function, v) for v in page],
            "count": len(listed),
            "next_marker": start + len(page) if start + len(page) < len(listed) else 0,
        }
        return 200, body

    def _publish(self, function: _Function, request: dict[str, Any]) -> tuple[int, Any]:
        version = request.get("version") or f"v{len(function.versions) + 1}"
        if not isinstance(version, str) or fg.version_problem(version):
            raise _bad(f"invalid version: {str(version)[:80]}")
        if version == fg.LATEST or version in function.versions:
            raise _bad(f"version {version} exists already")
        function.versions.append(version)
        return 200, _version_entry(function, version)


@dataclass(frozen=True)
class FunctionGraphSeed:
    """A FunctionGraph function of a seed file: ``{name, provider: functiongraph, project,
    region, package, versions, aliases}``; versions are v1..vN for a number, or the names."""

    name: str
    project: str
    region: str
    package: str = fg.DEFAULT_PACKAGE
    versions: tuple[str, ...] = ()
    aliases: tuple[dict[str, Any], ...] = ()


_SEED_KEYS = {"name", "provider", "project", "region", "package", "versions", "aliases"}


def parse_seed_function(data: Mapping[str, Any], region: str, where: str) -> FunctionGraphSeed:
    """A seed's FunctionGraph function; ``ValueError`` says what is wrong (``where`` first)."""
    unknown = set(data) - _SEED_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys: {', '.join(sorted(unknown))}")
    name, project = data.get("name"), data.get("project", PROJECT)
    if not isinstance(name, str) or not isinstance(project, str):
        raise ValueError(f"{where}: 'name' and 'project' are text")
    raw = data.get("versions", 1)
    if isinstance(raw, int) and not isinstance(raw, bool):
        versions = tuple(f"v{n}" for n in range(1, min(raw, VERSIONS_SEEDED_MAX) + 1))
    elif isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        versions = tuple(raw)
    else:
        raise ValueError(f"{where}.versions: a number of versions, or a list of version names")
    listed = data.get("aliases") or []
    if not isinstance(listed, list):
        raise ValueError(f"{where}.aliases: a list of aliases")
    aliases = [_seed_alias(alias, f"{where}.aliases[{j}]") for j, alias in enumerate(listed)]
    return FunctionGraphSeed(
        name,
        project,
        str(data.get("region") or region),
        str(data.get("package") or fg.DEFAULT_PACKAGE),
        versions,
        tuple(aliases),
    )


_ALIAS_KEYS = [
    *(
        f.alias or n
        for model in (fg.FgAliasSpec, fg.FgRouting, fg.Rule)
        for n, f in model.model_fields.items()
    )
]


def _seed_alias(data: object, where: str) -> dict[str, Any]:
    """A seed's alias, written as a manifest writes it (``routing: {version, weight}`` or
    ``{version, rules, combine}``), as the body of the API call that creates it; ``ValueError``
    names the key at fault."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: each alias is a mapping with a 'name' and a 'version'")
    try:
        alias = fg.FgAliasSpec.model_validate(dict(data))
    except ValidationError as exc:
        error = exc.errors()[0]
        path = list(error["loc"])
        if error["type"] in ("missing", "extra_forbidden"):
            key = path.pop()
            message = f"{key!r} is required"
            if error["type"] == "extra_forbidden":
                close = difflib.get_close_matches(str(key), _ALIAS_KEYS, n=1, cutoff=0.6)
                message = f"{key!r} is not a key here" + (
                    f" (did you mean {close[0]!r}?)" if close else ""
                )
        elif error["type"] in ("model_type", "dict_type"):
            message = "must be a mapping"
        else:
            message = str(error["msg"]).removeprefix("Value error, ")
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
        raise ValueError(f"{where}{loc}: {message}") from None
    fields: dict[str, Any] = {
        "name": alias.name,
        "version": alias.version,
        "description": alias.description or "",
    }
    routing = alias.routing
    if routing is not None and routing.rules is not None:
        rules = []
        for rule in routing.rules:
            op, value = rule.api_op()
            rules.append({"rule_type": "header", "param": rule.header, "op": op, "value": value})
        strategy = {"rules": rules, "combine_type": routing.combine or "and"}
        fields["additional_version_strategy"] = {routing.version: strategy}
    elif routing is not None and routing.weight is not None:
        fields["additional_version_weights"] = {routing.version: fg.percent(routing.weight)}
    return fields


def versions_to_seed(names: set[str]) -> list[str]:
    """The versions a sandbox publishes so that these names exist: v1 to vN when they are all
    spelt vN (the usual names), else the names themselves, sorted."""
    numbered = [re.fullmatch(r"v([1-9][0-9]{0,3})", name) for name in names]
    if numbered and all(numbered):
        highest = max(int(m[1]) for m in numbered if m is not None)
        return [f"v{n}" for n in range(1, min(highest, VERSIONS_SEEDED_MAX) + 1)]
    return sorted(names)


_TAG_OPERATIONS = ("ListFunctionTags", "CreateTags", "DeleteTags")


def _tags(function: _Function, operation: str, body: bytes) -> tuple[int, Any]:
    """The function tag APIs: a list; a create that adds or replaces values (at most 20 tags a
    function); a delete that removes the keys it names, present or not. A request the service
    refuses changes nothing."""
    if operation == "ListFunctionTags":
        listed = [{"key": k, "value": v} for k, v in function.tags.items()]
        return 200, {"tags": listed, "sys_tags": []}
    request = _object(body)
    items = request.get("tags")
    if not isinstance(items, list) or not items:
        raise _bad("tags is required: a list of {key, value}")
    asked: dict[str, str] = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise _bad("each tag has a key, as text")
        key, value = item["key"], item.get("value", "")
        if not isinstance(value, str):
            raise _bad(f"the value of tag key {key[:40]} must be text")
        if key in asked:
            raise _bad(f"tag key {key[:40]} is given twice")
        asked[key] = value
    if operation == "DeleteTags":
        for key in asked:
            function.tags.pop(key, None)
        return 204, None
    for key, value in asked.items():
        if problem := fg.tag_problem(key, value):
            raise _bad(problem)
    if len(function.tags.keys() | asked.keys()) > fg.TAGS_MAX:
        raise _bad(f"a function has at most {fg.TAGS_MAX} tags")
    function.tags.update(asked)
    return 204, None


def _page(query: Mapping[str, str], most: int) -> tuple[int, int]:
    """A listing's page as its query asks: from ``marker`` (an offset), ``maxitems`` long."""
    marker, maxitems = query.get("marker", "0"), query.get("maxitems", str(most))
    if not all(text.isascii() and text.isdigit() for text in (marker, maxitems)):
        raise _bad("marker and maxitems are numbers")
    size = min(int(maxitems), most)
    if size < 1:
        raise _bad("maxitems must be at least 1")
    return int(marker), size


def _listed(alias: dict[str, Any]) -> dict[str, Any]:
    """An alias as ListVersionAliases shows it: the API reference's FuncAlias and the SDK's
    ListVersionAliasResult have no ``additional_version_strategy`` (ShowVersionAlias has it)."""
    return {k: v for k, v in alias.items() if k != "additional_version_strategy"}


def _object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise _bad("the request body is not JSON") from None
    if not isinstance(data, dict):
        raise _bad("the request body must be an object")
    return data


def _extra_version(function: _Function, version: str, extra: object) -> str:
    if not isinstance(extra, str) or fg.version_problem(extra) is not None:
        raise _bad(f"invalid additional version: {str(extra)[:80]}")
    if extra == fg.LATEST:
        raise _bad(f"the additional version cannot be {fg.LATEST}")
    if extra == version:
        raise _bad(f"the additional version {extra} is the alias's own version")
    if not function.has_version(extra):
        raise FgError(404, *fg.VERSION_NOT_FOUND)
    return extra


def _weights(function: _Function, version: str, weights: object) -> dict[str, int]:
    if not isinstance(weights, dict):
        raise _bad("additional_version_weights must be an object")
    if len(weights) > 1:
        raise _bad("an alias has at most one additional version")
    ((extra, weight),) = weights.items()
    extra = _extra_version(function, version, extra)
    if (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not math.isfinite(weight)
        or weight != int(weight)
    ):
        raise _bad(f"the weight of version {extra} must be a whole percent, not {weight!r}")
    if not fg.WEIGHT_MIN <= int(weight) <= fg.WEIGHT_MAX:
        raise _bad(f"the weight of version {extra} must be from {fg.WEIGHT_MIN} to {fg.WEIGHT_MAX}")
    return {extra: int(weight)}


def _strategy(function: _Function, version: str, strategy: object) -> dict[str, Any]:
    if not isinstance(strategy, dict):
        raise _bad("additional_version_strategy must be an object")
    if len(strategy) > 1:
        raise _bad("an alias has at most one additional version")
    ((extra, config),) = strategy.items()
    extra = _extra_version(function, version, extra)
    if not isinstance(config, dict):
        raise _bad("a version strategy must be an object")
    combine = config.get("combine_type", "and")
    if combine not in fg.COMBINE_TYPES:
        raise _bad(f"combine_type must be one of {', '.join(fg.COMBINE_TYPES)}")
    rules = config.get("rules")
    if not isinstance(rules, list) or not 1 <= len(rules) <= fg.RULES_MAX:
        raise _bad(f"a version strategy has 1 to {fg.RULES_MAX} rules")
    checked = []
    for rule in rules:
        if not isinstance(rule, dict) or not all(
            isinstance(rule.get(k), str) for k in ("rule_type", "param", "op", "value")
        ):
            raise _bad("a rule has rule_type, param, op and value, all strings")
        if problem := fg.rule_problem(rule["rule_type"], rule["param"], rule["op"], rule["value"]):
            raise _bad(problem)
        checked.append({k: rule[k] for k in ("rule_type", "param", "op", "value")})
    return {extra: {"rules": checked, "combine_type": combine}}


def _version_entry(function: _Function, version: str) -> dict[str, Any]:
    """A version as ListFunctionVersions answers it; the sandbox keeps no code or configuration
    beyond what aliases need."""
    return {
        "func_urn": function.urn(version),
        "func_name": function.name,
        "namespace": function.project,
        "project_name": function.region,
        "package": function.package,
        "runtime": "Python3.9",
        "timeout": 3,
        "handler": "index.handler",
        "memory_size": 128,
        "code_type": "inline",
        "version": version,
        "version_description": "",
        "last_modified": "2026-01-01 00:00:00",
    }

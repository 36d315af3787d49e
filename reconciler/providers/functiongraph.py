"""Huawei Cloud FunctionGraph aliases through the official SDK (``huaweicloudsdkfunctiongraph``).

Credentials and endpoints follow the SDK's own conventions: ``HUAWEICLOUD_SDK_PROJECT_ID`` and
either an access key (``HUAWEICLOUD_SDK_AK``, ``HUAWEICLOUD_SDK_SK``, and
``HUAWEICLOUD_SDK_SECURITY_TOKEN`` for a temporary one) or OpenID Connect federation
(``HUAWEICLOUD_SDK_IDP_ID`` and ``HUAWEICLOUD_SDK_ID_TOKEN_FILE``: the SDK trades the ID token at
IAM, ``HUAWEICLOUD_SDK_IAM_ENDPOINT`` when set, for a temporary access key; the GitHub workflows
use this, so no long-lived key is stored anywhere). A Region's endpoint is the SDK's, or
``HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_<REGION>`` (``..._AP_SOUTHEAST_1``) when set.

FunctionGraph has no RevisionId. An alias's revision here is its ``last_modified`` and a digest of
its managed fields; an update or a delete reads the alias just before writing and refuses (stale)
when either differs from the plan's. The window between that read and the write cannot be closed:
the guard is best effort, and the apply report says so.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from reconciler import functiongraph as fg
from reconciler.budget import CONTROL_PLANE_RATE, TokenBucket
from reconciler.errors import (
    AccessDeniedError,
    ConflictError,
    InputError,
    InvalidRequestError,
    MalformedAnswerError,
    NotFoundError,
    PreconditionFailedError,
    ProviderError,
    ThrottledError,
    TransientError,
)
from reconciler.live import (
    DesiredAlias,
    FunctionTarget,
    LiveAlias,
    LiveFunction,
    Route,
    RouteRule,
    VersionInfo,
)
from reconciler.permissions import needs

AK, SK, PROJECT_ID = "HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID"
SECURITY_TOKEN = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
IDP_ID, ID_TOKEN_FILE = "HUAWEICLOUD_SDK_IDP_ID", "HUAWEICLOUD_SDK_ID_TOKEN_FILE"
IAM_ENDPOINT = "HUAWEICLOUD_SDK_IAM_ENDPOINT"
ENDPOINT_ENV = "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_{}"
THROTTLE_RETRIES = 4  # a 429 is never applied: the call is sent again, after a pause
READ_RETRIES = 2  # a read that failed on the way is sent again; a write never is
VERSIONS_PAGE = 400
MAX_VERSION_PAGES = 1_000
FUNCTIONS_PAGE = 400  # ListFunctions' largest maxitems
MAX_FUNCTION_PAGES = 1_000
_BY_STATUS: dict[int, type[ProviderError]] = {
    400: InvalidRequestError,
    401: AccessDeniedError,
    403: AccessDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    429: ThrottledError,
}


def revision(last_modified: str, version: str, description: str, routing: Route | None) -> str:
    """The guard's token: ``last_modified`` (whole seconds) and a digest of the managed fields,
    so that two writes within one second still tell apart."""
    fields = {
        "version": version,
        "description": description,
        "routing": None if routing is None else routing.to_dict(),
    }
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]
    return f"{last_modified}|{digest}"


class FunctionGraphProvider:
    """Reads and writes FunctionGraph aliases; every call paced by a per-project, per-Region
    budget (``rate`` requests a second; FunctionGraph publishes no per-API quota, so the
    default is Lambda's 15 a second, which Huawei Cloud's API gateway allows a tenant)."""

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        rate: float | None = CONTROL_PLANE_RATE,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _require_sdk()
        self._environ = os.environ if environ is None else environ
        self.endpoint_url = endpoint_url
        self.rate = rate
        self._sleep = sleep
        self._clients: dict[str, Any] = {}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._versions: dict[FunctionTarget, frozenset[str]] = {}
        self._lock = threading.Lock()

    @property
    def project(self) -> str | None:
        """The credentials' project (``HUAWEICLOUD_SDK_PROJECT_ID``): the project guard's."""
        return self._environ.get(PROJECT_ID) or None

    def client(self, region: str) -> Any:
        """The SDK's client for a Region, made once."""
        with self._lock:
            if region not in self._clients:
                self._clients[region] = self._new_client(region)
            return self._clients[region]

    def _new_client(self, region: str) -> Any:
        from huaweicloudsdkcore.auth.credentials import BasicCredentials  # noqa: PLC0415
        from huaweicloudsdkcore.http.http_config import HttpConfig  # noqa: PLC0415
        from huaweicloudsdkfunctiongraph.v2 import FunctionGraphClient  # noqa: PLC0415
        from huaweicloudsdkfunctiongraph.v2.region.functiongraph_region import (  # noqa: PLC0415
            FunctionGraphRegion,
        )

        credentials = self._credentials(BasicCredentials)
        override = self._environ.get(ENDPOINT_ENV.format(region.replace("-", "_").upper()))
        if self.endpoint_url:
            endpoints = [self.endpoint_url]
        elif override:
            endpoints = [e.strip() for e in override.split(",") if e.strip()]
        else:
            try:
                endpoints = list(FunctionGraphRegion.value_of(region).endpoints)
            except KeyError:
                raise InputError(
                    f"FunctionGraph has no known endpoint in Region {region}; set "
                    f"{ENDPOINT_ENV.format(region.replace('-', '_').upper())}"
                ) from None
        config = HttpConfig.get_default_config()
        config.timeout = (10, 60)
        quiet_sdk_logger(FunctionGraphClient)
        client = (
            FunctionGraphClient.new_builder()
            .with_credentials(credentials)
            .with_endpoints(endpoints)
            .with_http_config(config)
            .build()
        )
        if credentials.idp_id:
            _trade(credentials, client.get_http_client())
        return client

    def _credentials(self, basic: Any) -> Any:
        """The SDK's credentials from the environment: an access key, or OpenID Connect
        federation, which the SDK trades at IAM for a temporary access key on its first call."""
        env = self._environ
        project, idp, token_file = env.get(PROJECT_ID), env.get(IDP_ID), env.get(ID_TOKEN_FILE)
        ak, sk = env.get(AK), env.get(SK)
        if not project:
            raise AccessDeniedError(
                f"no Huawei Cloud project: set {PROJECT_ID} to the project of the Region "
                "(or use --sandbox to try the tool without a cloud)"
            )
        if idp or token_file:
            if not (idp and token_file):
                missing = IDP_ID if not idp else ID_TOKEN_FILE
                raise AccessDeniedError(
                    f"OpenID Connect federation needs {IDP_ID} and {ID_TOKEN_FILE}: set {missing}"
                )
            try:
                with open(token_file, encoding="utf-8") as stream:
                    readable = bool(stream.read().strip())
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not text"
                raise AccessDeniedError(
                    f"{ID_TOKEN_FILE} {token_file!r}: cannot read the ID token ({reason})"
                ) from None
            if not readable:
                raise AccessDeniedError(f"{ID_TOKEN_FILE} {token_file!r}: the file is empty")
            credentials = basic(project_id=project).with_idp_id(idp).with_id_token_file(token_file)
            if env.get(IAM_ENDPOINT):
                credentials.with_iam_endpoint(env[IAM_ENDPOINT])
            # The SDK trades the token on a call that finds the key missing or ending, without a
            # lock, and then sets key, secret and security token one by one: reads run on several
            # threads through one client, so each would trade, and one could sign with half of a
            # new key. One lock makes the trade once and signing wait for it.
            lock = threading.RLock()
            for name in ("process_sts", "sign_request"):
                setattr(credentials, name, _serialised(getattr(credentials, name), lock))
            return credentials
        if not (ak and sk):
            missing = " and ".join(n for n, v in ((AK, ak), (SK, sk)) if not v)
            raise AccessDeniedError(
                f"no Huawei Cloud credentials: set {missing}, or {IDP_ID} and {ID_TOKEN_FILE} "
                "for OpenID Connect federation (or use --sandbox to try the tool without a cloud)"
            )
        return basic(ak, sk, project).with_security_token(env.get(SECURITY_TOKEN) or None)

    def _bucket(self, target: FunctionTarget) -> TokenBucket | None:
        """The budget of the function's project and Region; None (unpaced) without a rate."""
        if self.rate is None:
            return None
        key = (target.account, target.region)
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(self.rate, burst=max(1.0, self.rate * 0.8))
            return self._buckets[key]

    # -- reads ------------------------------------------------------------------------------------

    @needs("functiongraph:function:listAlias", "functiongraph:function:getAlias")
    def read_function(self, target: FunctionTarget) -> LiveFunction:
        from huaweicloudsdkfunctiongraph.v2 import ListVersionAliasesRequest  # noqa: PLC0415

        doing = f"listing the aliases of {target.address}"
        try:
            answer = self._call(
                target, "list_version_aliases", ListVersionAliasesRequest(target.arn), doing
            )
        except NotFoundError as exc:
            if exc.code == fg.FUNCTION_NOT_FOUND[0]:
                return LiveFunction(target, (), exists=False)
            raise
        with _malformed(doing):
            entries = answer.to_json_object()
            if not isinstance(entries, list):
                raise MalformedAnswerError("the alias list is not a JSON array")
            listed = [live_alias(e) for e in entries]
            names = [a.name for a in listed]
            twice = next((n for n in names if names.count(n) > 1), None)
            if twice is not None:
                raise MalformedAnswerError(f"alias {twice!r} twice in one listing")
        # The listing has no additional_version_strategy (the API reference's FuncAlias, the
        # SDK's ListVersionAliasResult); each alias is read as the guard reads it, so that plan,
        # drift and the guard see the same alias. At most 10 a function.
        shown = (self.get_alias(target, name) for name in sorted(names))
        return LiveFunction(target, tuple(a for a in shown if a is not None))

    @needs("functiongraph:function:list")
    def list_functions(self, region: str) -> list[FunctionTarget]:
        """Every function of the credentials' project in the Region (ListFunctions, paged by
        marker), sorted by package and name. The Region is the endpoint's: ListFunctions names
        none, so each function's URN must name the Region and project asked for."""
        from huaweicloudsdkfunctiongraph.v2 import ListFunctionsRequest  # noqa: PLC0415

        project = self.project
        if project is None:
            raise AccessDeniedError(f"no Huawei Cloud project: set {PROJECT_ID}")
        place = FunctionTarget(project, region, "", "", fg.PROVIDER, fg.DEFAULT_PACKAGE)
        doing = f"listing the functions of project {project} in {region}"
        found: dict[tuple[str, str], FunctionTarget] = {}
        pages = self._pages(
            place,
            "list_functions",
            lambda marker: ListFunctionsRequest(marker=marker, maxitems=str(FUNCTIONS_PAGE)),
            key="functions",
            doing=doing,
            most=MAX_FUNCTION_PAGES,
        )
        for entries in pages:
            with _malformed(doing):
                for entry in entries:
                    target = _listed_function(entry, project, region)
                    key = (target.package, target.name)
                    if key in found:
                        raise MalformedAnswerError(f"function {target.name!r} twice in one listing")
                    found[key] = target
        return [found[key] for key in sorted(found)]

    @needs("functiongraph:function:getAlias")
    def get_alias(self, target: FunctionTarget, name: str) -> LiveAlias | None:
        from huaweicloudsdkfunctiongraph.v2 import ShowVersionAliasRequest  # noqa: PLC0415

        doing = f"reading alias {target.alias_address(name)}"
        try:
            answer = self._call(
                target, "show_version_alias", ShowVersionAliasRequest(target.arn, name), doing
            )
        except NotFoundError as exc:
            if exc.code == fg.ALIAS_NOT_FOUND[0]:
                return None
            raise
        with _malformed(doing):
            alias = live_alias(answer.to_json_object())
            if alias.name != name:
                raise MalformedAnswerError(f"it names alias {alias.name!r}, not {name!r}")
        return alias

    def versions(self, target: FunctionTarget) -> frozenset[str]:
        """The function's versions, ``latest`` included; read once per function."""
        from huaweicloudsdkfunctiongraph.v2 import ListFunctionVersionsRequest  # noqa: PLC0415

        with self._lock:
            known = self._versions.get(target)
        if known is not None:
            return known
        found: set[str] = set()
        doing = f"listing the versions of {target.address}"
        pages = self._pages(
            target,
            "list_function_versions",
            lambda marker: ListFunctionVersionsRequest(target.arn, marker, str(VERSIONS_PAGE)),
            key="versions",
            doing=doing,
            most=MAX_VERSION_PAGES,
        )
        for entries in pages:
            with _malformed(doing):
                for entry in entries:
                    if not isinstance(entry, dict) or not isinstance(entry.get("version"), str):
                        raise MalformedAnswerError("a version without a version name")
                    found.add(entry["version"])
        result = frozenset(found)
        with self._lock:
            self._versions[target] = result
        return result

    @needs("functiongraph:function:listVersion")
    def version_info(self, target: FunctionTarget, version: str) -> VersionInfo | None:
        """The version if it exists. FunctionGraph asks nothing of a weighted alias's two
        versions (no role or dead-letter rule), so nothing else of it is read."""
        try:
            versions = self.versions(target)
        except NotFoundError as exc:  # no function, so no version of it (a hook's, say)
            if exc.code == fg.FUNCTION_NOT_FOUND[0]:
                return None
            raise
        if version not in versions:
            return None
        return VersionInfo(version=version, role="", dead_letter_target=None)

    @needs()
    def provisioned_concurrency(self, target: FunctionTarget, alias: str) -> int | None:
        return None  # FunctionGraph does not refuse routing on an alias with reserved instances

    # -- writes -----------------------------------------------------------------------------------

    @needs("functiongraph:function:createAlias")
    def create_alias(self, target: FunctionTarget, desired: DesiredAlias) -> LiveAlias:
        from huaweicloudsdkfunctiongraph.v2 import (  # noqa: PLC0415
            CreateVersionAliasRequest,
            CreateVersionAliasRequestBody,
        )

        body = CreateVersionAliasRequestBody(
            name=desired.name,
            version=desired.version,
            description=desired.description or "",
            **_routing_fields(desired.routing),
        )
        doing = f"creating alias {target.alias_address(desired.name)}"
        answer = self._call(
            target, "create_version_alias", CreateVersionAliasRequest(target.arn, body), doing
        )
        return self._written(answer, desired, doing)

    @needs("functiongraph:function:getAlias", "functiongraph:function:updateAlias")
    def update_alias(
        self, target: FunctionTarget, desired: DesiredAlias, revision_id: str
    ) -> LiveAlias:
        """Read the alias, compare it with the plan's (``revision_id``), then write: refused
        with ``PreconditionFailedError`` when it moved; a write landing between the read and
        this one is not seen (the API has no guard of its own)."""
        from huaweicloudsdkfunctiongraph.v2 import (  # noqa: PLC0415
            UpdateVersionAliasRequest,
            UpdateVersionAliasRequestBody,
        )

        current = self.get_alias(target, desired.name)
        address = target.alias_address(desired.name)
        if current is None:
            raise NotFoundError(f"alias not found: {address}", status=404)
        if current.revision_id != revision_id:
            raise PreconditionFailedError(
                f"alias {address} changed since the plan (last_modified or a managed field)",
                status=412,
            )
        # Whether the service keeps a field that a PUT leaves out is not documented, so none is
        # left out: both routing fields (the one not used empty), and the description, which a
        # manifest that omits it leaves as it is live: as the guard has just read it, the same
        # as the plan read (the revision covers it).
        fields: dict[str, Any] = {
            "version": desired.version,
            "description": (
                current.description if desired.description is None else desired.description
            ),
            "additional_version_weights": {},
            "additional_version_strategy": {},
            **_routing_fields(desired.routing),
        }
        request = UpdateVersionAliasRequest(
            target.arn, desired.name, UpdateVersionAliasRequestBody(**fields)
        )
        doing = f"updating alias {address}"
        return self._written(
            self._call(target, "update_version_alias", request, doing), desired, doing
        )

    @needs("functiongraph:function:getAlias", "functiongraph:function:deleteAlias")
    def delete_alias(self, target: FunctionTarget, name: str) -> None:
        from huaweicloudsdkfunctiongraph.v2 import DeleteVersionAliasRequest  # noqa: PLC0415

        doing = f"deleting alias {target.alias_address(name)}"
        try:
            self._call(
                target, "delete_version_alias", DeleteVersionAliasRequest(target.arn, name), doing
            )
        except NotFoundError as exc:
            if exc.code != fg.ALIAS_NOT_FOUND[0]:
                raise

    # -- function tags: where a rollout keeps its state ------------------------------------------

    @needs("functiongraph:function:listTags")
    def tags(self, target: FunctionTarget) -> dict[str, str]:
        """The function's tags (ListFunctionTags); {} if the function is gone."""
        from huaweicloudsdkfunctiongraph.v2 import ListFunctionTagsRequest  # noqa: PLC0415

        doing = f"reading the tags of {target.address}"
        request = ListFunctionTagsRequest(fg.TAG_RESOURCE_TYPE, target.arn)
        try:
            answer = self._call(target, "list_function_tags", request, doing)
        except NotFoundError as exc:
            if exc.code == fg.FUNCTION_NOT_FOUND[0]:
                return {}
            raise
        with _malformed(doing):
            data = answer.to_json_object()
            # A function without tags may be answered without the list, or with null.
            entries = (data.get("tags") or []) if isinstance(data, dict) else None
            if not isinstance(entries, list) or not all(
                isinstance(e, dict)
                and isinstance(e.get("key"), str)
                and isinstance(e.get("value", ""), str)
                for e in entries
            ):
                raise MalformedAnswerError("tags is not a list of {key, value} texts")
            keys = [e["key"] for e in entries]
            twice = next((k for k in keys if keys.count(k) > 1), None)
            if twice is not None:  # which value stands would depend on the order listed
                raise MalformedAnswerError(f"tag {twice!r} twice in one listing")
        return {e["key"]: e.get("value") or "" for e in entries}

    @needs("functiongraph:function:createTags")
    def tag(self, target: FunctionTarget, key: str, value: str) -> None:
        """Set one tag (CreateTags replaces the value of a key the function has)."""
        from huaweicloudsdkfunctiongraph.v2 import (  # noqa: PLC0415
            CreateTagsRequest,
            KvItem,
            UpdateFunctionTagsRequestBody,
        )

        body = UpdateFunctionTagsRequestBody(action="create", tags=[KvItem(key=key, value=value)])
        request = CreateTagsRequest(fg.TAG_RESOURCE_TYPE, target.arn, body)
        self._call(target, "create_tags", request, f"tagging {target.address}")

    @needs("functiongraph:function:deleteTags")
    def untag(self, target: FunctionTarget, key: str) -> None:
        from huaweicloudsdkfunctiongraph.v2 import (  # noqa: PLC0415
            DeleteTagsRequest,
            KvItem,
            UpdateFunctionTagsRequestBody,
        )

        body = UpdateFunctionTagsRequestBody(action="delete", tags=[KvItem(key=key)])
        request = DeleteTagsRequest(fg.TAG_RESOURCE_TYPE, target.arn, body)
        self._call(target, "delete_tags", request, f"untagging {target.address}")

    # -- synchronous invocation: a rollout's hooks ----------------------------------------------

    @needs("functiongraph:function:invoke")
    def invoke(self, target: FunctionTarget, event: dict[str, Any]) -> tuple[int, str]:
        """Invoke the function synchronously (InvokeFunction, answered as JSON): its ``status``
        (200 when the function returned) and its ``result`` text. Never sent again on a failure
        on the way: the function may have run."""
        from huaweicloudsdkfunctiongraph.v2 import InvokeFunctionRequest  # noqa: PLC0415

        doing = f"invoking {target.address}"
        request = InvokeFunctionRequest(
            function_urn=target.arn, x_cff_request_version="v1", body=event
        )
        answer = self._call(target, "invoke_function", request, doing)
        with _malformed(doing):
            status, result = answer.status, answer.result
            if not isinstance(status, int) or not isinstance(result, str | None):
                raise MalformedAnswerError("status is not a number or result not a text")
        return status, result or ""

    def _written(self, answer: Any, desired: DesiredAlias, doing: str) -> LiveAlias:
        """The alias a write answered with; one that is not what was sent (another name or
        version) is not counted done: the write may or may not have been made."""
        name = desired.name
        with _malformed(doing, write=True):
            alias = live_alias(answer.to_json_object())
            if alias.name != name:
                raise MalformedAnswerError(f"it names alias {alias.name!r}, not {name!r}")
            if alias.version != desired.version:
                raise MalformedAnswerError(
                    f"the alias is on version {alias.version!r}, not {desired.version!r} as sent"
                )
        return alias

    # -- calls ------------------------------------------------------------------------------------

    def _pages(
        self,
        target: FunctionTarget,
        method: str,
        request: Callable[[str], Any],
        *,
        key: str,
        doing: str,
        most: int,
    ) -> Iterator[list[Any]]:
        """The entries (``key``) of each page of a listing paged by marker, read strictly: a
        page without its list, a ``next_marker`` that is not a count (absent or 0 ends it), a page
        of none that says more is to come, a marker met before, or more than ``most`` pages is a
        malformed answer: never a listing cut short or one that never ends."""
        marker, seen = "0", {"0"}
        for _ in range(most):
            answer = self._call(target, method, request(marker), doing)
            with _malformed(doing):
                page = answer.to_json_object()
                if not isinstance(page, dict) or not isinstance(page.get(key), list):
                    raise MalformedAnswerError(f"no list of {key}")
                following = page.get("next_marker")
                following = 0 if following is None else following
                if not isinstance(following, int) or isinstance(following, bool) or following < 0:
                    raise MalformedAnswerError("next_marker is not a number of entries")
                if following and not page[key]:  # a page of none that goes on would never end
                    raise MalformedAnswerError(f"no {key[:-1]} on a page, and more to come")
                if following and str(following) in seen:  # the same pages again, for ever
                    raise MalformedAnswerError(f"next_marker {following} came back")
            yield page[key]
            if not following:
                return
            marker = str(following)
            seen.add(marker)
        raise MalformedAnswerError(f"{doing}: more than {most} pages")

    def _call(self, target: FunctionTarget, method: str, request: Any, doing: str) -> Any:
        """One SDK call under the budget: a 429 pauses the budget and is sent again; a read
        that failed on the way is sent again; everything else is the project's error."""
        from huaweicloudsdkcore.exceptions.exceptions import (  # noqa: PLC0415
            SdkException,
            ServiceResponseException,
        )

        client = self.client(target.region)
        bucket = self._bucket(target)
        read = method.startswith(("list_", "show_"))
        throttles = failures = 0
        while True:
            if bucket is not None:
                bucket.acquire()
            try:
                answer = getattr(client, method)(request)
            except ServiceResponseException as exc:
                error = _error(exc, doing)
                if isinstance(error, ThrottledError) and throttles < THROTTLE_RETRIES:
                    throttles += 1
                    if bucket is not None:
                        bucket.slow_down(1.0)
                    else:
                        self._sleep(1.0)
                    continue
                if read and isinstance(error, TransientError) and failures < READ_RETRIES:
                    failures += 1
                    self._sleep(0.2 * failures)
                    continue
                raise error from None
            except SdkException as exc:  # no answer: connection refused, reset, timed out
                if read and failures < READ_RETRIES:
                    failures += 1
                    self._sleep(0.2 * failures)
                    continue
                message = getattr(exc, "error_msg", None) or str(exc)
                after = "; the change may have been made" if not read else ""
                raise TransientError(f"{doing}: {str(message)[:300]}{after}") from None
            except Exception as exc:
                # The SDK builds its model of a 200 answer before handing it over; a field of a
                # type the API does not define (weights as text, a numeric last_modified) fails
                # there, as AttributeError or TypeError, not as an SdkException.
                after = (
                    "; the change may have been made: read the alias before trying again"
                    if not read
                    else ""
                )
                raise MalformedAnswerError(
                    f"{doing}: malformed answer: the answer is not one the API defines "
                    f"({type(exc).__name__}){after}"
                ) from None
            if bucket is not None:
                bucket.recover()
            return answer


def quiet_sdk_logger(client_class: type) -> None:
    """Keep the SDK's own log lines (``ConnectionException occurred. ...`` on every refused
    try) off the terminal: its logger has no handler and does not propagate, so Python's last
    resort prints them to stderr beside the project's one error line. A NullHandler stops that;
    whoever wants the SDK's log adds a handler of their own to it (``HuaweiCloud-SDK-<client>``)."""
    logger = logging.getLogger(f"HuaweiCloud-SDK-{client_class.__name__}")
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())


def _require_sdk() -> None:
    """Import the official SDK, or say which extra installs it: every method imports its
    request models from it, so a missing SDK is refused here, once, before any call."""
    try:
        import huaweicloudsdkcore.exceptions.exceptions  # noqa: PLC0415, F401
        import huaweicloudsdkfunctiongraph.v2  # noqa: PLC0415, F401
    except ImportError as exc:
        raise InputError(
            f"FunctionGraph needs the 'functiongraph' extra ({exc.name} is missing): "
            "pip install 'reconciler[functiongraph]'"
        ) from None


def _trade(credentials: Any, http_client: Any) -> None:
    """Trade the ID token for a temporary key now, once, so that a refusal or a malformed answer
    is named as IAM's rather than as the first FunctionGraph call's."""
    from huaweicloudsdkcore.exceptions.exceptions import (  # noqa: PLC0415
        ConnectionException,
        RequestTimeoutException,
        ServiceResponseException,
    )

    doing = "trading the ID token for a temporary key"
    try:
        credentials.process_sts(http_client)
    except ServiceResponseException as exc:
        raise _error(exc, doing) from None
    except (ConnectionException, RequestTimeoutException) as exc:
        message = getattr(exc, "error_msg", None) or str(exc)
        raise TransientError(f"{doing}: Huawei Cloud IAM: {str(message)[:300]}") from None
    except Exception as exc:  # the SDK's parse of IAM's answer: no date, no credential
        raise MalformedAnswerError(
            f"{doing}: malformed answer: not the temporary key Huawei Cloud IAM defines "
            f"({type(exc).__name__})"
        ) from None


def _serialised(method: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    """``method``, called under ``lock``."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return method(*args, **kwargs)

    return call


def _error(exc: Any, doing: str) -> ProviderError:
    status = int(getattr(exc, "status_code", 0) or 0)
    code = str(getattr(exc, "error_code", "") or "")[:100]
    message = str(getattr(exc, "error_msg", "") or "")[:300]
    if code.startswith("IAM."):  # the SDK's trade of an ID token for a temporary key
        return AccessDeniedError(
            f"{doing}: Huawei Cloud IAM refused the OpenID Connect ID token ({code}: {message}); "
            f"check {IDP_ID}, and the identity provider's client ID, signing keys (GitHub "
            "rotates them) and identity conversion rules (README, GitOps setup)",
            code=code,
            status=status,
        )
    cls = _BY_STATUS.get(status) or (TransientError if status >= 500 else ProviderError)
    return cls(f"{doing}: {code or status}: {message}", code=code, status=status)


@contextmanager
def _malformed(doing: str, *, write: bool = False) -> Iterator[None]:
    try:
        yield
    except MalformedAnswerError as exc:
        after = "; the change may have been made: read the alias before trying again"
        raise MalformedAnswerError(
            f"{doing}: malformed answer: {exc}{after if write else ''}"
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedAnswerError(f"{doing}: the answer is not JSON: {exc}") from exc


def _routing_fields(route: Route | None) -> dict[str, Any]:
    """A route as the API's request fields: whole-percent weights, or a version strategy."""
    from huaweicloudsdkfunctiongraph.v2 import (  # noqa: PLC0415
        VersionStrategy,
        VersionStrategyRules,
    )

    if route is None:
        return {}
    if route.rules:
        rules = [
            VersionStrategyRules(rule_type="header", param=r.header, op=r.op, value=r.value)
            for r in route.rules
        ]
        strategy = VersionStrategy(rules=rules, combine_type=route.combine)
        return {"additional_version_strategy": {route.version: strategy}}
    whole = fg.percent(route.weight)
    if whole is None:  # plan_problems refuses such a plan before any write
        raise InputError(f"routing weight {route.weight} is not a whole percent")
    return {"additional_version_weights": {route.version: whole}}


def _listed_function(entry: object, project: str, region: str) -> FunctionTarget:
    """A function of a ListFunctions page, by its URN: one of another project or Region (the
    endpoint's) is not an answer to this listing."""
    if not isinstance(entry, dict) or not isinstance(entry.get("func_urn"), str):
        raise MalformedAnswerError("a listed function has no func_urn")
    urn = entry["func_urn"]
    try:
        ref = fg.parse_function(urn)
    except ValueError:
        raise MalformedAnswerError(f"func_urn {urn!r:.120} is not a function's URN") from None
    if (ref.project, ref.region) != (project, region):
        raise MalformedAnswerError(
            f"function {ref.name!r} is in project {ref.project} and Region {ref.region}, "
            f"not in {project} and {region} as listed"
        )
    assert ref.package is not None  # a URN names its package
    return FunctionTarget(project, region, ref.name, "", fg.PROVIDER, ref.package)


def live_alias(data: object) -> LiveAlias:
    """An alias from the API's JSON; anything the API would not have said is
    ``MalformedAnswerError``."""
    if not isinstance(data, dict):
        raise MalformedAnswerError("an alias is not a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or fg.alias_name_problem(name):
        raise MalformedAnswerError(f"an alias's name is not one FunctionGraph allows: {name!r:.80}")
    what = f"alias {name!r}"
    version = data.get("version")
    if not isinstance(version, str) or fg.version_problem(version):
        raise MalformedAnswerError(f"{what}: version {version!r:.80} is not a version name")
    # null is no description; an empty list or false is not an empty text, but an answer the
    # API does not define (so `x or ""` would hide it).
    description = data.get("description")
    description = "" if description is None else description
    if not isinstance(description, str) or len(description) > fg.DESCRIPTION_MAX:
        raise MalformedAnswerError(f"{what}: description is not a text of at most 512 characters")
    last_modified = data.get("last_modified")
    if not isinstance(last_modified, str) or not last_modified:
        raise MalformedAnswerError(f"{what}: no last_modified")
    routing = _live_routing(data, version, what)
    return LiveAlias(
        name, version, description, routing, revision(last_modified, version, description, routing)
    )


def _live_routing(data: dict[str, Any], version: str, what: str) -> Route | None:
    weights = data.get("additional_version_weights")
    strategy = data.get("additional_version_strategy")
    weights = {} if weights is None else weights
    strategy = {} if strategy is None else strategy
    if not isinstance(weights, dict) or not isinstance(strategy, dict):
        raise MalformedAnswerError(f"{what}: routing is not an object")
    if weights and strategy:
        raise MalformedAnswerError(f"{what}: both weights and a version strategy")
    if len(weights) + len(strategy) > 1:
        raise MalformedAnswerError(f"{what}: more than one additional version")
    if weights:
        ((extra, weight),) = weights.items()
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise MalformedAnswerError(f"{what}: weight {weight!r:.40} is not a whole percent")
        problem = fg.routing_problem(version, extra, weight / 100)
        if problem:
            raise MalformedAnswerError(f"{what} has routing the service refuses: {problem}")
        return Route(extra, weight / 100)
    if strategy:
        ((extra, config),) = strategy.items()
        problem = fg.routing_problem(version, extra, None)
        if problem or not isinstance(config, dict) or not isinstance(config.get("rules"), list):
            raise MalformedAnswerError(f"{what}: a version strategy the service refuses")
        rules = []
        for rule in config["rules"]:
            keys = ("rule_type", "param", "op", "value")
            if not isinstance(rule, dict) or not all(isinstance(rule.get(k), str) for k in keys):
                raise MalformedAnswerError(f"{what}: a rule without rule_type, param, op, value")
            rule_type, param, op, value = (str(rule[k]) for k in keys)
            if fg.rule_problem(rule_type, param, op, value):
                raise MalformedAnswerError(f"{what}: a rule the service refuses")
            rules.append(RouteRule(param, op, value))
        combine = config.get("combine_type")
        combine = "and" if combine is None else combine
        if combine not in fg.COMBINE_TYPES or not rules:
            raise MalformedAnswerError(f"{what}: a version strategy the service refuses")
        return Route(extra, 0.0, tuple(rules), combine)
    return None

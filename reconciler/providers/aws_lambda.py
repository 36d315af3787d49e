"""AWS Lambda aliases through boto3.

Region, profile, credentials and endpoint come from the standard AWS configuration (``AWS_PROFILE``,
``AWS_REGION``, ``AWS_ENDPOINT_URL``, config files), overridden by explicit arguments.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.parsers import ResponseParserError
from botocore.utils import is_valid_endpoint_url, is_valid_ipv6_endpoint_url

from reconciler.budget import CONTROL_PLANE_RATE, GET_FUNCTION_RATE, TokenBucket
from reconciler.contract import ACCOUNT_RE, FUNCTION_NAME_MAX, FUNCTION_NAME_PATTERN, LIST_MAX_ITEMS
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
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, VersionInfo
from reconciler.permissions import needs

# Listings end, whatever a server answers: a marker seen before, a page larger than asked, or more
# pages or aliases than any function has is an error, never an endless read.
ALIAS_PAGE = LIST_MAX_ITEMS  # ListAliases' MaxItems
MAX_PAGES = 1_000  # pages of one function's aliases
MAX_ALIASES = 100_000  # aliases of one function
MAX_FUNCTION_PAGES = 10_000  # pages of ListFunctions (at most 50 functions each)
# A throttled answer's Retry-After is honoured up to this many seconds; a value that is not a
# finite number of seconds (a date, "inf", "abc") is ignored, and the default pause applies.
RETRY_AFTER_MAX = 60.0
RETRY_AFTER_DEFAULT = 1.0
_PLAIN_FUNCTION_NAME = re.compile(f"{FUNCTION_NAME_PATTERN}{{1,{FUNCTION_NAME_MAX}}}", re.ASCII)
# What botocore raises when an answer does not parse as the operation's: it has no error of its
# own for most of these (a list where an object belongs, "abc" for a number, JSON nested too deep).
_UNREADABLE = (
    ResponseParserError,
    ValueError,
    TypeError,
    AttributeError,
    LookupError,
    ArithmeticError,
    RecursionError,
)
_MAY_HAVE_LANDED = "; the change may have been made: read the alias before trying again"
_ENDPOINT_FORM = "not a URL with http:// or https://, host and a port 0-65535"

_BY_CODE: dict[str, type[ProviderError]] = {
    "ResourceNotFoundException": NotFoundError,
    "ProvisionedConcurrencyConfigNotFoundException": NotFoundError,
    "ResourceConflictException": ConflictError,
    "PreconditionFailedException": PreconditionFailedError,
    "TooManyRequestsException": ThrottledError,
    "ThrottlingException": ThrottledError,
    "AccessDeniedException": AccessDeniedError,
    "AccessDenied": AccessDeniedError,
    "UnrecognizedClientException": AccessDeniedError,
    "ExpiredTokenException": AccessDeniedError,
    "InvalidClientTokenId": AccessDeniedError,
    "ServiceException": TransientError,
}
_BY_STATUS: dict[int, type[ProviderError]] = {
    400: InvalidRequestError,
    403: AccessDeniedError,
    404: NotFoundError,
    409: ConflictError,
    412: PreconditionFailedError,
    429: ThrottledError,
}


def provider_error(exc: Exception, doing: str) -> ProviderError:
    """The project's error for a botocore failure; the message says what was being done."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        metadata = exc.response.get("ResponseMetadata", {})
        status = int(metadata.get("HTTPStatusCode", 0) or 0)
        cls = _BY_CODE.get(code) or _BY_STATUS.get(status)
        if cls is None:
            cls = TransientError if status >= 500 else ProviderError
        message = _clip(str(error.get("Message") or exc))
        return cls(
            f"{doing}: {_clip(code, 100) or status}: {message}",
            code=code,
            status=status,
            retried=bool(metadata.get("RetryAttempts")),
        )
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AccessDeniedError(
            f"{doing}: no AWS credentials found; set AWS_PROFILE or run in an environment with "
            "credentials (or use --sandbox to try the tool without AWS)"
        )
    return TransientError(f"{doing}: {exc}")


@contextmanager
def _mapped(doing: str, api: str = "", *, write: bool = False) -> Iterator[None]:
    """botocore's failures as the project's errors, and an answer of ``api`` that is not one it
    defines (``MalformedAnswerError`` from ``_ask``, ``LiveAlias.from_api`` or the checks here)
    with what was being done. After a write, the message says the write may have been made."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise provider_error(exc, doing) from exc
    except MalformedAnswerError as exc:
        after = _MAY_HAVE_LANDED if write else ""
        answer = f"{api} answer" if api else "answer"
        raise MalformedAnswerError(f"{doing}: malformed {answer}: {exc}{after}") from exc


def _ask(call: Callable[..., Any], **request: Any) -> dict[str, Any]:
    """One botocore call. An answer botocore cannot parse as the operation's (a list where an
    object belongs, "abc" for a number, broken XML) is a ``MalformedAnswerError``: botocore has no
    error of its own for most of them. It is never retried."""
    try:
        answer = call(**request)
    except (ClientError, BotoCoreError):
        raise
    except _UNREADABLE as exc:
        first_line = str(exc).strip().partition("\n")[0]
        first_line = first_line.replace(" Further retries may succeed:", "")  # they would not
        raise MalformedAnswerError(
            f"it does not parse as one ({type(exc).__name__}: {_clip(first_line)})"
        ) from exc
    if not isinstance(answer, dict):
        raise MalformedAnswerError(f"it is {_clip(repr(answer))}, not an object")
    return answer


def _clip(text: str, limit: int = 300) -> str:
    """At most ``limit`` characters of a server's text: an error line stays a line."""
    return text if len(text) <= limit else text[:limit] + "..."


def endpoint_problem(url: str) -> bool:
    """True when ``url`` is not an http(s) URL with a host and a port 0-65535 (if it has one)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return True
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return True
    return not (is_valid_endpoint_url(url) or is_valid_ipv6_endpoint_url(url))


def retry_after(parsed: Mapping[str, Any], headers: Mapping[str, Any]) -> float:
    """The pause a throttled answer asks for: its Retry-After when that is a finite number of
    seconds, at most ``RETRY_AFTER_MAX``; else ``RETRY_AFTER_DEFAULT``."""
    for hint in (parsed.get("retryAfterSeconds"), headers.get("Retry-After")):
        if hint is None or isinstance(hint, bool):
            continue
        try:
            seconds = float(hint)
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds) and seconds >= 0:
            return min(seconds, RETRY_AFTER_MAX)
    return RETRY_AFTER_DEFAULT


class AwsLambdaProvider:
    """Reads and writes aliases with one boto3 client per Region, all from one session."""

    def __init__(
        self,
        *,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        credentials: dict[str, str] | None = None,
        max_attempts: int = 5,
        rate: float | None = CONTROL_PLANE_RATE,
        get_function_rate: float = GET_FUNCTION_RATE,
        botocore_loader: Any = None,
        account: str | None = None,
    ) -> None:
        """``rate``: control-plane requests per second this provider allows itself per Region
        (AWS's budget is 15, shared with everything in the account); GetFunction has its own.
        None: no pacing at all, for an endpoint without quotas (an embedded sandbox).

        ``botocore_loader``: botocore's data loader to read its endpoints and service models
        through, instead of a new one: an embedded sandbox's moto has parsed them already
        (1.2 MB of endpoints JSON and Lambda's model, 40-60 ms a time).

        ``account``: the account the credentials are known to be of (an embedded sandbox is the
        account it was started as), so that STS is not asked: answering GetCallerIdentity costs
        the sandbox's moto a scan of botocore's 400-odd model folders (60-70 ms)."""
        # AWS_REGION comes first, as in the AWS CLI v2 and the other SDKs; botocore reads only
        # AWS_DEFAULT_REGION and the config file, which follow.
        region = region or os.environ.get("AWS_REGION") or None
        if endpoint_url is not None and endpoint_problem(endpoint_url):
            raise InputError(f"--endpoint-url {endpoint_url!r}: {_ENDPOINT_FORM}")
        with _mapped("reading the AWS configuration"):
            core = botocore.session.get_session()
            if botocore_loader is not None:
                core.register_component("data_loader", botocore_loader)
            self._session = boto3.Session(
                botocore_session=core,
                profile_name=profile,
                region_name=region,
                **(credentials or {}),
            )
        if botocore_loader is not None:
            # boto3 adds its own models' folder to the loader, which already had it: once is enough.
            paths = botocore_loader.search_paths
            paths[:] = list(dict.fromkeys(paths))
        self._endpoint_url = endpoint_url
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            user_agent_extra="reconciler",
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._account: str | None = account
        self.rate = rate
        self._rates = {"GetFunction": get_function_rate, "*": rate or CONTROL_PLANE_RATE}
        self._buckets: dict[tuple[str, str], TokenBucket] = {}

    @property
    def default_region(self) -> str | None:
        region = self._session.region_name
        return str(region) if region else None

    def client(self, service: str, region: str | None) -> Any:
        key = (service, region or "")
        with self._lock:
            if key not in self._clients:
                with _mapped(f"creating the {service} client"):
                    try:
                        client = self._session.client(
                            service,
                            region_name=region or self.default_region or "us-east-1",
                            endpoint_url=self._endpoint_url,
                            config=self._config,
                        )
                    except BotoCoreError:
                        raise  # mapped by _mapped (some are ValueErrors too)
                    except ValueError as exc:  # botocore's "Invalid endpoint: ..."
                        if self._endpoint_url is None:
                            raise self._configured_endpoint_error(str(exc)) from None
                        raise InputError(f"creating the {service} client: {exc}") from None
                # An endpoint from AWS_ENDPOINT_URL or the config file is checked as one given.
                if endpoint_problem(client.meta.endpoint_url):
                    raise self._configured_endpoint_error(repr(client.meta.endpoint_url))
                if service == "lambda" and self.rate is not None:
                    events = client.meta.events
                    events.register(
                        "before-send.lambda", partial(self._pace, client.meta.region_name)
                    )
                    events.register(
                        "needs-retry.lambda", partial(self._observe, client.meta.region_name)
                    )
                self._clients[key] = client
            return self._clients[key]

    def invoker(self, region: str) -> Any:
        """A Lambda client for Invoke: one attempt (a function may not be safe to run twice, and
        a read that times out would run it again) and 15 minutes to answer, Lambda's longest run."""
        key = ("lambda:invoke", region)
        with self._lock:
            if key not in self._clients:
                with _mapped("creating the lambda client"):
                    self._clients[key] = self._session.client(
                        "lambda",
                        region_name=region,
                        endpoint_url=self._endpoint_url,
                        config=self._config.merge(
                            Config(read_timeout=900, retries={"total_max_attempts": 1})
                        ),
                    )
            return self._clients[key]

    @staticmethod
    def _configured_endpoint_error(what: str) -> InputError:
        return InputError(
            f"the endpoint URL from the AWS configuration (AWS_ENDPOINT_URL, or endpoint_url in "
            f"the config file), {what}: {_ENDPOINT_FORM}"
        )

    def bucket(self, region: str, operation: str) -> TokenBucket:
        """The budget an operation draws on in a Region: GetFunction's own, or the shared one."""
        name = operation if operation in self._rates else "*"
        with self._lock:
            if (region, name) not in self._buckets:
                # Shaped like AWS's own bucket (a second's worth of burst, then `rate` a second),
                # less a fifth of the burst: room for network jitter, so AWS's never runs dry.
                rate = self._rates[name]
                self._buckets[(region, name)] = TokenBucket(rate, burst=max(1.0, rate * 0.8))
            return self._buckets[(region, name)]

    def _pace(self, region: str, event_name: str, **_: Any) -> None:
        """Before every attempt, retries included: wait for this Region's budget."""
        self.bucket(region, event_name.rpartition(".")[2]).acquire()

    def _observe(
        self, region: str, event_name: str, response: tuple[Any, dict[str, Any]] | None, **_: Any
    ) -> None:
        """After every attempt: a 429 slows the budget down (botocore retries the call itself)."""
        if response is None:
            return
        http, parsed = response
        bucket = self.bucket(region, event_name.rpartition(".")[2])
        if parsed.get("Error", {}).get("Code") in (
            "TooManyRequestsException",
            "ThrottlingException",
        ):
            bucket.slow_down(retry_after(parsed, http.headers))
        elif http.status_code < 400:
            bucket.recover()

    @needs("sts:GetCallerIdentity")
    def caller_account(self) -> str:
        """The account of the credentials in use (STS GetCallerIdentity, asked once, unless the
        provider was told)."""
        if self._account is None:
            with _mapped("asking STS who the credentials belong to", "GetCallerIdentity"):
                identity = _ask(self.client("sts", self.default_region).get_caller_identity)
                account = _field(identity, "Account", ACCOUNT_RE, "a 12-digit account ID")
            self._account = account
        return self._account

    @needs("lambda:ListAliases")
    def read_function(self, target: FunctionTarget) -> LiveFunction:
        """Every alias of the function (ListAliases, page by page), each as the API defines it."""
        client = self.client("lambda", target.region)
        aliases: dict[str, LiveAlias] = {}
        try:
            with _mapped(f"listing the aliases of {target.address}", "ListAliases"):
                for page in _pages(
                    lambda marker: _ask(
                        client.list_aliases, FunctionName=target.arn, MaxItems=ALIAS_PAGE, **marker
                    ),
                    MAX_PAGES,
                ):
                    entries = _listed(page, "Aliases")
                    if len(entries) > ALIAS_PAGE:
                        raise MalformedAnswerError(
                            f"{len(entries)} aliases in one page, asked for at most {ALIAS_PAGE}"
                        )
                    for entry in entries:
                        alias = LiveAlias.from_api(entry)
                        if alias.name in aliases:
                            raise MalformedAnswerError(f"alias {alias.name!r} twice in one listing")
                        aliases[alias.name] = alias
                    if len(aliases) > MAX_ALIASES:
                        raise MalformedAnswerError(
                            f"more than {MAX_ALIASES:,} aliases; no function has that many"
                        )
        except NotFoundError:
            return LiveFunction(target, (), exists=False)
        return LiveFunction(target, tuple(aliases[name] for name in sorted(aliases)))

    @needs("lambda:ListFunctions")
    def list_functions(self, region: str) -> list[str]:
        """The names of every function in the Region, sorted (ListFunctions, paginated)."""
        client = self.client("lambda", region)
        names: set[str] = set()
        with _mapped(f"listing the functions in {region}", "ListFunctions"):
            pages = _pages(lambda marker: _ask(client.list_functions, **marker), MAX_FUNCTION_PAGES)
            for page in pages:
                for entry in _listed(page, "Functions"):
                    if not isinstance(entry, dict):
                        raise MalformedAnswerError(
                            f"a listed function is {_clip(repr(entry), 80)}, not an object"
                        )
                    name = _field(entry, "FunctionName", _PLAIN_FUNCTION_NAME, "a function name")
                    if name in names:
                        raise MalformedAnswerError(f"function {name!r} twice in one listing")
                    names.add(name)
        return sorted(names)

    @needs("lambda:GetAlias")
    def get_alias(self, target: FunctionTarget, name: str) -> LiveAlias | None:
        doing = f"reading {target.alias_address(name)}"
        data = self._read(doing, "GetAlias", target, "get_alias", Name=name)
        if data is None:
            return None
        with _mapped(doing, "GetAlias"):
            return _the_alias(data, name)

    @needs("lambda:GetFunction")
    def version_info(self, target: FunctionTarget, version: str) -> VersionInfo | None:
        # GetFunction, not GetFunctionConfiguration: it has its own 100/s budget.
        doing = f"reading version {version} of {target.address}"
        data = self._read(doing, "GetFunction", target, "get_function", Qualifier=version)
        if data is None:
            return None
        with _mapped(doing, "GetFunction"):
            if data.get("Configuration") is None:
                raise MalformedAnswerError("no Configuration")
            info = VersionInfo.from_api(data["Configuration"])
            if info.version != version:
                raise MalformedAnswerError(
                    f"it is about version {info.version}, not version {version}"
                )
        return info

    @needs("lambda:GetProvisionedConcurrencyConfig")
    def provisioned_concurrency(self, target: FunctionTarget, alias: str) -> int | None:
        doing = f"reading the provisioned concurrency of {target.alias_address(alias)}"
        api = "GetProvisionedConcurrencyConfig"
        data = self._read(doing, api, target, "get_provisioned_concurrency_config", Qualifier=alias)
        if data is None:
            return None
        with _mapped(doing, api):
            executions = data.get("RequestedProvisionedConcurrentExecutions")
            if executions is None:
                raise MalformedAnswerError("no RequestedProvisionedConcurrentExecutions")
            if isinstance(executions, bool) or not isinstance(executions, int) or executions < 0:
                raise MalformedAnswerError(
                    f"RequestedProvisionedConcurrentExecutions is {_clip(repr(executions), 80)}, "
                    "not a count"
                )
        return executions

    def _read(
        self, doing: str, api: str, target: FunctionTarget, method: str, **request: str
    ) -> dict[str, Any] | None:
        """One read of the function's Lambda API; None when what it names does not exist."""
        call = getattr(self.client("lambda", target.region), method)
        try:
            with _mapped(doing, api):
                return _ask(call, FunctionName=target.arn, **request)
        except NotFoundError:
            return None

    @needs("lambda:CreateAlias")
    def create_alias(self, target: FunctionTarget, desired: DesiredAlias) -> LiveAlias:
        request: dict[str, Any] = {
            "FunctionName": target.arn,
            "Name": desired.name,
            "FunctionVersion": desired.version,
        }
        if desired.description is not None:
            request["Description"] = desired.description
        if desired.routing is not None:
            request["RoutingConfig"] = _routing(desired)
        return self._write("creating", "CreateAlias", target, "create_alias", request)

    @needs("lambda:UpdateAlias")
    def update_alias(
        self, target: FunctionTarget, desired: DesiredAlias, revision_id: str
    ) -> LiveAlias:
        request: dict[str, Any] = {
            "FunctionName": target.arn,
            "Name": desired.name,
            "FunctionVersion": desired.version,
            "RoutingConfig": _routing(desired),  # empty weights remove routing
            "RevisionId": revision_id,
        }
        if desired.description is not None:
            request["Description"] = desired.description
        return self._write("updating", "UpdateAlias", target, "update_alias", request)

    @needs("lambda:DeleteAlias")
    def delete_alias(self, target: FunctionTarget, name: str) -> None:
        with _mapped(f"deleting {target.alias_address(name)}", "DeleteAlias", write=True):
            client = self.client("lambda", target.region)
            _ask(client.delete_alias, FunctionName=target.arn, Name=name)

    def _write(
        self, doing: str, api: str, target: FunctionTarget, method: str, request: dict[str, Any]
    ) -> LiveAlias:
        """One alias write; its answer must be the alias it wrote, on the version sent."""
        call = getattr(self.client("lambda", target.region), method)
        with _mapped(f"{doing} {target.alias_address(request['Name'])}", api, write=True):
            written = _the_alias(_ask(call, **request), request["Name"])
            if written.version != request["FunctionVersion"]:
                raise MalformedAnswerError(
                    f"the alias is on version {written.version}, "
                    f"not version {request['FunctionVersion']} as sent"
                )
            return written


def _pages(
    call: Callable[[dict[str, str]], dict[str, Any]], max_pages: int
) -> Iterator[dict[str, Any]]:
    """The pages of a listing, each asked with the NextMarker of the one before; a marker seen
    before, or more than ``max_pages`` pages, is a ``MalformedAnswerError``."""
    seen: set[str] = set()
    marker: dict[str, str] = {}
    for _ in range(max_pages):
        page = call(marker)
        yield page
        following = page.get("NextMarker")
        if following is None or following == "":
            return
        if not isinstance(following, str):
            raise MalformedAnswerError(f"NextMarker is {_clip(repr(following), 80)}, not a string")
        if following in seen:
            raise MalformedAnswerError("the same page marker twice: the listing would never end")
        seen.add(following)
        marker = {"Marker": following}
    raise MalformedAnswerError(f"more than {max_pages} pages: the listing would never end")


def _field(data: dict[str, Any], key: str, pattern: re.Pattern[str], meaning: str) -> str:
    """``data[key]``, text that ``pattern`` matches whole; else a ``MalformedAnswerError``."""
    value = data.get(key)
    if value is None:
        raise MalformedAnswerError(f"no {key}")
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedAnswerError(f"{key} {_clip(repr(value), 80)} is not {meaning}")
    return value


def _listed(page: dict[str, Any], key: str) -> list[Any]:
    entries = page.get(key)
    if entries is None:
        raise MalformedAnswerError(f"a page has no {key}")
    if not isinstance(entries, list):
        raise MalformedAnswerError(f"{key} is {_clip(repr(entries), 80)}, not a list")
    return entries


def _the_alias(data: object, name: str) -> LiveAlias:
    """The alias ``name`` from an answer about it, never another one."""
    alias = LiveAlias.from_api(data)
    if alias.name != name:
        raise MalformedAnswerError(f"it is about alias {alias.name!r}, not {name!r}")
    return alias


def _routing(desired: DesiredAlias) -> dict[str, dict[str, float]]:
    if desired.routing is None:
        return {"AdditionalVersionWeights": {}}
    return {"AdditionalVersionWeights": {desired.routing.version: desired.routing.weight}}

"""AWS Lambda aliases through boto3.

Region, profile, credentials and endpoint come from the standard AWS configuration (``AWS_PROFILE``,
``AWS_REGION``, ``AWS_ENDPOINT_URL``, config files), overridden by explicit arguments.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    PartialCredentialsError,
)

from reconciler.budget import CONTROL_PLANE_RATE, GET_FUNCTION_RATE, TokenBucket
from reconciler.errors import (
    AccessDeniedError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PreconditionFailedError,
    ProviderError,
    ThrottledError,
    TransientError,
)
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, VersionInfo
from reconciler.permissions import needs

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
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        cls = _BY_CODE.get(code) or _BY_STATUS.get(status)
        if cls is None:
            cls = TransientError if status >= 500 else ProviderError
        message = error.get("Message") or str(exc)
        return cls(f"{doing}: {code or status}: {message}", code=code, status=status)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AccessDeniedError(
            f"{doing}: no AWS credentials found; set AWS_PROFILE or run in an environment with "
            "credentials (or use --sandbox to try the tool without AWS)"
        )
    return TransientError(f"{doing}: {exc}")


@contextmanager
def _mapped(doing: str) -> Iterator[None]:
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise provider_error(exc, doing) from exc


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
        rate: float = CONTROL_PLANE_RATE,
        get_function_rate: float = GET_FUNCTION_RATE,
    ) -> None:
        """``rate``: control-plane requests per second this provider allows itself per Region
        (AWS's budget is 15, shared with everything in the account); GetFunction has its own."""
        # AWS_REGION comes first, as in the AWS CLI v2 and the other SDKs; botocore reads only
        # AWS_DEFAULT_REGION and the config file, which follow.
        region = region or os.environ.get("AWS_REGION") or None
        with _mapped("reading the AWS configuration"):
            self._session = boto3.Session(
                profile_name=profile, region_name=region, **(credentials or {})
            )
        self._endpoint_url = endpoint_url
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            user_agent_extra="reconciler",
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._account: str | None = None
        self._rates = {"GetFunction": get_function_rate, "*": rate}
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
                    client = self._session.client(
                        service,
                        region_name=region or self.default_region or "us-east-1",
                        endpoint_url=self._endpoint_url,
                        config=self._config,
                    )
                if service == "lambda":
                    events = client.meta.events
                    events.register(
                        "before-send.lambda", partial(self._pace, client.meta.region_name)
                    )
                    events.register(
                        "needs-retry.lambda", partial(self._observe, client.meta.region_name)
                    )
                self._clients[key] = client
            return self._clients[key]

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
            hint = parsed.get("retryAfterSeconds") or http.headers.get("Retry-After") or 1
            bucket.slow_down(float(hint))
        elif http.status_code < 400:
            bucket.recover()

    @needs("sts:GetCallerIdentity")
    def caller_account(self) -> str:
        """The account of the credentials in use (STS GetCallerIdentity, asked once)."""
        if self._account is None:
            with _mapped("asking STS who the credentials belong to"):
                identity = self.client("sts", self.default_region).get_caller_identity()
            self._account = str(identity["Account"])
        return self._account

    @needs("lambda:ListAliases")
    def read_function(self, target: FunctionTarget) -> LiveFunction:
        paginator = self.client("lambda", target.region).get_paginator("list_aliases")
        aliases: list[LiveAlias] = []
        try:
            with _mapped(f"listing the aliases of {target.address}"):
                for page in paginator.paginate(
                    FunctionName=target.arn, PaginationConfig={"PageSize": 10_000}
                ):
                    aliases.extend(LiveAlias.from_api(a) for a in page.get("Aliases", []))
        except NotFoundError:
            return LiveFunction(target, (), exists=False)
        return LiveFunction(target, tuple(sorted(aliases, key=lambda a: a.name)))

    @needs("lambda:ListFunctions")
    def list_functions(self, region: str) -> list[str]:
        """The names of every function in the Region, sorted (ListFunctions, paginated)."""
        paginator = self.client("lambda", region).get_paginator("list_functions")
        names: list[str] = []
        with _mapped(f"listing the functions in {region}"):
            for page in paginator.paginate():
                names.extend(f["FunctionName"] for f in page.get("Functions", []))
        return sorted(names)

    @needs("lambda:GetAlias")
    def get_alias(self, target: FunctionTarget, name: str) -> LiveAlias | None:
        data = self._read(f"reading {target.alias_address(name)}", target, "get_alias", Name=name)
        return None if data is None else LiveAlias.from_api(data)

    @needs("lambda:GetFunction")
    def version_info(self, target: FunctionTarget, version: str) -> VersionInfo | None:
        # GetFunction, not GetFunctionConfiguration: it has its own 100/s budget.
        data = self._read(
            f"reading version {version} of {target.address}",
            target,
            "get_function",
            Qualifier=version,
        )
        return None if data is None else VersionInfo.from_api(data["Configuration"])

    @needs("lambda:GetProvisionedConcurrencyConfig")
    def provisioned_concurrency(self, target: FunctionTarget, alias: str) -> int | None:
        data = self._read(
            f"reading the provisioned concurrency of {target.alias_address(alias)}",
            target,
            "get_provisioned_concurrency_config",
            Qualifier=alias,
        )
        return None if data is None else int(data["RequestedProvisionedConcurrentExecutions"])

    def _read(
        self, doing: str, target: FunctionTarget, method: str, **request: str
    ) -> dict[str, Any] | None:
        """One read of the function's Lambda API; None when what it names does not exist."""
        call: Callable[..., dict[str, Any]] = getattr(self.client("lambda", target.region), method)
        try:
            with _mapped(doing):
                return call(FunctionName=target.arn, **request)
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
        return self._write("creating", target, desired.name, "create_alias", request)

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
        return self._write("updating", target, desired.name, "update_alias", request)

    @needs("lambda:DeleteAlias")
    def delete_alias(self, target: FunctionTarget, name: str) -> None:
        with _mapped(f"deleting {target.alias_address(name)}"):
            self.client("lambda", target.region).delete_alias(FunctionName=target.arn, Name=name)

    def _write(
        self, doing: str, target: FunctionTarget, name: str, method: str, request: dict[str, Any]
    ) -> LiveAlias:
        call: Callable[..., dict[str, Any]] = getattr(self.client("lambda", target.region), method)
        with _mapped(f"{doing} {target.alias_address(name)}"):
            return LiveAlias.from_api(call(**request))


def _routing(desired: DesiredAlias) -> dict[str, dict[str, float]]:
    if desired.routing is None:
        return {"AdditionalVersionWeights": {}}
    return {"AdditionalVersionWeights": {desired.routing.version: desired.routing.weight}}

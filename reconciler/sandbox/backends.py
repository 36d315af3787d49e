"""moto, as the sandbox reaches it: its API by service, and its state for seeding.

``MotoServer`` is moto's HTTP API in process, reached as moto's own mock mode reaches it: each
request, as moto's ``Request``, goes to the handler moto's URL patterns name for its service. The
sandbox names the service of every request from its credential scope, so it needs neither moto's
dispatcher (which tries 170-odd service modules on every request, about 2 ms each) nor moto's
Flask server, and the sandbox extra installs neither Flask nor its four dependencies.

``MotoState`` writes seeds straight into moto's backends: a function with 13 versions is one
call here against about 40 requests through the HTTP API, and answers GetFunction, most of what a
plan sends, as moto's API does. moto's backends are the state moto documents for tests to
arrange; the sandbox pins moto's minor version (pyproject.toml).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from http import HTTPStatus
from typing import Any

from moto.awslambda.models import lambda_backends
from moto.backends import get_backend
from moto.core.base_backend import AccountSpecificBackend, BackendDict
from moto.core.exceptions import ServiceException
from moto.core.model_instances import reset_model_data
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.core.request import Request
from moto.iam.models import iam_backends
from werkzeug.exceptions import HTTPException

from reconciler.contract import partition_of

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/")

# Signing names the sandbox serves: the moto backend behind each, and the host its URL patterns
# expect (moto matches the whole URL, as it would see it in AWS).
SERVICES = {
    "lambda": ("lambda", "lambda.{region}.amazonaws.com"),
    "iam": ("iam", "iam.amazonaws.com"),
    "sts": ("sts", "sts.amazonaws.com"),
    "monitoring": ("cloudwatch", "monitoring.{region}.amazonaws.com"),
}

LAMBDA_TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)

Handler = Callable[[Request, str, Any], Any]


class MotoServer:
    """moto's HTTP API for the services in ``SERVICES``, as a WSGI application."""

    def __init__(self) -> None:
        self._routes: dict[str, list[tuple[re.Pattern[str], Handler]]] = {}
        self._warm: set[str] = set()
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        status, headers, body = self.answer(environ)
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        start_response(f"{status} {reason}".rstrip(), list(headers.items()))
        return [body]

    def answer(self, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = match["service"] if match else ""
        if service not in SERVICES:
            message = (
                "the sandbox serves Lambda, IAM, STS, CloudWatch and FunctionGraph, not "
                f"{service or 'unsigned requests'}"
            )
            return 400, {"Content-Type": "application/json"}, _error("UnknownService", message)
        backend, host = SERVICES[service]
        url = "https://" + host.format(region=match["region"] if match else "us-east-1")
        url += environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING"):
            url += "?" + environ["QUERY_STRING"]
        handler = self._handler(backend, url.partition("?")[0])
        if handler is None:
            return 404, {"Content-Type": "application/json"}, _error("UnknownOperation", url)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        request = Request.from_primitives(environ["REQUEST_METHOD"], url, _headers(environ), body)
        if backend in self._warm:
            return _call(handler, request)
        with self._lock:
            # moto builds a service's request router on its first request, unguarded: concurrent
            # first requests would each build one (70 ms apiece for Lambda). The first runs alone.
            answer = _call(handler, request)
            self._warm.add(backend)
            return answer

    def _handler(self, backend: str, url: str) -> Handler | None:
        routes = self._routes.get(backend)
        if routes is None:
            with self._lock:
                routes = self._routes.get(backend)
                if routes is None:
                    routes = self._routes[backend] = _routes_of(backend)
        return next((handler for pattern, handler in routes if pattern.match(url)), None)

    @staticmethod
    def reset() -> None:
        """Forget everything every moto backend holds (as moto's POST /moto-api/reset)."""
        BackendDict.reset()
        reset_model_data()


def botocore_loader() -> Any:
    """The data loader of the botocore session moto reads its Regions through: by the time a
    function is seeded it has parsed botocore's endpoints and Lambda's model, which a boto3 client
    of the same process can then share (``AwsLambdaProvider(botocore_loader=...)``)."""
    return AccountSpecificBackend.get_session()._session.get_component("data_loader")


def _routes_of(backend: str) -> list[tuple[re.Pattern[str], Handler]]:
    """moto's URL patterns for a backend, and their handlers (as its mock mode reads them)."""
    backends: Any = get_backend(backend)  # type: ignore[call-overload]
    accounts = backends[DEFAULT_ACCOUNT_ID]
    instance = accounts["us-east-1"] if "us-east-1" in accounts else accounts["aws"]
    return [(re.compile(url), handler) for url, handler in instance.urls.items()]


def _call(handler: Handler, request: Request) -> tuple[int, dict[str, str], bytes]:
    try:
        status, headers, content = handler(request, request.raw_url, request.headers)
    except HTTPException as exc:  # moto's API errors
        status, content = exc.code or 500, exc.get_body()
        headers = dict(exc.get_headers())
    data = content.encode() if isinstance(content, str) else bytes(content or b"")
    return int(status), {str(k): str(v) for k, v in dict(headers).items()}, data


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


def _error(code: str, message: str) -> bytes:
    return json.dumps({"__type": code, "message": message}).encode()


class Refused(Exception):
    """moto refused, as its API would have: ``status``, ``code`` and ``message`` as it answers
    them (404 ResourceNotFoundException for a missing function, say)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except HTTPException as exc:  # what moto raises for an API error
        message = str(getattr(exc, "message", None) or exc)
        raise Refused(exc.code or 500, str(getattr(exc, "error_type", "")), message) from None
    except ServiceException as exc:
        raise Refused(400, exc.code, exc.message) from None


class MotoState:
    """Functions, versions and roles written into moto's backends, for seeding."""

    def __init__(self, account: str) -> None:
        self.account = account

    # Looked up on each use: moto's reset (POST /moto-api/reset) replaces its backends.
    @property
    def _lambda(self) -> Any:
        return lambda_backends[self.account]

    def _iam(self, region: str) -> Any:
        """IAM of the Region's partition: moto refuses a function a role of another one."""
        return iam_backends[self.account][partition_of(region)]

    def ensure_role(self, name: str, region: str) -> str:
        """The ARN of the execution role ``name`` in the partition of ``region``, created if
        missing."""
        if name.startswith("arn:"):
            return name
        iam = self._iam(region)
        for role in iam.get_roles():
            if role.name == name:
                return str(role.arn)
        role = iam.create_role(
            role_name=name,
            assume_role_policy_document=LAMBDA_TRUST_POLICY,
            path="/",
            permissions_boundary=None,
            description="",
            tags=[],
            max_session_duration=None,
        )
        return str(role.arn)

    def get_function(self, region: str, name: str, qualifier: str | None) -> dict[str, Any]:
        """GetFunction's answer for the plain function ``name``, as moto's API gives it."""
        with _refusals():
            answer: dict[str, Any] = self._lambda[region].get_function(name, qualifier).get_code()
        self._qualify(answer["Configuration"], qualifier)
        return answer

    def get_function_configuration(
        self, region: str, name: str, qualifier: str | None
    ) -> dict[str, Any]:
        """GetFunctionConfiguration's answer for the plain function ``name``, as moto's API."""
        with _refusals():
            function = self._lambda[region].get_function(name, qualifier)
            answer: dict[str, Any] = function.get_configuration()
        self._qualify(answer, qualifier)
        return answer

    @staticmethod
    def _qualify(config: dict[str, Any], qualifier: str | None) -> None:
        """What moto's API adds for $LATEST (its LambdaResponse._set_configuration_qualifier)."""
        if qualifier is None or qualifier == "$LATEST":
            config["Version"] = "$LATEST"
        if qualifier == "$LATEST":
            config["FunctionArn"] += ":$LATEST"

    def published(self, region: str, name: str) -> int | None:
        """How many versions the function has published, or None if it does not exist."""
        with _refusals():
            versions = list(self._lambda[region].list_versions_by_function(name))
        return len(versions) - 1 if versions else None

    def create_function(self, region: str, name: str, role: str, code: str) -> None:
        with _refusals():
            self._lambda[region].create_function(
                {
                    "FunctionName": name,
                    "Runtime": "python3.12",
                    "Role": role,
                    "Handler": "index.handler",
                    "Code": {"ZipFile": code},
                }
            )

    def publish(self, region: str, name: str, role: str, code: str) -> str:
        """Publish a new version of ``name`` with ``code`` (which must differ from $LATEST's)
        and ``role``; returns its number."""
        backend = self._lambda[region]
        with _refusals():
            if backend.get_function(name).role != role:
                backend.update_function_configuration(name, None, {"Role": role})
            backend.update_function_code(name, None, {"ZipFile": code})
            version = backend.publish_version(name)
        assert version is not None, "moto publishes after a code change"
        return str(version.version)

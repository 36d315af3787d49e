"""moto, as the sandbox reaches it: its HTTP API by service, and its state for seeding.

``MotoServer`` serves moto's HTTP API in process. moto's own dispatcher works out which service a
request is for by trying the credential scope against its 170-odd service modules on every
request (about 2 ms each, more than moto takes to answer). The sandbox already names the service
of every request from its credential scope, so it keeps one moto application per service and
leaves to moto's dispatcher only what it cannot name (moto's own ``/moto-api``).

``MotoState`` writes seeds straight into moto's backends: a function with 13 versions is one
call here against about 40 requests through the HTTP API. Only seeding uses it; every request a
client makes goes through the HTTP API, as it would against AWS. moto's backends are the state
moto documents for tests to arrange; the sandbox pins moto's minor version (pyproject.toml).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from moto.awslambda.models import lambda_backends
from moto.core.exceptions import ServiceException
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.exceptions import HTTPException

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/")

# Signing names the sandbox serves, and the moto backend behind each. Anything else goes to
# moto's dispatcher, which finds it the slow way.
BACKEND_OF_SERVICE = {
    "lambda": "lambda",
    "iam": "iam",
    "sts": "sts",
    "monitoring": "cloudwatch",
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


class MotoServer:
    """moto's HTTP API, one application per service, built on first use."""

    def __init__(self) -> None:
        self._dispatcher: WSGIApp = DomainDispatcherApplication(create_backend_app)
        self._apps: dict[str, WSGIApp] = {}
        self._lock = threading.Lock()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        backend = BACKEND_OF_SERVICE.get(match["service"]) if match else None
        if backend is None:
            return self._dispatcher(environ, start_response)
        app = self._apps.get(backend)
        if app is None:
            with self._lock:
                app = self._apps.get(backend)
                if app is None:
                    # moto builds a service's request router on its first request, unguarded:
                    # concurrent first requests would each build one (70 ms apiece for Lambda).
                    # The first request runs alone; the application is shared after it.
                    app = cast(WSGIApp, create_backend_app(backend))  # type: ignore[arg-type]
                    first = list(app(environ, start_response))
                    self._apps[backend] = app
                    return first
        return app(environ, start_response)


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

    @property
    def _iam(self) -> Any:
        return iam_backends[self.account]["aws"]

    def ensure_role(self, name: str) -> str:
        """The ARN of the execution role ``name``, created if missing."""
        if name.startswith("arn:"):
            return name
        for role in self._iam.get_roles():
            if role.name == name:
                return str(role.arn)
        role = self._iam.create_role(
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

"""The sandbox's WSGI application: a layer in front of moto's server.

The layer names every call, counts it, applies the realism switches, answers the alias API itself
and passes everything else to moto. It reaches moto through moto's own HTTP API, in process, and
for GetFunction (most of what a plan sends) through moto's state, as reconciler/sandbox/backends.py
describes; moto's internals stay behind that module.
"""

from __future__ import annotations

import io
import json
import random
import re
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from werkzeug.test import EnvironBuilder, run_wsgi_app

from reconciler import contract
from reconciler.sandbox import functiongraph as fgs
from reconciler.sandbox import huawei_iam
from reconciler.sandbox.aliases import (
    AliasService,
    ApiError,
    Scope,
    VersionConfig,
    ascii_count,
    qualifier_problem,
)
from reconciler.sandbox.backends import CREDENTIAL_SCOPE, MotoServer, MotoState, Refused
from reconciler.sandbox.functions import Revisions
from reconciler.sandbox.realism import (
    FaultKind,
    FaultRule,
    OutOfBandWrite,
    Realism,
    retry_after_seconds,
)
from reconciler.sandbox.serving import reset as reset_connection

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
DEFAULT_ACCOUNT = "123456789012"  # moto's account for any credentials it has not been told about
DEFAULT_REGION = "us-east-1"
ADMIN_PREFIX = "/_sandbox"

_LAMBDA_ROUTES: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (
        re.compile(r"/2015-03-31/functions/(?P<fn>[^/]+)/aliases/?"),
        {"GET": "ListAliases", "POST": "CreateAlias"},
    ),
    (
        re.compile(r"/2015-03-31/functions/(?P<fn>[^/]+)/aliases/(?P<alias>[^/]+)"),
        {"GET": "GetAlias", "PUT": "UpdateAlias", "DELETE": "DeleteAlias"},
    ),
    (re.compile(r"/2015-03-31/functions/?"), {"GET": "ListFunctions", "POST": "CreateFunction"}),
    (
        re.compile(r"/2015-03-31/functions/(?P<fn>[^/]+)/?"),
        {"GET": "GetFunction", "DELETE": "DeleteFunction"},
    ),
    (
        re.compile(r"/2015-03-31/functions/(?P<fn>[^/]+)/configuration/?"),
        {"GET": "GetFunctionConfiguration", "PUT": "UpdateFunctionConfiguration"},
    ),
    (re.compile(r"/2015-03-31/functions/(?P<fn>[^/]+)/code/?"), {"PUT": "UpdateFunctionCode"}),
    (
        re.compile(r"/2015-03-31/functions/(?P<fn>[^/]+)/versions/?"),
        {"GET": "ListVersionsByFunction", "POST": "PublishVersion"},
    ),
    (re.compile(r"/2015-03-31/functions/(?P<fn>[^/]+)/invocations/?"), {"POST": "Invoke"}),
    (
        re.compile(r"/2017-03-31/tags/(?P<arn>.+)"),
        {"GET": "ListTags", "POST": "TagResource", "DELETE": "UntagResource"},
    ),
    (
        re.compile(r"/2015-03-31/functions/(?P<fn>[^/]+)/policy/?"),
        {"GET": "GetPolicy", "POST": "AddPermission"},
    ),
    (
        re.compile(r"/2015-03-31/functions/(?P<fn>[^/]+)/policy/(?P<sid>[^/]+)/?"),
        {"DELETE": "RemovePermission"},
    ),
    (
        re.compile(r"/2019-09-30/functions/(?P<fn>[^/]+)/provisioned-concurrency/?"),
        {
            "GET": "GetProvisionedConcurrencyConfig",
            "PUT": "PutProvisionedConcurrencyConfig",
            "DELETE": "DeleteProvisionedConcurrencyConfig",
        },
    ),
]


@dataclass(frozen=True)
class Call:
    """One request, named."""

    service: str
    operation: str
    scope: Scope
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    params: dict[str, str]  # path parameters: fn, alias; on FunctionGraph, unsigned, endpoint


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 404: "Not Found"}


def json_reply(status: int, body: Any, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    data = b"" if body is None else json.dumps(body).encode()
    return Reply(status, [("Content-Type", "application/json"), *headers], data)


def run(app: WSGIApp, environ: dict[str, Any]) -> Reply:
    """Call a WSGI application in process and collect its whole answer."""
    app_iter, status, headers = run_wsgi_app(app, environ, buffered=True)
    try:
        data = b"".join(app_iter)
    finally:
        close = getattr(app_iter, "close", None)
        if close is not None:
            close()
    return Reply(int(status.split()[0]), list(headers.items()), data)


def error_reply(error: ApiError, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    body = {"Type": "User", "Message": error.message, "message": error.message}
    return json_reply(error.status, body, [("x-amzn-ErrorType", error.code), *headers])


class MotoDirectory:
    """Functions and versions as moto knows them: read from moto's state as its API answers
    (``MotoState``), and ``call`` for anything else of moto's API, in process.

    moto keeps no dead-letter configuration, so this layer remembers the one each function was
    given and each version was published with.
    """

    def __init__(self, moto: WSGIApp, state: MotoState, account: str = DEFAULT_ACCOUNT) -> None:
        self._moto = moto
        self._state = state
        self.account = account
        self._dead_letters: dict[tuple[str, str, str, str], str | None] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._dead_letters.clear()

    def call(
        self,
        method: str,
        path: str,
        region: str,
        *,
        service: str = "lambda",
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        """One call to moto, in process."""
        auth = (
            "AWS4-HMAC-SHA256 Credential=sandbox/20250101/"
            f"{region}/{service}/aws4_request, SignedHeaders=host, Signature=0"
        )
        environ = EnvironBuilder(
            path=path,
            method=method,
            query_string=urlencode(dict(query or {})),
            data=body,
            headers=[
                ("Authorization", auth),
                ("Content-Type", content_type),
                ("X-Moto-Account-Id", self.account),
            ],
        ).get_environ()
        reply = run(self._moto, environ)
        return reply.status, reply.body

    def function_exists(self, account: str, region: str, name: str) -> bool:
        try:
            self._state.get_function_configuration(region, name, None)
        except Refused:
            return False
        return True

    def version_config(
        self, account: str, region: str, name: str, version: str
    ) -> VersionConfig | None:
        try:
            config = self._state.get_function_configuration(region, name, version)
        except Refused:
            return None
        if config.get("Version") != version:
            return None
        return VersionConfig(
            role=config.get("Role", ""),
            dead_letter_target=self.dead_letter(account, region, name, version),
        )

    def set_dead_letter(
        self, account: str, region: str, name: str, version: str, target: str | None
    ) -> None:
        with self._lock:
            self._dead_letters[(account, region, name, version)] = target

    def dead_letter(self, account: str, region: str, name: str, version: str) -> str | None:
        with self._lock:
            return self._dead_letters.get((account, region, name, version))

    def remember(self, call: Call, reply: Reply) -> None:
        """Keep the dead-letter configuration a successful write gave $LATEST (moto drops it)."""
        if reply.status >= 300 or call.operation not in (
            "CreateFunction",
            "UpdateFunctionConfiguration",
        ):
            return
        request = json.loads(call.body or b"{}")
        if "DeadLetterConfig" in request:
            name = request.get("FunctionName") or call.params["fn"]
            target = (request["DeadLetterConfig"] or {}).get("TargetArn") or None
            key = (call.scope.account, call.scope.region, _plain(name), contract.LATEST)
            with self._lock:
                self._dead_letters[key] = target


def _plain(function: str) -> str:
    """The bare name of a function given by name, partial ARN or ARN (moto accepted it)."""
    try:
        return contract.parse_function_name(function).name
    except ValueError:
        return function


class SandboxApp:
    """The WSGI application: admin endpoint, alias API, and moto for the rest."""

    def __init__(
        self,
        moto: WSGIApp,
        state: MotoState,
        realism: Realism | None = None,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self.moto = moto
        self.state = state
        self.account = account
        self.realism = realism or Realism()
        self.functions = MotoDirectory(moto, state, account)
        self.aliases = AliasService(self.functions, self.realism)
        self.functiongraph = fgs.FunctionGraphService()
        self.huawei_iam = huawei_iam.HuaweiIam()
        self.revisions = Revisions()
        self.admin: Callable[[str, str, bytes], Reply] | None = None
        self._overrides: dict[str, Callable[[Call, dict[str, Any]], Reply]] = {
            "CreateFunction": self._create_function,
            "ListFunctions": self._list_functions,
            "GetFunction": self._get_function,
            "GetFunctionConfiguration": self._get_function,
            "UpdateFunctionCode": self._update_function,
            "UpdateFunctionConfiguration": self._update_function,
            "PublishVersion": self._publish_version,
            "ListVersionsByFunction": self._list_versions,
            "DeleteFunction": self._delete_function,
            "Invoke": self._invoke,
            "TagResource": self._tag_resource,
            "AddPermission": self._policy,
            "GetPolicy": self._policy,
            "RemovePermission": self._policy,
        }
        # Resource policies of aliases (moto keeps those of functions and versions), by
        # (account, Region, function, alias): statement id -> statement.
        self.alias_policies: dict[tuple[str, str, str, str], dict[str, dict[str, Any]]] = {}
        self._policies_lock = threading.Lock()

    def reset(self) -> None:
        MotoServer.reset()
        self.functions.reset()
        self.aliases.reset()
        self.functiongraph.reset()
        self.huawei_iam.reset()
        self.revisions.reset()
        self.realism.reset()
        with self._policies_lock:
            self.alias_policies = {}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        path = environ.get("PATH_INFO", "/")
        if path.startswith(ADMIN_PREFIX) and self.admin is not None:
            return self._send(start_response, self.admin(environ["REQUEST_METHOD"], path, body))
        if path.startswith(huawei_iam.PREFIX):  # OpenID Connect federation's two IAM calls
            status, extra, answer = self.huawei_iam.handle(
                environ["REQUEST_METHOD"], path, _headers(environ), body
            )
            return self._send(start_response, json_reply(status, answer, extra.items()))
        call = (
            self._name_functiongraph(environ, path, body)
            if path.startswith(fgs.PREFIX)
            else self._name(environ, path, body)
        )
        try:
            with self.realism.in_flight(call.operation):
                reply = self._handle(call, environ)
        except Exception:  # a sandbox bug must look like a 500 to the client, and be visible
            traceback.print_exc()
            reply = error_reply(ApiError(500, "ServiceException", "Sandbox internal error"))
        if reply is None:  # the server's own "connection dropped" path, which stays quiet
            raise ConnectionResetError("sandbox reset the connection on purpose")
        return self._send(start_response, reply)

    def _handle(self, call: Call, environ: dict[str, Any]) -> Reply | None:
        realism = self.realism
        functiongraph = call.service == fgs.SERVICE
        error = _fg_error_reply if functiongraph else error_reply
        realism.count(call.operation)
        # Counted against the quota when it arrives, as a service counts it; answered after the
        # latency either way (deciding after it let calls that arrived together through together).
        wait = realism.throttle(call.scope.account, call.scope.region, call.operation)
        realism.sleep_latency()
        if wait:
            return _fg_throttled(wait) if functiongraph else _throttled(wait)
        fault = realism.fault_for(call.operation)
        if fault is FaultKind.THROTTLE:
            return _fg_throttled(1.0) if functiongraph else _throttled(1.0)
        if fault is FaultKind.ERROR:
            return error(ApiError(500, "ServiceException", "Injected service error"))
        if fault is FaultKind.CONFLICT:
            return error(
                ApiError(
                    409, "ResourceConflictException", "An update is in progress for this alias"
                )
            )
        if fault is FaultKind.RESET:
            reset_connection(environ)
            return None
        reply = self._functiongraph(call) if functiongraph else self._dispatch(call, environ)
        for write in realism.pop_out_of_band(call.operation):
            if functiongraph:
                self.functiongraph.put_alias(
                    call.scope.account,
                    write.region or call.scope.region,
                    write.function,
                    write.alias,
                    **write.changes,
                )
            else:
                self._write_out_of_band(call.scope, write)
        if fault is FaultKind.COMMIT_THEN_ERROR:
            return error(ApiError(500, "ServiceException", "Injected error after commit"))
        if fault is FaultKind.COMMIT_THEN_RESET:
            reset_connection(environ)
            return None
        return reply

    def _dispatch(self, call: Call, environ: dict[str, Any]) -> Reply:
        try:
            if call.operation == "ListAliases":
                return json_reply(
                    *self.aliases.list_aliases(call.scope, call.params["fn"], call.query)
                )
            if call.operation == "CreateAlias":
                request = _json_body(call.body)
                return json_reply(
                    *self.aliases.create_alias(call.scope, call.params["fn"], request)
                )
            if call.operation == "GetAlias":
                fn, alias = call.params["fn"], call.params["alias"]
                return json_reply(*self.aliases.get_alias(call.scope, fn, alias))
            if call.operation == "UpdateAlias":
                fn, alias, request = call.params["fn"], call.params["alias"], _json_body(call.body)
                return json_reply(*self.aliases.update_alias(call.scope, fn, alias, request))
            if call.operation == "DeleteAlias":
                fn, alias = call.params["fn"], call.params["alias"]
                reply = json_reply(*self.aliases.delete_alias(call.scope, fn, alias))
                with self._policies_lock:  # an alias's policy goes with it
                    scope = call.scope
                    self.alias_policies.pop((scope.account, scope.region, _plain(fn), alias), None)
                return reply
            if "ProvisionedConcurrencyConfig" in call.operation:
                return self._provisioned(call)
            override = self._overrides.get(call.operation)
            if override is not None:
                return override(call, environ)
        except ApiError as error:
            return error_reply(error)
        return self._forward(environ)

    def _forward(self, environ: dict[str, Any]) -> Reply:
        """The request as it came, to moto."""
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = self.account  # moto serves the sandbox's one account
        return run(self.moto, environ)

    def _moto(
        self,
        call: Call,
        name: str,
        suffix: str = "",
        query: Mapping[str, str] | None = None,
        method: str | None = None,
    ) -> Reply:
        """The call, sent to moto for the plain function ``name`` with ``query`` instead (or,
        with ``method``, a read of that path)."""
        path = f"/2015-03-31/functions/{quote(name)}{suffix}"
        body = None if method else call.body or None
        status, data = self.functions.call(
            method or call.method, path, call.scope.region, query=query or {}, body=body
        )
        return Reply(status, [("Content-Type", "application/json")], data)

    # -- functions and versions: what moto lacks, one rule per method ----------------------------
    # Each method names the sentences of LAMBDA_CONTRACT.md ("Functions, versions and
    # qualifiers") it implements; everything else about functions and versions is moto's.

    def _decorate(self, scope: Scope, name: str, config: dict[str, Any]) -> None:
        """Contract: "Functions and versions carry a RevisionId too", and a version shows the
        dead-letter configuration it was published with (moto keeps none)."""
        version = config.get("Version", contract.LATEST)
        config["RevisionId"] = self.revisions.of(scope.account, scope.region, name, version)
        target = self.functions.dead_letter(scope.account, scope.region, name, version)
        if target:
            config["DeadLetterConfig"] = {"TargetArn": target}
        else:
            config.pop("DeadLetterConfig", None)

    def _decorated(self, scope: Scope, name: str, reply: Reply, key: str | None = None) -> Reply:
        if reply.status >= 300:
            return reply
        body = json.loads(reply.body)
        configs = body[key] if key else [body]
        for config in configs:
            self._decorate(scope, config.get("FunctionName") or name, config)
        return Reply(reply.status, reply.headers, json.dumps(body).encode())

    def _guard(self, scope: Scope, name: str, revision: object) -> None:
        """Contract: "PublishVersion, UpdateFunctionCode and UpdateFunctionConfiguration accept
        RevisionId and answer 412 PreconditionFailedException on a mismatch"."""
        if revision is None or not self.functions.function_exists(
            scope.account, scope.region, name
        ):
            return  # moto answers the missing function
        if revision != self.revisions.of(scope.account, scope.region, name, contract.LATEST):
            raise ApiError(
                412,
                "PreconditionFailedException",
                "The Revision Id provided does not match the latest Revision Id. "
                "Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
            )

    def _create_function(self, call: Call, environ: dict[str, Any]) -> Reply:
        reply = self._forward(environ)
        if reply.status < 300:
            name = json.loads(reply.body).get("FunctionName", "")
            self.revisions.forget(call.scope.account, call.scope.region, name)
            self.functions.remember(call, reply)
        return self._decorated(call.scope, "", reply)

    def _update_function(self, call: Call, environ: dict[str, Any]) -> Reply:
        """Contract: "$LATEST's RevisionId rotates on every UpdateFunctionCode,
        UpdateFunctionConfiguration (even one that changes nothing)"."""
        name, _ = _target(call)
        self._guard(call.scope, name, _json_body(call.body).get("RevisionId"))
        reply = self._forward(environ)
        if reply.status < 300:
            self.functions.remember(call, reply)
            self.revisions.rotate(call.scope.account, call.scope.region, name)
        return self._decorated(call.scope, name, reply)

    def _publish_version(self, call: Call, environ: dict[str, Any]) -> Reply:
        """Contract: "PublishVersion also accepts CodeSha256 and refuses a mismatch with 400
        InvalidParameterValueException. Publishing when nothing changed since the last version
        returns that version again (same number, same RevisionId), not a new one." $LATEST's
        RevisionId rotates when a version is published."""
        name, _ = _target(call)
        request = _json_body(call.body)
        self._guard(call.scope, name, request.get("RevisionId"))
        account, region = call.scope.account, call.scope.region
        listed = self._moto(call, name, "/versions", method="GET")
        if listed.status != 200:
            return Reply(listed.status, listed.headers, listed.body)
        versions = json.loads(listed.body).get("Versions", [])
        latest_sha = versions[0].get("CodeSha256") if versions else None
        sha = request.get("CodeSha256")
        if sha is not None and sha != latest_sha:
            raise ApiError(
                400,
                contract.INVALID_PARAMETER,
                f"CodeSHA256 ({sha}) is different from current CodeSHA256 in $LATEST "
                f"({latest_sha}). Please try again with the CodeSHA256 in $LATEST.",
            )
        reply = self._forward(environ)
        if reply.status < 300:
            version = json.loads(reply.body).get("Version")
            if version not in {v.get("Version") for v in versions}:
                self.revisions.rotate(account, region, name)
                latest = self.functions.dead_letter(account, region, name, contract.LATEST)
                self.functions.set_dead_letter(account, region, name, version, latest)
        return self._decorated(call.scope, name, reply)

    def _list_versions(self, call: Call, environ: dict[str, Any]) -> Reply:
        """Contract: "ListVersionsByFunction lists $LATEST first, then versions in ascending
        order"; at most 50 a page whatever MaxItems says."""
        name, _ = _target(call)
        window = _versions_window(call)
        reply = self._moto(call, name, "/versions")
        if reply.status != 200:
            return reply
        return self._decorated(call.scope, name, _versions_page(window, reply), "Versions")

    def _list_functions(self, call: Call, environ: dict[str, Any]) -> Reply:
        return self._decorated(call.scope, "", self._forward(environ), "Functions")

    def _get_function(self, call: Call, environ: dict[str, Any]) -> Reply:
        """Contract: "Qualifier on GetFunction / GetFunctionConfiguration may be $LATEST, a
        version number, or an alias name; an alias resolves to its version's configuration (the
        ARN in the answer is the alias ARN)." The qualifier checks are in _target."""
        name, qualifier = _target(call)
        version, alias = qualifier, None
        if qualifier is not None and not _is_version(qualifier):
            alias, version = qualifier, self.aliases.version_of(call.scope, name, qualifier)
            if version is None:  # the alias is missing, or the whole function is
                scope = call.scope
                exists = self.functions.function_exists(scope.account, scope.region, name)
                missing = f"{_arn(call, name)}:{alias}" if exists else _arn(call, name)
                raise ApiError(404, "ResourceNotFoundException", f"Function not found: {missing}")
        # Straight from moto's state, as its API answers: reads are most of what a plan sends,
        # and moto's HTTP layer costs more than the answer.
        region = call.scope.region
        try:
            if call.operation == "GetFunction":
                body = self.state.get_function(region, name, version)
                config = body["Configuration"]
            else:
                body = config = self.state.get_function_configuration(region, name, version)
        except Refused as refused:
            raise ApiError(refused.status, refused.code, refused.message) from None
        self._decorate(call.scope, name, config)
        if alias is not None:
            config["FunctionArn"] = f"{_arn(call, name)}:{alias}"
        return json_reply(200, body)

    def _policy(self, call: Call, environ: dict[str, Any]) -> Reply:
        """Contract: "Resource policies (AddPermission / GetPolicy) are kept per qualifier: an
        alias has its own." moto keeps those of functions and versions; this, those of aliases."""
        name, qualifier = _target(call)
        if qualifier is None or _is_version(qualifier):
            return self._forward(environ)
        scope = call.scope
        if self.aliases.version_of(scope, name, qualifier) is None:
            raise ApiError(
                404,
                "ResourceNotFoundException",
                f"Cannot find alias arn: {_arn(call, name)}:{qualifier}",
            )
        key = (scope.account, scope.region, name, qualifier)
        with self._policies_lock:
            statements = self.alias_policies.setdefault(key, {})
            if call.operation == "AddPermission":
                request = _json_body(call.body)
                sid = str(request.get("StatementId", ""))
                if sid in statements:
                    raise ApiError(
                        409,
                        "ResourceConflictException",
                        f"The statement id ({sid}) provided already exists. Please provide a new "
                        "statement id, or remove the existing statement.",
                    )
                statement = {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"Service": request.get("Principal")},
                    "Action": request.get("Action"),
                    "Resource": f"{_arn(call, name)}:{qualifier}",
                }
                statements[sid] = statement
                return json_reply(201, {"Statement": json.dumps(statement)})
            if call.operation == "RemovePermission":
                if statements.pop(call.params["sid"], None) is None:
                    raise ApiError(
                        404,
                        "ResourceNotFoundException",
                        "No policy is associated with the given resource.",
                    )
                return json_reply(204, None)
            if not statements:
                raise ApiError(
                    404, "ResourceNotFoundException", "The resource you requested does not exist."
                )
            policy = {
                "Version": "2012-10-17",
                "Id": "default",
                "Statement": list(statements.values()),
            }
            return json_reply(200, {"Policy": json.dumps(policy), "RevisionId": str(uuid.uuid4())})

    def _invoke(self, call: Call, environ: dict[str, Any]) -> Reply:
        """The sandbox runs no code (moto would need Docker): Invoke answers what the table says
        for the function (under its qualifier, else under none), and otherwise says so."""
        name, qualifier = _target(call)
        scope = call.scope
        if not self.functions.function_exists(scope.account, scope.region, name):
            raise ApiError(
                404, "ResourceNotFoundException", f"Function not found: {_arn(call, name)}"
            )
        executed = qualifier or contract.LATEST
        if qualifier is not None and not _is_version(qualifier):
            # "Invoke with an alias qualifier invokes the alias's version (weighted by its routing)"
            version = self.aliases.invoked_version(scope, name, qualifier, random.random)
            if version is None:
                missing = f"{_arn(call, name)}:{qualifier}"
                raise ApiError(404, "ResourceNotFoundException", f"Function not found: {missing}")
            executed = version
        result = self.realism.invoke_result(name, (qualifier, None))
        if result is None:
            raise ApiError(
                501,
                "SandboxCannotRunCode",
                f"The sandbox runs no function code, and has no answer for {name}: set one with "
                'sandbox.set_invoke_result(...) or POST /_sandbox/config {"invoke": [...]}',
            )
        if result.delay_seconds:
            time.sleep(result.delay_seconds)
        headers = [("X-Amz-Executed-Version", executed)]
        if result.function_error:
            headers.append(("X-Amz-Function-Error", result.function_error))
        return json_reply(200, result.payload, headers)

    def _tag_resource(self, call: Call, environ: dict[str, Any]) -> Reply:
        """AWS's limits on tags, which moto does not check: keys of 1-128 and values of 0-256
        characters, of letters, digits, spaces and _ . : / = + - @; no "aws:" prefix; at most
        50 tags on a function."""
        tags = _json_body(call.body).get("Tags")
        if not isinstance(tags, dict) or not tags:
            raise ApiError(400, contract.VALIDATION, "Tags must be a non-empty map")
        for key, value in tags.items():
            problem = _tag_problem(str(key), value)
            if problem:
                raise ApiError(400, contract.INVALID_PARAMETER, problem)
        status, data = self.functions.call("GET", call.path, call.scope.region)
        if status == 200:
            existing = json.loads(data).get("Tags") or {}
            if len(set(existing) | set(tags)) > TAGS_MAX:
                raise ApiError(
                    400,
                    contract.INVALID_PARAMETER,
                    f"A resource can have at most {TAGS_MAX} tags",
                )
        return self._forward(environ)

    def _delete_function(self, call: Call, environ: dict[str, Any]) -> Reply:
        """Delete the function, or one version of it; not $LATEST alone, nor an alias."""
        name, qualifier = _target(call)
        if qualifier == contract.LATEST:
            raise ApiError(
                400,
                contract.INVALID_PARAMETER,
                "$LATEST version cannot be deleted without deleting the function.",
            )
        if qualifier is not None and not _is_version(qualifier):
            raise ApiError(
                400, contract.INVALID_PARAMETER, "Deletion of aliases is not currently supported."
            )
        reply = self._moto(call, name, "", {"Qualifier": qualifier} if qualifier else {})
        if reply.status < 300:
            account, region = call.scope.account, call.scope.region
            if qualifier is None:
                self.aliases.forget_function(call.scope, name)
            else:
                self.aliases.forget_version(call.scope, name, qualifier)
            self.revisions.forget(account, region, name, qualifier)
        return reply

    def _provisioned(self, call: Call) -> Reply:
        fn, qualifier = call.params["fn"], call.query.get("Qualifier")
        if call.operation.startswith("Put"):
            request = _json_body(call.body)
            return json_reply(
                *self.aliases.put_provisioned_concurrency(call.scope, fn, qualifier, request)
            )
        if call.operation.startswith("List"):
            return json_reply(
                *self.aliases.list_provisioned_concurrency(call.scope, fn, call.query)
            )
        if call.operation.startswith("Get"):
            return json_reply(*self.aliases.get_provisioned_concurrency(call.scope, fn, qualifier))
        return json_reply(*self.aliases.delete_provisioned_concurrency(call.scope, fn, qualifier))

    def _name_functiongraph(self, environ: dict[str, Any], path: str, body: bytes) -> Call:
        """A FunctionGraph request, named; its project and Region are those of the function's
        URN (the SDK's signature names no Region)."""
        method = environ["REQUEST_METHOD"]
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        endpoint = str(environ.get(fgs.ENDPOINT_REGION, ""))
        request = fgs.name_request(method, path, endpoint)
        operation = f"{fgs.SERVICE}:{request.operation if request else 'Unknown'}"
        scope = Scope(request.project if request else "", request.region if request else "", "")
        headers = _headers(environ)
        params: dict[str, str] = {"endpoint": endpoint}
        if fgs.signature_problem(headers) is not None:
            params["unsigned"] = "Incorrect IAM authentication information"
        elif problem := self.huawei_iam.security_token_problem(headers):
            params["unsigned"] = f"Incorrect IAM authentication information: {problem}"
        return Call(fgs.SERVICE, operation, scope, method, path, query, body, params)

    def _functiongraph(self, call: Call) -> Reply:
        """Answer a FunctionGraph request: signed as the SDK signs, then the API."""
        try:
            if call.params.get("unsigned"):
                raise fgs.FgError(401, "APIGW.0301", call.params["unsigned"])
            request = fgs.name_request(call.method, call.path, call.params["endpoint"])
            if request is None:
                raise fgs.FgError(404, "FSS.0404", "Not found the resource")
            status, body = self.functiongraph.handle(request, call.body, call.query)
            if request.operation == "InvokeFunction":
                return self._fg_invoke(request, str(body["function"]))
        except fgs.FgError as error:
            return json_reply(error.status, error.body())
        if status == 204:
            return Reply(204, [], b"")
        return json_reply(status, body)

    def _fg_invoke(self, request: fgs.FgRequest, name: str) -> Reply:
        """FunctionGraph's synchronous invocation, answered from the same table as Lambda's
        Invoke (the sandbox runs no code): the answer's text in ``result``, ``status`` 200 when
        the function returned and otherwise not, as the SDK's InvokeFunctionResponse reads it."""
        qualifier = request.urn.split(":")[7] if request.urn.count(":") >= 7 else None
        result = self.realism.invoke_result(name, (qualifier, None))
        if result is None:
            raise fgs.FgError(
                501,
                "SandboxCannotRunCode",
                f"The sandbox runs no function code, and has no answer for {name}: set one with "
                'sandbox.set_invoke_result(...) or POST /_sandbox/config {"invoke": [...]}',
            )
        if result.delay_seconds:
            time.sleep(result.delay_seconds)
        request_id = str(uuid.uuid4())
        answer = {
            "request_id": request_id,
            "result": json.dumps(result.payload),
            "log": "",
            "status": 500 if result.function_error else 200,
        }
        return json_reply(200, answer, [("X-Cff-Request-Id", request_id)])

    def _write_out_of_band(self, scope: Scope, write: OutOfBandWrite) -> None:
        target = Scope(scope.account, write.region or scope.region, scope.partition)
        self.aliases.put(target, write.function, {"Name": write.alias, **write.changes})

    def _name(self, environ: dict[str, Any], path: str, body: bytes) -> Call:
        match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        region = match["region"] if match else DEFAULT_REGION
        service = match["service"] if match else "lambda"
        method = environ["REQUEST_METHOD"]
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        scope = Scope(self.account, region, contract.partition_of(region))
        operation, params = "Unknown", {}
        if service == "lambda":
            for pattern, methods in _LAMBDA_ROUTES:
                route = pattern.fullmatch(path)
                if route is not None and method in methods:
                    operation, params = methods[method], route.groupdict()
                    break
            else:
                operation = "OtherLambdaCall"
            if operation == "GetProvisionedConcurrencyConfig" and query.get("List") == "ALL":
                operation = "ListProvisionedConcurrencyConfigs"  # the same path, listed
        elif target := environ.get("HTTP_X_AMZ_TARGET"):
            operation = f"{service}:{target.rsplit('.', 1)[-1]}"
        else:
            form = parse_qs(body.decode("utf-8", "replace")) if body else {}
            action = form.get("Action", [query.get("Action", "Unknown")])[-1]
            operation = f"{service}:{action}"
        return Call(service, operation, scope, method, path, query, body, params)

    @staticmethod
    def _send(start_response: Callable[..., Any], reply: Reply) -> list[bytes]:
        reason = _REASONS.get(reply.status, "")
        headers = [(k, v) for k, v in reply.headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(reply.body))))
        # "Every answer carries an x-amzn-RequestId header": moto's own answers have one; the
        # layer's (alias API, throttles, faults, admin) get theirs here.
        if not any(k.lower() == "x-amzn-requestid" for k, _ in headers):
            headers.append(("x-amzn-RequestId", str(uuid.uuid4())))
        start_response(f"{reply.status} {reason}".rstrip(), headers)
        return [reply.body]


def _target(call: Call) -> tuple[str, str | None]:
    """The plain function name and the qualifier a call names, by ARN or by Qualifier.

    "A function ARN that already carries a qualifier and a Qualifier parameter that disagrees is
    400 InvalidParameterValueException; an invalid qualifier is a ValidationException."
    """
    function, asked = call.params["fn"], call.query.get("Qualifier")
    if asked is not None and (problem := qualifier_problem(asked)):
        raise problem
    try:
        ref = contract.parse_function_name(function)
    except ValueError:
        raise ApiError(
            400,
            contract.VALIDATION,
            f"1 validation error detected: Value '{function}' at 'functionName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern",
        ) from None
    if ref.qualifier is not None and asked is not None and ref.qualifier != asked:
        raise ApiError(
            400,
            contract.INVALID_PARAMETER,
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
    scope = call.scope
    if (ref.region and ref.region != scope.region) or (
        ref.account and ref.account != scope.account
    ):
        raise ApiError(404, "ResourceNotFoundException", f"Function not found: {function}")
    return ref.name, asked if asked is not None else ref.qualifier


TAGS_MAX = 50
_TAG_CHARACTERS = "letters, digits, spaces and _.:/=+-@"
_TAG_TEXT = re.compile(r"[\w .:/=+\-@]*")


def _tag_problem(key: str, value: object) -> str | None:
    """Why AWS refuses this tag, in its words, or None."""
    if not isinstance(value, str):
        return f"Tag value for {key} must be a string"
    if not 1 <= len(key) <= 128 or not _TAG_TEXT.fullmatch(key):
        return f"Tag key {key!r} must be 1-128 characters of {_TAG_CHARACTERS}"
    if key.lower().startswith("aws:"):
        return "Tag keys starting with aws: are reserved for AWS use"
    if len(value) > 256 or not _TAG_TEXT.fullmatch(value):
        return f"Tag value for {key} must be 0-256 characters of {_TAG_CHARACTERS}"
    return None


def _is_version(qualifier: str) -> bool:
    """$LATEST or a version number; any other qualifier names an alias."""
    return (
        qualifier == contract.LATEST
        or contract.PUBLISHED_VERSION_RE.fullmatch(qualifier) is not None
    )


def _arn(call: Call, name: str) -> str:
    scope = call.scope
    return f"arn:{scope.partition}:lambda:{scope.region}:{scope.account}:function:{name}"


VERSIONS_PAGE_MAX = 50  # ListVersionsByFunction's own page limit, whatever MaxItems asks


def _versions_window(call: Call) -> tuple[int, int]:
    """Where a ListVersionsByFunction page starts and how long it is, checked before moto."""
    raw = call.query.get("MaxItems", str(VERSIONS_PAGE_MAX))
    count = ascii_count(raw)
    if count is None or not 1 <= count <= contract.LIST_MAX_ITEMS:
        raise ApiError(
            400,
            contract.VALIDATION,
            f"1 validation error detected: Value '{raw}' at 'maxItems' failed to satisfy "
            f"constraint: Member must have value between 1 and {contract.LIST_MAX_ITEMS}",
        )
    marker = call.query.get("Marker", "")
    start = ascii_count(marker) if marker else 0
    if start is None:
        raise ApiError(400, contract.INVALID_PARAMETER, f"Invalid marker: {marker}")
    return start, min(count, VERSIONS_PAGE_MAX)


def _versions_page(window: tuple[int, int], reply: Reply) -> Reply:
    """One page of moto's (unpaginated) version list, as the service pages it."""
    start, size = window
    body = json.loads(reply.body)
    versions = body.get("Versions", [])
    page: dict[str, Any] = {"Versions": versions[start : start + size]}
    if start + size < len(versions):
        page["NextMarker"] = str(start + size)
    return json_reply(200, page)


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise ApiError(
            400, "InvalidRequestContentException", "Could not parse request body"
        ) from None
    if not isinstance(data, dict):
        raise ApiError(400, "InvalidRequestContentException", "Request body must be an object")
    return data


def _fg_error_reply(error: ApiError, headers: Iterable[tuple[str, str]] = ()) -> Reply:
    """An injected fault, as FunctionGraph answers errors."""
    return json_reply(
        error.status, {"error_code": f"FSS.0{error.status}", "error_msg": error.message}
    )


def _fg_throttled(wait: float) -> Reply:
    seconds = retry_after_seconds(wait)
    body = {"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached"}
    return json_reply(429, body, [("Retry-After", str(seconds))])


def _throttled(wait: float) -> Reply:
    seconds = retry_after_seconds(wait)
    body = {
        "Type": "User",
        "message": "Rate exceeded",
        "Reason": "CallerRateLimitExceeded",
        "retryAfterSeconds": str(seconds),
    }
    return json_reply(
        429, body, [("x-amzn-ErrorType", "TooManyRequestsException"), ("Retry-After", str(seconds))]
    )


__all__ = ["FaultKind", "FaultRule", "OutOfBandWrite", "SandboxApp"]


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """A WSGI request's headers, by lower-case name."""
    return {
        k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")
    }

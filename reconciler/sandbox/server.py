"""The sandbox server: a local AWS Lambda control plane on 127.0.0.1.

    with Sandbox() as sandbox:
        sandbox.seed({"functions": [{"name": "payments-api", "versions": 3}]})
        client = boto3.client("lambda", endpoint_url=sandbox.url, region_name="eu-west-1", ...)

Admin endpoint (JSON), under ``/_sandbox``:
    GET  /stats            calls by operation, reads and writes, throttles, faults
    DELETE /stats          zero the counters
    GET|POST /config       {"quotas": "aws" | {...} | null, "latency_ms": N, "faults": [...],
                            "provisioned_ready_seconds": N, "refuse_weighted_provisioned": bool,
                            "invoke": [...], "hooks": [{"function", "answer", "delay_seconds"}]}
    POST /faults           add one fault rule {"kind", "operation", "count" | "rate"}
    POST /out-of-band      change an alias after the next matching call {"after", "function", ...}
    POST /aliases/REGION/FUNCTION   change an alias now, as another writer would
    POST /functiongraph/aliases/PROJECT/REGION/FUNCTION   the same for a FunctionGraph alias
    POST /alarms           a CloudWatch alarm {"name", "state": OK | ALARM | ..., "region"}
    POST /seed             a seed document (YAML or JSON)
    POST /reset            forget everything: functions, aliases, switches, counters
"""

from __future__ import annotations

import base64
import io
import threading
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import yaml

from reconciler import functiongraph as fg
from reconciler.errors import SeedError
from reconciler.sandbox.aliases import ApiError, Scope
from reconciler.sandbox.app import (
    ADMIN_PREFIX,
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    Reply,
    SandboxApp,
    error_reply,
    json_reply,
)
from reconciler.sandbox.backends import MotoServer, MotoState, Refused, botocore_loader
from reconciler.sandbox.functiongraph import ENDPOINT_REGION, FgError, FunctionGraphSeed
from reconciler.sandbox.realism import (
    AWS_QUOTAS,
    FaultKind,
    FaultRule,
    InvokeResult,
    OutOfBandWrite,
    Realism,
)
from reconciler.sandbox.seed import LOADER, FunctionSeed, load_seed_file, parse_seed
from reconciler.sandbox.serving import Server, WSGIApp


class Sandbox:
    """One sandbox server, started on a free port unless told otherwise."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        region: str = DEFAULT_REGION,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        self.region = region
        self.account = account
        self.realism = Realism()
        self._state = MotoState(account)
        self.app = SandboxApp(MotoServer(), self._state, self.realism, account)
        self.app.admin = self._admin
        self._server = Server((host, port), self.app)
        self._thread: threading.Thread | None = None
        self._host = host
        self._region_servers: dict[str, tuple[Server, threading.Thread]] = {}
        self._region_lock = threading.Lock()
        self._seed_lock = threading.Lock()
        self._code_serial = 0

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def region_url(self, region: str) -> str:
        """The FunctionGraph endpoint of one Region, as Huawei Cloud has one per Region
        (``functiongraph.REGION.myhuaweicloud.com``): a port of its own, opened on first use,
        serving the same sandbox. The shared ``url`` serves every Region for the calls that name
        their function's URN; ListFunctions names none, so it is answered on a Region's endpoint
        only, for that Region. (The SDK keeps only an endpoint's host and port, so a path prefix
        could not tell Regions apart.)"""
        if fg.REGION_RE.fullmatch(region) is None:
            raise ValueError(f"{region!r} is not a Huawei Cloud Region such as ap-southeast-1")
        with self._region_lock:
            if region not in self._region_servers:
                server = Server((self._host, 0), _in_region(self.app, region))
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.02},
                    name=f"sandbox-{region}",
                    daemon=True,
                )
                thread.start()
                self._region_servers[region] = (server, thread)
            server = self._region_servers[region][0]
        return f"http://{server.host}:{server.port}"

    @property
    def botocore_loader(self) -> Any:
        """botocore's data loader as moto in this process uses it, models parsed: for the boto3
        clients of the same process to share (``AwsLambdaProvider(botocore_loader=...)``)."""
        return botocore_loader()

    def start(self) -> Sandbox:
        if self._thread is None:
            self._thread = threading.Thread(
                # Polled often, so that stop() returns at once rather than after up to 0.5 s.
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name="sandbox",
                daemon=True,
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._region_lock:
            regional, self._region_servers = list(self._region_servers.values()), {}
        for server, thread in regional:
            server.shutdown()
            server.server_close()
            server.close_connections()
            thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- state -----------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every function, alias, switch and counter."""
        self.app.reset()

    def stats(self) -> dict[str, Any]:
        return self.realism.stats.to_dict()

    def reset_stats(self) -> None:
        self.realism.reset_stats()

    def seed(self, data: Mapping[str, Any]) -> None:
        self.seed_functions(parse_seed(data, self.region))

    def seed_file(self, path: Path) -> None:
        functions = load_seed_file(path, self.region)
        try:
            self.seed_functions(functions)
        except SeedError as exc:
            raise SeedError(f"{path}: {exc}") from None

    def seed_functions(self, functions: Sequence[FunctionSeed | FunctionGraphSeed]) -> None:
        """Create the functions, publish their versions and create their aliases; not counted."""
        with self._seed_lock:
            for function in functions:
                if isinstance(function, FunctionGraphSeed):
                    try:
                        self.app.functiongraph.seed(function)
                    except FgError as exc:
                        raise SeedError(f"FunctionGraph {function.name}: {exc.message}") from None
                else:
                    self._seed_function(function)

    # -- switches --------------------------------------------------------------------------------

    def aws_quotas(self, enabled: bool = True) -> None:
        """AWS's per account and Region budgets: 15 requests/s shared, 100/s for GetFunction."""
        self.realism.set_quotas(AWS_QUOTAS if enabled else None)

    def set_quotas(self, quotas: Mapping[str, float] | None) -> None:
        self.realism.set_quotas(quotas)

    def set_latency(self, milliseconds: float) -> None:
        self.realism.latency_ms = milliseconds

    def add_fault(
        self,
        kind: FaultKind | str,
        operation: str = "*",
        *,
        count: int | None = 1,
        rate: float = 0.0,
    ) -> None:
        """Fail the next ``count`` calls matching ``operation`` (or, with ``count=None``, each with
        probability ``rate``)."""
        self.realism.add_fault(FaultRule(FaultKind(kind), operation, count, rate))

    def set_provisioned_ready_after(self, seconds: float) -> None:
        """A new provisioned concurrency configuration is IN_PROGRESS this long, then READY."""
        self.realism.provisioned_ready_seconds = seconds

    def set_invoke_result(
        self,
        function: str,
        qualifier: str | None = None,
        *,
        payload: Any = None,
        function_error: str | None = None,
    ) -> None:
        """What Invoke of ``function`` (under ``qualifier``, or any) answers: the sandbox runs no
        code. ``function_error`` ("Unhandled", "Handled") makes it a function's failure."""
        self.realism.set_invoke_result(function, qualifier, InvokeResult(payload, function_error))

    def set_hook(
        self, function: str, answer: str, *, qualifier: str | None = None, delay_seconds: float = 0
    ) -> None:
        """Invoke of ``function`` answers as a validator does: ``succeed`` ({"status":
        "Succeeded"}), ``fail`` ({"status": "Failed"}) or ``error`` (a function error), after
        ``delay_seconds``."""
        self.realism.set_invoke_result(
            function, qualifier, InvokeResult.hook(answer, delay_seconds)
        )

    def put_alarm(self, name: str, state: str = "OK", region: str | None = None) -> None:
        """A CloudWatch metric alarm named ``name``, in ``state`` (OK, ALARM, INSUFFICIENT_DATA),
        made through CloudWatch's own API (moto's)."""
        region = region or self.region
        self._cloudwatch(
            region,
            Action="PutMetricAlarm",
            AlarmName=name,
            MetricName="Errors",
            Namespace="AWS/Lambda",
            Statistic="Sum",
            Period="60",
            EvaluationPeriods="1",
            Threshold="1",
            ComparisonOperator="GreaterThanOrEqualToThreshold",
        )
        if state != "OK":
            self.set_alarm_state(name, state, region)

    def set_alarm_state(self, name: str, state: str, region: str | None = None) -> None:
        """Set an alarm's state now, as CloudWatch's SetAlarmState does."""
        self._cloudwatch(
            region or self.region,
            Action="SetAlarmState",
            AlarmName=name,
            StateValue=state,
            StateReason="set by the sandbox",
        )

    def _cloudwatch(self, region: str, **form: str) -> None:
        status, data = self.app.functions.call(
            "POST",
            "/",
            region,
            service="monitoring",
            body=urlencode({"Version": "2010-08-01", **form}).encode(),
            content_type="application/x-www-form-urlencoded",
        )
        if status >= 300:
            raise SeedError(f"CloudWatch {form['Action']} {form['AlarmName']}: {data[:300]!r}")

    def refuse_weighted_provisioned_aliases(self, refuse: bool = True) -> None:
        """Refuse (400) weighted routing on an alias with provisioned concurrency, and
        provisioned concurrency on a weighted alias. AWS does not document either way; off by
        default."""
        self.realism.refuse_weighted_provisioned = refuse

    def clear_faults(self) -> None:
        self.realism.configure({"faults": []})

    def change_alias_after(
        self, after: str, function: str, alias: str, region: str | None = None, **changes: Any
    ) -> None:
        """After the next call matching ``after`` completes, another writer changes the alias
        (keyword arguments as in CreateAlias/UpdateAlias: FunctionVersion=..., Description=...)."""
        self.realism.add_out_of_band(OutOfBandWrite(after, function, alias, changes, region))

    def change_alias(
        self, function: str, alias: str, region: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        """Create or change an alias now, as another writer would; returns it as GetAlias would."""
        scope = Scope(self.account, region or self.region)
        return self.app.aliases.put(scope, function, {"Name": alias, **changes})

    def change_functiongraph_alias(
        self, project: str, region: str, function: str, alias: str, **fields: Any
    ) -> dict[str, Any]:
        """Create or change a FunctionGraph alias now, as another writer would (fields as the
        API names them: version, description, additional_version_weights, ...); a new
        last_modified. ``KeyError`` if the function does not exist."""
        package = str(fields.pop("package", "default"))
        return self.app.functiongraph.put_alias(
            project, region, function, alias, package=package, **fields
        )

    # -- internals -------------------------------------------------------------------------------

    def _seed_function(self, function: FunctionSeed) -> None:
        """Into moto's state directly: seeding is arrangement, not traffic. A function that
        exists already is not created again; ``versions: N`` means at least N published."""
        state, account, region, name = self._state, self.account, function.region, function.name
        roles = {function.role} | {v.role for v in function.versions if v.role}
        try:
            arns = {role: state.ensure_role(role, region) for role in roles}
            published = state.published(region, name)
            if published is None:
                state.create_function(region, name, arns[function.role], self._code())
                published = 0
            for version in function.versions[published:]:
                role = arns[version.role or function.role]
                number = state.publish(region, name, role, self._code())
                dead_letter = version.dead_letter
                self.app.functions.set_dead_letter(account, region, name, number, dead_letter)
                self.app.revisions.rotate(account, region, name)  # as PublishVersion does
        except Refused as exc:
            raise SeedError(f"cannot seed function {name}: {exc.message[:300]}") from None
        for alarm in function.alarms:
            self.put_alarm(alarm.name, alarm.state, region)
        if function.hook is not None:
            self.set_hook(name, function.hook.answer, delay_seconds=function.hook.delay_seconds)
        scope = Scope(account, region)
        for alias in function.aliases:
            try:
                self.app.aliases.put(scope, name, alias.to_request())
                if alias.provisioned_concurrency:
                    self.app.aliases.put_provisioned_concurrency(
                        scope,
                        name,
                        alias.name,
                        {"ProvisionedConcurrentExecutions": alias.provisioned_concurrency},
                        ready=True,
                    )
            except ApiError as exc:
                raise SeedError(f"alias {name}:{alias.name}: {exc.message}") from None

    def _code(self) -> str:
        """A distinct zip each time, so every publish makes a new version."""
        self._code_serial += 1
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(
                "index.py", f"def handler(event, context):\n    return {self._code_serial}\n"
            )
        return base64.b64encode(buffer.getvalue()).decode()

    def _admin(self, method: str, path: str, body: bytes) -> Reply:
        route = path[len(ADMIN_PREFIX) :].strip("/")
        try:
            return self._admin_route(method, route, body)
        except (SeedError, ValueError, KeyError, TypeError) as exc:
            return error_reply(ApiError(400, "SandboxRequestError", str(exc)))
        except ApiError as exc:
            return error_reply(exc)

    def _admin_route(self, method: str, route: str, body: bytes) -> Reply:
        document: Any = yaml.load(body, Loader=LOADER) if body else {}
        if route == "stats" and method == "GET":
            return json_reply(200, self.stats())
        if route == "stats" and method == "DELETE":
            self.reset_stats()
            return json_reply(200, self.stats())
        if route == "config" and method == "GET":
            return json_reply(200, self.realism.describe())
        if route == "config" and method == "POST":
            self.realism.configure(document)
            return json_reply(200, self.realism.describe())
        if route == "faults" and method == "POST":
            self.realism.add_fault(FaultRule.from_dict(document))
            return json_reply(200, self.realism.describe())
        if route == "out-of-band" and method == "POST":
            changes = {
                k: v
                for k, v in document.items()
                if k not in {"after", "function", "alias", "region"}
            }
            self.change_alias_after(
                document["after"],
                document["function"],
                document["alias"],
                document.get("region"),
                **changes,
            )
            return json_reply(200, self.realism.describe())
        if route.startswith("aliases/") and method == "POST":
            _, region, function = route.split("/", 2)
            alias = document.pop("Name")
            return json_reply(200, self.change_alias(function, alias, region, **document))
        if route.startswith("functiongraph/aliases/") and method == "POST":
            _, _, project, region, function = route.split("/", 4)
            alias = str(document.pop("name"))
            changed = self.change_functiongraph_alias(project, region, function, alias, **document)
            return json_reply(200, changed)
        if route == "alarms" and method == "POST":
            self.put_alarm(
                str(document["name"]), str(document.get("state", "OK")), document.get("region")
            )
            return json_reply(200, {"alarm": document["name"]})
        if route == "seed" and method == "POST":
            self.seed(document)
            return json_reply(200, {"seeded": len((document or {}).get("functions") or [])})
        if route == "reset" and method == "POST":
            self.reset()
            return json_reply(200, {"reset": True})
        return error_reply(
            ApiError(404, "SandboxRouteNotFound", f"no admin route {method} /{route}")
        )


def _in_region(app: WSGIApp, region: str) -> WSGIApp:
    """The sandbox's application as a Region's own endpoint serves it: every request tagged
    with the Region it was sent to."""

    def serve(environ: dict[str, Any], start_response: Any) -> Any:
        environ[ENDPOINT_REGION] = region
        return app(environ, start_response)

    return serve

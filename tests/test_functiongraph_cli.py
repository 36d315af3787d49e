"""A mixed estate, Lambda and FunctionGraph manifests in one directory, planned, applied, drifted
against the sandbox over HTTP with the real SDKs; and the FunctionGraph provider's guard."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from reconciler.cli import main
from reconciler.errors import (
    MalformedAnswerError,
    NotFoundError,
    PreconditionFailedError,
    SeedError,
)
from reconciler.live import DesiredAlias, FunctionTarget, Route, RouteRule
from reconciler.providers.functiongraph import FunctionGraphProvider
from reconciler.sandbox import Sandbox
from tests.conftest import make_client

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REGION = "ap-southeast-1"
T = FunctionTarget(PROJECT, REGION, "payments", "", "functiongraph", "default")
FG_MANIFEST = f"""\
provider: functiongraph
function: payments
project: {PROJECT}
region: {REGION}
aliases:
  - name: live
    version: v3
    routing: {{version: v4, weight: 0.1}}
  - name: beta
    version: v3
    routing: {{version: v4, rules: [{{header: x-canary, in: [internal, qa]}}]}}
"""
LAMBDA_MANIFEST = """\
function: orders
region: eu-west-1
aliases:
  - name: live
    version: 2
"""


@pytest.fixture
def estate(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Both clouds' functions in the sandbox, the exports `sandbox serve` prints, and a
    directory holding a manifest of each."""
    sandbox.seed({"functions": [{"name": "orders", "versions": 2}]})
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=4)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "sandbox")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "sandbox")
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1", sandbox.url)
    directory = tmp_path / "manifests"
    directory.mkdir()
    (directory / "payments.yaml").write_text(FG_MANIFEST, encoding="utf-8")
    (directory / "orders.yaml").write_text(LAMBDA_MANIFEST, encoding="utf-8")
    return directory


def run(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--endpoint-url", sandbox.url])
    out, err = capsys.readouterr()
    return code, out, err


def fg_aliases(sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    aliases: dict[str, dict[str, Any]] = sandbox.app.functiongraph.aliases(
        PROJECT, REGION, "payments"
    )
    return aliases


def test_a_mixed_estate_plans_applies_and_then_has_no_drift(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(sandbox, capsys, "plan", str(estate))
    assert code == 0, err
    assert f"+ {PROJECT}/{REGION}/payments:live" in out
    assert f"+ {PROJECT}/{REGION}/payments:beta" in out
    assert "+ 123456789012/eu-west-1/orders:live" in out
    code, out, err = run(sandbox, capsys, "apply", str(estate), "--auto-approve")
    assert code == 0, out + err
    assert f"created  {PROJECT}/{REGION}/payments:live" in out
    live = fg_aliases(sandbox)["live"]
    assert (live["version"], live["additional_version_weights"]) == ("v3", {"v4": 10})
    code, out, _ = run(sandbox, capsys, "drift", str(estate))
    assert code == 0, out
    assert make_client(sandbox).get_alias(FunctionName="orders", Name="live")["FunctionVersion"]


def test_drift_and_an_update_report_the_weaker_guard(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(sandbox, capsys, "apply", str(estate), "--auto-approve")[0] == 0
    sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", "live", version="v2")
    code, out, _ = run(sandbox, capsys, "drift", str(estate))
    assert code == 2
    assert "payments:live" in out
    code, out, _ = run(sandbox, capsys, "apply", str(estate), "--auto-approve")
    assert code == 0
    assert "guarded by last_modified, best effort" in out


def test_a_saved_plan_is_refused_as_stale_when_another_writer_moved_the_alias(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", "live", version="v1")
    saved = tmp_path / "plan.json"
    assert run(sandbox, capsys, "plan", str(estate), "--out", str(saved))[0] == 0
    assert {c["provider"] for c in json.loads(saved.read_text())["changes"]} == {
        "lambda",
        "functiongraph",
    }
    sandbox.app.functiongraph.put_alias(
        PROJECT, REGION, "payments", "live", version="v2", description="hotfix by hand"
    )
    code, out, _ = run(sandbox, capsys, "apply", str(saved), "--auto-approve")
    assert code == 3, out
    assert f"stale    {PROJECT}/{REGION}/payments:live: it was changed by someone else" in out
    assert f"created  {PROJECT}/{REGION}/payments:beta" in out  # the rest still applied
    kept = fg_aliases(sandbox)["live"]
    assert (kept["version"], kept["description"]) == ("v2", "hotfix by hand")


def test_plan_with_the_embedded_sandbox_seeds_functiongraph_too(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["plan", str(estate), "--sandbox"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"+ {PROJECT}/{REGION}/payments:live" in out


def test_a_missing_version_is_found_by_preflight(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (estate / "payments.yaml").write_text(FG_MANIFEST.replace("v4", "v9"), encoding="utf-8")
    code, _, err = run(sandbox, capsys, "plan", str(estate))
    assert code == 1
    assert "version v9 of" in err
    assert "payments.yaml:" in err


def test_more_than_ten_aliases_after_the_plan_is_refused_before_any_write(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for n in range(9):
        sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", f"hand{n}", version="v1")
    code, _, err = run(sandbox, capsys, "apply", str(estate), "--auto-approve")
    assert code == 1
    assert "would have 11 aliases after this plan; FunctionGraph keeps at most 10" in err
    assert "live" not in fg_aliases(sandbox)


def test_another_project_is_refused(
    sandbox: Sandbox,
    estate: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", "f" * 32)
    code, _, err = run(sandbox, capsys, "plan", str(estate))
    assert code == 1
    assert f"payments belongs to project {PROJECT}" in err


# -- the provider, over HTTP ---------------------------------------------------------------------


@pytest.fixture
def provider(sandbox: Sandbox) -> FunctionGraphProvider:
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=4)
    environ = {
        "HUAWEICLOUD_SDK_AK": "ak",
        "HUAWEICLOUD_SDK_SK": "sk",
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
        "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1": sandbox.url,
    }
    return FunctionGraphProvider(environ=environ)


def test_the_provider_reads_writes_and_refuses_a_moved_alias(
    sandbox: Sandbox, provider: FunctionGraphProvider
) -> None:
    rules = (RouteRule("x-canary", "in", "internal,qa"),)
    made = provider.create_alias(T, DesiredAlias("beta", "v3", None, Route("v4", 0.0, rules)))
    assert made.routing == Route("v4", 0.0, rules, "and")
    assert provider.read_function(T).aliases == (made,)
    moved = sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", "beta", version="v2")
    assert moved["last_modified"]
    with pytest.raises(PreconditionFailedError):
        provider.update_alias(T, DesiredAlias("beta", "v1"), made.revision_id)
    current = provider.get_alias(T, "beta")
    assert current is not None
    assert current.version == "v2"
    updated = provider.update_alias(
        T, DesiredAlias("beta", "v1", "x", Route("v2", 0.25)), current.revision_id
    )
    assert (updated.version, updated.description, updated.routing) == ("v1", "x", Route("v2", 0.25))
    provider.delete_alias(T, "beta")
    provider.delete_alias(T, "beta")  # already gone: no error
    assert provider.get_alias(T, "beta") is None
    with pytest.raises(NotFoundError):
        provider.update_alias(T, DesiredAlias("beta", "v1"), updated.revision_id)


def test_the_provider_says_a_function_is_missing_and_which_versions_exist(
    provider: FunctionGraphProvider,
) -> None:
    assert not provider.read_function(
        FunctionTarget(PROJECT, REGION, "nope", "", "functiongraph", "default")
    ).exists
    assert provider.version_info(T, "v4") is not None
    assert provider.version_info(T, "v5") is None


def test_an_answer_the_api_does_not_define_is_an_error(
    sandbox: Sandbox, provider: FunctionGraphProvider
) -> None:
    sandbox.app.functiongraph.put_alias(
        PROJECT, REGION, "payments", "live", version="v1", additional_version_weights={"v2": 150}
    )
    with pytest.raises(MalformedAnswerError, match="refuses"):
        provider.read_function(T)


def test_a_seed_file_takes_functiongraph_functions_beside_lambda_ones(sandbox: Sandbox) -> None:
    sandbox.seed(
        {
            "functions": [
                {"name": "orders", "versions": 1},
                {
                    "name": "fg-orders",
                    "provider": "functiongraph",
                    "project": PROJECT,
                    "region": REGION,
                    "versions": 3,
                    "aliases": [
                        {
                            "name": "live",
                            "version": "v2",
                            "routing": {"version": "v3", "weight": 0.2},
                        }
                    ],
                },
            ]
        }
    )
    target = FunctionTarget(PROJECT, REGION, "fg-orders", "", "functiongraph", "default")
    environ = {
        "HUAWEICLOUD_SDK_AK": "ak",
        "HUAWEICLOUD_SDK_SK": "sk",
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
    }
    provider = FunctionGraphProvider(endpoint_url=sandbox.url, environ=environ)
    assert provider.versions(target) == {"latest", "v1", "v2", "v3"}
    (live,) = provider.read_function(target).aliases
    assert (live.version, live.routing) == ("v2", Route("v3", 0.2))
    assert make_client(sandbox).get_function(FunctionName="orders")["Configuration"]


def test_a_seed_the_service_would_refuse_is_an_error(sandbox: Sandbox) -> None:
    bad = {
        "name": "f",
        "provider": "functiongraph",
        "versions": 1,
        "aliases": [{"name": "live", "version": "v9"}],
    }
    with pytest.raises(SeedError, match="Not found the function version"):
        sandbox.seed({"functions": [bad]})
    with pytest.raises(SeedError, match="unknown keys: role"):
        sandbox.seed({"functions": [{**bad, "role": "x"}]})


def test_permissions_of_functiongraph_manifests_are_a_huawei_cloud_policy(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (estate / "orders.yaml").unlink()
    (estate / "payments.yaml").write_text(
        FG_MANIFEST.replace(f"region: {REGION}\n", f"region: {REGION}\nprune: true\n"),
        encoding="utf-8",
    )
    assert main(["permissions", "--apply", str(estate)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["Version"] == "1.1"
    write, prune = document["Statement"]
    assert "functiongraph:function:updateAlias" in write["Action"]
    assert prune["Action"] == [
        "functiongraph:function:deleteAlias",
        "functiongraph:function:getAlias",
    ]
    assert prune["Resource"] == [f"FUNCTIONGRAPH:{REGION}:*:function:default/payments"]


def test_groups_put_a_functiongraph_function_in_its_project_and_region(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["groups", str(estate), "--default-account", "123456789012"]) == 0
    include = json.loads(capsys.readouterr().out)["include"]
    fg_group = {"account": PROJECT, "region": REGION, "target": f"{PROJECT}/{REGION}/*"}
    assert {**fg_group, "provider": "functiongraph"} in include
    assert len(include) == 2


def test_import_writes_a_functiongraph_manifest_that_plans_empty(
    sandbox: Sandbox, estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(sandbox, capsys, "apply", str(estate), "--auto-approve")[0] == 0
    sandbox.app.functiongraph.put_alias(
        PROJECT, REGION, "payments", "hand", version="v2", description='a "quoted" # note'
    )
    out = tmp_path / "imported"
    args = ["import", "--provider", "functiongraph", "--function", "payments", "--region", REGION]
    code, _, err = run(sandbox, capsys, *args, "--out-dir", str(out))
    assert code == 0, err
    text = (out / "payments.yaml").read_text(encoding="utf-8")
    assert "provider: functiongraph\n" in text
    assert 'rules: [{header: "x-canary", in: ["internal", "qa"]}]' in text
    code, plan_out, err = run(sandbox, capsys, "plan", str(out), "--detailed-exitcode")
    assert code == 0, plan_out + err
    assert plan_out.startswith("No changes. ")


class _Hostile(http.server.BaseHTTPRequestHandler):
    """A server that answers every FunctionGraph call with what no API defines."""

    body = b"abc"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.mark.parametrize("body", [b"abc", b"[1, 2]", b'{"name": 5}', b"\xff\xfe", b"[[[[[]]]]]"])
def test_nonsense_from_the_server_is_an_error_never_a_traceback(body: bytes) -> None:
    handler = type("Handler", (_Hostile,), {"body": body})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        environ = {
            "HUAWEICLOUD_SDK_AK": "ak",
            "HUAWEICLOUD_SDK_SK": "sk",
            "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
        }
        url = f"http://127.0.0.1:{server.server_address[1]}"
        provider = FunctionGraphProvider(endpoint_url=url, environ=environ)
        for read in (
            lambda: provider.read_function(T),
            lambda: provider.get_alias(T, "live"),
            lambda: provider.versions(T),
        ):
            with pytest.raises(MalformedAnswerError):
                read()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("fault", "operation"),
    [
        ("commit-then-error", "functiongraph:CreateVersionAlias"),
        ("commit-then-reset", "functiongraph:CreateVersionAlias"),
        ("commit-then-reset", "functiongraph:UpdateVersionAlias"),
    ],
)
def test_a_write_whose_answer_is_lost_is_read_back_and_counted_done(
    sandbox: Sandbox,
    estate: Path,
    capsys: pytest.CaptureFixture[str],
    fault: str,
    operation: str,
) -> None:
    sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", "live", version="v1")
    sandbox.add_fault(fault, operation, count=1)
    code, out, err = run(sandbox, capsys, "apply", str(estate), "--auto-approve")
    assert code == 0, out + err
    assert "the service answered with an error, but the alias is as planned" in out
    assert fg_aliases(sandbox)["live"]["additional_version_weights"] == {"v4": 10}
    assert "x-canary" in json.dumps(fg_aliases(sandbox)["beta"])
    assert run(sandbox, capsys, "drift", str(estate))[0] == 0


def test_a_failed_write_is_reported_and_the_next_run_converges(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.add_fault("error", "functiongraph:CreateVersionAlias", count=1)
    code, out, _ = run(sandbox, capsys, "apply", str(estate), "--auto-approve")
    assert code == 1
    assert "failed" in out
    assert run(sandbox, capsys, "apply", str(estate), "--auto-approve")[0] == 0
    assert run(sandbox, capsys, "drift", str(estate))[0] == 0


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A FunctionGraph that keeps the body of every PUT, and shows one alias routed by rules."""

    alias: ClassVar[dict[str, Any]] = {
        "name": "beta",
        "version": "v3",
        "description": "",
        "last_modified": "2026-01-01 00:00:00",
        "additional_version_strategy": {
            "v4": {
                "rules": [{"rule_type": "header", "param": "x", "op": "=", "value": "a"}],
                "combine_type": "and",
            }
        },
    }
    puts: ClassVar[list[dict[str, Any]]] = []

    def _answer(self, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def do_GET(self) -> None:
        self._answer(self.alias)

    def do_PUT(self) -> None:
        sent = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.puts.append(sent)
        self._answer({**sent, "name": "beta", "last_modified": "2026-01-01 00:00:01"})

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.mark.parametrize(
    ("routing", "weights", "strategy"),
    [
        (None, {}, {}),
        (Route("v4", 0.2), {"v4": 20}, {}),
        (
            Route("v4", 0.0, (RouteRule("x", "=", "b"),), "or"),
            {},
            {
                "v4": {
                    "rules": [{"rule_type": "header", "param": "x", "op": "=", "value": "b"}],
                    "combine_type": "or",
                }
            },
        ),
    ],
)
def test_an_update_says_what_routing_it_leaves_out(
    routing: Route | None, weights: dict[str, int], strategy: dict[str, Any]
) -> None:
    """Leaving rule routing for weights or none sends the other field empty: whether the
    service keeps a field a PUT leaves out is not documented, so none is left out."""
    _Recorder.puts.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        environ = {
            "HUAWEICLOUD_SDK_AK": "ak",
            "HUAWEICLOUD_SDK_SK": "sk",
            "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
        }
        url = f"http://127.0.0.1:{server.server_address[1]}"
        provider = FunctionGraphProvider(endpoint_url=url, environ=environ)
        current = provider.get_alias(T, "beta")
        assert current is not None
        provider.update_alias(T, DesiredAlias("beta", "v3", None, routing), current.revision_id)
    finally:
        server.shutdown()
        server.server_close()
    (sent,) = _Recorder.puts
    assert sent.get("additional_version_weights") == weights
    assert sent.get("additional_version_strategy") == strategy


def fg_manifest(tmp_path: Path, body: str) -> Path:
    """A directory holding one FunctionGraph manifest of payments, ``body`` after its head."""
    directory = tmp_path / "m"
    directory.mkdir(exist_ok=True)
    head = f"provider: functiongraph\nfunction: payments\nproject: {PROJECT}\nregion: {REGION}\n"
    (directory / "payments.yaml").write_text(head + body, encoding="utf-8")
    return directory


class _Answers(http.server.BaseHTTPRequestHandler):
    """A FunctionGraph that answers every call with one fixed body."""

    body: bytes = b"[]"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def provider_answered_by(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[Any]:
    """A FunctionGraph provider whose every call this handler answers, over HTTP."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    environ = {
        "HUAWEICLOUD_SDK_AK": "ak",
        "HUAWEICLOUD_SDK_SK": "sk",
        "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
    }
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield FunctionGraphProvider(endpoint_url=url, environ=environ, rate=None)
    finally:
        server.shutdown()
        server.server_close()


ALIAS = {"name": "live", "version": "v1", "description": "", "last_modified": "2026-01-01 00:00:00"}


class _ListsAsDocumented(_Answers):
    """FunctionGraph as documented: the listing has no additional_version_strategy; the alias
    itself (ShowVersionAlias) has the rule routing another writer gave it."""

    shown: ClassVar[dict[str, Any]] = {
        **ALIAS,
        "additional_version_strategy": {
            "v2": {
                "rules": [{"rule_type": "header", "param": "x-canary", "op": "=", "value": "qa"}],
                "combine_type": "and",
            }
        },
    }

    def do_GET(self) -> None:
        listing = "/aliases/" not in (self.path or "")
        if listing:
            entry = {k: v for k, v in self.shown.items() if k != "additional_version_strategy"}
            self.body = json.dumps([entry]).encode()
        else:
            self.body = json.dumps(self.shown).encode()
        self._answer()


def test_drift_sees_rule_routing_that_the_listing_does_not_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing has no version strategy; drift reads each alias as the guard does
    (ShowVersionAlias), so rule routing added out of band is seen."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ListsAsDocumented)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "ak")
        monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "sk")
        monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
        monkeypatch.setenv(
            "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1",
            f"http://127.0.0.1:{server.server_address[1]}",
        )
        directory = fg_manifest(tmp_path, "aliases:\n  - {name: live, version: v1}\n")
        code = main(["drift", str(directory)])
        out, err = capsys.readouterr()
        assert code == 2, out + err  # requests with x-canary = qa go to v2; the manifest says none
    finally:
        server.shutdown()
        server.server_close()


def test_changing_rules_that_are_already_there_applies_without_a_stale_refusal(
    sandbox: Sandbox, estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The plan's revision comes from the same read the guard makes, so an alias that already
    has rules is updated, not refused as stale."""
    rule = {"rule_type": "header", "param": "x-canary", "op": "=", "value": "old"}
    sandbox.app.functiongraph.put_alias(
        PROJECT,
        REGION,
        "payments",
        "beta",
        version="v3",
        additional_version_strategy={"v4": {"rules": [rule], "combine_type": "and"}},
    )
    code, out, err = run(sandbox, capsys, "apply", str(estate), "--auto-approve")
    assert code == 0, out + err
    assert "internal" in json.dumps(fg_aliases(sandbox)["beta"])
    assert run(sandbox, capsys, "drift", str(estate))[0] == 0


def test_the_same_alias_listed_twice_is_refused_not_one_of_them_dropped() -> None:
    """A listing that names one alias twice is a malformed answer, as on Lambda: keeping one of
    the two would hide what the other says."""
    twice = [{**ALIAS, "version": "v2"}, ALIAS]
    handler = type("Handler", (_Answers,), {"body": json.dumps(twice).encode()})
    with (
        provider_answered_by(handler) as provider,
        pytest.raises(MalformedAnswerError, match="twice"),
    ):
        provider.read_function(T)


@pytest.fixture
def fg_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """FunctionGraph's payments (v1..v4) in the sandbox, and the exports to reach it."""
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=4)
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "sandbox")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "sandbox")
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    monkeypatch.setenv("HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1", sandbox.url)


def test_at_the_ten_alias_cap_deletes_are_made_before_creates(
    sandbox: Sandbox, fg_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A plan that keeps the function at 10 aliases applies whole, whatever the names' order:
    the function's deletes are made before its creates."""
    for n in range(10):
        sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", f"b{n}", version="v1")
    listed = "".join(f"  - {{name: b{n}, version: v1}}\n" for n in range(9))
    directory = fg_manifest(
        tmp_path, f"prune: true\naliases:\n  - {{name: a1, version: v1}}\n{listed}"
    )
    code, out, err = run(sandbox, capsys, "plan", str(directory))
    assert code == 0, err  # preflight: 10 aliases after the plan, allowed
    code, out, err = run(sandbox, capsys, "apply", str(directory), "--auto-approve")
    assert code == 0, out + err
    assert set(fg_aliases(sandbox)) == {"a1", *(f"b{n}" for n in range(9))}


def test_ten_alias_cap_is_counted_before_target_narrows_the_plan(
    sandbox: Sandbox, fg_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The cap counts every live alias of the function, whether --target selects it or not."""
    for n in range(10):
        sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", f"b{n}", version="v1")
    directory = fg_manifest(tmp_path, "aliases:\n  - {name: a1, version: v1}\n")
    code, _, err = run(sandbox, capsys, "plan", str(directory))
    assert code == 1
    assert "would have 11 aliases" in err
    code, out, err = run(sandbox, capsys, "plan", str(directory), "--target", "payments:a1")
    assert code == 1, out
    assert "would have 11 aliases" in err


@pytest.mark.parametrize("weight", ["0.010000005", "0.0100001"])
def test_a_weight_that_is_not_a_whole_percent_is_refused_at_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], weight: str
) -> None:
    """A weight is a whole percent only if it reads back equal to it (the plans' tolerance):
    a weight written as 1 % but compared with 0.010000005 would be planned again for ever."""
    directory = fg_manifest(
        tmp_path,
        f"aliases:\n  - {{name: live, version: v1, routing: {{version: v2, weight: {weight}}}}}\n",
    )
    assert main(["validate", str(directory)]) == 1
    assert "whole percent" in capsys.readouterr().err


def test_a_whole_percent_weight_converges(
    sandbox: Sandbox, fg_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A weight such as 0.07 (held by floats as 0.07000000000000001) is written as 7 % and
    then reads back equal: no drift after apply."""
    directory = fg_manifest(
        tmp_path, "aliases:\n  - {name: live, version: v1, routing: {version: v2, weight: 0.07}}\n"
    )
    code, out, err = run(sandbox, capsys, "apply", str(directory), "--auto-approve")
    assert code == 0, out + err
    assert fg_aliases(sandbox)["live"]["additional_version_weights"] == {"v2": 7}
    assert run(sandbox, capsys, "drift", str(directory))[0] == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"additional_version_weights": '{"v2": 10}'},  # "String" in the API document's table
        {"additional_version_weights": ["v2", 10]},
        {"last_modified": 1767225600},
    ],
    ids=["weights-as-text", "weights-as-list", "last-modified-number"],
)
def test_a_wrongly_typed_alias_from_the_server_is_one_error_line_not_a_traceback(
    fields: dict[str, Any],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A field of a type the API does not define fails in the SDK's own model of the answer;
    that is a malformed answer, one line and exit 1."""
    handler = type("Handler", (_Answers,), {"body": json.dumps([{**ALIAS, **fields}]).encode()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "ak")
        monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "sk")
        monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
        monkeypatch.setenv(
            "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1",
            f"http://127.0.0.1:{server.server_address[1]}",
        )
        directory = fg_manifest(tmp_path, "aliases:\n  - {name: live, version: v1}\n")
        code = main(["plan", str(directory)])  # an exception escaping here is the traceback
        _, err = capsys.readouterr()
        assert code == 1
        assert "malformed answer" in err
        assert "Traceback" not in err
    finally:
        server.shutdown()
        server.server_close()


def test_the_guards_read_of_a_wrongly_typed_alias_is_a_malformed_answer() -> None:
    """The guard's ShowVersionAlias answering a version strategy as text is a malformed answer."""
    body = json.dumps({**ALIAS, "additional_version_strategy": "v2"}).encode()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), type("Handler", (_Answers,), {"body": body})
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        environ = {
            "HUAWEICLOUD_SDK_AK": "ak",
            "HUAWEICLOUD_SDK_SK": "sk",
            "HUAWEICLOUD_SDK_PROJECT_ID": PROJECT,
        }
        url = f"http://127.0.0.1:{server.server_address[1]}"
        provider = FunctionGraphProvider(endpoint_url=url, environ=environ)
        with pytest.raises(MalformedAnswerError):
            provider.get_alias(T, "live")
    finally:
        server.shutdown()
        server.server_close()


def test_import_of_an_alias_on_a_version_named_with_a_leading_zero_reads_back(
    sandbox: Sandbox, fg_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """FunctionGraph's version "01" is a name: import quotes it, so the manifest loads and
    plans empty."""
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=["01", "2"])
    sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", "live", version="01")
    out = tmp_path / "imported"
    args = ["import", "--provider", "functiongraph", "--function", "payments", "--region", REGION]
    code, _, err = run(sandbox, capsys, *args, "--out-dir", str(out))
    assert code == 0, err
    code, plan_out, err = run(sandbox, capsys, "plan", str(out), "--detailed-exitcode")
    assert code == 0, plan_out + err


class _IgnoresPuts(_Answers):
    """A FunctionGraph that answers a PUT 200 with the alias as it was, the write not made."""

    def do_GET(self) -> None:
        self.body = json.dumps(ALIAS).encode()
        self._answer()

    def do_PUT(self) -> None:
        self.body = json.dumps(ALIAS).encode()
        self._answer()


def test_a_write_answered_with_another_version_than_sent_is_not_counted_done() -> None:
    """A write whose answer shows the alias on another version than sent may not have been
    made: a malformed answer that says so, so that apply reads the alias back."""
    with provider_answered_by(_IgnoresPuts) as provider:
        current = provider.get_alias(T, "live")
        assert current is not None
        with pytest.raises(MalformedAnswerError, match="may have been made"):
            provider.update_alias(T, DesiredAlias("live", "v2"), current.revision_id)


class _CyclingVersions(_Answers):
    """ListFunctionVersions whose next_marker goes 1, 2, 1, 2, ... for ever."""

    calls: ClassVar[int] = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        marker = "1" if "marker=1" not in (self.path or "") else "2"
        page = {"versions": [{"version": f"v{type(self).calls}"}], "next_marker": int(marker)}
        self.body = json.dumps(page).encode()
        self._answer()


def test_a_version_listing_whose_marker_comes_back_stops_at_once() -> None:
    """A marker met before is a malformed answer at once, as Lambda's pages refuse one."""
    _CyclingVersions.calls = 0
    with provider_answered_by(_CyclingVersions) as provider, pytest.raises(MalformedAnswerError):
        provider.versions(T)
    assert _CyclingVersions.calls <= 4


def test_an_update_that_leaves_the_description_alone_keeps_it_live(
    sandbox: Sandbox, fg_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest without description leaves it as it is live: the plan shows no description
    change, so the write sends the description the guard read, and the alias keeps it whatever
    the service does with a description a PUT leaves out."""
    sandbox.app.functiongraph.put_alias(
        PROJECT, REGION, "payments", "live", version="v1", description="pinned by the on-call"
    )
    directory = fg_manifest(tmp_path, "aliases:\n  - {name: live, version: v2}\n")
    code, out, err = run(sandbox, capsys, "plan", str(directory))
    assert code == 0, err
    assert "description" not in out, out
    code, out, err = run(sandbox, capsys, "apply", str(directory), "--auto-approve")
    assert code == 0, out + err
    live = fg_aliases(sandbox)["live"]
    assert (live["version"], live["description"]) == ("v2", "pinned by the on-call")
    assert run(sandbox, capsys, "drift", str(directory))[0] == 0


def _seed_with_routing(tmp_path: Path, routing: object) -> tuple[Path, Path]:
    """A seed file with FunctionGraph's fg-orders, its alias live routed by ``routing``, and a
    manifest directory that names fg-orders."""
    seed = {
        "functions": [
            {
                "name": "fg-orders",
                "provider": "functiongraph",
                "project": PROJECT,
                "region": REGION,
                "versions": 3,
                "aliases": [{"name": "live", "version": "v1", "routing": routing}],
            }
        ]
    }
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(json.dumps(seed), encoding="utf-8")
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "fg.yaml").write_text(
        f"provider: functiongraph\nfunction: fg-orders\nproject: {PROJECT}\nregion: {REGION}\n"
        "aliases:\n  - {name: live, version: v1}\n",
        encoding="utf-8",
    )
    return seed_file, directory


@pytest.mark.parametrize(
    "routing",
    [
        {"weight": 0.1},
        {"version": "v3", "weight": None},
        {"version": "v3", "weight": "ten"},
        {"version": "v3", "weight": 0.125},
        {"version": "v3", "rules": [{"header": "x-canary", "equal": "qa"}]},
        {"version": "v3", "rules": []},
        {"version": "v3"},
        "v3",
    ],
    ids=[
        "no-version",
        "weight-null",
        "weight-text",
        "weight-not-whole",
        "rule-misspelt",
        "no-rules",
        "neither",
        "not-a-mapping",
    ],
)
def test_a_seed_alias_with_bad_routing_is_one_line_naming_the_file_and_alias(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], routing: object
) -> None:
    seed_file, directory = _seed_with_routing(tmp_path, routing)
    code = main(["plan", str(directory), "--sandbox", "--sandbox-seed", str(seed_file)])
    out, err = capsys.readouterr()
    assert code == 1, out + err
    assert "Traceback" not in err
    (line,) = err.strip().splitlines()
    assert str(seed_file) in line, line
    assert "functions[0].aliases[0].routing" in line, line


def test_a_seed_alias_routed_by_rules_is_seeded_with_its_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Rules in a seed are seeded, never dropped: the manifest without routing plans to
    remove them."""
    routing = {"version": "v3", "rules": [{"header": "x-canary", "in": ["qa", "internal"]}]}
    seed_file, directory = _seed_with_routing(tmp_path, routing)
    code = main(["plan", str(directory), "--sandbox", "--sandbox-seed", str(seed_file)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "routing: requests with x-canary in qa,internal to v3 -> (none)" in out, out


def test_without_huawei_cloud_credentials_the_project_guard_says_what_to_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HUAWEICLOUD_SDK_AK", "HUAWEICLOUD_SDK_SK", "HUAWEICLOUD_SDK_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    directory = fg_manifest(tmp_path, "aliases:\n  - {name: live, version: v1}\n")
    assert main(["plan", str(directory)]) == 1
    err = capsys.readouterr().err
    assert "(none)" not in err, err
    assert "HUAWEICLOUD_SDK_PROJECT_ID is not set" in err, err


def test_the_sdks_logger_prints_nothing_of_its_own(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refused connection is one error line of the project's, not also the SDK's own log
    lines ("ConnectionException occurred. ...") for each try."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "ak")
    monkeypatch.setenv("HUAWEICLOUD_SDK_SK", "sk")
    monkeypatch.setenv("HUAWEICLOUD_SDK_PROJECT_ID", PROJECT)
    monkeypatch.setenv(
        "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1", f"http://127.0.0.1:{port}"
    )
    directory = fg_manifest(tmp_path, "aliases:\n  - {name: live, version: v1}\n")
    assert main(["plan", str(directory)]) == 1
    _, err = capfd.readouterr()
    (line,) = err.strip().splitlines()
    assert line.startswith("error: listing the aliases of"), err


@pytest.mark.parametrize(
    "fields",
    [
        {"description": []},
        {"description": False},
        {"description": 0},
        {"additional_version_weights": ""},
        {"additional_version_weights": []},
        {"additional_version_weights": False},
        {"additional_version_strategy": ""},
        {"additional_version_strategy": []},
        {
            "additional_version_strategy": {
                "v2": {
                    "rules": [{"rule_type": "header", "param": "x", "op": "=", "value": "a"}],
                    "combine_type": "",
                }
            }
        },
    ],
    ids=repr,
)
def test_a_live_alias_with_an_empty_value_of_the_wrong_type_is_a_malformed_answer(
    sandbox: Sandbox,
    fg_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fields: dict[str, Any],
) -> None:
    """An empty list or false where the API has text or an object is not "no description" or
    "no routing": the answer is not one the API defines, and nothing is planned on it."""
    sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", "live", version="v1")
    sandbox.app.functiongraph.put_alias(PROJECT, REGION, "payments", "live", **fields)
    directory = fg_manifest(tmp_path, "aliases:\n  - {name: live, version: v2}\n")
    code, out, err = run(sandbox, capsys, "plan", str(directory))
    assert code == 1, out + err
    assert "malformed answer" in err, err


def test_import_all_writes_a_manifest_per_function_of_the_region(
    sandbox: Sandbox,
    fg_env: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ListFunctions, on the Region's own endpoint (as `sandbox serve` prints it), names the
    functions; each is read and written as --function would; other Regions' are not listed."""
    fgs = sandbox.app.functiongraph
    fgs.put_alias(PROJECT, REGION, "payments", "live", version="v2", description="prod")
    fgs.add_function(PROJECT, REGION, "orders", package="shop", versions=2)
    fgs.put_alias(PROJECT, REGION, "orders", "live", package="shop", version="v1")
    fgs.add_function(PROJECT, REGION, "quiet", versions=1)
    fgs.add_function(PROJECT, "cn-north-4", "elsewhere", versions=1)
    fgs.put_alias(PROJECT, "cn-north-4", "elsewhere", "live", version="v1")
    endpoint = "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_AP_SOUTHEAST_1"
    monkeypatch.setenv(endpoint, sandbox.region_url(REGION))
    out = tmp_path / "imported"
    every = ["import", "--provider", "functiongraph", "--all", "--region", REGION]
    code, printed, err = run(sandbox, capsys, *every, "--out-dir", str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.glob("*.yaml")) == ["payments.yaml", "shop.orders.yaml"]
    assert 'package: "shop"\n' in (out / "shop.orders.yaml").read_text(encoding="utf-8")
    assert f"skipped {PROJECT}/{REGION}/quiet: it has no aliases" in err
    assert printed.endswith(f"Imported 2 of 3 functions into {out}.\n")
    code, plan_out, err = run(sandbox, capsys, "plan", str(out), "--detailed-exitcode")
    assert (code, plan_out.splitlines()[-1]) == (
        0,
        "No changes. 2 managed aliases match the manifests.",
    )
    code, _, err = run(
        sandbox,
        capsys,
        "import",
        "--provider",
        "functiongraph",
        "--all",
        "--out-dir",
        str(tmp_path / "x"),
    )
    assert code == 1
    assert "--all needs --region" in err
    monkeypatch.setenv(endpoint, sandbox.url)  # the shared endpoint: no Region to list
    code, _, err = run(sandbox, capsys, *every, "--out-dir", str(tmp_path / "y"))
    assert code == 1
    (line,) = err.strip().splitlines()
    assert "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_<REGION>" in line, line


def _function_entry(urn: str) -> dict[str, Any]:
    return {"func_urn": urn, "func_name": urn.split(":")[-2], "package": urn.split(":")[-3]}


OTHER_REGION_URN = f"urn:fss:cn-north-4:{PROJECT}:function:default:elsewhere:latest"


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ({"functions": [_function_entry(OTHER_REGION_URN)], "next_marker": 0}, "Region cn-north-4"),
        ({"functions": [_function_entry(T.arn)] * 2, "next_marker": 0}, "twice"),
        ({"functions": [], "next_marker": 1, "count": 1}, "no function on a page"),
        ({"functions": [{"func_name": "payments"}], "next_marker": 0}, "no func_urn"),
        ({"functions": {}, "next_marker": 0}, "no list of functions"),
    ],
    ids=["other-region", "twice", "empty-page-goes-on", "no-urn", "not-a-list"],
)
def test_a_function_listing_the_api_would_not_give_is_a_malformed_answer(
    page: dict[str, Any], message: str
) -> None:
    handler = type("Handler", (_Answers,), {"body": json.dumps(page).encode()})
    with (
        provider_answered_by(handler) as provider,
        pytest.raises(MalformedAnswerError, match=message),
    ):
        provider.list_functions(REGION)


class _CyclingFunctions(_Answers):
    """ListFunctions whose next_marker goes 1, 2, 1, 2, ... for ever, a new function a page."""

    calls: ClassVar[int] = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        urn = T.arn.replace(":payments:", f":f{type(self).calls}:")
        following = 2 if "marker=1" in (self.path or "") else 1
        self.body = json.dumps(
            {"functions": [_function_entry(urn)], "next_marker": following}
        ).encode()
        self._answer()


def test_a_function_listing_whose_marker_comes_back_stops_at_once() -> None:
    _CyclingFunctions.calls = 0
    with (
        provider_answered_by(_CyclingFunctions) as provider,
        pytest.raises(MalformedAnswerError, match="came back"),
    ):
        provider.list_functions(REGION)
    assert _CyclingFunctions.calls == 3


WITHOUT_THE_SDK = """\
import sys


class NoHuaweiSdk:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("huaweicloudsdk"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoHuaweiSdk())
from reconciler.cli import main

sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("command", ["plan", "apply", "drift"])
def test_without_the_functiongraph_extra_the_error_says_what_to_install(
    sandbox: Sandbox, estate: Path, command: str
) -> None:
    """Installed without the 'functiongraph' extra, a FunctionGraph manifest is one line saying
    what to install, exit 1, before anything is written: never a traceback."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            WITHOUT_THE_SDK,
            command,
            str(estate),
            "--endpoint-url",
            sandbox.url,
        ],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=False,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "pip install 'reconciler[functiongraph]'" in result.stderr
    assert fg_aliases(sandbox) == {}
    listed = make_client(sandbox).list_aliases(FunctionName="orders")["Aliases"]
    assert listed == []  # nothing written on either cloud


@pytest.mark.parametrize(
    ("page", "message"),
    [
        ({"versions": [], "next_marker": 1}, "no version on a page"),
        ({"versions": [{"version": "latest"}], "next_marker": False}, "next_marker is not"),
        ({"versions": [{"version": "latest"}], "next_marker": ""}, "malformed answer"),
        ({"versions": [{"version": "latest"}], "next_marker": "2"}, "next_marker is not"),
        ({"versions": [{"version": "latest"}], "next_marker": -1}, "next_marker is not"),
        ({"versions": [{"name": "v1"}], "next_marker": 0}, "without a version name"),
        ({"versions": {}, "next_marker": 0}, "no list of versions"),
    ],
    ids=["empty-page-goes-on", "false", "empty-text", "text", "negative", "no-name", "not-a-list"],
)
def test_a_version_listing_the_api_would_not_give_is_a_malformed_answer(
    page: dict[str, Any], message: str
) -> None:
    """The versions listing reads its pages as strictly as the functions listing: a page it
    cannot follow is an error, never a listing cut short (which pre-flight would read as a
    version that does not exist)."""
    handler = type("Handler", (_Answers,), {"body": json.dumps(page).encode()})
    with (
        provider_answered_by(handler) as provider,
        pytest.raises(MalformedAnswerError, match=message),
    ):
        provider.versions(T)


def test_a_function_listing_with_a_negative_marker_is_a_malformed_answer() -> None:
    page = {"functions": [_function_entry(T.arn)], "next_marker": -1}
    handler = type("Handler", (_Answers,), {"body": json.dumps(page).encode()})
    with (
        provider_answered_by(handler) as provider,
        pytest.raises(MalformedAnswerError, match="next_marker is not"),
    ):
        provider.list_functions(REGION)

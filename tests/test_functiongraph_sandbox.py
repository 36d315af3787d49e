"""The sandbox's FunctionGraph API, through the Huawei Cloud SDK's own client, requests and
responses, over HTTP: each rule of the service refused as the service refuses it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import (
    ClientRequestException,
    SdkException,
    ServerResponseException,
)
from huaweicloudsdkfunctiongraph.v2 import (
    CreateFunctionVersionRequest,
    CreateFunctionVersionRequestBody,
    CreateVersionAliasRequest,
    CreateVersionAliasRequestBody,
    DeleteVersionAliasRequest,
    FunctionGraphClient,
    InvokeFunctionRequest,
    ListFunctionsRequest,
    ListFunctionVersionsRequest,
    ListVersionAliasesRequest,
    ShowVersionAliasRequest,
    UpdateVersionAliasRequest,
    UpdateVersionAliasRequestBody,
    VersionStrategy,
    VersionStrategyRules,
)

from reconciler.sandbox import Sandbox

PROJECT = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
REGION = "ap-southeast-1"
URN = f"urn:fss:{REGION}:{PROJECT}:function:default:payments:latest"


def fg_client(sandbox: Sandbox, project: str = PROJECT, *, endpoint: str | None = None) -> Any:
    """The SDK's client, signing with any key, pointed at the sandbox (or one of its Region
    endpoints)."""
    return (
        FunctionGraphClient.new_builder()
        .with_credentials(BasicCredentials("sandbox-ak", "sandbox-sk", project))
        .with_endpoints([endpoint or sandbox.url])
        .build()
    )


@pytest.fixture
def fgs(sandbox: Sandbox) -> Any:
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=4)
    return fg_client(sandbox)


def create(client: Any, name: str, version: str = "v1", **fields: Any) -> Any:
    body = CreateVersionAliasRequestBody(name=name, version=version, **fields)
    return client.create_version_alias(CreateVersionAliasRequest(function_urn=URN, body=body))


def update(client: Any, name: str, version: str, **fields: Any) -> Any:
    body = UpdateVersionAliasRequestBody(version=version, **fields)
    return client.update_version_alias(
        UpdateVersionAliasRequest(function_urn=URN, alias_name=name, body=body)
    )


def refused(call: Callable[[], Any]) -> tuple[int, str, str]:
    with pytest.raises(ClientRequestException) as caught:
        call()
    error = caught.value
    return error.status_code, error.error_code, error.error_msg


def test_create_show_list_update_delete_with_the_sdk(fgs: Any) -> None:
    made = create(fgs, "live", "v1", description="prod", additional_version_weights={"v2": 10})
    assert made.name == "live"
    assert made.alias_urn == f"urn:fss:{REGION}:{PROJECT}:function:default:payments:!live"
    assert made.additional_version_weights == {"v2": 10}
    assert made.last_modified is not None
    shown = fgs.show_version_alias(ShowVersionAliasRequest(function_urn=URN, alias_name="live"))
    assert (shown.version, shown.description) == ("v1", "prod")
    listed = fgs.list_version_aliases(ListVersionAliasesRequest(function_urn=URN))
    assert [a.name for a in listed.body] == ["live"]
    assert isinstance(json.loads(listed.raw_content), list)  # a bare JSON array
    updated = update(fgs, "live", "v3", description="prod")
    assert (updated.version, updated.description) == ("v3", "prod")
    assert not updated.additional_version_weights  # routing not sent: none
    deleted = fgs.delete_version_alias(DeleteVersionAliasRequest(URN, alias_name="live"))
    assert deleted.status_code == 204
    assert refused(lambda: fgs.show_version_alias(ShowVersionAliasRequest(URN, "live"))) == (
        404,
        "FSS.1053",
        "Not found the function alias",
    )


def test_rule_based_routing_round_trips(fgs: Any) -> None:
    rule = VersionStrategyRules(rule_type="header", param="x-canary", op="in", value="qa,internal")
    strategy = {"v2": VersionStrategy(rules=[rule], combine_type="and")}
    made = create(fgs, "beta", "v1", additional_version_strategy=strategy)
    assert made.additional_version_strategy["v2"].rules[0].value == "qa,internal"
    shown = fgs.show_version_alias(ShowVersionAliasRequest(URN, "beta"))
    assert shown.additional_version_strategy["v2"].combine_type == "and"


def test_versions_are_listed_with_latest_and_published(fgs: Any) -> None:
    listed = fgs.list_function_versions(ListFunctionVersionsRequest(function_urn=URN))
    assert [v.version for v in listed.versions] == ["latest", "v1", "v2", "v3", "v4"]
    body = CreateFunctionVersionRequestBody(version="v5")
    published = fgs.create_function_version(CreateFunctionVersionRequest(URN, body=body))
    assert published.version == "v5"
    page = fgs.list_function_versions(ListFunctionVersionsRequest(URN, marker="4", maxitems="2"))
    assert [v.version for v in page.versions] == ["v4", "v5"]


def rule(**fields: str) -> Any:
    values = {"rule_type": "header", "param": "x-canary", "op": "=", "value": "qa"} | fields
    return {"v2": VersionStrategy(rules=[VersionStrategyRules(**values)])}


# (id, create's keyword arguments, status, error code, words of the message)
REFUSALS: list[tuple[str, dict[str, Any], int, str, str]] = [
    ("name-65", {"name": "a" * 65}, 400, "FSS.0400", "1 to 64 characters"),
    ("name-digit-first", {"name": "1live"}, 400, "FSS.0400", "start with a letter"),
    ("name-dot", {"name": "li.ve"}, 400, "FSS.0400", "start with a letter"),
    ("version-missing", {"version": "v9"}, 404, "FSS.1052", "Not found the function version"),
    ("weights-two", {"additional_version_weights": {"v2": 10, "v3": 10}}, 400, "FSS.0400", "one"),
    ("weight-0", {"additional_version_weights": {"v2": 0}}, 400, "FSS.0400", "from 1 to 99"),
    ("weight-100", {"additional_version_weights": {"v2": 100}}, 400, "FSS.0400", "from 1 to 99"),
    ("weight-to-latest", {"additional_version_weights": {"latest": 10}}, 400, "FSS.0400", "latest"),
    ("weight-to-itself", {"additional_version_weights": {"v1": 10}}, 400, "FSS.0400", "own"),
    ("weight-to-missing", {"additional_version_weights": {"v9": 10}}, 404, "FSS.1052", "version"),
    ("rule-op", {"additional_version_strategy": rule(op="~")}, 400, "FSS.0400", "op"),
    ("rule-type", {"additional_version_strategy": rule(rule_type="ip")}, 400, "FSS.0400", "type"),
    ("rule-value", {"additional_version_strategy": rule(value="a b")}, 400, "FSS.0400", "value"),
    (
        "weights-and-rules",
        {"additional_version_weights": {"v2": 10}, "additional_version_strategy": rule()},
        400,
        "FSS.0400",
        "not both",
    ),
]


@pytest.mark.parametrize(
    ("fields", "status", "code", "words"),
    [pytest.param(f, s, c, w, id=name) for name, f, s, c, w in REFUSALS],
)
def test_the_sandbox_refuses_what_the_service_refuses(
    sandbox: Sandbox, fgs: Any, fields: dict[str, Any], status: int, code: str, words: str
) -> None:
    arguments = {"name": "live", "version": "v1"} | fields
    got = refused(lambda: create(fgs, **arguments))
    assert got[:2] == (status, code)
    assert words in got[2]
    assert json.loads(fgs.list_version_aliases(ListVersionAliasesRequest(URN)).raw_content) == []


def test_a_weight_that_is_not_whole_is_refused_over_raw_http(sandbox: Sandbox, fgs: Any) -> None:
    # The SDK's model types weights as integers; the service refuses 10.5 from any client.
    status, body = signed_request(
        sandbox,
        "POST",
        f"/v2/{PROJECT}/fgs/functions/{URN}/aliases",
        {"name": "live", "version": "v1", "additional_version_weights": {"v2": 10.5}},
    )
    assert status == 400
    assert body["error_code"] == "FSS.0400"
    assert "whole percent" in body["error_msg"]


def signed_request(sandbox: Sandbox, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A request signed as the SDK signs it (any key), sent with urllib."""
    url = sandbox.url + "/".join(quote(part, safe="") for part in path.split("/"))
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={
            "Content-Type": "application/json",
            "X-Sdk-Date": "20260101T000000Z",
            "Authorization": "SDK-HMAC-SHA256 Access=ak, SignedHeaders=x-sdk-date, Signature=00",
        },
    )
    try:
        with urllib.request.urlopen(request) as answer:
            data = answer.read()
            return answer.status, json.loads(data) if data else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_an_unsigned_request_is_refused(sandbox: Sandbox, fgs: Any) -> None:
    request = urllib.request.Request(f"{sandbox.url}/v2/{PROJECT}/fgs/functions/{URN}/aliases")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 401
    assert json.loads(caught.value.read())["error_code"] == "APIGW.0301"


def test_at_most_ten_aliases(fgs: Any) -> None:
    for n in range(10):
        create(fgs, f"a{n}")
    assert refused(lambda: create(fgs, "a10")) == (
        400,
        "FSS.1056",
        "A function has at most 10 aliases",
    )


def test_an_existing_alias_is_a_conflict(fgs: Any) -> None:
    create(fgs, "live")
    assert refused(lambda: create(fgs, "live"))[:2] == (409, "FSS.1055")


def test_update_needs_a_version_and_an_alias(sandbox: Sandbox, fgs: Any) -> None:
    create(fgs, "live")
    assert refused(lambda: update(fgs, "gone", "v1"))[:2] == (404, "FSS.1053")
    status, body = signed_request(
        sandbox, "PUT", f"/v2/{PROJECT}/fgs/functions/{URN}/aliases/live", {"description": "x"}
    )
    assert (status, body["error_code"]) == (400, "FSS.0400")


def test_a_missing_function_and_another_project(sandbox: Sandbox, fgs: Any) -> None:
    other = URN.replace("payments", "orders")
    got = refused(lambda: fgs.list_version_aliases(ListVersionAliasesRequest(other)))
    assert got == (404, "FSS.1051", "Not found the function")
    stranger = fg_client(sandbox, "f" * 32)
    assert refused(lambda: stranger.list_version_aliases(ListVersionAliasesRequest(URN)))[:2] == (
        404,
        "FSS.1051",
    )


def test_delete_of_a_missing_alias_is_404(fgs: Any) -> None:
    got = refused(lambda: fgs.delete_version_alias(DeleteVersionAliasRequest(URN, "gone")))
    assert got[:2] == (404, "FSS.1053")


def test_quotas_faults_latency_and_out_of_band_writes_apply(sandbox: Sandbox, fgs: Any) -> None:
    create(fgs, "live")
    sandbox.add_fault("error", "functiongraph:ShowVersionAlias")
    got = refused_or_server(lambda: fgs.show_version_alias(ShowVersionAliasRequest(URN, "live")))
    assert got[0] == 500
    sandbox.change_alias_after("functiongraph:ListVersionAliases", "payments", "live", version="v2")
    fgs.list_version_aliases(ListVersionAliasesRequest(URN))
    assert fgs.show_version_alias(ShowVersionAliasRequest(URN, "live")).version == "v2"
    sandbox.set_quotas({"*": 1})
    try:
        # The SDK retries 429 itself, then says so with the status alone.
        got = refused_or_server(
            lambda: [fgs.list_version_aliases(ListVersionAliasesRequest(URN)) for _ in range(3)]
        )
        assert got[0] == 429
        path = f"/v2/{PROJECT}/fgs/functions/{URN}/aliases"
        assert signed_request(sandbox, "GET", path) == (
            429,
            {"error_code": "APIGW.0308", "error_msg": "The throttling threshold has been reached"},
        )
    finally:
        sandbox.set_quotas(None)
    stats = sandbox.stats()
    assert stats["calls"]["functiongraph:ListVersionAliases"] >= 2
    assert stats["throttled"]["functiongraph:ListVersionAliases"] >= 1


def refused_or_server(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(SdkException) as caught:
        call()
    error: Any = caught.value
    return error.status_code, error.error_code


def test_the_admin_api_changes_a_functiongraph_alias_as_another_writer_would(
    sandbox: Sandbox, fgs: Any
) -> None:
    made = create(fgs, "live", "v1")
    request = urllib.request.Request(
        f"{sandbox.url}/_sandbox/functiongraph/aliases/{PROJECT}/{REGION}/payments",
        data=json.dumps({"name": "live", "version": "v2", "description": "by hand"}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        changed = json.loads(answer.read())
    assert (changed["version"], changed["description"]) == ("v2", "by hand")
    shown = fgs.show_version_alias(ShowVersionAliasRequest(URN, "live"))
    assert (shown.version, shown.alias_urn) == ("v2", made.alias_urn)
    gone = urllib.request.Request(
        f"{sandbox.url}/_sandbox/functiongraph/aliases/{PROJECT}/{REGION}/nope",
        data=b'{"name": "live", "version": "v1"}',
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(gone)
    assert caught.value.code == 400
    python = sandbox.change_functiongraph_alias(PROJECT, REGION, "payments", "live", version="v3")
    assert python["version"] == "v3"


def test_the_sandbox_lists_aliases_with_the_fields_the_service_lists(sandbox: Sandbox) -> None:
    """ListVersionAliases answers FuncAlias objects (name, description, version, last_modified,
    alias_urn, additional_version_weights), as Huawei Cloud's "Querying All Version Aliases of a
    Function" and the SDK's ListVersionAliasResult define them: no additional_version_strategy,
    which only ShowVersionAlias has."""
    from huaweicloudsdkfunctiongraph.v2.model.list_version_alias_result import (  # noqa: PLC0415
        ListVersionAliasResult,
    )

    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=2)
    client = fg_client(sandbox)
    rule = VersionStrategyRules(rule_type="header", param="x-canary", op="=", value="qa")
    body = CreateVersionAliasRequestBody(
        name="beta", version="v1", additional_version_strategy={"v2": VersionStrategy([rule])}
    )
    client.create_version_alias(CreateVersionAliasRequest(URN, body))
    listed = json.loads(client.list_version_aliases(ListVersionAliasesRequest(URN)).raw_content)
    assert set(listed[0]) <= set(ListVersionAliasResult.attribute_map.values()), listed[0]
    shown = client.show_version_alias(ShowVersionAliasRequest(URN, "beta")).to_json_object()
    assert "x-canary" in json.dumps(shown)


def test_an_update_replaces_the_alias_a_description_left_out_is_cleared(fgs: Any) -> None:
    """A PUT names the alias whole: what the service keeps of a field the PUT leaves out is not
    documented, so the sandbox keeps nothing (description and routing alike), and a client that
    leaves a field out to keep it is caught here rather than against the service."""
    create(fgs, "live", "v1", description="pinned", additional_version_weights={"v2": 10})
    updated = update(fgs, "live", "v3")
    assert (updated.version, updated.description) == ("v3", "")
    assert not updated.additional_version_weights


def listed_functions(client: Any, **query: str) -> list[tuple[str, str, str]]:
    """Every function ListFunctions lists, page after page: (URN, package, name)."""
    found, marker = [], "0"
    for _ in range(20):
        page = client.list_functions(ListFunctionsRequest(marker=marker, **query))
        found += [(f.func_urn, f.package, f.func_name) for f in page.functions]
        if not page.next_marker:
            return found
        marker = str(page.next_marker)
    raise AssertionError("the listing did not end")


def test_list_functions_answers_for_the_region_the_client_addresses(sandbox: Sandbox) -> None:
    """Each Region has an endpoint of its own, as on Huawei Cloud; ListFunctions names no
    Region in its path, so the endpoint addressed is the Region whose functions are listed."""
    fgs = sandbox.app.functiongraph
    fgs.add_function(PROJECT, REGION, "payments", versions=1)
    fgs.add_function(PROJECT, REGION, "orders", package="shop")
    fgs.add_function(PROJECT, "cn-north-4", "elsewhere")
    fgs.add_function("f" * 32, REGION, "another-project")
    here = fg_client(sandbox, endpoint=sandbox.region_url(REGION))
    assert listed_functions(here, maxitems="1") == [
        (URN, "default", "payments"),
        (URN.replace("default:payments", "shop:orders"), "shop", "orders"),
    ]
    assert listed_functions(here, package_name="shop") == [
        (URN.replace("default:payments", "shop:orders"), "shop", "orders")
    ]
    there = fg_client(sandbox, endpoint=sandbox.region_url("cn-north-4"))
    assert [name for _, _, name in listed_functions(there)] == ["elsewhere"]
    assert sandbox.region_url(REGION) == sandbox.region_url(REGION)  # one endpoint a Region


def test_a_region_endpoint_serves_its_region_only(sandbox: Sandbox) -> None:
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=1)
    there = fg_client(sandbox, endpoint=sandbox.region_url("cn-north-4"))
    status, code, _ = refused(lambda: there.list_version_aliases(ListVersionAliasesRequest(URN)))
    assert (status, code) == (404, "FSS.1051")  # a function of another Region is not there
    here = fg_client(sandbox, endpoint=sandbox.region_url(REGION))
    listed = here.list_version_aliases(ListVersionAliasesRequest(URN))
    assert json.loads(listed.raw_content) == []


def test_list_functions_on_the_shared_endpoint_says_which_to_use(sandbox: Sandbox) -> None:
    """The shared endpoint serves every Region for the calls that name their function's URN;
    ListFunctions names no Region, so there it is refused, saying where to send it."""
    status, code, message = refused(
        lambda: fg_client(sandbox).list_functions(ListFunctionsRequest())
    )
    assert (status, code) == (400, "FSS.0400")
    assert "HUAWEICLOUD_SDK_REGION_FUNCTIONGRAPH_" in message


def invoke(client: Any, urn: str = URN) -> Any:
    return client.invoke_function(InvokeFunctionRequest(function_urn=urn, body={"k": "v"}))


def test_invoke_function_answers_from_the_invoke_table(sandbox: Sandbox, fgs: Any) -> None:
    sandbox.set_hook("payments", "succeed")
    answer = invoke(fgs)
    assert answer.status == 200
    assert json.loads(answer.result) == {"status": "Succeeded"}
    assert answer.request_id
    assert answer.x_cff_request_id == answer.request_id
    sandbox.set_hook("payments", "error")
    failed = invoke(fgs)
    assert failed.status != 200
    assert json.loads(failed.result)["errorType"] == "Exception"


def test_invoke_function_of_a_missing_function_or_with_no_answer(
    sandbox: Sandbox, fgs: Any
) -> None:
    assert refused(lambda: invoke(fgs, URN.replace(":payments:", ":nothing:")))[:2] == (
        404,
        "FSS.1051",
    )
    with pytest.raises(ServerResponseException) as caught:
        invoke(fgs)
    assert (caught.value.status_code, caught.value.error_code) == (501, "SandboxCannotRunCode")
    assert '"invoke": [...]' in caught.value.error_msg

"""FunctionGraph's function tags in the sandbox (CreateTags, DeleteTags, ListFunctionTags),
through the Huawei Cloud SDK's own client over HTTP: the tag rules Huawei Cloud documents for
functions, each refused as the service refuses it."""

from __future__ import annotations

from typing import Any

import pytest
from huaweicloudsdkfunctiongraph.v2 import (
    CreateTagsRequest,
    DeleteTagsRequest,
    KvItem,
    ListFunctionTagsRequest,
    UpdateFunctionTagsRequestBody,
)

from reconciler.sandbox import Sandbox
from tests.test_functiongraph_sandbox import PROJECT, REGION, URN, fg_client, refused

__all__ = ["fgs"]


@pytest.fixture
def fgs(sandbox: Sandbox) -> Any:
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=4)
    return fg_client(sandbox)


def tag(client: Any, tags: dict[str, str], urn: str = URN, kind: str = "functions") -> Any:
    items = [KvItem(key=k, value=v) for k, v in tags.items()]
    body = UpdateFunctionTagsRequestBody(action="create", tags=items)
    return client.create_tags(CreateTagsRequest(kind, urn, body))


def untag(client: Any, *keys: str, urn: str = URN) -> Any:
    body = UpdateFunctionTagsRequestBody(action="delete", tags=[KvItem(key=k) for k in keys])
    return client.delete_tags(DeleteTagsRequest("functions", urn, body))


def listed(client: Any, urn: str = URN) -> dict[str, str]:
    answer = client.list_function_tags(ListFunctionTagsRequest("functions", urn))
    return {t.key: t.value for t in answer.tags or []}


def test_tags_are_created_listed_overwritten_and_deleted(fgs: Any) -> None:
    assert listed(fgs) == {}
    made = tag(fgs, {"reconciler:rollout:live": "from=v3 to=v4 step=1", "team": "payments"})
    assert made.status_code == 204
    assert listed(fgs) == {"reconciler:rollout:live": "from=v3 to=v4 step=1", "team": "payments"}
    tag(fgs, {"reconciler:rollout:live": "from=v3 to=v4 step=2"})  # a key's value is replaced
    assert listed(fgs)["reconciler:rollout:live"] == "from=v3 to=v4 step=2"
    assert untag(fgs, "reconciler:rollout:live").status_code == 204
    assert listed(fgs) == {"team": "payments"}
    untag(fgs, "reconciler:rollout:live")  # deleting a key the function does not have: no error
    assert listed(fgs) == {"team": "payments"}


def test_a_function_urn_without_its_version_names_the_same_function(fgs: Any) -> None:
    tag(fgs, {"team": "payments"}, urn=URN.removesuffix(":latest"))
    assert listed(fgs) == {"team": "payments"}


# (id, tags, words of the message)
REFUSED_TAGS: list[tuple[str, dict[str, str], str]] = [
    ("key-empty", {"": "x"}, "key"),
    ("key-129", {"k" * 129: "x"}, "128"),
    ("key-sys", {"_sys_owner": "x"}, "_sys_"),
    ("key-space-first", {" team": "x"}, "space"),
    ("key-space-last", {"team ": "x"}, "space"),
    ("key-slash", {"team/a": "x"}, "key"),
    ("value-256", {"team": "v" * 256}, "255"),
    ("value-comma", {"team": "a,b"}, "value"),
    ("value-quote", {"team": 'say "hi"'}, "value"),
]


@pytest.mark.parametrize(
    ("tags", "words"), [r[1:] for r in REFUSED_TAGS], ids=[r[0] for r in REFUSED_TAGS]
)
def test_tags_the_service_refuses_are_refused(fgs: Any, tags: dict[str, str], words: str) -> None:
    status, code, message = refused(lambda: tag(fgs, tags))
    assert (status, code) == (400, "FSS.0400")
    assert words in message
    assert listed(fgs) == {}  # nothing of a refused request is kept


def test_the_documented_characters_are_allowed(fgs: Any) -> None:
    tags = {"a_b.c:d=e+f-g@h 中": "v_1.2:3/4=5+6-7@8 値", "empty": ""}
    tag(fgs, tags)
    assert listed(fgs) == tags


def test_a_function_holds_at_most_20_tags(fgs: Any) -> None:
    tag(fgs, {f"k{n}": "v" for n in range(20)})
    status, code, message = refused(lambda: tag(fgs, {"k20": "v"}))
    assert (status, code) == (400, "FSS.0400")
    assert "20 tags" in message
    tag(fgs, {"k0": "w"})  # replacing a value adds no tag
    assert len(listed(fgs)) == 20


def test_the_same_key_twice_in_one_request_is_refused(fgs: Any) -> None:
    body = UpdateFunctionTagsRequestBody(
        action="create", tags=[KvItem(key="team", value="a"), KvItem(key="team", value="b")]
    )
    status, code, message = refused(
        lambda: fgs.create_tags(CreateTagsRequest("functions", URN, body))
    )
    assert (status, code) == (400, "FSS.0400")
    assert "twice" in message


def test_a_missing_function_another_resource_type_and_no_tags(sandbox: Sandbox, fgs: Any) -> None:
    missing = URN.replace(":payments:", ":nobody:")
    assert refused(lambda: listed(fgs, missing))[:2] == (404, "FSS.1051")
    assert refused(lambda: tag(fgs, {"team": "x"}, urn=missing))[:2] == (404, "FSS.1051")
    assert refused(lambda: tag(fgs, {"team": "x"}, kind="triggers"))[:2] == (400, "FSS.0400")
    empty = UpdateFunctionTagsRequestBody(action="create", tags=[])
    assert refused(lambda: fgs.create_tags(CreateTagsRequest("functions", URN, empty)))[:2] == (
        400,
        "FSS.0400",
    )
    other = fg_client(sandbox, project="f" * 32)
    assert refused(lambda: listed(other))[:2] == (404, "FSS.1051")


def test_tag_calls_are_counted_and_faulted_like_the_rest(sandbox: Sandbox, fgs: Any) -> None:
    tag(fgs, {"team": "x"})
    listed(fgs)
    calls = sandbox.stats()["calls"]
    assert calls["functiongraph:CreateTags"] == 1
    assert calls["functiongraph:ListFunctionTags"] == 1

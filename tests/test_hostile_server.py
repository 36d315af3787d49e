"""Answers the real service never gives, from a server that boto3 talks to over HTTP.

A proxy, a broken endpoint or a hostile one given by ``--endpoint-url`` may answer anything. No
answer may crash the tool, hide live state or make its output lie: each malformed one is a
``ProviderError`` naming the operation and what was wrong, and the CLI prints it on one line.
(Faithful behaviour is tested against the sandbox; this server is only for what AWS never says.)
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from reconciler.budget import TokenBucket
from reconciler.cli import main
from reconciler.errors import InputError, MalformedAnswerError, ProviderError
from reconciler.live import DesiredAlias, FunctionTarget, Route
from reconciler.providers import aws_lambda
from reconciler.providers.aws_lambda import AwsLambdaProvider
from tests.conftest import ACCOUNT, REGION

T = FunctionTarget(ACCOUNT, REGION, "orders")
ARN = T.arn

Reply = tuple[int, dict[str, str], bytes]
Answer = Callable[["Request"], Reply]


@dataclass(frozen=True)
class Request:
    operation: str
    params: dict[str, str]  # path parameters: fn, alias
    query: dict[str, str]
    body: bytes


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    """A JSON answer; a ``str`` body is sent as it is (for NaN, Infinity and broken JSON)."""
    text = body if isinstance(body, str) else json.dumps(body)
    return status, {"Content-Type": "application/json", **(headers or {})}, text.encode()


def alias(name: str = "live", **fields: Any) -> dict[str, Any]:
    """An alias as the service writes it; ``fields`` replace or (with None) remove keys."""
    data: dict[str, Any] = {
        "AliasArn": f"{ARN}:{name}",
        "Name": name,
        "FunctionVersion": "1",
        "Description": "",
        "RevisionId": "r-1",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


STS_OK = """<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::{account}:user/tester</Arn>
    <UserId>AIDAEXAMPLE</UserId>
    <Account>{account}</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"""


def _written(request: Request) -> Reply:
    """CreateAlias / UpdateAlias as the service answers them: the alias after the write."""
    sent = json.loads(request.body or b"{}")
    name = request.params.get("alias") or sent.get("Name", "")
    return reply(
        alias(
            name,
            FunctionVersion=sent.get("FunctionVersion", "1"),
            Description=sent.get("Description", ""),
            RoutingConfig=sent.get("RoutingConfig"),
            RevisionId="r-2",
        )
    )


def _sts(request: Request) -> Reply:
    return 200, {"Content-Type": "text/xml"}, STS_OK.format(account=ACCOUNT).encode()


DEFAULTS: dict[str, Answer] = {
    "GetCallerIdentity": _sts,
    "ListAliases": lambda r: reply({"Aliases": [alias()]}),
    "GetAlias": lambda r: reply(alias(r.params["alias"])),
    "CreateAlias": _written,
    "UpdateAlias": _written,
    "DeleteAlias": lambda r: (204, {}, b""),
    "GetFunction": lambda r: reply(
        {
            "Configuration": {
                "FunctionName": "orders",
                "Version": r.query.get("Qualifier", "$LATEST"),
                "Role": f"arn:aws:iam::{ACCOUNT}:role/orders",
            }
        }
    ),
    "GetProvisionedConcurrencyConfig": lambda r: reply(
        {"Type": "User", "message": "No Provisioned Concurrency Config found"},
        404,
        {"x-amzn-ErrorType": "ProvisionedConcurrencyConfigNotFoundException"},
    ),
    "ListFunctions": lambda r: reply({"Functions": [{"FunctionName": "orders"}]}),
}

_ROUTES = [  # (method, path pattern, operation); {} is one path segment
    ("GET", "/2015-03-31/functions/{fn}/aliases", "ListAliases"),
    ("POST", "/2015-03-31/functions/{fn}/aliases", "CreateAlias"),
    ("GET", "/2015-03-31/functions/{fn}/aliases/{alias}", "GetAlias"),
    ("PUT", "/2015-03-31/functions/{fn}/aliases/{alias}", "UpdateAlias"),
    ("DELETE", "/2015-03-31/functions/{fn}/aliases/{alias}", "DeleteAlias"),
    ("GET", "/2015-03-31/functions/{fn}", "GetFunction"),
    (
        "GET",
        "/2019-09-30/functions/{fn}/provisioned-concurrency",
        "GetProvisionedConcurrencyConfig",
    ),
    ("GET", "/2015-03-31/functions", "ListFunctions"),
    ("GET", "/2015-03-31/functions/", "ListFunctions"),
]


def _route(method: str, path: str) -> tuple[str, dict[str, str]] | None:
    parts = path.split("/")
    for want_method, pattern, operation in _ROUTES:
        want = pattern.split("/")
        if want_method != method or len(want) != len(parts):
            continue
        params: dict[str, str] = {}
        for w, p in zip(want, parts, strict=True):
            if w.startswith("{"):
                params[w.strip("{}")] = unquote(p)
            elif w != p:
                break
        else:
            return operation, params
    return None


@dataclass
class Hostile:
    """Answers every call with ``answers[operation]``, else with a faithful default."""

    url: str = ""
    answers: dict[str, Answer] = field(default_factory=dict)
    calls: list[Request] = field(default_factory=list)

    def answer(self, operation: str, answer: Answer | Reply) -> None:
        """Answer ``operation`` with this reply every time, or with what this function says."""
        if callable(answer):
            self.answers[operation] = answer
        else:
            fixed: Reply = answer
            self.answers[operation] = lambda request: fixed

    def count(self, operation: str) -> int:
        return sum(1 for c in self.calls if c.operation == operation)

    def handle(self, method: str, target: str, body: bytes) -> Reply:
        split = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        if method == "POST" and split.path == "/":
            form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            found: tuple[str, dict[str, str]] | None = (form.get("Action", "?"), {})
        else:
            found = _route(method, split.path)
        if found is None:
            return reply({"message": f"no route for {method} {split.path}"}, 404)
        request = Request(found[0], found[1], query, body)
        self.calls.append(request)
        return self.answers.get(request.operation, DEFAULTS[request.operation])(request)


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server_state = Hostile()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = server_state.handle(self.command, self.path, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()


def provider_for(server: Hostile, **options: Any) -> AwsLambdaProvider:
    settings: dict[str, Any] = {
        "region": REGION,
        "endpoint_url": server.url,
        "credentials": {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
        "rate": 1000,
        "max_attempts": 1,
    }
    return AwsLambdaProvider(**(settings | options))


def listing(*aliases: dict[str, Any], **extra: Any) -> Reply:
    return reply({"Aliases": list(aliases), **extra})


def routed(weights: Any) -> Reply:
    return listing(alias(RoutingConfig={"AdditionalVersionWeights": weights}))


def raw_listing(entry: str) -> Reply:
    return reply('{"Aliases": [' + entry + "]}")


ALIAS_JSON = '{"Name": "live", "FunctionVersion": "1", "RevisionId": "r-1", '


def read(p: AwsLambdaProvider) -> object:
    return p.read_function(T)


# (id, operation, answer, words the message must hold)
CASES: list[tuple[str, str, Reply, str]] = [
    ("list-entry-without-name", "ListAliases", listing(alias(Name=None)), "Name"),
    ("list-name-an-object", "ListAliases", listing(alias(Name={"a": 1})), "Name"),
    ("list-name-a-number", "ListAliases", listing(alias(Name=7)), "Name"),
    ("list-name-digits-only", "ListAliases", listing(alias("2024")), "digits only"),
    ("list-name-with-a-space", "ListAliases", listing(alias("a b")), "may hold only"),
    ("list-name-too-long", "ListAliases", listing(alias("a" * 129)), "1 to 128"),
    ("list-aliases-a-string", "ListAliases", reply({"Aliases": "hello"}), "ListAliases"),
    ("list-aliases-missing", "ListAliases", reply({}), "Aliases"),
    ("list-body-a-list", "ListAliases", reply([1, 2]), "ListAliases"),
    (
        "list-nested-too-deep",
        "ListAliases",
        reply('{"Aliases": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        "RecursionError",
    ),
    ("list-entry-a-string", "ListAliases", reply({"Aliases": ["live"]}), "ListAliases"),
    ("list-version-a-number", "ListAliases", listing(alias(FunctionVersion=12)), "string"),
    ("list-version-missing", "ListAliases", listing(alias(FunctionVersion=None)), "Function"),
    ("list-version-not-a-version", "ListAliases", listing(alias(FunctionVersion="x")), "x"),
    ("list-version-zero-padded", "ListAliases", listing(alias(FunctionVersion="07")), "07"),
    ("list-description-a-number", "ListAliases", listing(alias(Description=5)), "Descr"),
    ("list-description-too-long", "ListAliases", listing(alias(Description="d" * 257)), "256"),
    ("list-revision-a-number", "ListAliases", listing(alias(RevisionId=3)), "RevisionId"),
    ("list-revision-missing", "ListAliases", listing(alias(RevisionId=None)), "RevisionId"),
    ("list-duplicate-names", "ListAliases", listing(alias(), alias()), "twice"),
    ("weight-abc", "ListAliases", routed({"2": "abc"}), "ListAliases"),
    ("weight-nan-string", "ListAliases", routed({"2": "NaN"}), "weight"),
    (
        "weight-nan-literal",
        "ListAliases",
        raw_listing(ALIAS_JSON + '"RoutingConfig": {"AdditionalVersionWeights": {"2": NaN}}}'),
        "weight",
    ),
    (
        "weight-infinity",
        "ListAliases",
        raw_listing(ALIAS_JSON + '"RoutingConfig": {"AdditionalVersionWeights": {"2": 1e400}}}'),
        "weight",
    ),
    ("weight-above-one", "ListAliases", routed({"2": 1.5}), "weight"),
    ("weight-negative", "ListAliases", routed({"2": -0.1}), "weight"),
    ("two-weights", "ListAliases", routed({"13": 0.05, "14": 0.9}), "AdditionalVersion"),
    ("weights-a-list", "ListAliases", routed(["2", 0.1]), "ListAliases"),
    ("routing-a-string", "ListAliases", listing(alias(RoutingConfig="x")), "ListAliases"),
    ("routing-to-latest", "ListAliases", routed({"$LATEST": 0.1}), "published"),
    ("routing-to-itself", "ListAliases", routed({"1": 0.1}), "already"),
    ("routing-to-version-0", "ListAliases", routed({"0": 0.1}), "0"),
    ("get-alias-without-version", "GetAlias", reply(alias(FunctionVersion=None)), "Func"),
    ("get-alias-another-alias", "GetAlias", reply(alias("beta")), "beta"),
    ("get-alias-html", "GetAlias", reply("<html>hi</html>"), "Name"),
    ("sts-unparseable", "GetCallerIdentity", (200, {}, b"<oops"), "STS"),
    ("sts-another-document", "GetCallerIdentity", (200, {}, b"<R><R/></R>"), "GetCallerIdentity"),
    (
        "sts-without-account",
        "GetCallerIdentity",
        (200, {}, re.sub(r"<Account>.*</Account>", "", STS_OK.format(account=ACCOUNT)).encode()),
        "no Account",
    ),
    (
        "sts-account-not-12-digits",
        "GetCallerIdentity",
        (200, {}, STS_OK.format(account="12345").encode()),
        "'12345' is not a 12-digit",
    ),
    ("get-function-without-configuration", "GetFunction", reply({}), "Configuration"),
    ("get-function-configuration-a-string", "GetFunction", reply({"Configuration": "x"}), ""),
    (
        "get-function-another-version",
        "GetFunction",
        reply({"Configuration": {"Version": "3", "Role": "r"}}),
        "version 3",
    ),
    (
        "get-function-version-a-number",
        "GetFunction",
        reply({"Configuration": {"Version": 2, "Role": "r"}}),
        "Version",
    ),
    (
        "get-function-role-an-object",
        "GetFunction",
        reply({"Configuration": {"Version": "2", "Role": {"a": 1}}}),
        "Role",
    ),
    (
        "get-function-dead-letter-a-number",
        "GetFunction",
        reply(
            {"Configuration": {"Version": "2", "Role": "r", "DeadLetterConfig": {"TargetArn": 1}}}
        ),
        "TargetArn",
    ),
    ("concurrency-missing", "GetProvisionedConcurrencyConfig", reply({}), "Requested"),
    (
        "concurrency-abc",
        "GetProvisionedConcurrencyConfig",
        reply({"RequestedProvisionedConcurrentExecutions": "abc"}),
        "provisioned concurrency",
    ),
    (
        "concurrency-negative",
        "GetProvisionedConcurrencyConfig",
        reply({"RequestedProvisionedConcurrentExecutions": -1}),
        "-1",
    ),
    ("list-functions-missing", "ListFunctions", reply({}), "Functions"),
    (
        "list-functions-bad-name",
        "ListFunctions",
        reply({"Functions": [{"FunctionName": "a b"}]}),
        "a b",
    ),
    (
        "list-functions-name-missing",
        "ListFunctions",
        reply({"Functions": [{"Runtime": "python3.12"}]}),
        "FunctionName",
    ),
    (
        "list-functions-twice",
        "ListFunctions",
        reply({"Functions": [{"FunctionName": "orders"}, {"FunctionName": "orders"}]}),
        "twice",
    ),
]

_CALLS: dict[str, Callable[[AwsLambdaProvider], object]] = {
    "ListAliases": read,
    "GetAlias": lambda p: p.get_alias(T, "live"),
    "GetCallerIdentity": lambda p: p.caller_account(),
    "GetFunction": lambda p: p.version_info(T, "2"),
    "GetProvisionedConcurrencyConfig": lambda p: p.provisioned_concurrency(T, "live"),
    "ListFunctions": lambda p: p.list_functions(REGION),
}


@pytest.mark.parametrize(
    ("operation", "answer", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_malformed_answer_is_a_provider_error_naming_the_operation(
    hostile: Hostile, operation: str, answer: Reply, words: str
) -> None:
    hostile.answer(operation, answer)
    provider = provider_for(hostile)
    with pytest.raises(MalformedAnswerError) as excinfo:
        _CALLS[operation](provider)
    message = str(excinfo.value)
    assert words in message
    assert "\n" not in message
    assert len(message) < 600
    if operation != "GetCallerIdentity":
        assert "orders" in message or REGION in message  # names what was being read


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        ("CreateAlias", lambda p: p.create_alias(T, DesiredAlias("beta", "2"))),
        ("UpdateAlias", lambda p: p.update_alias(T, DesiredAlias("live", "2"), "r-1")),
    ],
    ids=["create", "update"],
)
@pytest.mark.parametrize(
    "answer",
    [
        reply({}),
        reply({"Name": "live"}),
        reply("<html>ok</html>"),
        reply(alias("other", FunctionVersion="2")),
        reply(alias(RevisionId=None, FunctionVersion="2")),
    ],
    ids=["empty", "name-only", "html", "another-alias", "no-revision"],
)
def test_a_write_answered_without_the_alias_says_the_write_may_have_landed(
    hostile: Hostile,
    operation: str,
    call: Callable[[AwsLambdaProvider], object],
    answer: Reply,
) -> None:
    hostile.answer(operation, answer)
    with pytest.raises(MalformedAnswerError, match="may have been made") as excinfo:
        call(provider_for(hostile))
    assert "orders:" in str(excinfo.value)
    assert hostile.count(operation) == 1  # a write is never repeated on a bad answer


def test_faithful_answers_still_read(hostile: Hostile) -> None:
    hostile.answer(
        "ListAliases",
        listing(
            alias(RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}}),
            alias("beta", FunctionVersion="$LATEST", RoutingConfig={}),
            alias("old", Description=None, RoutingConfig={"AdditionalVersionWeights": {}}),
        ),
    )
    provider = provider_for(hostile)
    live = provider.read_function(T)
    assert [(a.name, a.version, a.routing) for a in live.aliases] == [
        ("beta", "$LATEST", None),
        ("live", "1", Route("2", 0.25)),
        ("old", "1", None),
    ]
    assert provider.caller_account() == ACCOUNT
    info = provider.version_info(T, "2")
    assert info is not None
    assert info.version == "2"
    assert provider.provisioned_concurrency(T, "live") is None
    assert provider.list_functions(REGION) == ["orders"]
    written = provider.update_alias(T, DesiredAlias("live", "2", routing=Route("3", 0.5)), "r-1")
    assert (written.version, written.routing, written.revision_id) == ("2", Route("3", 0.5), "r-2")


def test_pages_are_followed_and_a_name_on_two_pages_is_refused(hostile: Hostile) -> None:
    pages = {"": listing(alias("a"), NextMarker="m1"), "m1": listing(alias("b"))}
    hostile.answer("ListAliases", lambda r: pages[r.query.get("Marker", "")])
    assert [a.name for a in provider_for(hostile).read_function(T).aliases] == ["a", "b"]
    pages["m1"] = listing(alias("a"))
    with pytest.raises(MalformedAnswerError, match="'a' twice"):
        provider_for(hostile).read_function(T)


def endless(r: Request) -> Reply:
    """Every page names a fresh next page."""
    n = int(r.query.get("Marker") or 0)
    return listing(alias(f"a{n}"), NextMarker=str(n + 1))


def within(seconds: float, call: Callable[[], object]) -> BaseException | None:
    """Run ``call`` on a thread; what it raised, or None. A call still running after
    ``seconds`` fails the test (the thread is a daemon: a hung call cannot hang the run)."""
    raised: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the test
            raised.append(exc)
        else:
            raised.append(None)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert raised, f"the call was still running after {seconds} s"
    return raised[0]


def test_endless_pagination_stops(hostile: Hostile) -> None:
    hostile.answer("ListAliases", endless)
    error = within(30, lambda: provider_for(hostile).read_function(T))
    assert isinstance(error, MalformedAnswerError)
    assert "more than 1000 pages" in str(error)
    assert hostile.count("ListAliases") == 1000


def test_a_marker_answered_twice_stops(hostile: Hostile) -> None:
    hostile.answer("ListAliases", lambda r: listing(alias(f"a{len(r.query)}"), NextMarker="same"))
    with pytest.raises(MalformedAnswerError, match="same page marker twice"):
        provider_for(hostile).read_function(T)
    assert hostile.count("ListAliases") == 2


def test_a_page_larger_than_asked_is_refused(hostile: Hostile) -> None:
    def page(r: Request) -> Reply:
        asked = int(r.query["MaxItems"])
        return listing(*(alias(f"a{i}") for i in range(asked + 1)))

    hostile.answer("ListAliases", page)
    with pytest.raises(MalformedAnswerError, match="asked for at most"):
        provider_for(hostile).read_function(T)


def test_endless_function_listing_stops(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    def page(r: Request) -> Reply:
        n = int(r.query.get("Marker") or 0)
        return reply({"Functions": [{"FunctionName": f"f{n}"}], "NextMarker": str(n + 1)})

    hostile.answer("ListFunctions", page)
    monkeypatch.setattr(aws_lambda, "MAX_FUNCTION_PAGES", 50, raising=False)
    error = within(30, lambda: provider_for(hostile).list_functions(REGION))
    assert isinstance(error, MalformedAnswerError)
    assert "more than 50 pages" in str(error)
    assert hostile.count("ListFunctions") == 50


# -- Retry-After ---------------------------------------------------------------------------------


def throttled_once(retry_after: str) -> Answer:
    """GetAlias throttled once with this Retry-After, then answered."""
    seen: list[Request] = []

    def answer(r: Request) -> Reply:
        seen.append(r)
        if len(seen) == 1:
            return reply(
                {"message": "Rate exceeded", "Type": "User"},
                429,
                {"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": retry_after},
            )
        return reply(alias())

    return answer


@pytest.mark.parametrize(
    "header", ["abc", "inf", "Infinity", "nan", "-5", "1e999", "Wed, 21 Oct 2015 07:28:00 GMT"]
)
def test_a_retry_after_that_is_not_a_finite_number_of_seconds_is_ignored(
    hostile: Hostile, monkeypatch: pytest.MonkeyPatch, header: str
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(TokenBucket, "slow_down", lambda self, seconds: pauses.append(seconds))
    hostile.answer("GetAlias", throttled_once(header))
    provider = provider_for(hostile, max_attempts=2)
    assert within(20, lambda: provider.get_alias(T, "live")) is None
    assert pauses == [aws_lambda.RETRY_AFTER_DEFAULT]


def test_retry_after_is_honoured_up_to_a_cap(
    hostile: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(TokenBucket, "slow_down", lambda self, seconds: pauses.append(seconds))
    for header in ("2.5", "0", "100000"):
        hostile.answer("GetAlias", throttled_once(header))
        provider = provider_for(hostile, max_attempts=2)
        assert within(20, partial(provider.get_alias, T, "live")) is None
    assert pauses == [2.5, 0.0, 60.0]


def test_an_infinite_retry_after_does_not_stall_the_budget(hostile: Hostile) -> None:
    hostile.answer("GetAlias", throttled_once("inf"))
    provider = provider_for(hostile, max_attempts=2)
    assert within(20, lambda: provider.get_alias(T, "live")) is None


# -- --endpoint-url ------------------------------------------------------------------------------

BAD_URLS = [
    "http://127.0.0.1:99999",
    "notaurl",
    "127.0.0.1:45001",
    "ftp://example.com",
    "http://",
    "http://exa mple.com",
    "http://127.0.0.1:port",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_endpoint_url_is_refused_when_the_provider_is_built(url: str) -> None:
    with pytest.raises(InputError, match="--endpoint-url") as excinfo:
        AwsLambdaProvider(region=REGION, endpoint_url=url)
    assert "http:// or https://" in str(excinfo.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999", "notaurl"])
def test_a_bad_endpoint_in_the_environment_is_an_input_error(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    provider = AwsLambdaProvider(region=REGION)
    with pytest.raises(InputError, match="AWS_ENDPOINT_URL"):
        provider.caller_account()


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:99999", "notaurl", "127.0.0.1:45001", "http://[::1"]
)
def test_a_bad_endpoint_url_is_one_line_from_the_cli(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "orders.yaml").write_text(MANIFEST, encoding="utf-8")
    code = main(["plan", str(tmp_path), "--endpoint-url", url])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("error: --endpoint-url ")
    assert err.count("\n") == 1
    assert "Traceback" not in err


# -- through the CLI -----------------------------------------------------------------------------

MANIFEST = """\
function: orders
region: eu-west-1
aliases:
  - name: live
    version: 2
"""


def cli(hostile: Hostile, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--endpoint-url", hostile.url])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    folder = tmp_path / "manifests"
    folder.mkdir()
    (folder / "orders.yaml").write_text(MANIFEST, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("command", "operation", "answer", "words"),
    [
        (["plan"], "ListAliases", listing(alias(Name=None)), "has no Name"),
        (["plan"], "ListAliases", listing(alias(Name={"a": 1})), "Name"),
        (["plan"], "ListAliases", reply({"Aliases": "hello"}), "ListAliases"),
        (["plan", "--out", "PLAN"], "ListAliases", routed({"3": "NaN"}), "weight"),
        (["drift", "-o", "json"], "ListAliases", routed({"3": "NaN"}), "weight"),
        (["plan"], "ListAliases", routed({"13": 0.05, "14": 0.9}), "AdditionalVersionWeights"),
        (["plan"], "GetCallerIdentity", (200, {}, b"<oops"), "STS"),
        (["plan"], "GetFunction", reply({}), "Configuration"),
    ],
    ids=[
        "no-name",
        "name-an-object",
        "aliases-a-string",
        "nan-plan-out",
        "nan-drift-json",
        "two-weights",
        "sts-unparseable",
        "get-function-empty",
    ],
)
def test_a_malformed_answer_is_one_error_line_from_the_cli(
    hostile: Hostile,
    manifests: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
    operation: str,
    answer: Reply,
    words: str,
) -> None:
    hostile.answer(operation, answer)
    args = [str(tmp_path / "plan.json") if a == "PLAN" else a for a in command]
    code, out, err = cli(hostile, capsys, *args[:1], str(manifests), *args[1:])
    assert code == 1
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert words in err
    assert "Traceback" not in err
    assert out == ""
    assert not (tmp_path / "plan.json").exists()


def test_the_same_alias_listed_twice_is_not_hidden_by_the_plan(
    hostile: Hostile, manifests: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.answer("ListAliases", listing(alias(FunctionVersion="2"), alias()))
    code, out, err = cli(hostile, capsys, "plan", str(manifests))
    assert (code, out) == (1, "")
    assert "'live' twice" in err


def test_a_version_that_is_a_number_is_not_shown_as_a_change(
    hostile: Hostile, manifests: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.answer("ListAliases", listing(alias(FunctionVersion=2)))
    code, out, err = cli(hostile, capsys, "plan", str(manifests))
    assert (code, out) == (1, "")
    assert "FunctionVersion" in err


def test_apply_with_a_write_answered_without_the_alias_reports_a_failure(
    hostile: Hostile, manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.answer("UpdateAlias", reply({}))
    report = tmp_path / "report.json"
    code, out, err = cli(
        hostile, capsys, "apply", str(manifests), "--auto-approve", "--report", str(report)
    )
    assert code == 1
    assert "Traceback" not in out + err
    assert "may have been made" in out + err
    results = json.loads(report.read_text())["results"]
    assert [r["outcome"] for r in results] == ["failed"]


def test_import_all_with_a_bad_function_name_is_one_error_line(
    hostile: Hostile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile.answer("ListFunctions", reply({"Functions": [{"FunctionName": "arn:x"}]}))
    code, _, err = cli(hostile, capsys, "import", "--all", "--out-dir", str(tmp_path / "imported"))
    assert code == 1
    assert err.startswith("error: ")
    assert err.count("\n") == 1
    assert not (tmp_path / "imported").exists()


def test_unexpected_errors_from_a_server_are_not_retried_as_answers(hostile: Hostile) -> None:
    """A malformed answer is not a reason to ask again: one request, one error."""
    hostile.answer("GetAlias", reply("[1, 2]"))
    with pytest.raises(ProviderError):
        provider_for(hostile, max_attempts=3).get_alias(T, "live")
    assert hostile.count("GetAlias") == 1

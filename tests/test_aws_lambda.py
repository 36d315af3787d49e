"""The boto3 provider: configuration, and botocore's failures mapped into the error tree."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

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
from reconciler.live import DesiredAlias, FunctionTarget
from reconciler.providers import aws_lambda
from reconciler.providers.aws_lambda import AwsLambdaProvider
from reconciler.sandbox import Sandbox
from tests.conftest import ACCOUNT, REGION, make_provider

T = FunctionTarget(ACCOUNT, REGION, "orders")


@pytest.fixture
def provider(sandbox: Sandbox) -> AwsLambdaProvider:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {"name": "orders", "versions": 2, "aliases": [{"name": "live", "version": 1}]}
            ],
        }
    )
    return make_provider(sandbox, max_attempts=2)


def test_region_from_aws_region_before_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    assert AwsLambdaProvider().default_region == "ap-south-1"
    assert AwsLambdaProvider(region="eu-central-1").default_region == "eu-central-1"
    monkeypatch.delenv("AWS_REGION")
    assert AwsLambdaProvider().default_region == "us-east-1"


def test_endpoint_from_aws_endpoint_url(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox.url)
    assert AwsLambdaProvider(region=REGION).caller_account() == ACCOUNT


def test_aliases_are_read_page_by_page(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aws_lambda, "ALIAS_PAGE", 2)
    names = [f"a{i}" for i in range(5)]
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {
                    "name": "orders",
                    "versions": 1,
                    "aliases": [{"name": n, "version": 1} for n in names],
                }
            ],
        }
    )
    sandbox.reset_stats()
    live = make_provider(sandbox).read_function(T)
    assert [a.name for a in live.aliases] == names
    assert sandbox.stats()["calls"]["ListAliases"] == 3


def test_missing_things_read_as_none_not_errors(provider: AwsLambdaProvider) -> None:
    assert provider.get_alias(T, "nope") is None
    assert provider.version_info(T, "9") is None
    assert provider.provisioned_concurrency(T, "live") is None
    assert provider.read_function(FunctionTarget(ACCOUNT, REGION, "ghost")).exists is False


@pytest.mark.parametrize(
    ("call", "error", "code"),
    [
        (
            lambda p: p.create_alias(T, DesiredAlias("live", "1")),
            ConflictError,
            "ResourceConflictException",
        ),
        (
            lambda p: p.update_alias(T, DesiredAlias("live", "2"), "stale"),
            PreconditionFailedError,
            "PreconditionFailedException",
        ),
        (
            lambda p: p.update_alias(T, DesiredAlias("nope", "2"), "x"),
            NotFoundError,
            "ResourceNotFoundException",
        ),
        (
            lambda p: p.create_alias(T, DesiredAlias("beta", "7")),
            NotFoundError,
            "ResourceNotFoundException",
        ),
        (
            lambda p: p.create_alias(T, DesiredAlias("2024", "1")),
            InvalidRequestError,
            "ValidationException",
        ),
    ],
    ids=["conflict", "stale", "missing-alias", "missing-version", "invalid"],
)
def test_service_errors_map_into_the_error_tree(
    provider: AwsLambdaProvider,
    call: Callable[[AwsLambdaProvider], object],
    error: type[ProviderError],
    code: str,
) -> None:
    with pytest.raises(error) as excinfo:
        call(provider)
    assert excinfo.value.code == code
    assert "orders:" in str(excinfo.value)  # the message says what was being done


@pytest.mark.parametrize(
    ("kind", "error"), [("throttle", ThrottledError), ("error", TransientError)]
)
def test_failures_after_retries_are_transient(
    sandbox: Sandbox, provider: AwsLambdaProvider, kind: str, error: type[ProviderError]
) -> None:
    sandbox.add_fault(kind, "GetAlias", count=2)  # as many as the provider's attempts
    with pytest.raises(error) as excinfo:
        provider.get_alias(T, "live")
    assert excinfo.value.retryable


def test_an_endpoint_that_does_not_answer_is_transient() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    provider = AwsLambdaProvider(
        region=REGION, endpoint_url=f"http://127.0.0.1:{port}", max_attempts=1
    )
    with pytest.raises(TransientError, match="asking STS"):
        provider.caller_account()


def test_no_credentials_says_what_to_do(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    provider = AwsLambdaProvider(region=REGION, endpoint_url=sandbox.url)
    with pytest.raises(AccessDeniedError, match=r"no AWS credentials found.*--sandbox"):
        provider.caller_account()


def test_a_provider_reads_botocore_models_through_the_loader_it_is_given(
    sandbox: Sandbox,
) -> None:
    """The embedded sandbox's moto has parsed botocore's endpoints and Lambda's model: clients
    of the same process read them through its loader, parsed once, and work as any client."""
    sandbox.seed({"functions": [{"name": "shared", "aliases": [{"name": "live", "version": 1}]}]})
    loader = sandbox.botocore_loader
    provider = make_provider(sandbox, botocore_loader=loader)
    client = provider.client("lambda", REGION)
    assert client._loader is loader
    assert [a["Name"] for a in client.list_aliases(FunctionName="shared")["Aliases"]] == ["live"]
    assert provider.caller_account() == ACCOUNT
    assert len(loader.search_paths) == len(set(loader.search_paths))  # boto3's folder once
    make_provider(sandbox, botocore_loader=loader)
    assert len(loader.search_paths) == len(set(loader.search_paths))


def test_a_provider_told_its_account_does_not_ask_sts(sandbox: Sandbox) -> None:
    provider = make_provider(sandbox, account="210987654321")
    assert provider.caller_account() == "210987654321"
    assert sandbox.stats()["calls"] == {}

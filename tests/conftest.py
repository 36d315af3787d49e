"""Fixtures: one sandbox server per test session, reset before every test that uses it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from reconciler.providers.aws_lambda import AwsLambdaProvider
from reconciler.sandbox import Sandbox

REGION = "eu-west-1"
ACCOUNT = "123456789012"


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never see the developer's AWS configuration or credentials."""
    home = tmp_path_factory.mktemp("aws")
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name in [n for n in os.environ if n.startswith("HUAWEICLOUD_SDK_")]:  # nor Huawei Cloud's
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("NO_COLOR", "1")
    # The sandbox has no quotas unless a test switches them on; tests of pacing set their own.
    monkeypatch.setenv("RECONCILE_RATE", "1000")


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    with Sandbox(region=REGION) as server:
        yield server


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Sandbox:
    sandbox_server.reset()
    return sandbox_server


def make_client(
    sandbox: Sandbox, service: str = "lambda", *, region: str = REGION, **config: Any
) -> Any:
    """A real boto3 client talking to the sandbox over HTTP."""
    options: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 3}}
    options.update(config)
    return boto3.client(
        service,
        endpoint_url=sandbox.url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(**options),
    )


def make_provider(sandbox: Sandbox, **options: Any) -> AwsLambdaProvider:
    """The reconciler's boto3 provider talking to the sandbox, unpaced (no quotas are on)."""
    settings: dict[str, Any] = {
        "region": REGION,
        "endpoint_url": sandbox.url,
        "credentials": {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"},
        "rate": 1000,
    }
    return AwsLambdaProvider(**(settings | options))


@pytest.fixture
def lam(sandbox: Sandbox) -> Any:
    return make_client(sandbox)

"""--provider: a job with one cloud's credentials reconciles that cloud's manifests only, as the
GitHub workflows (AWS credentials only) do with `--provider lambda`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from tests.test_functiongraph_cli import FG_MANIFEST, LAMBDA_MANIFEST, PROJECT, REGION, run


@pytest.fixture
def mixed(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Lambda manifest and a FunctionGraph one, and AWS credentials only."""
    sandbox.seed({"functions": [{"name": "orders", "versions": 2}]})
    sandbox.app.functiongraph.add_function(PROJECT, REGION, "payments", versions=4)
    for name in ("AK", "SK", "PROJECT_ID"):
        monkeypatch.delenv(f"HUAWEICLOUD_SDK_{name}", raising=False)
    directory = tmp_path / "manifests"
    directory.mkdir()
    (directory / "payments.yaml").write_text(FG_MANIFEST, encoding="utf-8")
    (directory / "orders.yaml").write_text(LAMBDA_MANIFEST, encoding="utf-8")
    return directory


def test_plan_apply_and_drift_of_one_cloud_leave_the_other_unread(
    sandbox: Sandbox, mixed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(sandbox, capsys, "plan", str(mixed), "--provider", "lambda")
    assert code == 0, err
    assert "orders:live" in out
    assert "payments" not in out
    code, out, err = run(
        sandbox, capsys, "apply", str(mixed), "--provider", "lambda", "--auto-approve"
    )
    assert code == 0, err
    code, out, err = run(sandbox, capsys, "drift", str(mixed), "--provider", "lambda")
    assert code == 0, out + err
    # Without --provider, the FunctionGraph manifest needs Huawei Cloud credentials.
    code, _, err = run(sandbox, capsys, "plan", str(mixed))
    assert code == 1
    assert "payments" in err


def test_a_provider_no_manifest_is_on_is_an_error(
    sandbox: Sandbox, mixed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (mixed / "orders.yaml").unlink()
    code, _, err = run(sandbox, capsys, "plan", str(mixed), "--provider", "lambda")
    assert code == 1
    assert "no manifest is on lambda" in err


def test_groups_say_each_groups_cloud_and_filter_by_it(
    mixed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["groups", str(mixed), "--default-account", "123456789012"]) == 0
    include = json.loads(capsys.readouterr().out)["include"]
    assert {entry["provider"] for entry in include} == {"lambda", "functiongraph"}
    args = ["groups", str(mixed), "--default-account", "123456789012", "--provider", "lambda"]
    assert main(args) == 0
    include = json.loads(capsys.readouterr().out)["include"]
    assert include == [
        {
            "account": "123456789012",
            "provider": "lambda",
            "region": "eu-west-1",
            "target": "123456789012/eu-west-1/*",
        }
    ]


def test_permissions_of_a_mixed_estate_name_one_cloud(
    mixed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each cloud's IAM takes a policy of its own: printed for the cloud asked for, as a
    document its IAM accepts, never the two in one object."""
    assert main(["permissions", "--plan", str(mixed)]) == 1
    assert "--provider lambda or --provider functiongraph" in capsys.readouterr().err
    assert main(["permissions", "--plan", str(mixed), "--provider", "lambda"]) == 0
    aws = json.loads(capsys.readouterr().out)
    assert aws["Version"] == "2012-10-17"
    assert "orders" in json.dumps(aws)
    assert "payments" not in json.dumps(aws)
    assert main(["permissions", "--apply", str(mixed), "--provider", "functiongraph"]) == 0
    huawei = json.loads(capsys.readouterr().out)
    assert huawei["Version"] == "1.1"
    assert main(["permissions", "--rollout", str(mixed), "--provider", "functiongraph"]) == 0
    rollout = json.loads(capsys.readouterr().out)
    assert rollout["Version"] == "1.1"
    assert "orders" not in json.dumps(rollout)

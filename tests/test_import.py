"""``reconcile import``: live aliases to manifests that plan empty, awkward data included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.cli import main
from reconciler.manifests import load_manifests
from reconciler.sandbox import Sandbox
from tests.conftest import REGION

AWKWARD: list[dict[str, Any]] = [
    {
        "name": "live",
        "version": 12,
        "description": 'say "hi" # not a comment: really',
        "routing": {"version": 13, "weight": 0.125},
    },
    {"name": "2024-01-02", "version": 3, "description": "ünïcødé ✓ — 日本語"},
    {"name": "dev", "version": "$LATEST", "description": "  leading and trailing spaces  "},
    {"name": "yes", "version": 1, "description": "null"},
    {
        "name": "x_1-2",
        "version": 2,
        "description": "line\nbreak and a\ttab, {braces} [brackets] & *star",
    },
    {"name": "canary", "version": 7, "routing": {"version": 8, "weight": 0.05}},
    {"name": "full", "version": 1, "routing": {"version": 2, "weight": 1.0}},
]


@pytest.fixture
def estate(sandbox: Sandbox) -> Sandbox:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {"name": "payments-api", "versions": 13, "aliases": AWKWARD},
                {"name": "orders", "versions": 2, "aliases": [{"name": "live", "version": 2}]},
                {"name": "no-aliases", "versions": 1},
            ],
        }
    )
    sandbox.reset_stats()
    return sandbox


def run(sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main([*args, "--endpoint-url", sandbox.url])
    out, err = capsys.readouterr()
    return code, out, err


def test_round_trip_plans_empty(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "imported"
    code, out, err = run(estate, capsys, "import", "--all", "--out-dir", str(out_dir))
    assert code == 0
    assert "wrote " + str(out_dir / "payments-api.yaml") + " (7 aliases)" in out
    assert "skipped 123456789012/eu-west-1/no-aliases: it has no aliases" in err
    assert "Imported 2 of 3 functions" in out
    assert sorted(p.name for p in out_dir.iterdir()) == [
        "manifest.schema.json",
        "orders.yaml",
        "payments-api.yaml",
    ]
    assert estate.stats()["writes"] == 0
    code, out, _ = run(estate, capsys, "plan", str(out_dir), "--detailed-exitcode")
    assert (code, out.strip()) == (0, "No changes. 8 managed aliases match the manifests.")


def test_manifest_text_is_exact_and_readable(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(estate, capsys, "import", "--function", "payments-api", "--out-dir", str(tmp_path))
    text = (tmp_path / "payments-api.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=manifest.schema.json\n")
    assert "routing: {version: 13, weight: 0.125}" in text
    assert "routing: {version: 8, weight: 0.05}" in text
    assert 'version: "$LATEST"' in text
    names = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("  - name: ")]
    assert names == sorted(names)
    spec = load_manifests([tmp_path]).specs[0]
    by_name = {a.name: a for a in spec.aliases}
    for seeded in AWKWARD:
        alias: Any = by_name[str(seeded["name"])]
        assert alias.version == str(seeded["version"])
        assert (alias.description or "") == seeded.get("description", "")
    assert spec.account == "123456789012"


def test_existing_files_stop_everything_unless_forced(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "orders.yaml").write_text("# mine\n", encoding="utf-8")
    code, _, err = run(estate, capsys, "import", "--all", "--out-dir", str(tmp_path))
    assert code == 1
    assert str(tmp_path / "orders.yaml") in err
    assert "Nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.yaml"]
    assert (tmp_path / "orders.yaml").read_text() == "# mine\n"
    code, _, _ = run(estate, capsys, "import", "--all", "--out-dir", str(tmp_path), "--force")
    assert code == 0
    assert 'function: "orders"' in (tmp_path / "orders.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "--function"),
        (["--all", "--function", "orders"], "--function"),
        (["--function", "ghost"], "functions not found"),
        (["--function", "bad name"], "not a function name"),
    ],
)
def test_import_refuses_unclear_requests(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    code, _, err = run(estate, capsys, "import", *args, "--out-dir", str(tmp_path / "out"))
    assert code == 1
    assert words in err
    assert not (tmp_path / "out").exists()

"""``reconcile import``: live aliases to manifests that plan empty, awkward data included."""

from __future__ import annotations

import json
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.cli import main
from reconciler.importer import SCHEMA_FILE, manifest_text
from reconciler.live import FunctionTarget, LiveAlias, Route
from reconciler.manifests import load_manifests
from reconciler.sandbox import Sandbox
from reconciler.spec import FunctionSpec
from tests.conftest import ACCOUNT, REGION, make_provider

TARGET = FunctionTarget(ACCOUNT, REGION, "f")

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
    assert isinstance(spec, FunctionSpec)
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


# Characters a YAML reader would not read back as themselves if written raw, and what YAML 1.1
# readers take for line breaks: each is written as an escape inside the double quotes.
UNSAFE = (
    "\x00\x07\x1b\x7f\x80\x85\x9f\u2028\u2029\ufeff\ufdd0\ufffe\uffff\U0001fffe\U0010ffff\r\n\t"
)


def test_descriptions_are_written_readable_and_read_back_exactly(tmp_path: Path) -> None:
    target = FunctionTarget(ACCOUNT, REGION, "f")
    readable = 'é 日本 😀 "quoted" \\ back # not a comment: no'
    aliases = (
        LiveAlias("a", "1", readable, None, "r1"),
        LiveAlias("b", "1", UNSAFE, Route("2", 5e-324), "r2"),
        LiveAlias("c", "1", "# just a comment\x85prune: true", Route("2", 1e-05), "r3"),
    )
    text = manifest_text(target, aliases)
    assert f"description: {json.dumps(readable, ensure_ascii=False)}\n" in text
    assert not set(UNSAFE) & set(text.replace("\n", "").replace("\t", "\\t"))
    assert "weight: 5.0e-324}" in text
    assert "weight: 1.0e-05}" in text
    assert yaml.safe_load(text)["aliases"][1]["description"] == UNSAFE  # YAML 1.1 agrees
    (tmp_path / "f.yaml").write_text(text, encoding="utf-8")
    spec = load_manifests([tmp_path]).specs[0]
    assert [(a.description, a.routing and a.routing.weight) for a in spec.aliases] == [
        (readable, None),
        (UNSAFE, 5e-324),
        ("# just a comment\x85prune: true", 1e-05),
    ]
    assert spec.prune is False


def test_invisible_and_bidi_characters_are_written_as_escapes(tmp_path: Path) -> None:
    """A reviewer reads an imported manifest in a pull request: a right-to-left override or a
    zero-width character in a live description must not reorder or hide what the file shows.
    They are written as escapes (as plan output shows them), and read back exactly."""
    target = FunctionTarget(ACCOUNT, REGION, "f")
    hidden = "safe\u202e# evil\u202c \u200bzero\u2066iso\u2069 \u00adsoft \U000e0041tag"
    text = manifest_text(target, (LiveAlias("a", "1", hidden, None, "r1"),))
    for escape in ("\\u202e", "\\u202c", "\\u200b", "\\u2066", "\\u2069", "\\xad"):
        assert escape in text
    assert "\\U000e0041" in text
    assert not any(unicodedata.category(char) == "Cf" for char in text)
    (tmp_path / "f.yaml").write_text(text, encoding="utf-8")
    assert load_manifests([tmp_path]).specs[0].aliases[0].description == hidden


def test_a_description_no_yaml_file_can_hold_stops_the_import(
    sandbox: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox.seed(
        {
            "region": REGION,
            "functions": [
                {"name": "ok", "versions": 1, "aliases": [{"name": "live", "version": 1}]},
                {
                    "name": "odd",
                    "versions": 1,
                    "aliases": [{"name": "live", "version": 1, "description": "half \ud800"}],
                },
            ],
        }
    )
    code, _, err = run(sandbox, capsys, "import", "--all", "--out-dir", str(tmp_path / "out"))
    assert code == 1
    assert f"the description of {ACCOUNT}/{REGION}/odd:live holds U+D800" in err
    assert "Nothing was written" in err
    assert not (tmp_path / "out").exists()


def test_a_symlink_at_an_output_path_exists_even_if_dangling(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    (out / "orders.yaml").symlink_to(elsewhere / "orders.yaml")
    code, _, err = run(estate, capsys, "import", "--all", "--out-dir", str(out))
    assert code == 1
    assert f"exist already: {out / 'orders.yaml'}" in err
    assert not elsewhere.exists()
    assert sorted(p.name for p in out.iterdir()) == ["orders.yaml"]


def test_force_replaces_a_symlink_not_what_it_points_to(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    (elsewhere / "precious.yaml").write_text("keep me\n", encoding="utf-8")
    (out / "orders.yaml").symlink_to(elsewhere / "precious.yaml")
    code, _, _ = run(estate, capsys, "import", "--all", "--out-dir", str(out), "--force")
    assert code == 0
    assert (elsewhere / "precious.yaml").read_text(encoding="utf-8") == "keep me\n"
    assert not (out / "orders.yaml").is_symlink()
    assert "function: " in (out / "orders.yaml").read_text(encoding="utf-8")


def test_a_symlink_at_the_schema_path_is_left_alone(
    estate: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    elsewhere.mkdir()
    out.mkdir()
    (out / SCHEMA_FILE).symlink_to(elsewhere / SCHEMA_FILE)
    code, _, _ = run(estate, capsys, "import", "--all", "--out-dir", str(out))
    assert code == 0
    assert (out / "orders.yaml").is_file()
    assert list(elsewhere.iterdir()) == []


# The service takes any text of up to 256 characters as a description, and any weight from 0.0 to
# 1.0, down to the smallest float there is.
WEIGHTS = st.sampled_from([0.0, 5e-324, 1e-300, 2.2250738585072014e-308, 1e-05, 1.0]) | st.floats(
    0.0, 1.0
)


# Every code point, surrogates too, and more often those the importer must escape; up to 256.
CHARACTERS = st.characters(codec=None) | st.sampled_from([*UNSAFE, "é", "日", "😀", "\ud800"])
DESCRIPTIONS = st.text(CHARACTERS, max_size=256) | st.text(CHARACTERS, min_size=250, max_size=256)


@st.composite
def live_aliases(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(st.sampled_from(NAMES), unique=True, min_size=1))
    aliases = []
    for name in names:
        version = draw(st.sampled_from(["$LATEST", "1", "2", "3"]))
        alias: dict[str, Any] = {
            "name": name,
            "version": version,
            "description": draw(DESCRIPTIONS),
        }
        if version != "$LATEST" and draw(st.booleans()):
            extra = draw(st.sampled_from([v for v in ("1", "2", "3") if v != version]))
            alias["routing"] = {"version": extra, "weight": draw(WEIGHTS)}
        aliases.append(alias)
    return aliases


NAMES = ["live", "2024-01-02", "yes", "1e3", "0x1F", "null", "on", "a_b-c"]


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(aliases=live_aliases())
def test_import_then_plan_is_empty_for_any_estate_the_service_accepts(
    sandbox_server: Sandbox, capsys: pytest.CaptureFixture[str], aliases: list[dict[str, Any]]
) -> None:
    sandbox_server.reset()
    sandbox_server.seed(
        {"region": REGION, "functions": [{"name": "f", "versions": 3, "aliases": aliases}]}
    )
    live = {a.name: a for a in make_provider(sandbox_server).read_function(TARGET).aliases}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        code, _, err = run(sandbox_server, capsys, "import", "--all", "--out-dir", str(out))
        if any(0xD800 <= ord(c) <= 0xDFFF for a in live.values() for c in a.description):
            assert code == 1  # no YAML file can hold half a surrogate pair: said, not mangled
            assert "surrogate pair" in err
            assert not out.exists()
            return
        assert (code, err) == (0, "")
        code, output, _ = run(sandbox_server, capsys, "plan", str(out), "--detailed-exitcode")
        assert code == 0, output
        assert output.startswith("No changes. "), output
        read = {a.name: a for a in load_manifests([out]).specs[0].aliases}
    assert read.keys() == live.keys()
    for name, alias in read.items():
        assert (alias.description or "") == live[name].description
        weights = [
            float(r.weight or 0).hex() for r in (alias.routing, live[name].routing) if r is not None
        ]
        assert len(weights) != 1
        assert len(set(weights)) <= 1  # the very float, not one within the plan's tolerance

"""Loading manifests: what is accepted, and every way a manifest can be wrong."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import reconciler.manifests
from reconciler.cli import main
from reconciler.errors import ManifestError
from reconciler.importer import manifest_text
from reconciler.live import FunctionTarget, LiveAlias, Route
from reconciler.manifests import MAX_PROBLEMS_PER_FILE, float_text, load_manifests
from reconciler.sandbox import Sandbox
from reconciler.spec import FunctionSpec, Routing, manifest_schema

ROOT = Path(__file__).resolve().parent.parent
GOOD = "function: f\nregion: eu-west-1\naliases:\n  - name: live\n    version: 1\n"
# Twelve Arabic-Indic digits: Python's \d matches them, AWS does not.
INDIC_ACCOUNT = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"


def write(tmp_path: Path, text: str | bytes, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_example_manifests_are_valid() -> None:
    loaded = load_manifests([ROOT / "manifests"])
    assert len(loaded.manifests) >= 3
    assert {m.spec.name for m in loaded.manifests} >= {"payments-api", "orders-intake"}
    weighted = [a for m in loaded.manifests for a in m.spec.aliases if a.routing is not None]
    latest = [a for m in loaded.manifests for a in m.spec.aliases if a.version == "$LATEST"]
    assert weighted
    assert latest
    for file in loaded.files:
        assert (
            Path(file)
            .read_text(encoding="utf-8")
            .startswith("# yaml-language-server: $schema=../reconciler/schema/manifest.schema.json")
        )


def test_shipped_schema_is_the_generated_one() -> None:
    shipped = json.loads((ROOT / "reconciler/schema/manifest.schema.json").read_text())
    assert shipped == manifest_schema()


def test_version_as_number_or_text_is_the_same(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(
        tmp_path,
        GOOD.replace("function: f", "function: g").replace("version: 1", 'version: "1"'),
        "b.yaml",
    )
    specs = load_manifests([tmp_path]).specs
    assert [s.aliases[0].version for s in specs] == ["1", "1"]


def test_multiple_documents_latest_date_like_names_and_arns(tmp_path: Path) -> None:
    write(
        tmp_path,
        "function: arn:aws:lambda:eu-west-1:123456789012:function:a\n"
        "aliases:\n  - {name: 2024-01-02, version: $LATEST}\n"
        "---\n"
        'function: 123456789012:function:b\naccount: "123456789012"\n'
        "aliases:\n  - {name: live, version: 3, routing: {version: 4, weight: 1}}\n",
    )
    first, second = load_manifests([tmp_path]).manifests
    assert first.spec.aliases[0].name == "2024-01-02"
    assert first.spec.aliases[0].version == "$LATEST"
    assert second.spec.aliases[0].routing is not None
    assert second.spec.aliases[0].routing.weight == 1.0
    assert (first.source.line, second.source.line) == (1, 5)


def test_yml_files_and_nested_directories_are_found(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "top.yml")
    (tmp_path / "team" / "deeper").mkdir(parents=True)
    write(tmp_path / "team" / "deeper", GOOD.replace("function: f", "function: g"), "x.yaml")
    write(tmp_path, "not a manifest", "README.md")
    assert len(load_manifests([tmp_path]).manifests) == 2


def test_manifest_extensions_match_in_any_case(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    (tmp_path / "d").mkdir()
    write(tmp_path / "d", GOOD.replace("function: f", "function: g"), "b.YAML")
    write(tmp_path / "d", GOOD.replace("function: f", "function: h"), "c.Yml")
    write(tmp_path / "d", "not a manifest", "notes.YAML.txt")
    loaded = load_manifests([tmp_path])
    assert [Path(f).name for f in loaded.files] == ["a.yaml", "b.YAML", "c.Yml"]
    assert [m.spec.name for m in loaded.manifests] == ["f", "g", "h"]


def test_a_directory_without_manifests_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"no \*\.yaml or \*\.yml manifest"):
        load_manifests([tmp_path])


def test_billion_laughs_fails_fast(tmp_path: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    write(tmp_path, "\n".join(lines) + "\n")
    started = time.perf_counter()
    with pytest.raises(ManifestError, match="anchors and aliases"):
        load_manifests([tmp_path])
    assert time.perf_counter() - started < 5  # expanded, it would be 9**10 items: it never ends


def test_every_problem_of_every_file_in_one_run(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("version: 1", "version: one"), "a.yaml")
    write(tmp_path, GOOD.replace("function: f", "function: g\nprun: true"), "b.yaml")
    write(tmp_path, b"function: \xff\n", "c.yaml")
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    assert [Path(p.path).name for p in excinfo.value.problems] == ["a.yaml", "b.yaml", "c.yaml"]


Case = tuple[str, dict[str, str | bytes], str, int, str]


def in_one_file(name: str, text: str, line: int, words: str) -> Case:
    return name, {"m.yaml": text}, "m.yaml", line, words


# Each case: files to write, the file and line the problem must name, and words of the message.
MALFORMED: list[Case] = [
    ("unknown-top-key", {"m.yaml": GOOD + "aliasses: []\n"}, "m.yaml", 6, "unknown key 'aliasses'"),
    (
        "unknown-alias-key",
        {"m.yaml": GOOD + "    descripton: typo\n"},
        "m.yaml",
        6,
        "unknown key 'descripton'",
    ),
    ("missing-function", {"m.yaml": "aliases: []\n"}, "m.yaml", 1, "'function' is required"),
    ("missing-aliases", {"m.yaml": "function: f\n"}, "m.yaml", 1, "'aliases' is required"),
    (
        "alias-without-version",
        {"m.yaml": "function: f\naliases:\n  - name: live\n"},
        "m.yaml",
        3,
        "'version' is required",
    ),
    ("digits-only-name", {"m.yaml": GOOD.replace("live", "2024")}, "m.yaml", 4, "digits only"),
    ("name-too-long", {"m.yaml": GOOD.replace("live", "a" * 129)}, "m.yaml", 4, "1 to 128"),
    ("name-with-dot", {"m.yaml": GOOD.replace("live", "li.ve")}, "m.yaml", 4, "only letters"),
    (
        "description-too-long",
        {"m.yaml": GOOD + f"    description: {'d' * 257}\n"},
        "m.yaml",
        6,
        "at most 256",
    ),
    (
        "version-word",
        {"m.yaml": GOOD.replace("version: 1", "version: one")},
        "m.yaml",
        5,
        "$LATEST",
    ),
    (
        "version-leading-zero",
        {"m.yaml": GOOD.replace("version: 1", "version: '01'")},
        "m.yaml",
        5,
        "as 1",
    ),
    (
        "version-float",
        {"m.yaml": GOOD.replace("version: 1", "version: 1.5")},
        "m.yaml",
        5,
        "version",
    ),
    (
        "weight-above-one",
        {"m.yaml": GOOD + "    routing: {version: 2, weight: 1.5}\n"},
        "m.yaml",
        6,
        "less than or equal to 1",
    ),
    (
        "weight-negative",
        {"m.yaml": GOOD + "    routing: {version: 2, weight: -0.1}\n"},
        "m.yaml",
        6,
        "greater than or equal to 0",
    ),
    (
        "weight-text",
        {"m.yaml": GOOD + "    routing: {version: 2, weight: '0.5'}\n"},
        "m.yaml",
        6,
        "must be a number",
    ),
    (
        "routing-to-own-version",
        {"m.yaml": GOOD + "    routing: {version: 1, weight: 0.5}\n"},
        "m.yaml",
        4,
        "already included in routing",
    ),
    (
        "routing-from-latest",
        {
            "m.yaml": GOOD.replace("version: 1", "version: $LATEST")
            + "    routing: {version: 2, weight: 0.1}\n"
        },
        "m.yaml",
        4,
        "$LATEST",
    ),
    (
        "routing-to-latest",
        {"m.yaml": GOOD + "    routing: {version: $LATEST, weight: 0.1}\n"},
        "m.yaml",
        6,
        "published version number",
    ),
    (
        "routing-extra-key",
        {"m.yaml": GOOD + "    routing: {version: 2, weight: 0.1, version2: 3}\n"},
        "m.yaml",
        6,
        "unknown key 'version2'",
    ),
    (
        "duplicate-key",
        {"m.yaml": GOOD.replace("region", "function: g\nregion")},
        "m.yaml",
        2,
        "duplicate key 'function'",
    ),
    (
        "same-alias-twice",
        {"m.yaml": GOOD + "  - name: live\n    version: 2\n"},
        "m.yaml",
        6,
        "listed twice",
    ),
    (
        "same-function-two-files",
        {"a.yaml": GOOD, "b.yaml": "# same function\n" + GOOD},
        "b.yaml",
        2,
        "already managed at",
    ),
    (
        "same-function-two-documents",
        {"m.yaml": GOOD + "---\n" + GOOD},
        "m.yaml",
        7,
        "already managed",
    ),
    (
        "anchors",
        {"m.yaml": "function: f\naliases:\n  - &a {name: live, version: 1}\n  - *a\n"},
        "m.yaml",
        4,
        "anchors and aliases",
    ),
    ("not-utf8", {"m.yaml": b"function: caf\xe9\naliases: []\n"}, "m.yaml", 1, "not UTF-8"),
    ("yaml-syntax", {"m.yaml": "function: f\naliases: [\n"}, "m.yaml", 3, "not valid YAML"),
    (
        "tab-indentation",
        {"m.yaml": "function: f\naliases:\n\t- name: x\n"},
        "m.yaml",
        3,
        "not valid YAML",
    ),
    ("document-is-a-list", {"m.yaml": "- function: f\n"}, "m.yaml", 1, "a manifest is a mapping"),
    (
        "account-as-number",
        {"m.yaml": GOOD.replace("region", "account: 123456789012\nregion")},
        "m.yaml",
        2,
        "quote the account",
    ),
    (
        "account-too-short",
        {"m.yaml": GOOD.replace("region", "account: '1234'\nregion")},
        "m.yaml",
        2,
        "12 digits",
    ),
    (
        "bad-region",
        {"m.yaml": GOOD.replace("eu-west-1", "Ireland")},
        "m.yaml",
        2,
        "not an AWS Region",
    ),
    (
        "arn-region-conflict",
        {
            "m.yaml": GOOD.replace(
                "function: f", "function: arn:aws:lambda:us-east-1:123456789012:function:f"
            )
        },
        "m.yaml",
        1,
        "ARN says Region us-east-1",
    ),
    (
        "function-bad-chars",
        {"m.yaml": GOOD.replace("function: f", "function: my func")},
        "m.yaml",
        1,
        "not a function name",
    ),
    (
        "function-too-long",
        {"m.yaml": GOOD.replace("function: f", f"function: {'f' * 65}")},
        "m.yaml",
        1,
        "longer than 64",
    ),
    (
        "function-qualified",
        {"m.yaml": GOOD.replace("function: f", "function: f:live")},
        "m.yaml",
        1,
        "without a qualifier",
    ),
    (
        "prune-as-text",
        {"m.yaml": GOOD.replace("region", "prune: 'yes'\nregion")},
        "m.yaml",
        2,
        "true or false",
    ),
    (
        "keep-without-prune",
        {"m.yaml": GOOD.replace("region", "keep: [legacy-*]\nregion")},
        "m.yaml",
        1,
        "keep only matters with prune",
    ),
    (
        "python-tag",
        {"m.yaml": GOOD.replace("function: f", "function: !!python/name:os.system")},
        "m.yaml",
        1,
        "tag",
    ),
    (
        "merge-key",
        {"m.yaml": "base: &b {version: 1}\nfunction: f\naliases:\n  - {<<: *b, name: x}\n"},
        "m.yaml",
        4,
        "merge keys (<<) are not allowed",
    ),
    (
        "aliases-not-a-list",
        {"m.yaml": "function: f\naliases: {name: live}\n"},
        "m.yaml",
        2,
        "aliases",
    ),
    (
        "empty-alias-name",
        {"m.yaml": GOOD.replace("name: live", "name: ''")},
        "m.yaml",
        4,
        "1 to 128",
    ),
    # Numbers mean what they look like: YAML 1.1 spellings are refused, never silently converted.
    *(
        in_one_file(f"version-{name}", GOOD.replace("version: 1", f"version: {text}"), 5, words)
        for name, text, words in [
            ("octal-looking", "017", "write 17 if it is a number, or quote it"),
            ("010", "010", "write 10 if it is a number, or quote it"),
            ("sexagesimal", "1:30", "write 90, or quote it"),
            ("hex", "0x1F", "write 31, or quote it"),
            ("octal-0o", "0o17", "write 15, or quote it"),
            ("binary", "0b11", "write 3, or quote it"),
            ("underscores", "1_000", "write 1000, or quote it"),
            ("hex-without-digits", "0x_", "decimal digits"),
            ("5000-digits", "1" * 5000, "too long"),
            ("explicit-int-tag", "!!int 017", "write 17"),
            ("zero", "0", "numbered from 1"),
            ("quoted-zero", "'0'", "numbered from 1"),
        ]
    ),
    (
        "routing-version-zero",
        {"m.yaml": GOOD + "    routing: {version: 0, weight: 0.5}\n"},
        "m.yaml",
        6,
        "numbered from 1",
    ),
    (
        "routing-version-octal-looking",
        {"m.yaml": GOOD + "    routing: {version: 02, weight: 0.5}\n"},
        "m.yaml",
        6,
        "write 2 if it is a number, or quote it",
    ),
    *(
        in_one_file(
            f"weight-{name}", GOOD + f"    routing: {{version: 2, weight: {text}}}\n", 6, words
        )
        for name, text, words in [
            ("inf", ".inf", "between 0.0 and 1.0"),
            ("nan", ".nan", "between 0.0 and 1.0"),
            ("underscore", "0.0_5", "write 0.05, or quote it"),
            ("sexagesimal", "1:30.5", "write 90.5, or quote it"),
            # Numbers to YAML 1.2, text to YAML 1.1 (an exponent needs a point and a sign).
            ("exponent", "5e-2", "write 0.05, or quote it"),
            ("exponent-1e-3", "1e-3", "write 0.001, or quote it"),
            ("exponent-capital", "5E-1", "write 0.5, or quote it"),
            ("exponent-unsigned", "1.0e3", "write 1000.0, or quote it"),
            ("signed-point", "+.5", "write 0.5, or quote it"),
            ("tiny", "1e-300", "write 1.0e-300, or quote it"),
            ("smallest", "5e-324", "write 5.0e-324, or quote it"),
            ("non-specific-tag", "! 0.5", "must be a number"),
            ("0x", "0x", "must be a number"),
            ("yes", "yes", "must be a number"),
        ]
    ),
    *(
        in_one_file(
            f"prune-{text}",
            GOOD.replace("region", f"prune: {text}\nregion"),
            2,
            "write true or false",
        )
        for text in ("yes", "on", "y", "Off", "'true'", "!!bool yes", "! true", '! "false"')
    ),
    (
        "account-leading-zero",
        {"m.yaml": GOOD.replace("region", "account: 012345678901\nregion")},
        "m.yaml",
        2,
        'quote it ("012345678901") if it is text or an identifier such as an account ID',
    ),
    (
        "account-arabic-indic-digits",
        {
            "m.yaml": GOOD.replace(
                "region",
                f"account: '{INDIC_ACCOUNT}'\nregion",
            )
        },
        "m.yaml",
        2,
        "12 digits",
    ),
    (
        "region-arabic-indic-digit",
        {"m.yaml": GOOD.replace("eu-west-1", "eu-west-\u0661")},
        "m.yaml",
        2,
        "not an AWS Region",
    ),
    (
        "arn-arabic-indic-account",
        {
            "m.yaml": GOOD.replace(
                "function: f",
                f"function: arn:aws:lambda:eu-west-1:{INDIC_ACCOUNT}:function:f",
            )
        },
        "m.yaml",
        1,
        "not a function name",
    ),
    (
        "arn-china-partition-elsewhere",
        {
            "m.yaml": GOOD.replace(
                "function: f", "function: arn:aws-cn:lambda:eu-west-1:123456789012:function:f"
            )
        },
        "m.yaml",
        1,
        "partition aws-cn is not the partition of eu-west-1 (aws)",
    ),
    (
        "arn-commercial-partition-in-china",
        {
            "m.yaml": GOOD.replace("eu-west-1", "cn-north-1").replace(
                "function: f", "function: arn:aws:lambda:cn-north-1:123456789012:function:f"
            )
        },
        "m.yaml",
        1,
        "partition aws is not the partition of cn-north-1 (aws-cn)",
    ),
    (
        "arn-without-partition",
        {
            "m.yaml": GOOD.replace(
                "function: f", "function: arn::lambda:eu-west-1:123456789012:function:f"
            )
        },
        "m.yaml",
        1,
        "partition",
    ),
    (
        "name-negative-number",
        {"m.yaml": GOOD.replace("name: live", "name: -5")},
        "m.yaml",
        4,
        "quote it",
    ),
    (
        "deep-flow-nesting",
        {"m.yaml": "function: f\naliases: " + "[" * 2000 + "\n"},
        "m.yaml",
        2,
        "nested deeper than 20 levels",
    ),
    (
        "deep-nesting-after-another-problem",
        {"m.yaml": "function: f\nfunction: g\naliases: " + "[" * 2000 + "\n"},
        "m.yaml",
        3,
        "nested deeper than 20 levels",
    ),
]


@pytest.mark.parametrize(
    ("files", "where", "line", "words"),
    [
        pytest.param(files, where, line, words, id=name)
        for name, files, where, line, words in MALFORMED
    ],
)
def test_malformed_manifest_exits_1_with_its_place_and_calls_nothing(
    sandbox: Sandbox,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str | bytes],
    where: str,
    line: int,
    words: str,
) -> None:
    for name, text in files.items():
        write(tmp_path, text, name)
    code = main(["plan", str(tmp_path), "--endpoint-url", sandbox.url])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{tmp_path / where}:{line}:" in err
    assert words in err
    assert "nothing was sent to the cloud" in err
    assert sandbox.stats()["total"] == 0


def test_there_are_at_least_25_distinct_malformed_cases() -> None:
    assert len({name for name, *_ in MALFORMED}) >= 25


# A plain scalar, as a weight, a description and a boolean: what it must be read as.
WEIGHTS = [
    ("0.05", 0.05),
    (".5", 0.5),
    ("1.0e-3", 0.001),
    ("5.0E-1", 0.5),
    ("1.0", 1.0),
    ("1.", 1.0),
    ("1", 1.0),
    ("0", 0.0),
    ("+0.25", 0.25),
    ("1.0e-300", 1e-300),
    ("5.0e-324", 5e-324),
    ("!!float 1e-3", 0.001),  # tagged: no reader guesses, both read 0.001
]
TEXTS = [
    ("yes", "yes"),
    ("on", "on"),
    ("No", "No"),
    ("y", "y"),
    ("0x", "0x"),
    ("=", "="),
    ("1.2.3", "1.2.3"),
    ("2024-01-02", "2024-01-02"),
    ("~", None),
    ("null", None),
    ("NULL", None),
    ("", None),
]
BOOLEANS = [("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False)]


@pytest.mark.parametrize(("text", "value"), WEIGHTS)
def test_weights_mean_what_they_look_like(tmp_path: Path, text: str, value: float) -> None:
    write(tmp_path, GOOD + f"    routing: {{version: 2, weight: {text}}}\n")
    routing = load_manifests([tmp_path]).specs[0].aliases[0].routing
    assert routing is not None
    assert routing.weight == value


@pytest.mark.parametrize(("text", "value"), TEXTS)
def test_words_yaml_1_1_took_for_booleans_are_text(
    tmp_path: Path, text: str, value: str | None
) -> None:
    write(tmp_path, GOOD + f"    description: {text}\n")
    assert load_manifests([tmp_path]).specs[0].aliases[0].description == value


@pytest.mark.parametrize(("text", "value"), BOOLEANS)
def test_booleans_are_true_and_false(tmp_path: Path, text: str, value: bool) -> None:
    write(tmp_path, GOOD.replace("region", f"prune: {text}\nregion"))
    assert load_manifests([tmp_path]).specs[0].prune is value


def test_names_and_globs_that_yaml_1_1_took_for_booleans_are_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        "function: f\nprune: true\nkeep: [yes, no, off]\naliases:\n"
        "  - {name: on, version: 2}\n  - {name: y, version: +3}\n",
    )
    spec = load_manifests([tmp_path]).specs[0]
    assert spec.keep == ("yes", "no", "off")
    assert [(a.name, a.version) for a in spec.aliases] == [("on", "2"), ("y", "3")]


def test_imported_manifests_read_back_exactly(tmp_path: Path) -> None:
    target = FunctionTarget("012345678901", "us-gov-west-1", "f")
    tricky = ("yes", "on", "017", "0x1F", "1:30", "~", "null", "1_000", "TRUE")
    aliases = tuple(
        LiveAlias(name, str(n + 1), description, Route(str(n + 2), weight), f"rev-{n}")
        for n, (name, description, weight) in enumerate(
            zip(
                ("2024-01-02", "on", "1_000", "0x1F", "y", "off", "Null", "e5", "1e3"),
                tricky,
                (1e-05, 0.125, 1.0, 0.0, 0.999999, 1e-07, 0.5, 2.5e-05, 0.3),
                strict=True,
            )
        )
    )
    write(tmp_path, manifest_text(target, aliases))
    spec = load_manifests([tmp_path]).specs[0]
    assert isinstance(spec, FunctionSpec)
    assert spec.account == target.account
    read = [(a.name, a.version, a.description, a.routing) for a in spec.aliases]
    assert read == [
        (a.name, a.version, a.description, Routing(version=r.version, weight=r.weight))
        for a in sorted(aliases, key=lambda a: a.name)
        if (r := a.routing) is not None
    ]


# 200 KB of one nesting construct each, and the line and column where its 21st level starts.
HOSTILE = {
    "flow-sequences": ("[" * 200_000, 1, 21),
    "flow-mappings": ("{a: " * 50_000, 1, 81),
    "block-sequences": ("- " * 100_000, 1, 41),
    "complex-keys": ("? " * 100_000, 1, 41),
    "block-mappings": ("".join(" " * i + "a:\n" for i in range(620)), 21, 21),
}


@pytest.mark.parametrize(("text", "line", "column"), HOSTILE.values(), ids=HOSTILE.keys())
def test_deep_nesting_is_refused_where_it_passes_the_limit(
    tmp_path: Path, text: str, line: int, column: int
) -> None:
    path = write(tmp_path, text)
    tracemalloc.start()
    try:
        with pytest.raises(ManifestError) as excinfo:
            load_manifests([path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    [problem] = excinfo.value.problems
    assert (problem.line, problem.column) == (line, column)
    assert "nested deeper than 20 levels" in problem.message
    assert peak < 20 * len(text)  # a few copies of the file, not a position per level per node


def test_twenty_levels_reach_validation(tmp_path: Path) -> None:
    nested = "[" * 17 + "x" + "]" * 17  # with the document, aliases and the alias: 20 levels
    write(tmp_path, GOOD + f"    description: {nested}\n")
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    [problem] = excinfo.value.problems
    assert "'description' must be text" in problem.message


def test_a_long_flow_sequence_loads(tmp_path: Path) -> None:
    globs = [f"g{n:05d}" for n in range(30_000)]
    path = write(tmp_path, f"function: f\nprune: true\nkeep: [{', '.join(globs)}]\naliases: []\n")
    tracemalloc.start()
    try:
        spec = load_manifests([path]).specs[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert list(spec.keep) == globs
    assert peak < 50 * path.stat().st_size


def test_every_problem_of_a_document_in_one_run(tmp_path: Path) -> None:
    write(
        tmp_path,
        "function: f\nprune: yes\naliases:\n  - {name: a, version: 017}\n"
        "  - {name: b, version: 3, routing: {version: 0x1F, weight: .nan}}\n"
        "  - {name: 1_0, version: 4, description: 0o7}\n",
    )
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    found = sorted((p.line, p.column, p.message.split(":")[0]) for p in excinfo.value.problems)
    assert found == [
        (2, 1, "'prune'"),
        (4, 24, "017 is not a plain decimal number (YAML 1.1 reads a leading 0 as octal)"),
        (5, 46, "0x1F is not a plain decimal number"),
        (5, 52, "weight must be a number between 0.0 and 1.0, not nan"),
        (6, 12, "1_0 is not a plain decimal number"),
        (6, 42, "0o7 is not a plain decimal number"),
    ]


def test_line_breaks_only_some_readers_see_are_refused_where_an_editor_shows_them(
    tmp_path: Path,
) -> None:
    # To libyaml (YAML 1.1) each of these three characters ends a line, so this file would set a
    # description and prune: true; to an editor, GitHub's diff and YAML 1.2 they are in comments.
    write(
        tmp_path,
        "function: f\r\nregion: eu-west-1\raliases:\n  - name: live\n"
        "    version: 1  # comment\u2028    description: sneaky\n"
        "# just a comment\x85prune: true\n"
        "    # \u2029\n",
    )
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    found = [(p.line, p.column, p.message) for p in excinfo.value.problems]
    assert [(line, column) for line, column, _ in found] == [(5, 26), (6, 17), (7, 7)]
    for (*_, message), name, escape in zip(
        found,
        ("U+2028 (line separator)", "U+0085 (next line)", "U+2029 (paragraph separator)"),
        ("u2028", "u0085", "u2029"),
        strict=True,
    ):
        assert message.startswith(f"{name} is a line break to some YAML readers and not to others")
        assert f"write its escape inside double quotes, a backslash then {escape}" in message


def test_those_line_breaks_written_as_escapes_are_text(tmp_path: Path) -> None:
    write(tmp_path, GOOD + '    description: "a\\u2028b\\x85c\\u2029d"\n')
    assert load_manifests([tmp_path]).specs[0].aliases[0].description == "a\u2028b\x85c\u2029d"


def test_the_non_specific_tag_makes_a_scalar_text(tmp_path: Path) -> None:
    write(
        tmp_path,
        "function: f\nprune: true\naliases:\n  - {name: live, version: 1, description: null}\n"
        "---\nfunction: g\nkeep: []\naliases:\n  - name: ! live\n    version: ! 12\n"
        "    description: ! null\n",
    )
    first, second = load_manifests([tmp_path]).specs
    assert first.aliases[0].description is None
    assert second.aliases[0].version == "12"
    assert second.aliases[0].description == "null"


# Plain scalars made of what numbers are made of; YAML 1.2's core schema, as its spec states it.
_CORE_INT = re.compile(r"[-+]?[0-9]+")
_CORE_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_CORE_OTHER = re.compile(r"0o[0-7]+|0x[0-9a-fA-F]+")


def _yaml_1_2(text: str) -> Any:
    if _CORE_INT.fullmatch(text):
        return int(text)
    if _CORE_FLOAT.fullmatch(text):
        return float(text)
    if _CORE_OTHER.fullmatch(text):
        return int(text, 0)
    return text


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text("0123456789+-._:eEoxb", min_size=1, max_size=8))
@example(text="0x_")
@example(text="0b_")
def test_a_plain_scalar_yaml_1_1_and_1_2_read_differently_is_never_accepted(
    tmp_path: Path, text: str
) -> None:
    try:
        yaml_1_1 = yaml.safe_load(f"a: {text}\n")["a"]
    except yaml.YAMLError:  # 1:, -: not a scalar at all
        return
    except ValueError:  # 0x_: YAML 1.1 resolves a number it cannot build; never accepted
        with pytest.raises(ManifestError):
            load_manifests([write(tmp_path, GOOD + f"    description: {text}\n")])
        return
    if isinstance(yaml_1_1, list | dict):
        return
    yaml_1_2 = _yaml_1_2(text)
    path = write(tmp_path, GOOD + f"    description: {text}\n")
    try:
        description = load_manifests([path]).specs[0].aliases[0].description
    except ManifestError as exc:
        if [p.message for p in exc.problems] == ["'description' must be text; quote it"]:
            assert type(yaml_1_1) is type(yaml_1_2)  # read as a number: the same one to both
            assert yaml_1_1 == yaml_1_2
        return  # refused: whatever the readers make of it
    assert description == text  # read as text: so do both readers
    assert (yaml_1_1, yaml_1_2) == (text, text)


def _lines_run_in_manifests(call: Callable[[], Any]) -> int:
    """How many lines of reconciler/manifests.py ``call`` runs: a count of work, not a timing."""
    count = 0
    filename = reconciler.manifests.__file__

    def local(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        count += event == "line"
        return local

    def calls(frame: Any, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename == filename else None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        call()
    finally:
        sys.settrace(previous)
    return count


def _refused_versions(tmp_path: Path, count: int) -> Path:
    aliases = "".join(f"  - name: a{n}\n    version: 017\n" for n in range(count))
    return write(tmp_path, f"function: f\naliases:\n{aliases}", f"refused-{count}.yaml")


def _refused(path: Path) -> ManifestError:
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([path])
    return excinfo.value


def test_work_is_linear_in_the_number_of_refused_scalars(tmp_path: Path) -> None:
    small, large = _refused_versions(tmp_path, 300), _refused_versions(tmp_path, 900)
    lines_small = _lines_run_in_manifests(lambda: _refused(small))
    lines_large = _lines_run_in_manifests(lambda: _refused(large))
    assert len(_refused(large).problems) == 900
    assert lines_large < 3.3 * lines_small  # three times the scalars: three times the work


def test_a_file_reports_its_first_problems_and_how_many_more(tmp_path: Path) -> None:
    problems = _refused(_refused_versions(tmp_path, MAX_PROBLEMS_PER_FILE + 500)).problems
    assert len(problems) == MAX_PROBLEMS_PER_FILE + 1
    shown, last = problems[:-1], problems[-1]
    assert all("017 is not a plain decimal number" in p.message for p in shown)
    assert [p.line for p in shown] == [4 + 2 * n for n in range(MAX_PROBLEMS_PER_FILE)]
    assert last.message == "... and 500 more problems in this file, not shown"
    assert (last.line, last.column) == (4 + 2 * MAX_PROBLEMS_PER_FILE, 14)
    assert sum(p.stands_for for p in problems) == MAX_PROBLEMS_PER_FILE + 500


def test_the_count_of_problems_counts_those_not_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", str(_refused_versions(tmp_path, MAX_PROBLEMS_PER_FILE + 5))]) == 1
    assert capsys.readouterr().err.endswith(
        f"{MAX_PROBLEMS_PER_FILE + 5} problems in 1 file; nothing was sent to the cloud.\n"
    )


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.05, "0.05"),
        (1e-05, "1.0e-05"),
        (5e-324, "5.0e-324"),
        (1e16, "1.0e+16"),
        (1.5e-07, "1.5e-07"),
    ],
)
def test_floats_are_written_as_both_yaml_versions_read_them(number: float, text: str) -> None:
    assert float_text(number) == text
    assert yaml.safe_load(text) == number  # YAML 1.1
    assert _yaml_1_2(text) == number


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n", "---\n...\n"])
def test_a_file_that_holds_no_manifest_is_not_passed_in_silence(tmp_path: Path, text: str) -> None:
    (tmp_path / "empty.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    (problem,) = excinfo.value.problems
    assert str(problem) == (
        f"{tmp_path / 'empty.yaml'}: holds no manifest (empty, or only comments); "
        "write one or delete the file"
    )


def test_a_saved_plan_given_as_a_manifest_is_named_for_what_it_is(tmp_path: Path) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(
        json.dumps({"format_version": "2.0", "digest": "sha256:0", "changes": []}), encoding="utf-8"
    )
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([plan_file])
    (problem,) = excinfo.value.problems
    assert "this is a plan saved by `reconcile plan --out`, not a manifest" in problem.message


@pytest.mark.parametrize(("char", "column"), [("\x00", 46), ("\x07", 46), ("\x1b", 46)])
def test_a_control_character_is_reported_where_it_is(
    tmp_path: Path, char: str, column: int
) -> None:
    (tmp_path / "a.yaml").write_text(
        "function: fn\nregion: eu-west-1\naliases:\n"
        f'  - {{name: live, version: 1, description: "ab{char}c"}}\n',
        encoding="utf-8",
    )
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    (problem,) = excinfo.value.problems
    assert (problem.line, problem.column) == (4, column)
    assert problem.message.endswith(f"(U+{ord(char):04X})")


@pytest.mark.parametrize("digits", [309, 400, 4000])
def test_a_weight_past_the_range_of_numbers_is_an_error_not_a_crash(
    tmp_path: Path, digits: int
) -> None:
    (tmp_path / "a.yaml").write_text(
        "function: fn\nregion: eu-west-1\naliases:\n"
        f"  - {{name: live, version: 1, routing: {{version: 2, weight: {'9' * digits}}}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    (problem,) = excinfo.value.problems
    assert (problem.line, problem.column) == (4, 52)
    assert "weight must be a number between 0.0 and 1.0" in problem.message


def test_a_folder_that_cannot_be_read_is_an_error_not_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ok.yaml").write_text("function: fn\nregion: eu-west-1\naliases: []\n")
    locked = tmp_path / "team-b"
    locked.mkdir()
    (locked / "b.yaml").write_text("function: fn2\nregion: eu-west-1\naliases: []\n")
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:  # a folder root can read but this user cannot
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    (problem,) = excinfo.value.problems
    assert str(problem) == f"{locked}: cannot read this folder: Permission denied"


def test_a_misspelt_key_gets_the_key_it_probably_meant(tmp_path: Path) -> None:
    write(
        tmp_path,
        "function: fn\nregion: eu-west-1\nprnue: true\naliases:\n"
        "  - {name: live, version: 1, descripton: x, routing: {version: 2, wieght: 0.1}}\n"
        "  - {name: b, version: 1, owner: red}\n",
    )
    with pytest.raises(ManifestError) as excinfo:
        load_manifests([tmp_path])
    said = {(p.line, p.column): p.message for p in excinfo.value.problems}
    assert said[(3, 1)].endswith("(did you mean 'prune'?)")
    assert said[(5, 30)].endswith("(did you mean 'description'?)")
    assert said[(5, 67)].endswith("(did you mean 'weight'?)")
    assert "did you mean" not in said[(6, 27)]  # nothing close to 'owner'

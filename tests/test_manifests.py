"""Loading manifests: what is accepted, and every way a manifest can be wrong."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.errors import ManifestError
from reconciler.manifests import load_manifests
from reconciler.sandbox import Sandbox
from reconciler.spec import manifest_schema

ROOT = Path(__file__).resolve().parent.parent
GOOD = "function: f\nregion: eu-west-1\naliases:\n  - name: live\n    version: 1\n"


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


# Each case: files to write, the file and line the problem must name, and words of the message.
MALFORMED: list[tuple[str, dict[str, str | bytes], str, int, str]] = [
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
    assert "nothing was sent to AWS" in err
    assert sandbox.stats()["total"] == 0


def test_there_are_at_least_25_distinct_malformed_cases() -> None:
    assert len({name for name, *_ in MALFORMED}) >= 25

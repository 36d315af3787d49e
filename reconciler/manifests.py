"""YAML manifests -> FunctionSpecs, ``path:line:col`` on every problem; the only reader of files.

PyYAML's C composer gives every node its position; this module builds plain data from the nodes
itself, so it can refuse what YAML would otherwise allow silently: duplicate keys, anchors and
aliases (no "billion laughs"), and tags other than YAML's plain types.
"""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from reconciler import contract
from reconciler.errors import ManifestError, Problem
from reconciler.spec import FunctionSpec

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MANIFEST_PATTERNS = ("*.yaml", "*.yml")
_STR = "tag:yaml.org,2002:str"
_PLAIN_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",  # kept as text: an alias named 2024-01-02 is a name, not a date
}
_SCALARS = yaml.constructor.SafeConstructor()

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Source:
    """Where something was written."""

    path: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Manifest:
    """One function's desired aliases, and where each was written."""

    spec: FunctionSpec
    source: Source
    alias_sources: tuple[Source, ...]


@dataclass(frozen=True)
class ManifestSet:
    """Everything loaded from the given paths."""

    manifests: tuple[Manifest, ...]
    files: tuple[str, ...]
    digest: str

    @property
    def specs(self) -> tuple[FunctionSpec, ...]:
        return tuple(m.spec for m in self.manifests)


@dataclass
class _Document:
    """Plain data built from one YAML document, with the position of every node."""

    path: str
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def source(self, loc: Loc) -> Source:
        while loc not in self.marks and loc:
            loc = loc[:-1]
        line, column = self.marks.get(loc, (1, 1))
        return Source(self.path, line, column)


class _Refused(Exception):
    def __init__(self, node: yaml.Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def find_manifest_files(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """Every ``*.yaml``/``*.yml`` under the paths, recursively, in a stable order."""
    found: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file() and any(fnmatch.fnmatch(p.name, pat) for pat in MANIFEST_PATTERNS)
            )
        elif path.is_file():
            found.append(path)
        else:
            problems.append(Problem(str(path), 0, 0, "no such file or directory"))
    unique = list(dict.fromkeys(found))
    if not unique and not problems:
        shown = ", ".join(str(p) for p in paths)
        problems.append(Problem(shown, 0, 0, "no *.yaml or *.yml manifest found here"))
    return unique, problems


def load_manifests(paths: Sequence[Path], default_region: str | None = None) -> ManifestSet:
    """Load and validate every manifest; ``ManifestError`` carries every problem of every file."""
    files, problems = find_manifest_files(paths)
    manifests: list[Manifest] = []
    digest = hashlib.sha256()
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            problems.append(Problem(str(file), 0, 0, f"cannot read: {exc.strerror}"))
            continue
        digest.update(str(file).encode() + b"\0" + hashlib.sha256(raw).digest())
        loaded, found = _load_file(str(file), raw)
        manifests.extend(loaded)
        problems.extend(found)
    problems.extend(_duplicate_functions(manifests, default_region))
    if problems:
        raise ManifestError(problems)
    return ManifestSet(tuple(manifests), tuple(str(f) for f in files), digest.hexdigest())


def _load_file(path: str, raw: bytes) -> tuple[list[Manifest], list[Problem]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return [], [Problem(path, line, column, "not UTF-8 text; save the file as UTF-8")]
    manifests: list[Manifest] = []
    problems: list[Problem] = []
    try:
        for node in yaml.compose_all(text, Loader=_Loader):
            if node is None:
                continue
            document = _Document(path)
            try:
                data = _build(node, (), document, set())
            except _Refused as refused:
                mark = refused.node.start_mark
                problems.append(Problem(path, mark.line + 1, mark.column + 1, refused.message))
                continue
            manifest, found = _validate(data, document)
            problems.extend(found)
            if manifest is not None:
                manifests.append(manifest)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(path, line, column, f"not valid YAML: {exc.problem or exc}"))
    except yaml.YAMLError as exc:
        problems.append(Problem(path, 1, 1, f"not valid YAML: {exc}"))
    return manifests, problems


def _build(node: yaml.Node, loc: Loc, document: _Document, seen: set[int]) -> Any:
    """Plain data from a node, remembering each node's position; refuses aliases and odd tags."""
    if id(node) in seen:
        raise _Refused(
            node, "YAML anchors and aliases (&name, *name) are not allowed; write it out"
        )
    seen.add(id(node))
    # An entry of a mapping is where its key is written; that was recorded before we got here.
    document.marks.setdefault(loc, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, yaml.MappingNode):
        data: dict[str, Any] = {}
        first: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _Refused(key_node, "YAML merge keys (<<) are not allowed; write it out")
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                raise _Refused(key_node, "keys must be plain text")
            key = str(key_node.value)
            if key in first:
                line = first[key].start_mark.line + 1
                raise _Refused(key_node, f"duplicate key {key!r} (first written on line {line})")
            first[key] = key_node
            mark = key_node.start_mark
            document.marks[(*loc, key)] = (mark.line + 1, mark.column + 1)
            data[key] = _build(value_node, (*loc, key), document, seen)
        return data
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*loc, i), document, seen) for i, item in enumerate(node.value)]
    if node.tag not in _PLAIN_TAGS:
        raise _Refused(node, f"YAML tag {node.tag!r} is not allowed in a manifest")
    if node.tag in (_STR, "tag:yaml.org,2002:timestamp"):
        return str(node.value)
    try:
        return _SCALARS.construct_object(node)
    except yaml.constructor.ConstructorError as exc:
        raise _Refused(node, str(exc.problem)) from None


def _validate(data: Any, document: _Document) -> tuple[Manifest | None, list[Problem]]:
    where = document.source(())
    if not isinstance(data, dict):
        return None, [
            Problem(
                where.path,
                where.line,
                where.column,
                "a manifest is a mapping with 'function' and 'aliases'",
            )
        ]
    try:
        spec = FunctionSpec.model_validate(data)
    except ValidationError as exc:
        return None, [_problem(error, document) for error in exc.errors()]
    alias_sources = tuple(document.source(("aliases", i)) for i in range(len(spec.aliases)))
    first: dict[str, Source] = {}
    problems = []
    for alias, source in zip(spec.aliases, alias_sources, strict=True):
        if alias.name in first:
            problems.append(
                Problem(
                    source.path,
                    source.line,
                    source.column,
                    f"alias {alias.name!r} is listed twice for {spec.function} "
                    f"(first at line {first[alias.name].line})",
                )
            )
        else:
            first[alias.name] = source
    return Manifest(spec, where, alias_sources), problems


_HINTS = {
    "extra_forbidden": "unknown key {key!r}; check its spelling against the manifest reference",
    "missing": "{key!r} is required here",
    "string_type": "{key!r} must be text; quote it",
    "bool_type": "{key!r} must be true or false",
}


def _problem(error: Any, document: _Document) -> Problem:
    loc: Loc = tuple(error["loc"])
    key = next((part for part in reversed(loc) if isinstance(part, str)), "value")
    hint = _HINTS.get(error["type"])
    if hint is not None:
        message = hint.format(key=key)
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
        if key != "value":
            message = f"{key}: {message}"
    source = document.source(loc)
    return Problem(source.path, source.line, source.column, message)


def _duplicate_functions(
    manifests: Sequence[Manifest], default_region: str | None
) -> list[Problem]:
    first: dict[tuple[str | None, str | None, str], Manifest] = {}
    problems = []
    for manifest in manifests:
        spec = manifest.spec
        ref = contract.parse_function_name(spec.function)
        key = (ref.account or spec.account, ref.region or spec.region or default_region, ref.name)
        if key in first:
            earlier = first[key].source
            problems.append(
                Problem(
                    manifest.source.path,
                    manifest.source.line,
                    manifest.source.column,
                    f"function {ref.name!r} is already managed at {earlier}; "
                    "keep one manifest per function",
                )
            )
        else:
            first[key] = manifest
    return problems

"""YAML manifests -> FunctionSpecs, ``path:line:col`` on every problem; the only reader of files.

PyYAML's C parser gives every event its position; this module builds plain data from the events
itself, so it can refuse what YAML would otherwise allow silently: duplicate keys, anchors and
aliases (no "billion laughs"), tags other than YAML's plain types, and nesting deeper than a
manifest needs (work stays linear in a file's size, whatever its shape). Plain scalars are typed
by YAML 1.2's core schema, not PyYAML's YAML 1.1 rules: a number spelt so that YAML 1.1 and 1.2
readers disagree (017, 0x1F, 1_000, 1:30, 1e-3) is refused, and yes/no/on/off are text. Characters
that some YAML readers take for line breaks and others do not (U+0085, U+2028, U+2029) are refused
before the file is parsed: what the loader reads is what a reviewer sees.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import BaseModel, ValidationError

from reconciler import contract
from reconciler import functiongraph as fg
from reconciler._gc import without_cyclic_gc
from reconciler.errors import ManifestError, Problem
from reconciler.rollout.spec import Hooks, RolloutSpec
from reconciler.spec import AliasSpec, FunctionSpec, Routing

try:
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

MANIFEST_PATTERNS = ("*.yaml", "*.yml")  # matched whatever the case of the name: B.YAML too
MAX_NESTING = 20  # a manifest needs 4 (document, aliases, alias, routing)
MAX_PROBLEMS_PER_FILE = 1000  # then one line says how many more: a report stays readable
# Line breaks to YAML 1.1 (libyaml, PyYAML), not to YAML 1.2, editors or GitHub's diff: with one,
# "# a comment<U+0085>prune: true" is a comment to a reviewer and a key to the loader.
_AMBIGUOUS_BREAKS = {
    "\x85": "U+0085 (next line)",
    "\u2028": "U+2028 (line separator)",
    "\u2029": "U+2029 (paragraph separator)",
}
_LINE_OR_AMBIGUOUS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_STR = "tag:yaml.org,2002:str"
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_TEXT_TAGS = frozenset({_STR, "tag:yaml.org,2002:timestamp"})  # a date-like name is a name
# An explicit tag's type, and how to write a value of it.
_TYPED_TAGS: dict[str, tuple[type, str]] = {
    _INT: (int, "write a decimal number"),
    _FLOAT: (float, "write a decimal number"),
    "tag:yaml.org,2002:bool": (bool, "write true or false"),
    "tag:yaml.org,2002:null": (type(None), "write null or nothing"),
}
_SCALARS = yaml.constructor.SafeConstructor()

Loc = tuple[str | int, ...]


class Source(NamedTuple):
    """Where something was written (a tuple: there is one per alias, so it must be cheap)."""

    path: str
    line: int
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Manifest:
    """One function's desired aliases, and where each was written."""

    spec: FunctionSpec | fg.FunctionGraphSpec
    source: Source
    alias_sources: tuple[Source, ...]


@dataclass(frozen=True)
class ManifestSet:
    """Everything loaded from the given paths."""

    manifests: tuple[Manifest, ...]
    files: tuple[str, ...]
    digest: str

    @property
    def specs(self) -> tuple[FunctionSpec | fg.FunctionGraphSpec, ...]:
        return tuple(m.spec for m in self.manifests)


@dataclass
class _Document:
    """Plain data built from one YAML document, with the position of every node."""

    path: str
    marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    unread: set[Loc] = field(default_factory=set)  # scalars refused: no problem is theirs

    def source(self, loc: Loc) -> Source:
        while loc not in self.marks and loc:
            loc = loc[:-1]
        line, column = self.marks.get(loc, (1, 1))
        return Source(self.path, line, column)


class _Refused(Exception):
    def __init__(self, event: yaml.Event, message: str) -> None:
        super().__init__(message)
        self.event = event
        self.message = message


POLICY_NAMES = ("policy.yaml", "policy.yml")  # policy gates beside the manifests, not one


def is_manifest_name(name: str) -> bool:
    """Whether a file name is a manifest's: ``*.yaml`` or ``*.yml``, in any case (``B.YAML``),
    but not ``policy.yaml``, which holds policy gates (reconciler.rollout.policy)."""
    lowered = name.lower()
    return lowered.endswith((".yaml", ".yml")) and lowered not in POLICY_NAMES


def find_manifest_files(paths: Sequence[Path]) -> tuple[list[Path], list[Problem]]:
    """Every ``*.yaml``/``*.yml`` (any case) under the paths, recursively, in a stable order."""
    found: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found.extend(_walk(path, problems))
        elif path.is_file():
            if path.name.lower() not in POLICY_NAMES:
                found.append(path)
        else:
            problems.append(Problem(str(path), 0, 0, "no such file or directory"))
    unique = list(dict.fromkeys(found))
    if not unique and not problems:
        shown = ", ".join(str(p) for p in paths)
        problems.append(Problem(shown, 0, 0, "no *.yaml or *.yml manifest found here"))
    return unique, problems


def _walk(top: Path, problems: list[Problem]) -> list[Path]:
    """The manifest files under ``top``; a folder that cannot be read is a problem, not skipped
    (its manifests would silently drop out of the plan)."""

    def unreadable(error: OSError) -> None:
        where = error.filename or str(top)
        problems.append(Problem(str(where), 0, 0, f"cannot read this folder: {error.strerror}"))

    found: list[Path] = []
    for folder, _, names in os.walk(top, onerror=unreadable):
        found.extend(
            path
            for name in names
            if is_manifest_name(name) and (path := Path(folder, name)).is_file()
        )
    return sorted(found)


@without_cyclic_gc
def load_manifests(paths: Sequence[Path], default_region: str | None = None) -> ManifestSet:
    """Load and validate every manifest; ``ManifestError`` carries every problem of every file."""
    files, problems = find_manifest_files(paths)
    manifests: list[Manifest] = []
    plain: dict[str, Any] = {}
    digest = hashlib.sha256()
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            problems.append(Problem(str(file), 0, 0, f"cannot read: {exc.strerror}"))
            continue
        digest.update(str(file).encode() + b"\0" + hashlib.sha256(raw).digest())
        loaded, found = _load_file(str(file), raw, plain)
        manifests.extend(loaded)
        problems.extend(found)
    problems.extend(_duplicate_functions(manifests, default_region))
    if problems:
        raise ManifestError(problems)
    return ManifestSet(tuple(manifests), tuple(str(f) for f in files), digest.hexdigest())


def _load_file(
    path: str, raw: bytes, plain: dict[str, Any]
) -> tuple[list[Manifest], list[Problem]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return [], [Problem(path, line, column, "not UTF-8 text; save the file as UTF-8")]
    for char in _AMBIGUOUS_BREAKS:  # three scans at C speed: a millisecond or so for 13 MB
        if text.find(char) >= 0:
            return [], _capped(path, _ambiguous_breaks(path, text))
    manifests, problems, exact = _load_text(path, text, track=False, plain=plain)
    if not exact:  # rare: read the file again, keeping every position, to place each problem
        manifests, problems, _ = _load_text(path, text, track=True, plain=plain)
    return manifests, _capped(path, problems)


def _ambiguous_breaks(path: str, text: str) -> list[Problem]:
    """Every U+0085, U+2028 and U+2029 in ``text``, placed as an editor places it: only CR, LF
    and CRLF end a line."""
    problems = []
    line, start = 1, 0
    for match in _LINE_OR_AMBIGUOUS.finditer(text):
        char = match.group()
        if char in _AMBIGUOUS_BREAKS:
            problems.append(
                Problem(
                    path,
                    line,
                    match.start() - start + 1,
                    f"{_AMBIGUOUS_BREAKS[char]} is a line break to some YAML readers and not to "
                    f"others (editors, GitHub), so this file is not read: delete it, or write its "
                    # In words: error lines show a backslash doubled, and this one must be typed.
                    f"escape inside double quotes, a backslash then u{ord(char):04x}",
                )
            )
        else:
            line, start = line + 1, match.end()
    return problems


def _capped(path: str, problems: list[Problem]) -> list[Problem]:
    """A file's first ``MAX_PROBLEMS_PER_FILE`` problems, and how many more there are."""
    if len(problems) <= MAX_PROBLEMS_PER_FILE:
        return problems
    problems = sorted(problems)
    rest = problems[MAX_PROBLEMS_PER_FILE:]
    return [
        *problems[:MAX_PROBLEMS_PER_FILE],
        Problem(
            path,
            rest[0].line,
            rest[0].column,
            f"... and {len(rest)} more problems in this file, not shown",
            stands_for=len(rest),
        ),
    ]


def _load_text(
    path: str, text: str, *, track: bool, plain: dict[str, Any]
) -> tuple[list[Manifest], list[Problem], bool]:
    """Manifests and problems of one file, and whether every problem's position is exact."""
    manifests: list[Manifest] = []
    problems: list[Problem] = []
    exact = True
    documents = 0
    try:
        for data, document, refused in _documents(path, text, track=track, plain=plain):
            problems.extend(refused)
            documents += 1
            if data is None:
                continue
            manifest, found = _validate(data, document)
            problems.extend(found)
            exact = exact and (track or not found)
            if manifest is not None and not refused:
                manifests.append(manifest)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problems.append(Problem(path, line, column, f"not valid YAML: {exc.problem or exc}"))
    except yaml.reader.ReaderError as exc:  # a character YAML refuses: point at it
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
        problems.append(Problem(path, line, column, f"not valid YAML: {exc.reason} (U+{code:04X})"))
    except yaml.YAMLError as exc:
        problems.append(Problem(path, 1, 1, f"not valid YAML: {exc}"))
    else:
        if not documents:  # a truncated or emptied file must not pass in silence
            problems.append(
                Problem(
                    path,
                    0,
                    0,
                    "holds no manifest (empty, or only comments); write one or delete the file",
                )
            )
    return manifests, problems, exact


_NO_KEY = object()


def _documents(
    path: str, text: str, *, track: bool, plain: dict[str, Any]
) -> Iterator[tuple[Any, _Document, list[Problem]]]:
    """Plain data for each YAML document, built from the C parser's events, or its problems.

    Every mapping and list remembers where it starts; with ``track``, every key does too (only
    needed to place a validation problem exactly). A scalar that cannot be read is a problem, and
    the document goes on to find the others; an alias, a duplicate key, a merge key or an unusual
    tag ends the document's data there. Nesting deeper than ``MAX_NESTING`` ends the file.
    ``plain`` remembers plain scalars already resolved: most repeat (versions, Regions, names).
    """
    document = _Document(path)
    stack: list[list[Any]] = []  # [container, loc, pending key, {key: line}]
    root: Any = None
    found: list[Problem] = []  # this document's problems
    refused = False  # the rest of the document is skipped
    skipped = 0  # levels opened since the refusal, which ``stack`` no longer counts
    events: Iterator[Any] = yaml.parse(text, Loader=_Loader)  # Any: attributes differ by kind
    for event in events:
        kind = event.__class__
        if refused:
            if kind is yaml.DocumentEndEvent:
                yield None, document, found
                found, refused = [], False
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                skipped += 1
                if len(stack) + skipped > MAX_NESTING:
                    yield None, document, [*found, _too_deep(path, event)]
                    return
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                skipped -= 1
            continue
        try:
            if kind is yaml.ScalarEvent:
                value: Any = (
                    plain.get(event.value, _NO_KEY)
                    if event.implicit[0] and event.tag is None
                    else _NO_KEY
                )
                if value is _NO_KEY:  # not a plain scalar seen before
                    try:
                        value = _scalar(event, plain)
                    except _Refused as problem:  # read on, to find the document's other problems
                        found.append(Problem(path, *_at(event), problem.message))
                        value = event.value
                        document.unread.add(_scalar_loc(stack, value))
            elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
                if len(stack) == MAX_NESTING:  # stop here: libyaml's own work grows with depth
                    yield None, document, [*found, _too_deep(path, event)]
                    return
                _check_tag(event, _MAP if kind is yaml.MappingStartEvent else _SEQ)
                loc = _child_loc(stack)
                document.marks.setdefault(loc, _at(event))
                container: Any = {} if kind is yaml.MappingStartEvent else []
                stack.append([container, loc, _NO_KEY, {}])
                continue
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                value = stack.pop()[0]
            elif kind is yaml.AliasEvent:
                raise _Refused(event, _ANCHORS)
            elif kind is yaml.DocumentStartEvent:
                document, stack, root = _Document(path), [], None
                continue
            elif kind is yaml.DocumentEndEvent:
                if root is not None or found:
                    yield root, document, found
                    found = []
                continue
            else:
                continue
            if not stack:
                root = value
                continue
            frame = stack[-1]
            container = frame[0]
            if container.__class__ is list:
                if track:
                    document.marks.setdefault((*frame[1], len(container)), _at(event))
                container.append(value)
            elif frame[2] is _NO_KEY:
                _key(event, value, frame, document, track)
            else:
                container[frame[2]] = value
                frame[2] = _NO_KEY
        except _Refused as problem:
            found.append(Problem(path, *_at(problem.event), problem.message))
            refused = True
            skipped = int(kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent)


def _too_deep(path: str, event: yaml.Event) -> Problem:
    return Problem(
        path,
        *_at(event),
        f"nested deeper than {MAX_NESTING} levels (a manifest needs 4); "
        "the rest of the file was not read",
    )


def _scalar_loc(stack: list[list[Any]], value: str) -> Loc:
    """Where a scalar goes: a list item, a mapping's value, or (no key pending) a key."""
    if not stack:
        return ()
    container, loc, key = stack[-1][:3]
    if container.__class__ is list:
        return (*loc, len(container))
    return (*loc, value if key is _NO_KEY else key)


def _child_loc(stack: list[list[Any]]) -> Loc:
    if not stack:
        return ()
    container, loc, key = stack[-1][:3]
    return (*loc, len(container) if container.__class__ is list else key)


def _at(event: yaml.Event) -> tuple[int, int]:
    """An event's line and column, counted from 1."""
    mark = event.start_mark
    return (1, 1) if mark is None else (mark.line + 1, mark.column + 1)


def _key(event: Any, key: Any, frame: list[Any], document: _Document, track: bool) -> None:
    if event.__class__ is not yaml.ScalarEvent or not isinstance(key, str):
        raise _Refused(event, "keys must be plain text")
    if key == "<<" and event.implicit[0]:
        raise _Refused(event, "YAML merge keys (<<) are not allowed; write it out")
    lines = frame[3]
    line, column = _at(event)
    if key in lines:
        raise _Refused(event, f"duplicate key {key!r} (first written on line {lines[key]})")
    lines[key] = line
    frame[2] = key
    if track:
        document.marks[(*frame[1], key)] = (line, column)


_ANCHORS = "YAML anchors and aliases (&name, *name) are not allowed; write it out"
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
# YAML 1.2's core schema: these words, and numbers (which start with one of _NUMBER_START).
_WORDS: dict[str, Any] = {
    "": None,
    "~": None,
    **dict.fromkeys(("null", "Null", "NULL"), None),
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **{
        f"{sign}.{inf}": float(f"{sign}inf")
        for sign in ("", "+", "-")
        for inf in ("inf", "Inf", "INF")
    },
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
}
_NUMBER_START = frozenset("0123456789+-.")
_DECIMAL = re.compile(r"[-+]?[0-9]+", re.ASCII)
_REAL = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?", re.ASCII)
_OCTAL = re.compile(r"[-+]?0o[0-7]+", re.ASCII)  # YAML 1.2 only: 1.1 reads it as text
_YAML_1_1_NUMBERS = frozenset({_INT, _FLOAT})
_LEADING_ZERO = " (YAML 1.1 reads a leading 0 as octal)"


def _check_tag(event: yaml.CollectionStartEvent, allowed: str) -> None:
    if event.tag not in (None, "!", allowed):
        raise _Refused(event, f"YAML tag {event.tag!r} is not allowed in a manifest")


def _scalar(event: yaml.ScalarEvent, plain: dict[str, Any]) -> Any:
    """A scalar's value: text, unless it is plain (or tagged) and YAML 1.2's core schema types
    it. The non-specific tag ``!`` makes a scalar text (``! true`` is the text "true")."""
    value: str = event.value
    tag = event.tag
    if tag is None:
        if not event.implicit[0]:  # quoted: always text
            return value
        typed = _WORDS.get(value, value)
        if typed is value and value[0] in _NUMBER_START:  # "" is one of the words
            typed = _number(event, value)
        if len(value) <= 64:
            plain[value] = typed
        return typed
    if tag == "!" or tag in _TEXT_TAGS:
        return value
    if tag not in _TYPED_TAGS:
        raise _Refused(event, f"YAML tag {tag!r} is not allowed in a manifest")
    kind, how = _TYPED_TAGS[tag]
    typed = _WORDS.get(value, value)
    if typed is value and value[:1] in _NUMBER_START:
        typed = _number(event, value, tagged=True)
    if kind is float and typed.__class__ is int:
        typed = float(typed)
    if typed.__class__ is not kind:
        raise _Refused(event, f"{value!r} is not a YAML {tag.rsplit(':', 1)[1]}: {how}")
    return typed


def _number(event: yaml.ScalarEvent, value: str, *, tagged: bool = False) -> Any:
    """A scalar that starts like a number: an int, a float, text, or refused if YAML 1.1 and 1.2
    readers would disagree on it or it is not written in plain decimal. ``tagged``: it has an
    explicit number tag, so neither reader guesses its type from its spelling."""
    if _DECIMAL.fullmatch(value):
        digits = value.lstrip("+-")
        if digits[0] == "0" and len(digits) > 1:  # 012345678901 may be an account ID: say so
            decimal = ("-" if value[0] == "-" else "") + (digits.lstrip("0") or "0")
            raise _Refused(
                event,
                f"{value} is not a plain decimal number{_LEADING_ZERO}: write {decimal} if it is "
                f'a number, or quote it ("{value}") if it is text or an identifier such as an '
                "account ID",
            )
        try:
            return int(value)
        except ValueError:  # longer than Python converts (sys.get_int_max_str_digits)
            raise _Refused(
                event, f"a number of {len(digits)} digits is too long; quote it if it is text"
            ) from None
    if _REAL.fullmatch(value):
        number = float(value)
        if tagged:
            return number
        read = _yaml_1_1_number(value)  # 1e-3, +.5 and 1.0e3 are text to YAML 1.1
        if read == number:
            return number
        how = "as text" if read is _NO_KEY else f"as {read!r}"
        raise _Refused(event, _respell(value, float_text(number), f" (YAML 1.1 reads it {how})"))
    if _OCTAL.fullmatch(value):
        return _refuse_number(event, value, int(value, 8))
    number = _yaml_1_1_number(value)
    if number is not _NO_KEY:
        return _refuse_number(event, value, number)
    return value


def _yaml_1_1_number(value: str) -> Any:
    """What PyYAML's YAML 1.1 resolver makes of a plain scalar: a number, None if it matches a
    number's pattern but has no value (``0x_``), or ``_NO_KEY`` if it is not a number to it."""
    for tag, pattern in _RESOLVERS.get(value[0], ()):
        if pattern.match(value):
            if tag not in _YAML_1_1_NUMBERS:
                return _NO_KEY
            try:
                return _SCALARS.construct_object(yaml.ScalarNode(tag, value))
            except (ValueError, yaml.YAMLError):  # 0x_ matches YAML 1.1's pattern, has no value
                return None
    return _NO_KEY


def float_text(number: float) -> str:
    """A finite float as YAML 1.1 and 1.2 readers both read it, exactly: its shortest round-trip
    form, with a point and a signed exponent if it has one (5e-324 is written 5.0e-324)."""
    text = repr(number)
    mantissa, exponent, power = text.partition("e")
    if exponent and "." not in mantissa:
        return f"{mantissa}.0e{power}"
    return text


def _refuse_number(event: yaml.ScalarEvent, value: str, number: int | float | None) -> Any:
    if number is None:
        raise _Refused(
            event,
            f"{value} is not a plain decimal number: write it with decimal digits only, "
            "or quote it if it is text",
        )
    shown = float_text(number) if isinstance(number, float) else str(number)
    raise _Refused(event, _respell(value, shown))


def _respell(value: str, decimal: str, why: str = "") -> str:
    return f"{value} is not a plain decimal number{why}: write {decimal}, or quote it if it is text"


def _validate(data: Any, document: _Document) -> tuple[Manifest | None, list[Problem]]:
    where = document.source(())
    if isinstance(data, dict) and "format_version" in data and "changes" in data:
        return None, [
            Problem(
                *where,
                "this is a plan saved by `reconcile plan --out`, not a manifest: show it with "
                "`reconcile show FILE`, apply it with `reconcile apply FILE`",
            )
        ]
    if not isinstance(data, dict):
        return None, [
            Problem(
                where.path,
                where.line,
                where.column,
                "a manifest is a mapping with 'function' and 'aliases'",
            )
        ]
    if (cloud := _cloud_problem(data.get("provider", "lambda"))) is not None:
        # Which model to check the rest against is unknown: one problem, not a list of
        # another cloud's rules broken.
        return None, [Problem(*document.source(("provider",)), cloud)]
    functiongraph = data.get("provider") == fg.PROVIDER
    model: type[FunctionSpec | fg.FunctionGraphSpec] = (
        fg.FunctionGraphSpec if functiongraph else FunctionSpec
    )
    try:
        spec: FunctionSpec | fg.FunctionGraphSpec = model.model_validate(data)
    except ValidationError as exc:
        unread = document.unread
        return None, [
            _problem(error, document, functiongraph=functiongraph)
            for error in exc.errors()
            if not unread or not _under(tuple(error["loc"]), unread)
        ]
    alias_sources = tuple(document.source(("aliases", i)) for i in range(len(spec.aliases)))
    first: dict[str, Source] = {}
    problems = []
    aliases: Sequence[AliasSpec | fg.FgAliasSpec] = spec.aliases
    for alias, source in zip(aliases, alias_sources, strict=True):
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


CLOUDS = ("lambda", fg.PROVIDER)


def _cloud_problem(provider: object) -> str | None:
    """What is wrong with a manifest's ``provider``, or None when it names a cloud."""
    if provider in CLOUDS:
        return None
    if isinstance(provider, str) and provider.strip().lower() in CLOUDS:
        return f"provider: write {provider.strip().lower()!r} in lowercase, not {provider!r}"
    return (
        f"provider: {str(provider)[:80]!r} is not a cloud this tool knows: write lambda "
        f"(the default) or {fg.PROVIDER}"
    )


def _under(loc: Loc, unread: set[Loc]) -> bool:
    """Whether ``loc`` is at or under a refused scalar: a lookup per level, never a scan."""
    return any(loc[:depth] in unread for depth in range(len(loc) + 1))


_HINTS = {
    "extra_forbidden": "unknown key {key!r}; check its spelling against the manifest reference",
    "missing": "{key!r} is required here",
    "string_type": "{key!r} must be text; quote it",
    "bool_type": "{key!r}: write true or false, not {input!r}",
}


def _keys_at(loc: Loc, *, functiongraph: bool = False) -> list[str]:
    """The keys a manifest allows in the mapping at ``loc``."""
    model: type[BaseModel] = fg.FunctionGraphSpec if functiongraph else FunctionSpec
    if loc[:1] == ("aliases",) and len(loc) >= 2:
        if functiongraph:
            routing = fg.Rule if loc[3:4] == ("rules",) else fg.FgRouting
            model = routing if loc[2:3] == ("routing",) else fg.FgAliasSpec
            if loc[2:3] == ("rollout",):
                model = fg.FgRolloutSpec
        else:
            nested: dict[str, type[BaseModel]] = {"routing": Routing, "rollout": RolloutSpec}
            model = nested.get(str(loc[2]), AliasSpec) if len(loc) > 2 else AliasSpec
            if loc[2:4] == ("rollout", "hooks"):
                model = Hooks
    return [field.alias or name for name, field in model.model_fields.items()]


def _other_cloud_key(key: str, loc: Loc, *, functiongraph: bool) -> str | None:
    """Why a key of the other cloud's manifests is not one of this manifest's, or None."""
    if len(loc) != 1:
        return None
    if functiongraph and key in fg.LAMBDA_ONLY_KEYS:
        return (
            f"{key!r} is a Lambda key; a FunctionGraph manifest names its project with "
            "'project' (or in the function's URN)"
        )
    if not functiongraph and key in fg.FUNCTIONGRAPH_ONLY_KEYS:
        return (
            f"{key!r} is a FunctionGraph key; add 'provider: functiongraph' if this function is "
            "on FunctionGraph, or remove it"
        )
    return None


def _problem(error: Any, document: _Document, *, functiongraph: bool = False) -> Problem:
    loc: Loc = tuple(error["loc"])
    key = next((part for part in reversed(loc) if isinstance(part, str)), "value")
    hint = _HINTS.get(error["type"])
    other = None
    if error["type"] == "extra_forbidden":
        other = _other_cloud_key(str(key), loc, functiongraph=functiongraph)
    if other is not None:
        message = other
    elif hint is not None:
        message = hint.format(key=key, input=error.get("input"))
        if error["type"] == "extra_forbidden":
            keys = _keys_at(loc[:-1], functiongraph=functiongraph)
            close = difflib.get_close_matches(str(key), keys, n=1, cutoff=0.6)
            message += f" (did you mean {close[0]!r}?)" if close else ""
    else:
        message = str(error["msg"]).removeprefix("Value error, ")
        if key != "value" and not message.startswith(f"{key} "):  # not "version: version must"
            message = f"{key}: {message}"
    source = document.source(loc)
    return Problem(source.path, source.line, source.column, message)


def _duplicate_functions(
    manifests: Sequence[Manifest], default_region: str | None
) -> list[Problem]:
    """Manifests that the files alone show to name one function (resolution finds the rest)."""
    keyed: list[tuple[Hashable, str, Manifest]] = []
    for manifest in manifests:
        if isinstance(manifest.spec, fg.FunctionGraphSpec):
            where = manifest.spec.where
            shown = "/".join(
                (where.project or "(your project)", where.region or "(no Region)", where.name)
            )
            key = (fg.PROVIDER, where.project, where.region, where.package, where.name)
            keyed.append((key, shown, manifest))
            continue
        ref = manifest.spec.where
        region = ref.region or default_region
        partition = ref.partition or (contract.partition_of(region) if region else None)
        shown = "/".join((ref.account or "(your account)", region or "(default Region)", ref.name))
        keyed.append(((partition, ref.account, region, ref.name), shown, manifest))
    return duplicate_functions(keyed)


def duplicate_functions(keyed: Iterable[tuple[Hashable, str, Manifest]]) -> list[Problem]:
    """One function, one owner: a problem at every manifest whose key an earlier one had.

    ``keyed`` holds (identity, the identity as shown, manifest); the identity compares the
    function as resolved (partition, account, Region, name), never as it was spelt.
    """
    first: dict[Hashable, Manifest] = {}
    problems = []
    for key, shown, manifest in keyed:
        earlier = first.setdefault(key, manifest)
        if earlier is not manifest:
            problems.append(
                Problem(
                    *manifest.source,
                    f"function {shown} (written {manifest.spec.function!r}) is already managed "
                    f"at {earlier.source} (written {earlier.spec.function!r}); keep one manifest "
                    "per function",
                )
            )
    return problems

"""Adopt an existing estate: live aliases -> manifests in the documented format.

Pure: it turns what was read into file text. The CLI reads, checks for existing files and writes.
"""

from __future__ import annotations

import re
import unicodedata

from reconciler.live import FunctionTarget, LiveAlias
from reconciler.manifests import float_text

SCHEMA_FILE = "manifest.schema.json"

# What a double-quoted YAML scalar cannot hold as itself, or holds as something else to some
# reader: its own quote and backslash, C0 and C1 controls, DEL, line breaks of any YAML version
# (U+0085, U+2028, U+2029), the byte order mark, surrogates and non-characters. Written as escapes,
# they read back exactly; so are format characters (_text). Everything else (é, 日本, emoji) is
# written as it is, for reviewers.
_ESCAPED = re.compile(
    r'["\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufdd0-\ufdef'
    + "".join(rf"\U{plane:04x}fffe\U{plane:04x}ffff" for plane in range(17))
    + "]"
)
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class UnwritableError(ValueError):
    """Live text that no YAML file can hold (a lone surrogate): the import would not read back."""


def manifest_text(
    target: FunctionTarget, aliases: tuple[LiveAlias, ...], schema: str = SCHEMA_FILE
) -> str:
    """A manifest that plans empty against the aliases it was made from.

    Text is written as YAML double-quoted scalars: whatever a description holds (quotes, ``#``,
    colons, line breaks, controls, unicode), it reads back unchanged, and a date-like alias name
    stays a name. Weights are written in Python's shortest round-trip form, so 0.125 stays
    ``0.125``, with a point and a signed exponent where YAML 1.1 needs them (``5.0e-324``).
    ``UnwritableError`` if a description holds a lone surrogate, which YAML cannot hold at all.
    """
    lines = [
        f"# yaml-language-server: $schema={schema}",
        f"# Imported from {target.address}.",
    ]
    if target.provider == "functiongraph":
        lines += [
            "provider: functiongraph",
            f"function: {_text(target.name)}",
            f"package: {_text(target.package)}",
            f"project: {_text(target.account)}",
            f"region: {_text(target.region)}",
        ]
    else:
        lines += [
            f"function: {_text(target.name)}",
            f"region: {_text(target.region)}",
            f"account: {_text(target.account)}",
        ]
    lines.append("aliases:")
    for alias in sorted(aliases, key=lambda a: a.name):
        lines.append(f"  - name: {_text(alias.name)}")
        lines.append(f"    version: {_version(alias.version)}")
        if alias.description:  # an empty description is left out: the manifest does not manage it
            try:
                lines.append(f"    description: {_text(alias.description)}")
            except UnwritableError as exc:
                where = target.alias_address(alias.name)
                raise UnwritableError(f"the description of {where} holds {exc}") from None
        if alias.routing is not None and alias.routing.rules:
            rules = ", ".join(
                f"{{header: {_text(r.header)}, "
                + (
                    f"in: [{', '.join(_text(v) for v in r.value.split(','))}]}}"
                    if r.op == "in"
                    else f"equals: {_text(r.value)}}}"
                )
                for r in alias.routing.rules
            )
            lines.append(
                f"    routing: {{version: {_version(alias.routing.version)}, rules: [{rules}], "
                f"combine: {_text(alias.routing.combine)}}}"
            )
        elif alias.routing is not None:
            weight = float_text(float(alias.routing.weight))
            lines.append(
                f"    routing: {{version: {_version(alias.routing.version)}, weight: {weight}}}"
            )
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    """``value`` as a double-quoted YAML scalar on one line, that every YAML reader reads back
    exactly, and that shows a reviewer what it holds: format characters (bidi overrides and
    isolates, zero-width characters, the soft hyphen, tag characters) are escaped too, as plan
    output shows them, so they cannot reorder or hide the text around them."""
    text = _ESCAPED.sub(lambda match: _escape(match.group()), value)
    if not text.isascii():
        text = "".join(_escape(c) if unicodedata.category(c) == "Cf" else c for c in text)
    return '"' + text + '"'


def _escape(char: str) -> str:
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        raise UnwritableError(
            f"U+{code:04X}, half of a UTF-16 surrogate pair alone, which no YAML file can hold"
        )
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _version(version: str) -> str:
    """A version as the loader reads it back: bare only as a number written plainly (``7``,
    Lambda's only form); FunctionGraph's ``01`` or ``0`` is a name, quoted so it stays one."""
    plain = version.isascii() and version.isdigit() and not version.startswith("0")
    return version if plain else _text(version)

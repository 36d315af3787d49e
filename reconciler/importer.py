"""Adopt an existing estate: live aliases -> manifests in the documented format.

Pure: it turns what was read into file text. The CLI reads, checks for existing files and writes.
"""

from __future__ import annotations

import json

from reconciler.live import FunctionTarget, LiveAlias

SCHEMA_FILE = "manifest.schema.json"


def manifest_text(
    target: FunctionTarget, aliases: tuple[LiveAlias, ...], schema: str = SCHEMA_FILE
) -> str:
    """A manifest that plans empty against the aliases it was made from.

    Text is written as JSON strings, which are YAML double-quoted scalars: whatever a
    description holds (quotes, ``#``, colons, unicode), it reads back unchanged, and a date-like
    alias name stays a name. Weights are written in Python's shortest round-trip form, so 0.125
    stays ``0.125``.
    """
    lines = [
        f"# yaml-language-server: $schema={schema}",
        f"# Imported from {target.address}.",
        f"function: {_text(target.name)}",
        f"region: {_text(target.region)}",
        f"account: {_text(target.account)}",
        "aliases:",
    ]
    for alias in sorted(aliases, key=lambda a: a.name):
        lines.append(f"  - name: {_text(alias.name)}")
        lines.append(f"    version: {_version(alias.version)}")
        if alias.description:  # an empty description is left out: the manifest does not manage it
            lines.append(f"    description: {_text(alias.description)}")
        if alias.routing is not None:
            weight = repr(float(alias.routing.weight))
            lines.append(
                f"    routing: {{version: {_version(alias.routing.version)}, weight: {weight}}}"
            )
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _version(version: str) -> str:
    return version if version.isdigit() else _text(version)

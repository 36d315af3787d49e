"""What the sandbox keeps about functions and versions that moto does not: their RevisionIds.

The rules that use it are in ``app.py`` (``SandboxApp._overrides``), one method per operation.
"""

from __future__ import annotations

import threading
import uuid

from reconciler import contract

_Key = tuple[str, str, str, str]  # account, region, function name, version


class Revisions:
    """RevisionIds of functions and versions, by account, Region, function and version.

    An id is made the first time it is asked for (seeding writes to moto directly), and changes
    only when a rule rotates it: a published version's never does.
    """

    def __init__(self) -> None:
        self._ids: dict[_Key, str] = {}
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._ids.clear()

    def of(self, account: str, region: str, name: str, version: str) -> str:
        with self._lock:
            return self._ids.setdefault((account, region, name, version), str(uuid.uuid4()))

    def rotate(self, account: str, region: str, name: str) -> str:
        """A new RevisionId for $LATEST."""
        with self._lock:
            revision = self._ids[(account, region, name, contract.LATEST)] = str(uuid.uuid4())
            return revision

    def forget(self, account: str, region: str, name: str, version: str | None = None) -> None:
        """Forget one version's RevisionId, or (version None) the whole function's."""
        with self._lock:
            for key in [k for k in self._ids if k[:3] == (account, region, name)]:
                if version is None or key[3] == version:
                    del self._ids[key]

"""One provider for an estate on several clouds: each call goes to its function's cloud.

Plan, pre-flight and apply see one ``AliasWriter`` and ``VersionReader``; a Lambda function is
read and written through boto3, a FunctionGraph one through the Huawei Cloud SDK. A cloud's
client is made the first time one of its functions is met, so an estate on one cloud needs no
credentials for the other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from reconciler.functiongraph import PROVIDER as FUNCTIONGRAPH
from reconciler.live import DesiredAlias, FunctionTarget, LiveAlias, LiveFunction, VersionInfo


class Clouds:
    """Lambda and FunctionGraph providers behind the one interface, each made when first
    needed."""

    def __init__(self, aws_lambda: Callable[[], Any], functiongraph: Callable[[], Any]) -> None:
        self._factories = {"lambda": aws_lambda, FUNCTIONGRAPH: functiongraph}
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def cloud(self, provider: str) -> Any:
        """The provider of one cloud ("lambda" or "functiongraph")."""
        with self._lock:
            if provider not in self._made:
                self._made[provider] = self._factories[provider]()
            return self._made[provider]

    @property
    def aws_lambda(self) -> Any:
        return self.cloud("lambda")

    @property
    def functiongraph(self) -> Any:
        return self.cloud(FUNCTIONGRAPH)

    def _for(self, target: FunctionTarget) -> Any:
        return self.cloud(target.provider)

    def read_function(self, target: FunctionTarget) -> LiveFunction:
        result: LiveFunction = self._for(target).read_function(target)
        return result

    def get_alias(self, target: FunctionTarget, name: str) -> LiveAlias | None:
        result: LiveAlias | None = self._for(target).get_alias(target, name)
        return result

    def version_info(self, target: FunctionTarget, version: str) -> VersionInfo | None:
        result: VersionInfo | None = self._for(target).version_info(target, version)
        return result

    def provisioned_concurrency(self, target: FunctionTarget, alias: str) -> int | None:
        result: int | None = self._for(target).provisioned_concurrency(target, alias)
        return result

    def create_alias(self, target: FunctionTarget, desired: DesiredAlias) -> LiveAlias:
        result: LiveAlias = self._for(target).create_alias(target, desired)
        return result

    def update_alias(
        self, target: FunctionTarget, desired: DesiredAlias, revision_id: str
    ) -> LiveAlias:
        result: LiveAlias = self._for(target).update_alias(target, desired, revision_id)
        return result

    def delete_alias(self, target: FunctionTarget, name: str) -> None:
        self._for(target).delete_alias(target, name)

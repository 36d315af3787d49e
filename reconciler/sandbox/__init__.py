"""A local AWS Lambda control plane for tests, benchmarks and demos (needs the ``sandbox`` extra).

moto serves functions, versions, IAM and STS; this package's own layer serves the alias API exactly
as LAMBDA_CONTRACT.md describes, and adds switchable quotas, latency, faults and call accounting.
"""

from __future__ import annotations

from reconciler.sandbox.realism import AWS_QUOTAS, FaultKind
from reconciler.sandbox.server import Sandbox

__all__ = ["AWS_QUOTAS", "FaultKind", "Sandbox"]

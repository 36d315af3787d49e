"""Every error the reconciler raises on purpose.

The CLI maps the whole tree to exit codes in one place: any ``ReconcilerError`` is exit 1; staleness
is not an error but an apply outcome (exit 3).

::

    ReconcilerError
    ├── InputError                  bad input: nothing was changed in the cloud
    │   ├── ProblemsError           several problems, each with path:line:col
    │   │   ├── ManifestError       manifests that do not load or validate
    │   │   └── PreflightError      a plan the service would refuse (a missing version...)
    │   ├── PlanFileError           a saved plan that cannot be read or is of an unknown version
    │   └── SeedError               a sandbox seed file that does not load
    └── ProviderError               the cloud answered with an error, nonsense, or not at all
        ├── NotFoundError           404: function, version or alias does not exist
        ├── ConflictError           409: the alias exists already, or an operation is in progress
        ├── PreconditionFailedError 412: the RevisionId sent is not the alias's current one
        ├── InvalidRequestError     400: the service refused the parameters
        ├── AccessDeniedError       403: the credentials may not do this
        ├── MalformedAnswerError    an answer the API does not define; a write may have landed
        └── TransientError          worth retrying later: throttling, 5xx, connection failures
            └── ThrottledError      429 after the client's own retries
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


class ReconcilerError(Exception):
    """Base of every error raised on purpose by this package.

    The message is one line; ``details`` are further lines (each shown on its own, indented).
    Both may quote untrusted text: whoever prints them makes every line inert.
    """

    def __init__(self, message: str = "", *, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.details = tuple(details)


class InputError(ReconcilerError):
    """Something the user gave us is wrong; nothing was changed in the cloud."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in one file, at one place (``stands_for`` more when it sums up the rest)."""

    path: str
    line: int
    column: int
    message: str
    stands_for: int = field(default=1, compare=False)

    def __str__(self) -> str:
        if self.line == 0:  # the file as a whole: no line to point at
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class ProblemsError(InputError):
    """Bad input found in several places at once; ``problems`` holds every one, in order.

    ``consequence`` says what was (not) done because of them, as the CLI reports it.
    """

    consequence = "nothing was changed"

    def __init__(self, problems: Sequence[Problem], *, consequence: str | None = None) -> None:
        self.problems = tuple(sorted(problems))
        if consequence is not None:
            self.consequence = consequence
        super().__init__("\n".join(str(p) for p in self.problems))


class ManifestError(ProblemsError):
    """One or more manifests do not load or validate; nothing was sent to the cloud."""

    consequence = "nothing was sent to the cloud"


class PreflightError(ProblemsError):
    """The plan would fail at apply for reasons known now: missing versions, mismatched roles."""


class PlanFileError(InputError):
    """A saved plan that cannot be read, or was written by an incompatible version."""


class SeedError(InputError):
    """A sandbox seed that cannot be loaded."""


class ProviderError(ReconcilerError):
    """The cloud refused a call or could not be reached.

    ``retried``: the client sent the call more than once, so an earlier attempt may have been
    made and this answer met its success (a 409 or 412 then is our own doing).
    """

    retryable = False

    def __init__(
        self, message: str, *, code: str = "", status: int = 0, retried: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retried = retried


class NotFoundError(ProviderError):
    """404: the function, version or alias does not exist."""


class ConflictError(ProviderError):
    """409: the alias exists already, or another operation is in progress."""


class PreconditionFailedError(ProviderError):
    """412: the RevisionId sent is not the alias's current one; nothing was changed."""


class InvalidRequestError(ProviderError):
    """400: the service refused the parameters."""


class AccessDeniedError(ProviderError):
    """403: the credentials in use may not make this call."""


class MalformedAnswerError(ProviderError):
    """The service (or whatever answers at the endpoint) answered, but not as the API defines.

    Nothing of the answer is used. After a write, the write may have been made: read it back.
    """


class TransientError(ProviderError):
    """Throttling, a server error or a dropped connection: a later run may succeed."""

    retryable = True


class ThrottledError(TransientError):
    """429 TooManyRequestsException, still failing after the client's own retries."""

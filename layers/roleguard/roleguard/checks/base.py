"""What a check is: metadata plus one pure function over the gathered facts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable

from ..model import CheckResult, EvaluationFacts, ReadError, RoleLookup, Severity, Status
from ..policy.effective import EffectivePermissions


class Scope(str, Enum):
    """Whose problem a failure is: the role's (shared by every resource using it) or the resource's."""

    ROLE = "role"
    RESOURCE = "resource"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: Severity  # severity when FAILED, unless the result says otherwise
    scope: Scope
    remediation: str
    documentation_url: str
    run: Callable[[EvaluationFacts], CheckResult | None]  # None: does not apply to this resource


ROLE_GUIDE_URL = (
    "https://docs.aws.amazon.com/appstream2/latest/developerguide/"
    "using-iam-roles-to-grant-permissions-to-applications-scripts-streaming-instances.html"
)


def not_available(error: ReadError) -> CheckResult:
    return CheckResult(Status.NOT_AVAILABLE, f"could not be evaluated: {error.describe()}")


def unreadable_policies(facts: EvaluationFacts, eff: EffectivePermissions) -> list[str]:
    """What of the role's permission policies could not be judged: failed reads, then invalid documents."""
    assert facts.role is not None
    return [e.describe() for e in facts.role.read_errors] + [p.describe() for p in eff.problems]


def role_unavailable(facts: EvaluationFacts) -> CheckResult | None:
    """The result for checks that need the role's documents when the role could not be read; None if it was."""
    if facts.role_lookup is RoleLookup.FOUND and facts.role is not None:
        return None
    if facts.role_lookup is RoleLookup.UNREADABLE and facts.role_error is not None:
        return not_available(facts.role_error)
    if facts.role_lookup is RoleLookup.NOT_FOUND:
        return CheckResult(Status.NOT_AVAILABLE, "the role does not exist, so its policies cannot be read")
    return CheckResult(Status.NOT_AVAILABLE, "the role cannot be read from this account (see role-exists)")

"""Best practice: one role per resource. Role ARNs compare as IAM compares them (names case-insensitive)."""

from __future__ import annotations

from ..model import CheckResult, EvaluationFacts, Severity, Status
from .base import ROLE_GUIDE_URL, Check, Scope, not_available

_SHOWN = 10


def run(facts: EvaluationFacts) -> CheckResult | None:
    if facts.others_error is not None:
        return not_available(facts.others_error)
    others = facts.other_resources_using_role
    if others is None:
        return None  # not gathered (e.g. offline): nothing to say
    if not others:
        return CheckResult(Status.PASSED, f"no other fleet, image builder or app block builder in {facts.resource.ref.region} uses this role")
    shown = ", ".join(arn.split(":", 5)[5] for arn in others[:_SHOWN])
    more = f" and {len(others) - _SHOWN} more" if len(others) > _SHOWN else ""
    return CheckResult(
        Status.FAILED,
        f"{len(others)} other AppStream resources use this role: {shown}{more}",
        evidence={"others": ",".join(others)},
    )


CHECK = Check(
    id="dedicated-role",
    title="The IAM role is used by this AppStream resource only",
    severity=Severity.LOW,
    scope=Scope.RESOURCE,
    remediation="Give each fleet, image builder and app block builder its own role with only the permissions its applications need.",
    documentation_url=ROLE_GUIDE_URL,
    run=run,
)

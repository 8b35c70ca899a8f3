"""Prerequisite: the trust policy lets appstream.amazonaws.com call sts:AssumeRole for this resource."""

from __future__ import annotations

from ..model import CheckResult, EvaluationFacts, Severity, Status
from ..policy.conditions import Truth
from ..policy.document import PolicyError, parse_policy
from ..policy.trust import APPSTREAM_PRINCIPAL, appstream_context, can_assume
from .base import ROLE_GUIDE_URL, Check, Scope, role_unavailable


def run(facts: EvaluationFacts) -> CheckResult:
    unavailable = role_unavailable(facts)
    if unavailable is not None:
        return unavailable
    assert facts.role is not None
    if facts.role.trust_policy is None:
        if facts.role.trust_error is not None:
            return CheckResult(Status.WARNING, f"the trust policy could not be read: {facts.role.trust_error.describe()}")
        return CheckResult(Status.FAILED, "the role has no trust policy")
    try:
        policy = parse_policy(facts.role.trust_policy)
    except PolicyError as err:
        return CheckResult(Status.WARNING, f"the trust policy could not be read: {err}")
    ref = facts.resource.ref
    verdict = can_assume(policy, "Service", APPSTREAM_PRINCIPAL, appstream_context(ref.arn, ref.account))
    if verdict.truth is Truth.TRUE:
        where = ", ".join(s.label for s in verdict.allowing)
        return CheckResult(Status.PASSED, f"{APPSTREAM_PRINCIPAL} may assume the role for {ref.arn} ({where})")
    reason = "; ".join(verdict.reasons)
    if verdict.truth is Truth.UNKNOWN:
        return CheckResult(Status.WARNING, f"cannot tell whether AppStream may assume the role: {reason}")
    return CheckResult(Status.FAILED, f"AppStream cannot assume the role for {ref.arn}: {reason}")


CHECK = Check(
    id="trust-allows-appstream",
    title="The role's trust policy lets AppStream assume it",
    severity=Severity.HIGH,
    scope=Scope.ROLE,
    remediation=(
        "Add a trust statement: Effect Allow, Principal {\"Service\": \"appstream.amazonaws.com\"}, "
        "Action sts:AssumeRole, with aws:SourceAccount set to this account (and optionally aws:SourceArn "
        "matching this resource's ARN)."
    ),
    documentation_url=ROLE_GUIDE_URL,
    run=run,
)

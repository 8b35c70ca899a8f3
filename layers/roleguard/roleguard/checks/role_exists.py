"""Prerequisite: the attached role exists (iam:GetRole finds it)."""

from __future__ import annotations

from ..arns import InvalidArn, parse_role_arn
from ..model import CheckResult, EvaluationFacts, RoleLookup, Severity, Status
from .base import ROLE_GUIDE_URL, Check, Scope, not_available


def run(facts: EvaluationFacts) -> CheckResult:
    role_arn = facts.resource.role_arn or ""
    if facts.role_lookup is RoleLookup.FOUND:
        return CheckResult(Status.PASSED, f"iam:GetRole found {role_arn}")
    if facts.role_lookup is RoleLookup.NOT_FOUND:
        return CheckResult(Status.FAILED, f"iam:GetRole found no role {role_arn} (NoSuchEntity after waiting for IAM)")
    if facts.role_lookup is RoleLookup.UNREADABLE and facts.role_error is not None:
        return not_available(facts.role_error)
    try:
        arn = parse_role_arn(role_arn)
    except InvalidArn as err:
        return CheckResult(Status.FAILED, f"the attached role ARN is invalid, so no such role can exist: {err}")
    return CheckResult(
        Status.NOT_AVAILABLE,
        f"the role is in account {arn.account} ({arn.partition}); this stack reads roles of its own account only",
    )


CHECK = Check(
    id="role-exists",
    title="The IAM role attached to the AppStream resource exists",
    severity=Severity.HIGH,
    scope=Scope.RESOURCE,
    remediation="Attach an existing IAM role of this account, or create the role with the name the resource references.",
    documentation_url=ROLE_GUIDE_URL,
    run=run,
)

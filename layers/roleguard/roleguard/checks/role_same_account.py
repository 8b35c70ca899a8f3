"""Prerequisite: the role is in the same partition and account as the AppStream resource."""

from __future__ import annotations

from ..arns import InvalidArn, parse_role_arn
from ..model import CheckResult, EvaluationFacts, Severity, Status
from .base import ROLE_GUIDE_URL, Check, Scope


def run(facts: EvaluationFacts) -> CheckResult:
    ref = facts.resource.ref
    try:
        arn = parse_role_arn(facts.resource.role_arn)
    except InvalidArn as err:
        return CheckResult(Status.FAILED, f"the attached role ARN is invalid: {err}")
    if arn.partition != ref.partition:
        return CheckResult(
            Status.FAILED, f"role is in partition {arn.partition}, the {ref.kind.label} in {ref.partition}"
        )
    if arn.account != ref.account:
        return CheckResult(
            Status.FAILED, f"role is in account {arn.account}, the {ref.kind.label} in account {ref.account}"
        )
    return CheckResult(Status.PASSED, f"role and {ref.kind.label} are both in account {ref.account}")


CHECK = Check(
    id="role-same-account",
    title="The IAM role is in the same AWS account as the AppStream resource",
    severity=Severity.HIGH,
    scope=Scope.RESOURCE,
    remediation="Create the role in the account that owns the fleet, image builder or app block builder and attach that role.",
    documentation_url=ROLE_GUIDE_URL,
    run=run,
)

"""Prerequisite: the role is not a service-linked role nor one of AppStream's own service roles.

AWS's guide says the role "cannot be a service role". Read literally that
would reject the very role AWS tells you to create (IAM calls any role that a
service assumes a service role). What cannot work is a service-linked role
(path /aws-service-role/, owned by the service) or AppStream's own service
roles, which exist for AppStream's control plane. A /service-role/ path alone
is evaluated like any other role.
"""

from __future__ import annotations

from ..arns import InvalidArn, parse_role_arn
from ..model import CheckResult, EvaluationFacts, Severity, Status
from .base import ROLE_GUIDE_URL, Check, Scope

APPSTREAM_SERVICE_ROLES = frozenset(
    {"amazonappstreamserviceaccess", "applicationautoscalingforamazonappstreamaccess"}
)


def run(facts: EvaluationFacts) -> CheckResult | None:
    if facts.role is not None:
        name, path = facts.role.name, facts.role.path
    else:
        try:
            parsed = parse_role_arn(facts.resource.role_arn)
        except InvalidArn:
            return None  # role-exists and role-same-account already say the ARN is invalid
        name, path = parsed.name, parsed.path
    if path.startswith("/aws-service-role/"):
        return CheckResult(Status.FAILED, f"{name} is a service-linked role (path {path}), owned by an AWS service")
    if name.lower() in APPSTREAM_SERVICE_ROLES:
        return CheckResult(Status.FAILED, f"{name} is AppStream's own service role, not an instance role")
    return CheckResult(Status.PASSED, f"{name} (path {path}) is neither service-linked nor an AppStream service role")


CHECK = Check(
    id="role-not-service-role",
    title="The IAM role is not a service-linked role or an AppStream service role",
    severity=Severity.HIGH,
    scope=Scope.ROLE,
    remediation="Create a dedicated role for the streaming instances that trusts appstream.amazonaws.com and attach it instead.",
    documentation_url=ROLE_GUIDE_URL,
    run=run,
)

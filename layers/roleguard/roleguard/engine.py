"""Facts in, findings out. Pure and deterministic: registry order, no clock, no I/O."""

from __future__ import annotations

from .checks import CHECK_IDS, REGISTRY, Check
from .model import CheckResult, EvaluationFacts, Finding, Severity, Status
from .suppression import suppressions

# Severity when a check could not decide: worth a look, not an alarm.
_UNDECIDED_SEVERITY = Severity.MEDIUM


def _severity(check: Check, result: CheckResult) -> Severity:
    if result.status is Status.PASSED:
        return Severity.INFORMATIONAL
    if result.severity is not None:
        return result.severity
    return check.severity if result.status is Status.FAILED else _UNDECIDED_SEVERITY


def evaluate(facts: EvaluationFacts, checks: tuple[Check, ...] = REGISTRY) -> list[Finding]:
    """One finding per applicable check. A resource without a role gets none: its role findings are inactive."""
    if not facts.resource.role_arn:
        return []
    suppressed = suppressions(facts, CHECK_IDS).by_check
    findings = []
    for check in checks:
        result = check.run(facts)
        if result is None:
            continue
        findings.append(
            Finding(
                check_id=check.id,
                title=check.title,
                status=result.status,
                severity=_severity(check, result),
                detail=result.detail,
                resource=facts.resource.ref,
                role_arn=facts.resource.role_arn,
                remediation=check.remediation,
                documentation_url=check.documentation_url,
                evidence=dict(result.evidence),
                suppression=suppressed.get(check.id),
            )
        )
    return findings

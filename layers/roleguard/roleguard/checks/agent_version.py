"""Prerequisite: the AppStream agent was released on or after 2019-09-03.

Versions are MM-DD-YYYY dates: compared as dates ("12-17-2018" sorts after
"09-03-2019" as a string although it is older).
"""

from __future__ import annotations

from datetime import date, datetime

from ..model import CheckResult, EvaluationFacts, ResourceKind, Severity, Status
from .base import ROLE_GUIDE_URL, Check, Scope, not_available

MINIMUM_AGENT = date(2019, 9, 3)
_LATEST = {"latest", "[latest]"}


def judge_version(version: str | None, latest_flag: bool, subject: str) -> CheckResult:
    if latest_flag:
        return CheckResult(Status.PASSED, f"{subject} always uses the latest agent")
    if version is None or not version.strip():
        return CheckResult(Status.WARNING, f"{subject} reports no agent version")
    text = version.strip()
    if text.lower() in _LATEST:
        return CheckResult(Status.PASSED, f"{subject} uses agent {text} (the latest)")
    try:
        released = datetime.strptime(text, "%m-%d-%Y").date()
    except ValueError:
        return CheckResult(Status.WARNING, f"{subject} reports agent version {text!r}, which is not an MM-DD-YYYY date")
    if released < MINIMUM_AGENT:
        return CheckResult(
            Status.FAILED, f"{subject} uses agent {text}, released before 09-03-2019; IAM roles need a newer agent"
        )
    return CheckResult(Status.PASSED, f"{subject} uses agent {text}, released on or after 09-03-2019")


def run(facts: EvaluationFacts) -> CheckResult | None:
    resource = facts.resource
    kind = resource.ref.kind
    if kind is ResourceKind.APP_BLOCK_BUILDER:
        return None
    if kind is ResourceKind.IMAGE_BUILDER:
        return judge_version(resource.agent_version, resource.latest_agent_version, f"image builder {resource.ref.name}")
    if resource.fleet_type == "ELASTIC":
        return None  # Elastic fleets stream app blocks, not an image with an agent
    if facts.image_error is not None:
        return not_available(facts.image_error)
    image_id = resource.image_arn or resource.image_name
    if facts.image is None:
        if not image_id:
            return CheckResult(Status.WARNING, "the fleet names no image, so its agent version is unknown")
        return CheckResult(Status.WARNING, f"image {image_id} of the fleet was not found, so its agent version is unknown")
    return judge_version(facts.image.agent_version, facts.image.latest_agent_version, f"image {facts.image.name}")


CHECK = Check(
    id="agent-version",
    title="The AppStream agent supports IAM roles (released on or after 2019-09-03)",
    severity=Severity.HIGH,
    scope=Scope.RESOURCE,
    remediation="Use an image (or image builder) with an AppStream agent released on or after 09-03-2019, or choose 'always use latest agent'.",
    documentation_url=ROLE_GUIDE_URL,
    run=run,
)

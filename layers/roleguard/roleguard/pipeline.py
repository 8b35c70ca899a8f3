"""One event: intake -> facts -> checks -> sinks. Orchestration only; decisions live in the core."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from . import engine
from .facts import SharedReads, gather
from .intake import RoleChange, Skip, Target, parse_event
from .arns import InvalidArn, parse_appstream_arn, partition_for_region, role_key
from .checks import CHECK_IDS
from .model import Finding, ResourceKind, ResourceRef
from .suppression import suppressions
from .sinks.base import PublishReport, ResourceOutcome

log = logging.getLogger("roleguard")


# More resources than this on one changed role are fanned out through the sweep queue.
REEVALUATE_IN_PLACE = 25


class IncompleteEvaluation(RuntimeError):
    """Findings were published as NOT_AVAILABLE because of a transient error: retry the event."""


@dataclass
class EventSummary:
    outcome: str  # evaluated | retired | skipped
    reason: str = ""
    resource: str | None = None
    metric: str | None = None
    findings: list[Finding] = field(default_factory=list)
    reports: list[PublishReport] = field(default_factory=list)
    unknown_suppressions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "resource": self.resource,
            "findings": [{"check": f.check_id, "status": f.status.value, "severity": f.severity.value,
                          "detail": f.detail} for f in self.findings],
            "published": [vars(r) for r in self.reports],
            "unknown_suppression_ids": self.unknown_suppressions,
        }


def handle_event(event: Any, services: Any, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 home_region: str | None = None) -> EventSummary:
    """`home_region`: where this stack runs; IAM events (delivered in us-east-1 only) re-evaluate its resources."""
    parsed = parse_event(event)
    if isinstance(parsed, Skip):
        log.info("skipped: %s", parsed.reason)
        return EventSummary("skipped", parsed.reason, metric=parsed.metric)
    if isinstance(parsed, RoleChange):
        if home_region is None:
            return EventSummary("skipped", "IAM event without a home region to re-evaluate", metric="UnhandledEvent")
        return reevaluate_roles(services, parsed, home_region, clock())
    return evaluate_target(parsed, services, clock())


def evaluate_target(target: Target, services: Any, now: datetime, shared: SharedReads | None = None) -> EventSummary:
    """`shared`: reads already made for other resources of this invocation (a role, an image, the listing)."""
    ref = target.ref
    gathered = gather(target, services.appstream(ref.region), services.iam(ref.region), shared)
    record_role(services, ref, gathered.facts.resource.role_arn if gathered.facts else None)
    if gathered.facts is None:
        outcome = ResourceOutcome(ref, (), retired_reason=gathered.retire_reason)
        summary = EventSummary("retired", gathered.retire_reason or "", ref.arn, metric="ResourceRetired")
    else:
        findings = engine.evaluate(gathered.facts)
        unknown = suppressions(gathered.facts, CHECK_IDS).unknown
        if unknown:
            log.warning("roleguard:suppress names unknown check ids, ignored: %s (known: %s)",
                        ", ".join(unknown), ", ".join(CHECK_IDS))
        outcome = ResourceOutcome(ref, tuple(findings), suppression_known=gathered.facts.suppression_known)
        summary = EventSummary("evaluated", target.event_name, ref.arn, metric="ResourceEvaluated", findings=findings,
                               unknown_suppressions=list(unknown))
    for sink in services.sinks(ref.region):
        summary.reports.append(sink.publish([outcome], now))

    errors = [e for e in gathered.facts.read_errors() if e.transient] if gathered.facts else []
    if errors:
        raise IncompleteEvaluation("; ".join(e.describe() for e in errors))
    return summary



def target_for_arn(arn: str, event_name: str) -> Target | None:
    """A target for a resource known only by ARN (sweep, drift); None when the ARN is not a resource of ours."""
    try:
        parsed = parse_appstream_arn(arn)
        kind = ResourceKind(parsed.resource_type)
    except (InvalidArn, ValueError):
        return None
    ref = ResourceRef(kind, parsed.name, parsed.account, parsed.region, parsed.partition)
    return Target(ref=ref, event_name=event_name, event_id="", requested_role=None, role_removed=False,
                  deleted=False, request={})


def record_role(services: Any, ref: ResourceRef, role_arn: str | None) -> None:
    """Keep the reverse index role -> resources (when the stack has one) true after each evaluation."""
    index = services.role_index(ref.region)
    if index is not None:
        index.record(ref.arn, role_key(role_arn) if role_arn else None)


def reevaluate_roles(services: Any, change: RoleChange, region: str, now: datetime) -> EventSummary:
    """An IAM change to a role (or a managed policy it uses): re-evaluate exactly the resources using it here."""
    index = services.role_index(region)
    if index is None:
        return EventSummary("skipped", "this stack keeps no role index", metric="UnhandledEvent")
    role_names = list(change.role_names)
    if change.policy_arn:
        role_names += services.iam(region).roles_using_policy(change.policy_arn)
    partition = partition_for_region(region)
    arns = sorted({arn for name in role_names
                   for arn in index.resources_of(f"{partition}:{change.account}:{name.lower()}")
                   if arn.split(":")[3] == region})
    subject = ", ".join(role_names) or change.policy_arn
    if len(arns) > REEVALUATE_IN_PLACE and services.settings.sweep_queue_url:
        # A widely shared role: fan out like the sweep, so no invocation has to do them all.
        from .sweep import queue_reevaluation

        chunks = queue_reevaluation(services, region, change.account, arns)
        reason = f"{change.event_name} on {subject}: {len(arns)} resources queued in {chunks} chunks"
        log.info(reason)
        return EventSummary("queued", reason, metric="RoleDriftQueued")
    shared = SharedReads(services.appstream(region), services.iam(region))  # the role is read once
    findings: list[Finding] = []
    for arn in arns:
        target = target_for_arn(arn, f"IAM {change.event_name}")
        if target is not None:
            findings += evaluate_target(target, services, now, shared).findings
    reason = f"{change.event_name} on {subject}: {len(arns)} resources re-evaluated"
    log.info(reason)
    return EventSummary("evaluated" if arns else "skipped", reason, metric="RoleDriftEvaluated", findings=findings)

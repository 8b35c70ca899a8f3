"""One event: intake -> facts -> checks -> sinks. Orchestration only; decisions live in the core."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from . import engine
from .facts import gather
from .gateways.errors import ReadFailed
from .intake import Skip, Target, parse_event
from .arns import InvalidArn, parse_appstream_arn, partition_for_region
from .checks import CHECK_IDS
from .model import Finding, ResourceKind, ResourceRef
from .suppression import suppressions
from .sinks.asff import GENERATOR_PREFIX, parse_timestamp, product_arn
from .sinks.base import PublishError, PublishReport, ResourceOutcome

log = logging.getLogger("roleguard")


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


def handle_event(event: Any, services: Any, clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> EventSummary:
    parsed = parse_event(event)
    if isinstance(parsed, Skip):
        log.info("skipped: %s", parsed.reason)
        return EventSummary("skipped", parsed.reason, metric=parsed.metric)
    return evaluate_target(parsed, services, clock())


def evaluate_target(target: Target, services: Any, now: datetime) -> EventSummary:
    ref = target.ref
    gathered = gather(target, services.appstream(ref.region), services.iam(ref.region))
    if gathered.facts is None:
        outcome = ResourceOutcome(ref, (), retired_reason=gathered.retire_reason)
        summary = EventSummary("retired", gathered.retire_reason or "", ref.arn, metric="ResourceRetired")
    else:
        findings = engine.evaluate(gathered.facts)
        unknown = suppressions(gathered.facts, CHECK_IDS).unknown
        if unknown:
            log.warning("roleguard:suppress names unknown check ids, ignored: %s (known: %s)",
                        ", ".join(unknown), ", ".join(CHECK_IDS))
        outcome = ResourceOutcome(ref, tuple(findings), suppression_known=gathered.facts.tags_error is None)
        summary = EventSummary("evaluated", target.event_name, ref.arn, metric="ResourceEvaluated", findings=findings,
                               unknown_suppressions=list(unknown))
    for sink in services.sinks(ref.region):
        summary.reports.append(sink.publish([outcome], now))

    errors = [e for e in _read_errors(gathered.facts) if e.transient]
    if errors:
        raise IncompleteEvaluation("; ".join(e.describe() for e in errors))
    return summary


def _read_errors(facts: Any) -> list:
    if facts is None:
        return []
    errors = [e for e in (facts.role_error, facts.image_error, facts.others_error, facts.tags_error) if e is not None]
    if facts.role is not None:
        errors.extend(facts.role.read_errors)
        errors.extend([facts.role.trust_error] if facts.role.trust_error else [])
    return errors


class RefreshIncomplete(RuntimeError):
    """Some resources could not be re-evaluated; the others were. The schedule's retry picks them up."""


def refresh_stale(services: Any, region: str, account: str, now: datetime, older_than: timedelta) -> dict[str, Any]:
    """Re-evaluate every resource whose findings were not updated for `older_than`.

    Security Hub deletes findings not updated for 90 days: a still-failing
    finding must be re-observed, not just re-stamped, so each stale resource
    goes through the same evaluation as an event.
    """
    partition = partition_for_region(region)
    findings = services.hub(region).active_findings(product_arn(partition, region, account), GENERATOR_PREFIX)
    cutoff = now - older_than
    stale = sorted({f["Resources"][0]["Id"] for f in findings if parse_timestamp(f["UpdatedAt"]) < cutoff})
    refreshed, failed = [], []
    for arn in stale:
        try:
            parsed = parse_appstream_arn(arn)
            kind = ResourceKind(parsed.resource_type)
        except (InvalidArn, ValueError):
            log.error("finding resource %r is not an AppStream fleet, image builder or app block builder", arn)
            failed.append(arn)
            continue
        ref = ResourceRef(kind, parsed.name, parsed.account, parsed.region, parsed.partition)
        target = Target(ref=ref, event_name="Refresh", event_id="", requested_role=None, role_removed=False,
                        deleted=False, request={})
        try:
            evaluate_target(target, services, now)
        except (IncompleteEvaluation, PublishError, ReadFailed) as err:
            log.error("refresh of %s incomplete: %s", arn, err)
            failed.append(arn)
            continue
        refreshed.append(arn)
    result = {"active_findings": len(findings), "stale_resources": len(stale), "refreshed": refreshed, "failed": failed}
    if failed:
        raise RefreshIncomplete(f"{len(failed)} of {len(stale)} stale resources not refreshed: {', '.join(failed)}")
    return result

"""One event: intake -> facts -> checks -> sinks. Orchestration only; decisions live in the core."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from . import engine
from .facts import gather
from .intake import Skip, Target, parse_event
from .checks import CHECK_IDS
from .model import Finding
from .suppression import suppressions
from .sinks.base import PublishReport, ResourceOutcome

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

"""The one interface every sink implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, Sequence

from ..model import Finding, ResourceRef


@dataclass(frozen=True)
class ResourceOutcome:
    """The result of evaluating one resource.

    `findings` are the current results. Findings of this resource for checks
    not in `findings` (role removed, resource deleted, check no longer applies)
    are no longer active.
    """

    resource: ResourceRef
    findings: tuple[Finding, ...]
    retired_reason: str | None = None
    suppression_known: bool = True  # False when the tags could not be read: leave suppression as it is


@dataclass
class PublishReport:
    sink: str
    imported: int = 0
    resolved: int = 0
    archived: int = 0
    suppressed: int = 0
    unsuppressed: int = 0
    details: list[str] = field(default_factory=list)


class PublishError(RuntimeError):
    """A sink could not record every finding; the event must be retried or dead-lettered."""


class Sink(Protocol):
    name: str

    def publish(self, outcomes: Sequence[ResourceOutcome], observed_at: datetime) -> PublishReport: ...

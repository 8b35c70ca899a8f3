"""Suppression by tag, on the role or the AppStream resource. Pure.

`roleguard:suppress` = comma-separated check ids, `roleguard:reason` = why,
optional `roleguard:suppressed-by` = who (tags do not record who set them).
Unknown ids are reported, never silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import EvaluationFacts, Suppression

SUPPRESS_TAG = "roleguard:suppress"
REASON_TAG = "roleguard:reason"
BY_TAG = "roleguard:suppressed-by"


@dataclass(frozen=True)
class Suppressions:
    by_check: dict[str, Suppression]
    unknown: tuple[str, ...]  # ids in a suppress tag that are not checks


def _from_tags(tags: dict[str, str], source: str, known: tuple[str, ...]) -> tuple[dict[str, Suppression], list[str]]:
    raw = tags.get(SUPPRESS_TAG)
    if raw is None:
        return {}, []
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    suppression = Suppression(source=source, reason=tags.get(REASON_TAG, "").strip(), set_by=tags.get(BY_TAG))
    return {i: suppression for i in ids if i in known}, [f"{i} (on {source})" for i in ids if i not in known]


def suppressions(facts: EvaluationFacts, known: tuple[str, ...]) -> Suppressions:
    """The resource's own tag wins over the role's for the same check: it is the narrower statement."""
    ref = facts.resource.ref
    by_check: dict[str, Suppression] = {}
    unknown: list[str] = []
    if facts.role is not None:
        found, bad = _from_tags(facts.role.tags, f"role {facts.role.name}", known)
        by_check.update(found)
        unknown += bad
    found, bad = _from_tags(facts.resource.tags, f"{ref.kind.label} {ref.name}", known)
    by_check.update(found)
    unknown += bad
    return Suppressions(by_check, tuple(unknown))

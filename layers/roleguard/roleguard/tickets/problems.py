"""Which findings are one problem. Pure: no boto3, no I/O, deterministic.

DESIGN.md §4: one problem, one ticket. A role property (trust, permissions,
network conditions, foreign principals: checks with Scope.ROLE) is one
problem per role and check, however many AppStream resources share the role;
the ticket lists every affected resource. A resource property (agent version,
same account, dedicated role, role exists) is one problem per resource and
check.

Keys:
  role#<partition>#<account>#<region>#<role name, lower-case>#<check id>
  resource#<resource ARN>#<check id>

IAM role names are unique per account regardless of case or path, so the
name (lower-cased) identifies the role; the path does not. The region is in
the role key because the ledger, like the stack, is regional: two regional
stacks writing to one ticket system must not adopt and then close each other's
tickets. A role finding whose role ARN cannot be parsed falls back to the
resource key (there is no role to group by).

`digest(key)`: the first 16 hex characters of SHA-256 — the marker ticket
systems with length limits search by (Jira label, ServiceNow correlation_id,
OpsItem OperationalData value; the OpsItem filter accepts 4-20 characters, B23).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from ..arns import InvalidArn, parse_role_arn
from ..checks import Scope
from ..checks import get as get_check
from ..model import Finding, ResourceKind, Severity, Status

DIGEST_LENGTH = 16
MAX_DETAIL = 1000  # per affected resource, as stored in the ledger and shown in the ticket
MARKER_PREFIX = "roleguard-"


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def marker(key: str) -> str:
    """The problem's searchable marker: `roleguard-<16 hex>` (26 characters, no spaces)."""
    return MARKER_PREFIX + digest(key)


def problem_key(finding: Finding) -> str:
    check = get_check(finding.check_id)
    ref = finding.resource
    if check.scope is Scope.ROLE and finding.role_arn:
        try:
            role = parse_role_arn(finding.role_arn)
        except InvalidArn:
            pass
        else:
            return f"role#{role.partition}#{role.account}#{ref.region}#{role.name.lower()}#{check.id}"
    return f"resource#{ref.arn}#{check.id}"


@dataclass(frozen=True)
class Affected:
    """One AppStream resource a problem affects, with what the check said about it."""

    arn: str
    kind: str  # ResourceKind value
    name: str
    region: str
    status: str  # FAILED | WARNING
    severity: str
    detail: str

    @classmethod
    def from_finding(cls, finding: Finding) -> "Affected":
        ref = finding.resource
        detail = finding.detail if len(finding.detail) <= MAX_DETAIL else finding.detail[: MAX_DETAIL - 1] + "…"
        return cls(ref.arn, ref.kind.value, ref.name, ref.region, finding.status.value, finding.severity.value, detail)

    @property
    def label(self) -> str:
        return f"{ResourceKind(self.kind).label} {self.name}"


@dataclass(frozen=True)
class Problem:
    """One problem: a check failing for a role (all its resources) or for one resource."""

    key: str
    check_id: str
    scope: str  # "role" | "resource"
    partition: str
    account: str
    region: str
    role_arn: str | None
    resources: tuple[Affected, ...] = field(default=())  # sorted by ARN; empty: nothing is affected any more

    @classmethod
    def for_finding(cls, finding: Finding) -> "Problem":
        key = problem_key(finding)
        ref = finding.resource
        scope = "role" if key.startswith("role#") else "resource"
        return cls(key, finding.check_id, scope, ref.partition, ref.account, ref.region, finding.role_arn,
                   (Affected.from_finding(finding),))

    # -- identity -------------------------------------------------------------

    @property
    def digest(self) -> str:
        return digest(self.key)

    @property
    def marker(self) -> str:
        return marker(self.key)

    @property
    def role_name(self) -> str | None:
        if not self.role_arn:
            return None
        try:
            return parse_role_arn(self.role_arn).name
        except InvalidArn:
            return None

    # -- state ----------------------------------------------------------------

    @property
    def severity(self) -> Severity:
        """The highest severity among the affected resources (HIGH for a problem nothing is affected by any more)."""
        if not self.resources:
            return get_check(self.check_id).severity
        return max((Severity(a.severity) for a in self.resources), key=lambda s: s.rank)

    @property
    def status(self) -> Status:
        if not self.resources:
            return Status.PASSED
        return Status.FAILED if any(a.status == Status.FAILED.value for a in self.resources) else Status.WARNING

    def affected(self, arn: str) -> Affected | None:
        return next((a for a in self.resources if a.arn == arn), None)

    def with_resource(self, affected: Affected, role_arn: str | None = None) -> "Problem":
        others = [a for a in self.resources if a.arn != affected.arn]
        return replace(self, resources=tuple(sorted([*others, affected], key=lambda a: a.arn)),
                       role_arn=role_arn if role_arn is not None else self.role_arn)

    def without(self, arn: str) -> "Problem":
        return replace(self, resources=tuple(a for a in self.resources if a.arn != arn))

    def fingerprint(self) -> str:
        """Hash of everything a ticket shows: equal fingerprints need no ticket update."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    # -- persistence ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "check_id": self.check_id, "scope": self.scope, "partition": self.partition,
                "account": self.account, "region": self.region, "role_arn": self.role_arn,
                "resources": [vars(a) for a in self.resources]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Problem":
        return cls(data["key"], data["check_id"], data["scope"], data["partition"], data["account"], data["region"],
                   data.get("role_arn"), tuple(Affected(**a) for a in data.get("resources", ())))


def changes(before: Problem | None, after: Problem, reasons: dict[str, str] | None = None) -> list[str]:
    """What changed between two states of a problem, one line each (for ticket comments)."""
    reasons = reasons or {}
    lines: list[str] = []
    old = {a.arn: a for a in (before.resources if before else ())}
    new = {a.arn: a for a in after.resources}
    for arn in sorted(new.keys() - old.keys()):
        a = new[arn]
        lines.append(f"Now also affects {a.label} ({a.region}): {a.status} {a.severity}: {a.detail}")
    for arn in sorted(old.keys() & new.keys()):
        o, a = old[arn], new[arn]
        if (o.status, o.severity, o.detail) != (a.status, a.severity, a.detail):
            lines.append(f"{a.label} ({a.region}) now {a.status} {a.severity}: {a.detail}")
    for arn in sorted(old.keys() - new.keys()):
        o = old[arn]
        lines.append(f"No longer affects {o.label} ({o.region}): {reasons.get(arn, 'no longer failing')}")
    if before is not None and before.resources and after.resources and before.severity is not after.severity:
        lines.append(f"Severity changed from {before.severity.value} to {after.severity.value}.")
    return lines

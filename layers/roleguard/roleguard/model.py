"""Plain data the core works on: AppStream resources, role facts, findings.

Pure: no boto3, no I/O. Gateways build these from API responses; checks read
them; sinks map findings out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class ResourceKind(str, Enum):
    FLEET = "fleet"
    IMAGE_BUILDER = "image-builder"
    APP_BLOCK_BUILDER = "app-block-builder"

    @property
    def label(self) -> str:
        return {"fleet": "fleet", "image-builder": "image builder", "app-block-builder": "app block builder"}[
            self.value
        ]


class Status(str, Enum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    WARNING = "WARNING"
    NOT_AVAILABLE = "NOT_AVAILABLE"


class Severity(str, Enum):
    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class ResourceRef:
    """Identity of one AppStream resource."""

    kind: ResourceKind
    name: str
    account: str
    region: str
    partition: str = "aws"

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:appstream:{self.region}:{self.account}:{self.kind.value}/{self.name}"


@dataclass(frozen=True)
class ImageFacts:
    name: str
    arn: str
    agent_version: str | None
    latest_agent_version: bool = False


@dataclass(frozen=True)
class ReadError:
    """A read that did not complete. It makes the affected checks NOT_AVAILABLE."""

    what: str  # e.g. "iam:GetRole FleetRole"
    code: str  # AWS error code, e.g. AccessDenied, Throttling
    message: str = ""
    transient: bool = False  # throttling / 5xx: worth retrying the event

    def describe(self) -> str:
        return f"{self.what} failed with {self.code}" + (f": {self.message}" if self.message else "")


@dataclass(frozen=True)
class AppStreamResource:
    """What AppStream says about the resource (or what the event said)."""

    ref: ResourceRef
    role_arn: str | None
    fleet_type: str | None = None  # ALWAYS_ON | ON_DEMAND | ELASTIC, fleets only
    image_name: str | None = None
    image_arn: str | None = None
    agent_version: str | None = None  # image builders carry it themselves
    latest_agent_version: bool = False
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyDocument:
    """One permission policy of a role, already decoded to a dict."""

    source: str  # "inline" | "managed" | "boundary"
    name: str
    document: dict[str, Any]
    arn: str | None = None

    @property
    def label(self) -> str:
        return f"{self.source} policy {self.arn or self.name}"


@dataclass(frozen=True)
class RoleFacts:
    arn: str
    name: str
    path: str
    trust_policy: dict[str, Any] | None
    managed_policies: tuple[PolicyDocument, ...] = ()
    inline_policies: tuple[PolicyDocument, ...] = ()
    permissions_boundary: PolicyDocument | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # Reads of the role's permission policies that failed; the checks that need them are NOT_AVAILABLE.
    read_errors: tuple[ReadError, ...] = ()
    trust_error: ReadError | None = None  # the trust policy came back but could not be decoded


class RoleLookup(str, Enum):
    FOUND = "found"
    NOT_FOUND = "not_found"  # NoSuchEntity after the visibility wait
    UNREADABLE = "unreadable"  # GetRole itself failed (AccessDenied, throttling)
    NOT_LOOKED_UP = "not_looked_up"  # ARN not valid, or another account: nothing to read


@dataclass(frozen=True)
class EvaluationFacts:
    """Everything the checks may look at, gathered before any check runs."""

    resource: AppStreamResource
    role_lookup: RoleLookup
    role: RoleFacts | None = None
    role_error: ReadError | None = None
    image: ImageFacts | None = None
    image_error: ReadError | None = None
    # Other AppStream resources (ARNs) in the region using the same role; None = not gathered.
    other_resources_using_role: tuple[str, ...] | None = None
    others_error: ReadError | None = None  # the listing behind it did not complete
    tags_error: ReadError | None = None  # the resource's tags could not be read: suppression state unknown

    @property
    def suppression_known(self) -> bool:
        """Both tag sources were read: the resource's (ListTagsForResource) and the role's (GetRole)."""
        return self.tags_error is None and self.role_lookup is not RoleLookup.UNREADABLE

    def read_errors(self) -> list[ReadError]:
        """Every read of this evaluation that did not complete."""
        errors = [e for e in (self.role_error, self.image_error, self.others_error, self.tags_error) if e is not None]
        if self.role is not None:
            errors.extend(self.role.read_errors)
            if self.role.trust_error is not None:
                errors.append(self.role.trust_error)
        return errors


@dataclass(frozen=True)
class CheckResult:
    """What a check function returns: status plus the one line why."""

    status: Status
    detail: str
    severity: Severity | None = None  # overrides the check's default when FAILED
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Suppression:
    """A `roleguard:suppress` tag that names a check: the finding is SUPPRESSED with this note."""

    source: str  # "role FleetRole" / "fleet fleet-a"
    reason: str
    set_by: str | None = None

    def note(self) -> str:
        by = f", set by {self.set_by}" if self.set_by else ""
        return f"Suppressed by tag roleguard:suppress on {self.source}{by}: {self.reason or 'no roleguard:reason given'}"


@dataclass(frozen=True)
class Finding:
    check_id: str
    title: str
    status: Status
    severity: Severity
    detail: str
    resource: ResourceRef
    role_arn: str | None
    remediation: str
    documentation_url: str
    evidence: dict[str, Any] = field(default_factory=dict)
    suppression: Suppression | None = None

    @property
    def failing(self) -> bool:
        return self.status is not Status.PASSED

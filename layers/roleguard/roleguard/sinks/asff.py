"""Finding -> AWS Security Finding Format. Pure; enforces the documented limits itself.

Limits (Security Hub API reference, AwsSecurityFinding): Id and GeneratorId
<= 512, Title <= 256, Description <= 1024, Remediation.Recommendation.Text
<= 512, <= 32 Resources, a finding <= 240 KB. Text is truncated with a
visible marker, measured in characters as the API counts them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from ..arns import InvalidArn, parse_role_arn
from ..model import Finding, ResourceRef

SCHEMA_VERSION = "2018-10-08"
FINDING_TYPE = "Software and Configuration Checks/AWS Security Best Practices"
TRUNCATED = " …[truncated]"
LIMITS = {"Id": 512, "GeneratorId": 512, "Title": 256, "Description": 1024, "RemediationText": 512,
          "ProductFieldKey": 128, "ProductFieldValue": 2048, "ProductFields": 50, "OtherValue": 1024,
          "OtherKey": 128, "Resources": 32, "Types": 50, "ResourceId": 512}
MAX_FINDING_BYTES = 240 * 1024
REQUIRED = ("SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt",
            "Severity", "Title", "Description", "Resources")


class InvalidFinding(ValueError):
    """A finding that Security Hub would reject; the mapper must never produce one."""


def finding_bytes(document: dict[str, Any]) -> int:
    return len(json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def validate(document: dict[str, Any]) -> None:
    """Check a finding against BatchImportFindings' documented constraints; raise InvalidFinding with all problems."""
    problems = [f"{key} is missing or empty" for key in REQUIRED if not document.get(key)]

    def at_most(value: Any, limit: int, where: str) -> None:
        if value is not None and len(value) > limit:
            problems.append(f"{where} has {len(value)} > {limit}")

    for key in ("Id", "GeneratorId", "Title", "Description"):
        at_most(document.get(key), LIMITS[key], key)
    recommendation = (document.get("Remediation") or {}).get("Recommendation") or {}
    if "Remediation" in document and not recommendation.get("Text"):
        problems.append("Remediation.Recommendation.Text is empty (omit Remediation instead)")
    at_most(recommendation.get("Text"), LIMITS["RemediationText"], "Remediation.Recommendation.Text")
    at_most(document.get("Types"), LIMITS["Types"], "Types")
    resources = document.get("Resources") or []
    at_most(resources, LIMITS["Resources"], "Resources")
    for index, resource in enumerate(resources):
        if not resource.get("Type") or not resource.get("Id"):
            problems.append(f"Resources[{index}] needs Type and Id")
        at_most(resource.get("Id"), LIMITS["ResourceId"], f"Resources[{index}].Id")
        for key, value in ((resource.get("Details") or {}).get("Other") or {}).items():
            at_most(key, LIMITS["OtherKey"], f"Resources[{index}].Details.Other key")
            at_most(value, LIMITS["OtherValue"], f"Resources[{index}].Details.Other.{key[:40]}")
    fields = document.get("ProductFields") or {}
    at_most(fields, LIMITS["ProductFields"], "ProductFields")
    for key, value in fields.items():
        at_most(key, LIMITS["ProductFieldKey"], "ProductFields key")
        at_most(value, LIMITS["ProductFieldValue"], f"ProductFields.{key[:40]}")
    if (document.get("Severity") or {}).get("Label") not in ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"):
        problems.append("Severity.Label is not a documented label")
    size = finding_bytes(document)
    if size > MAX_FINDING_BYTES:
        problems.append(f"finding is {size} bytes > {MAX_FINDING_BYTES}")
    if problems:
        raise InvalidFinding(f"finding {str(document.get('Id'))[:200]}: " + "; ".join(problems))


def truncate(text: str, limit: int) -> str:
    text = text if text else "-"
    if len(text) <= limit:
        return text
    return text[: limit - len(TRUNCATED)] + TRUNCATED


def product_arn(partition: str, region: str, account: str) -> str:
    return f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"


def finding_id(resource: ResourceRef, check_id: str) -> str:
    """Deterministic: the resource ARN (partition, region, account, kind, name) plus the check id."""
    return f"{resource.arn}/roleguard/{check_id}"


GENERATOR_PREFIX = "appstream-role-guard/"


def generator_id(check_id: str) -> str:
    return f"{GENERATOR_PREFIX}{check_id}"


def timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def later_than(now: datetime, previous: str | None) -> datetime:
    """UpdatedAt must move forward or Security Hub ignores the update."""
    if previous is None:
        return now
    prev = parse_timestamp(previous)
    return now if now > prev else prev + timedelta(milliseconds=1)


def _role_resource(finding: Finding) -> dict[str, Any] | None:
    if not finding.role_arn:
        return None
    ref = finding.resource
    try:
        role = parse_role_arn(finding.role_arn)
    except InvalidArn:
        # Not an ARN: still show what the resource references, as text.
        return {"Type": "Other", "Id": truncate(finding.role_arn, 512), "Partition": ref.partition,
                "Region": ref.region, "Details": {"Other": {"roleguard:invalidRoleArn": "true"}}}
    if len(role.arn) > LIMITS["ResourceId"]:
        # IAM allows 512-character paths, ASFF 512-character resource ids: name it truncated, as text.
        return {"Type": "Other", "Id": truncate(role.arn, LIMITS["ResourceId"]), "Partition": role.partition,
                "Region": ref.region, "Details": {"Other": {"roleguard:roleName": role.name,
                                                           "roleguard:roleArnTruncated": "true"}}}
    return {"Type": "AwsIamRole", "Id": role.arn, "Partition": role.partition, "Region": ref.region,
            "Details": {"AwsIamRole": {"RoleName": role.name, "Path": role.path}}}


def to_asff(
    finding: Finding,
    *,
    created_at: datetime,
    first_observed_at: datetime,
    updated_at: datetime,
    record_state: str = "ACTIVE",
) -> dict[str, Any]:
    ref = finding.resource
    resources = [
        {
            "Type": "Other",
            "Id": ref.arn,
            "Partition": ref.partition,
            "Region": ref.region,
            "Details": {"Other": {"roleguard:resourceType": f"AppStream {ref.kind.label}",
                                  "roleguard:resourceName": truncate(ref.name, LIMITS["OtherValue"])}},
        }
    ]
    role = _role_resource(finding)
    if role is not None:
        resources.append(role)
    evidence = {k: truncate(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str),
                            LIMITS["ProductFieldValue"])
                for k, v in sorted(finding.evidence.items())[: LIMITS["ProductFields"] - 2]}
    document = {
        "SchemaVersion": SCHEMA_VERSION,
        "Id": truncate(finding_id(ref, finding.check_id), LIMITS["Id"]),
        "ProductArn": product_arn(ref.partition, ref.region, ref.account),
        "GeneratorId": generator_id(finding.check_id),
        "AwsAccountId": ref.account,
        "Region": ref.region,
        "Types": [FINDING_TYPE],
        "CreatedAt": timestamp(created_at),
        "UpdatedAt": timestamp(updated_at),
        "FirstObservedAt": timestamp(first_observed_at),
        "LastObservedAt": timestamp(updated_at),
        "Severity": {"Label": finding.severity.value},
        "Title": truncate(finding.title, LIMITS["Title"]),
        "Description": truncate(finding.detail, LIMITS["Description"]),
        "Remediation": {
            "Recommendation": {"Text": truncate(finding.remediation, LIMITS["RemediationText"]),
                               "Url": finding.documentation_url}
        },
        "ProductFields": {
            "roleguard/CheckId": finding.check_id,
            "roleguard/Status": finding.status.value,
            **{f"roleguard/evidence/{k}"[:128]: v for k, v in evidence.items()},
        },
        "Resources": resources,
        "Compliance": {"Status": finding.status.value},
        "RecordState": record_state,
    }
    if finding_bytes(document) > MAX_FINDING_BYTES:
        document["ProductFields"] = {"roleguard/CheckId": finding.check_id, "roleguard/Status": finding.status.value,
                                     "roleguard/evidence": "truncated: evidence exceeded the 240 KB finding limit"}
    validate(document)
    return document

"""Security Hub sink: keeps one finding per (resource, check) true over time.

CreatedAt / FirstObservedAt stay the first time seen; UpdatedAt always moves
forward; a check that passes gets Workflow RESOLVED (BatchImportFindings
cannot set Workflow); findings of checks that no longer apply are archived.
Workflow is otherwise the reviewers' (never touched: SUPPRESSED stays).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Sequence

from ..checks import CHECK_IDS
from ..gateways.securityhub import SecurityHubGateway, import_batches
from ..model import Finding
from .asff import GENERATOR_PREFIX, finding_id, later_than, parse_timestamp, product_arn, timestamp, to_asff, truncate, validate
from .base import PublishError, PublishReport, ResourceOutcome

_WORKFLOW_TO_RESOLVE = {"NEW", "NOTIFIED"}
# Notes we write carry this UpdatedBy, so a suppression we set can be told from a reviewer's.
UPDATED_BY = "appstream-role-guard"


def _workflow_change(finding: Finding, previous: dict[str, Any] | None, suppression_known: bool
                     ) -> tuple[str, str | None] | None:
    """The Workflow to set after import, or None to leave it to reviewers (and to Security Hub's own resets)."""
    workflow = ((previous or {}).get("Workflow") or {}).get("Status", "NEW")
    ours = ((previous or {}).get("Note") or {}).get("UpdatedBy") == UPDATED_BY
    if suppression_known and finding.suppression is not None:
        return None if workflow == "SUPPRESSED" else ("SUPPRESSED", finding.suppression.note())
    if suppression_known and workflow == "SUPPRESSED" and ours:
        # Our tag-based suppression whose tag is gone: active again.
        status = "NEW" if finding.failing else "RESOLVED"
        return status, "roleguard:suppress tag removed: the finding is active again"
    if not finding.failing and workflow in _WORKFLOW_TO_RESOLVE:
        return "RESOLVED", None
    return None


class SecurityHubSink:
    name = "securityhub"

    def __init__(self, gateway: SecurityHubGateway) -> None:
        self._hub = gateway

    def publish(self, outcomes: Sequence[ResourceOutcome], observed_at: datetime) -> PublishReport:
        report = PublishReport(self.name)
        by_product: dict[str, list[ResourceOutcome]] = {}
        for outcome in outcomes:
            ref = outcome.resource
            by_product.setdefault(product_arn(ref.partition, ref.region, ref.account), []).append(outcome)
        for product, group in sorted(by_product.items()):
            self._publish_product(product, group, observed_at, report)
        return report

    def _publish_product(
        self, product: str, outcomes: list[ResourceOutcome], now: datetime, report: PublishReport
    ) -> None:
        existing = self._hub.findings_for_resources(product, GENERATOR_PREFIX, [o.resource.arn for o in outcomes])

        documents: list[dict[str, Any]] = []
        workflow_plan: dict[tuple[str, str | None], list[str]] = {}  # (status, note) -> finding ids
        for outcome in outcomes:
            current_ids = set()
            for finding in outcome.findings:
                fid = finding_id(outcome.resource, finding.check_id)
                current_ids.add(fid)
                previous = existing.get(fid)
                first_seen = parse_timestamp(previous["CreatedAt"]) if previous else now
                first_observed = parse_timestamp(previous.get("FirstObservedAt", previous["CreatedAt"])) if previous else now
                documents.append(
                    to_asff(finding, created_at=first_seen, first_observed_at=first_observed,
                            updated_at=later_than(now, previous and previous.get("UpdatedAt")))
                )
                change = _workflow_change(finding, previous, outcome.suppression_known)
                if change is not None:
                    workflow_plan.setdefault(change, []).append(fid)
            for check_id in CHECK_IDS:
                fid = finding_id(outcome.resource, check_id)
                previous = existing.get(fid)
                if fid not in current_ids and previous and previous.get("RecordState") == "ACTIVE":
                    documents.append(self._archived(previous, now))
                    report.archived += 1

        self._import(documents, report)
        for (status, note), ids in sorted(workflow_plan.items(), key=lambda item: (item[0][0], item[0][1] or "")):
            identifiers = [{"Id": fid, "ProductArn": product} for fid in ids]
            unprocessed = self._hub.set_workflow(
                identifiers, status, {"Text": truncate(note, 512), "UpdatedBy": UPDATED_BY} if note else None)
            if unprocessed:
                raise PublishError(f"BatchUpdateFindings left {len(unprocessed)} findings at their old workflow: "
                                   f"{unprocessed}")
            if status == "SUPPRESSED":
                report.suppressed += len(ids)
            elif note:
                report.unsuppressed += len(ids)
            else:
                report.resolved += len(ids)

    @staticmethod
    def _archived(previous: dict[str, Any], now: datetime) -> dict[str, Any]:
        document = {k: v for k, v in previous.items() if k not in _SERVICE_OWNED}
        document["RecordState"] = "ARCHIVED"
        document["UpdatedAt"] = timestamp(later_than(now, previous.get("UpdatedAt")))
        # Security Hub adds its own aws/securityhub/* product fields; echoing them could pass the 50-field limit.
        document["ProductFields"] = {k: v for k, v in (previous.get("ProductFields") or {}).items()
                                     if not k.startswith("aws/")}
        return document

    def _import(self, documents: list[dict[str, Any]], report: PublishReport) -> None:
        for document in documents:
            validate(document)  # echoed archive documents too: nothing invalid leaves this process
        by_id = {d["Id"]: d for d in documents}
        for batch in import_batches(documents):
            failed = self._hub.import_findings(batch)
            if failed:
                # One retry of exactly the failed findings, then it is an error naming them.
                retry = [by_id[f["Id"]] for f in failed if f.get("Id") in by_id]
                still = self._hub.import_findings(retry) if retry else failed
                if still:
                    details = "; ".join(f"{f.get('Id')}: {f.get('ErrorCode')} {f.get('ErrorMessage')}" for f in still)
                    raise PublishError(f"BatchImportFindings rejected {len(still)} findings: {details}")
            report.imported += len(batch)


# Fields Security Hub owns or that import ignores: never echoed back.
_SERVICE_OWNED = frozenset({"Workflow", "WorkflowState", "Note", "ProcessedAt", "ProductName", "CompanyName",
                            "UserDefinedFields", "VerificationState", "Confidence", "Criticality",
                            "AwsAccountName", "Sample", "GeneratorDetails", "ProcessingDetails"})

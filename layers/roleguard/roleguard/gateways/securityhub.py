"""Security Hub calls: read existing findings, import, set Workflow."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator

# Documented limits: 100 findings and 6 MB per BatchImportFindings; 20 values per filter attribute.
MAX_IMPORT_FINDINGS = 100
MAX_IMPORT_BYTES = 6 * 1024 * 1024
MAX_FILTER_VALUES = 20
MAX_UPDATE_FINDINGS = 100


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def import_batches(findings: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Split into batches of at most 100 findings and 6 MB of JSON."""
    batch: list[dict[str, Any]] = []
    size = 2  # the surrounding {"Findings": []}
    for finding in findings:
        finding_size = len(json.dumps(finding, ensure_ascii=False).encode("utf-8")) + 1
        if batch and (len(batch) >= MAX_IMPORT_FINDINGS or size + finding_size > MAX_IMPORT_BYTES - 1024):
            yield batch
            batch, size = [], 2
        batch.append(finding)
        size += finding_size
    if batch:
        yield batch


class SecurityHubGateway:
    def __init__(self, client: Any) -> None:
        self._hub = client

    def findings_by_id(self, product_arn: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for group in chunks(sorted(set(ids)), MAX_FILTER_VALUES):
            filters = {
                "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
                "Id": [{"Value": i, "Comparison": "EQUALS"} for i in group],
            }
            for page in self._hub.get_paginator("get_findings").paginate(Filters=filters, PaginationConfig={"PageSize": 100}):
                for finding in page["Findings"]:
                    found[finding["Id"]] = finding
        return found

    def import_findings(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One BatchImportFindings call; returns FailedFindings (HTTP 200 with failures is still a failure)."""
        response = self._hub.batch_import_findings(Findings=batch)
        return list(response.get("FailedFindings", [])) if response.get("FailedCount", 0) else []

    def set_workflow(self, identifiers: list[dict[str, str]], status: str) -> list[dict[str, Any]]:
        """BatchUpdateFindings Workflow; returns UnprocessedFindings."""
        unprocessed: list[dict[str, Any]] = []
        for group in chunks(identifiers, MAX_UPDATE_FINDINGS):
            response = self._hub.batch_update_findings(FindingIdentifiers=group, Workflow={"Status": status})
            unprocessed.extend(response.get("UnprocessedFindings", []))
        return unprocessed

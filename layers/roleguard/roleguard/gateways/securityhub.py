"""Security Hub calls: read existing findings, import, set Workflow."""

from __future__ import annotations

import json
import random
import time
from typing import Any, Callable, Iterable, Iterator

from botocore.exceptions import ClientError

from .errors import error_code

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


# Security Hub's documented rate for BatchImportFindings / BatchUpdateFindings: about 10 TPS, burst 30.
RATE_PER_SECOND = 10.0
BURST = 30
THROTTLED = frozenset({"TooManyRequestsException", "ThrottlingException", "LimitExceededException"})


class TokenBucket:
    """Client-side pacing so one invocation stays under the account's rate instead of tripping it."""

    def __init__(self, rate: float = RATE_PER_SECOND, burst: int = BURST,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._rate, self._burst, self._clock, self._sleep = rate, burst, clock, sleep
        self._tokens, self._last = float(burst), clock()

    def take(self) -> None:
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            wait = (1 - self._tokens) / self._rate
            self._sleep(wait)
            self._last = self._clock()
            self._tokens = 1.0
        self._tokens -= 1


class SecurityHubGateway:
    def __init__(self, client: Any, *, attempts: int = 4, base_delay: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep, bucket: TokenBucket | None = None) -> None:
        self._hub = client
        self._attempts = attempts
        self._base_delay = base_delay
        self._sleep = sleep
        self._bucket = bucket or TokenBucket(sleep=sleep)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Paced call with bounded exponential backoff on throttling; the last throttle is raised, never hidden."""
        call = getattr(self._hub, operation)
        for attempt in range(self._attempts - 1):
            self._bucket.take()
            try:
                return call(**params)
            except ClientError as err:
                if error_code(err) not in THROTTLED:
                    raise
                self._sleep(self._base_delay * 2 ** attempt * (1 + random.random() / 2))
        self._bucket.take()
        return call(**params)

    def findings_for_resources(self, product_arn: str, generator_prefix: str,
                               resource_arns: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Our existing findings (any RecordState) of these resources, by finding Id.

        By ResourceId, 20 values per call (the documented filter limit): one
        call answers for up to 20 resources and all their checks.
        """
        found: dict[str, dict[str, Any]] = {}
        for group in chunks(sorted(set(resource_arns)), MAX_FILTER_VALUES):
            filters = {
                "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
                "GeneratorId": [{"Value": generator_prefix, "Comparison": "PREFIX"}],
                "ResourceId": [{"Value": arn, "Comparison": "EQUALS"} for arn in group],
            }
            for page in self._hub.get_paginator("get_findings").paginate(Filters=filters, PaginationConfig={"PageSize": 100}):
                for finding in page["Findings"]:
                    found[finding["Id"]] = finding
        return found

    def active_findings(self, product_arn: str, generator_prefix: str) -> list[dict[str, Any]]:
        """Every ACTIVE finding of ours, every page."""
        filters = {
            "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
            "GeneratorId": [{"Value": generator_prefix, "Comparison": "PREFIX"}],
            "RecordState": [{"Value": "ACTIVE", "Comparison": "EQUALS"}],
        }
        return [finding
                for page in self._hub.get_paginator("get_findings").paginate(Filters=filters, PaginationConfig={"PageSize": 100})
                for finding in page["Findings"]]

    def import_findings(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One BatchImportFindings call; returns FailedFindings (HTTP 200 with failures is still a failure)."""
        response = self._call("batch_import_findings", Findings=batch)
        return list(response.get("FailedFindings", [])) if response.get("FailedCount", 0) else []

    def set_workflow(self, identifiers: list[dict[str, str]], status: str, note: dict[str, str] | None = None
                     ) -> list[dict[str, Any]]:
        """BatchUpdateFindings Workflow (and Note); returns UnprocessedFindings."""
        unprocessed: list[dict[str, Any]] = []
        extra = {"Note": note} if note else {}
        for group in chunks(identifiers, MAX_UPDATE_FINDINGS):
            response = self._call("batch_update_findings", FindingIdentifiers=group, Workflow={"Status": status},
                                  **extra)
            unprocessed.extend(response.get("UnprocessedFindings", []))
        return unprocessed

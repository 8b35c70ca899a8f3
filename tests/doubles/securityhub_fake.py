"""A stateful Security Hub fake with the documented semantics the product relies on.

moto's Security Hub ignores GetFindings filters, lacks BatchUpdateFindings and
validates nothing. This fake answers a real boto3 ``securityhub`` client from
memory through botocore's ``before-call.securityhub.<Operation>`` events (see
`tests.doubles.botocore_model`); every response is validated against
botocore's output shape. Implemented: BatchImportFindings,
BatchUpdateFindings, GetFindings. State is kept per (account, region).

Semantics, with sources:

- Batch limits: 1..100 findings per call (0 is rejected client-side by
  botocore, 101 by the service with ``InvalidInputException``), 6 MB per
  request, 240 KB per finding; 10 TPS, burst 30 (not simulated: use
  `throttle`). https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-batchimportfindings.html
- A finding that breaks the ASFF is not an exception: the call returns HTTP
  200 with it in ``FailedFindings`` (ErrorCode ``InvalidInput``, message
  "Finding does not adhere to Amazon Finding Format. data.<path> ...", as
  seen in real responses, e.g. tenable/Security-Hub#13). Checked: botocore's
  model for AwsSecurityFinding (required members, enums, non-blank strings),
  SchemaVersion ``2018-10-08``, Severity.Label, Types (>= 1, documented
  namespaces), Resources 1..32, Id/GeneratorId <= 512, Title <= 256,
  Description <= 1024, Remediation.Recommendation.Text <= 512, ISO 8601
  CreatedAt/UpdatedAt.
- The caller may import only its own findings: AwsAccountId and the ProductArn
  (``arn:<partition>:securityhub:<region>:<account>:product/<account>/default``)
  must name the calling account and region, else the whole call fails with
  ``AccessDeniedException`` (AWS Support, quoted in prowler-cloud/prowler#867).
- Upsert by (ProductArn, Id). DESIGN.md §4: "UpdatedAt must move forward, or
  the update is ignored" — an import whose UpdatedAt is not later than the
  stored one changes nothing (it still counts as a success) and is recorded in
  `ignored_updates`. CreatedAt is stored as sent.
- "After a finding is created, BatchImportFindings cannot be used to update
  ... Note, UserDefinedFields, VerificationState, Workflow"; Confidence,
  Criticality, RelatedFindings, Severity and Types set by BatchUpdateFindings
  are also kept (BatchImportFindings API reference). New findings always get
  Workflow.Status NEW, whatever the request says (DESIGN.md: BatchImportFindings
  does not set Workflow).
- Workflow resets: "Security Hub CSPM also resets WorkFlowStatus from NOTIFIED
  or RESOLVED to NEW in the following cases: The record state changes from
  ARCHIVED to ACTIVE. The compliance status changes from PASSED to either
  WARNING, FAILED, or NOT_AVAILABLE."
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_WorkflowUpdate.html
  (also API_Workflow.html). SUPPRESSED is never reset.
- BatchUpdateFindings: unknown identifiers go to UnprocessedFindings with
  ``FindingNotFound`` / "Finding Not Found", repeated ones with
  ``DuplicatedFindingIdentifier`` / "Finding Identifier is duplicated"
  (API_BatchUpdateFindingsUnprocessedFinding.html); UpdatedAt is not changed.
- GetFindings string filters: EQUALS, PREFIX and CONTAINS on one field are
  OR'ed; NOT_EQUALS, PREFIX_NOT_EQUALS and NOT_CONTAINS are AND'ed and applied
  after them; EQUALS with NOT_EQUALS/PREFIX_NOT_EQUALS on one field, or
  CONTAINS/NOT_CONTAINS mixed with anything else, is an error; different
  fields are AND'ed (StringFilter.Comparison doc in botocore's model). Fields
  with several values (ResourceId, ResourceType, Type) match a positive filter
  if any value does and a negative filter if no value does. A filter field the
  fake does not implement raises AssertionError rather than matching all.
- Throttling: ``TooManyRequestsException`` / "Too Many Requests", HTTP 429, as
  seen from the service (prowler-cloud/prowler#5004); the model's own 429 is
  ``LimitExceededException``.
"""

from __future__ import annotations

import copy
import datetime
import json
from dataclasses import dataclass, field
from typing import Callable, Iterable

from tests.doubles.botocore_model import (
    Call,
    ServiceError,
    ServiceFake,
    implements,
    service_model,
    shape_report,
    utc_now,
)

SCHEMA_VERSION = "2018-10-08"
MAX_FINDINGS_PER_BATCH = 100
MAX_REQUEST_BYTES = 6 * 1024 * 1024
MAX_FINDING_BYTES = 240 * 1024
MAX_RESOURCES = 32
MAX_LENGTHS = {  # ASFF limits the model does not carry
    ("Id",): 512,
    ("GeneratorId",): 512,
    ("Title",): 256,
    ("Description",): 1024,
    ("Remediation", "Recommendation", "Text"): 512,
}
TYPE_NAMESPACES = {
    "Software and Configuration Checks",
    "TTPs",
    "Effects",
    "Unusual Behaviors",
    "Sensitive Data Identifications",
}
# Kept from the stored finding on re-import, whatever the provider sends.
CUSTOMER_OWNED_FIELDS = ("Note", "UserDefinedFields", "VerificationState", "Workflow", "WorkflowState")
# Kept only once a customer set them with BatchUpdateFindings.
CUSTOMER_OVERRIDABLE_FIELDS = ("Confidence", "Criticality", "RelatedFindings", "Severity", "Types")
RESETTABLE_WORKFLOW = {"NOTIFIED", "RESOLVED"}
NOT_PASSED = {"FAILED", "WARNING", "NOT_AVAILABLE"}
NOT_ADHERING = "Finding does not adhere to Amazon Finding Format."

_POSITIVE = {"EQUALS", "PREFIX", "CONTAINS"}
_NEGATIVE = {"NOT_EQUALS", "PREFIX_NOT_EQUALS", "NOT_CONTAINS"}


def _path(*keys: str) -> Callable[[dict], list[str]]:
    def values(finding: dict) -> list[str]:
        node = finding
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return []
            node = node[key]
        return [node]

    return values


def _each_resource(key: str) -> Callable[[dict], list[str]]:
    return lambda finding: [resource[key] for resource in finding.get("Resources", []) if key in resource]


# GetFindings string filters this fake implements: filter name → values of a finding.
STRING_FILTER_FIELDS: dict[str, Callable[[dict], list[str]]] = {
    **{name: _path(name) for name in (
        "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Region", "Title", "Description",
        "ProductName", "CompanyName", "RecordState", "VerificationState", "SourceUrl",
    )},
    "Type": lambda finding: list(finding.get("Types", [])),
    "SeverityLabel": _path("Severity", "Label"),
    "ComplianceStatus": _path("Compliance", "Status"),
    "ComplianceSecurityControlId": _path("Compliance", "SecurityControlId"),
    "WorkflowStatus": _path("Workflow", "Status"),
    "RecommendationText": _path("Remediation", "Recommendation", "Text"),
    "NoteText": _path("Note", "Text"),
    "NoteUpdatedBy": _path("Note", "UpdatedBy"),
    "ResourceId": _each_resource("Id"),
    "ResourceType": _each_resource("Type"),
    "ResourcePartition": _each_resource("Partition"),
    "ResourceRegion": _each_resource("Region"),
}


@dataclass
class _InjectedFindingFailure:
    code: str
    message: str
    remaining: int


@dataclass
class _HubState:
    """One account in one region."""

    findings: dict[tuple[str, str], dict] = field(default_factory=dict)  # (ProductArn, Id) → finding
    customer_set: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # Resources[].Id -> finding keys: lets a ResourceId EQUALS filter skip a full scan (the filter still decides).
    by_resource: dict[str, set[tuple[str, str]]] = field(default_factory=dict)

    def store(self, key: tuple[str, str], finding: dict) -> None:
        self.findings[key] = finding
        for resource in finding.get("Resources", []):
            self.by_resource.setdefault(resource.get("Id", ""), set()).add(key)

    def candidates(self, filters: dict) -> list[dict]:
        conditions = filters.get("ResourceId") or []
        if conditions and all(c.get("Comparison") == "EQUALS" for c in conditions):
            keys = set().union(*(self.by_resource.get(c["Value"], set()) for c in conditions))
            return [self.findings[k] for k in self.findings.keys() if k in keys]  # import order kept
        return list(self.findings.values())


class SecurityHubFake(ServiceFake):
    """Stateful Security Hub fake; see the module docstring."""

    service_name = "securityhub"
    request_error_code = "InvalidInputException"

    def __init__(self, *, page_size: int = 100, **options):
        super().__init__(page_size=page_size, **options)
        self.ignored_updates: list[tuple[str, str]] = []  # (Id, UpdatedAt) of stale imports
        self._finding_failures: dict[str, _InjectedFindingFailure] = {}

    def new_state(self) -> _HubState:
        return _HubState()

    # ------------------------------------------------------------------
    # Test-facing helpers
    # ------------------------------------------------------------------

    def product_arn(self, *, region: str | None = None, account_id: str | None = None) -> str:
        """The default product ARN the calling account imports its own findings under."""
        account = account_id or self.account_id
        return f"arn:{self.partition}:securityhub:{region or self.default_region}:{account}:product/{account}/default"

    def throttle(self, times: int = 1, *, operation: str = "BatchImportFindings") -> None:
        """The next `times` calls of `operation` fail with HTTP 429."""
        self.fail(operation, code="TooManyRequestsException", message="Too Many Requests", status=429, times=times)

    def fail_findings(
        self, ids: Iterable[str], *, code: str = "InvalidInput", message: str = "Injected failure", times: int = 1
    ) -> None:
        """Findings with these Ids land in FailedFindings on their next `times` imports."""
        with self._lock:
            for finding_id in ids:
                self._finding_failures[finding_id] = _InjectedFindingFailure(code, message, times)

    def findings(self, *, region: str | None = None, account_id: str | None = None) -> list[dict]:
        """Copies of the stored findings of one account and region, in import order."""
        state = self.state_for(account_id, region)
        with self._lock:
            return copy.deepcopy(list(state.findings.values()))

    def get(
        self,
        finding_id: str,
        *,
        product_arn: str | None = None,
        region: str | None = None,
        account_id: str | None = None,
    ) -> dict | None:
        """A copy of the stored finding with this Id (under `product_arn`, default ours), or None."""
        state = self.state_for(account_id, region)
        key = (product_arn or self.product_arn(region=region, account_id=account_id), finding_id)
        with self._lock:
            found = state.findings.get(key)
            return copy.deepcopy(found) if found is not None else None

    # ------------------------------------------------------------------
    # BatchImportFindings
    # ------------------------------------------------------------------

    def request_problems(self, call: Call) -> str:
        if call.operation == "BatchImportFindings":
            # Findings is its only member, and finding contents are judged one by
            # one (FailedFindings, HTTP 200), not as a request error.
            return ""
        return super().request_problems(call)

    @implements("BatchImportFindings")
    def _batch_import_findings(self, call: Call) -> dict:
        findings = call.params["Findings"]
        self._check_batch(findings)
        self._check_caller_owns(call, findings)
        failed, succeeded = [], 0
        for finding in findings:
            problem = self._injected_failure(finding) or (self._asff_problem(finding) if self.validating else None)
            if problem:
                code, message = problem
                failed.append({"Id": finding.get("Id") or "unknown", "ErrorCode": code, "ErrorMessage": message})
                continue
            self._upsert(call, finding)
            succeeded += 1
        return {"FailedCount": len(failed), "SuccessCount": succeeded, "FailedFindings": failed}

    @staticmethod
    def _check_batch(findings: list[dict]) -> None:
        if len(findings) > MAX_FINDINGS_PER_BATCH:
            raise ServiceError(
                "InvalidInputException",
                f"Invalid parameter 'Findings': {len(findings)} findings, at most {MAX_FINDINGS_PER_BATCH} allowed",
            )
        size = len(json.dumps(findings, default=str).encode())
        if size > MAX_REQUEST_BYTES:
            raise ServiceError("InvalidInputException", f"Request size {size} bytes exceeds 6 MB")

    def _check_caller_owns(self, call: Call, findings: list[dict]) -> None:
        mine = self.product_arn(region=call.region, account_id=call.account_id)
        for finding in findings:
            product_arn = finding.get("ProductArn")
            if product_arn != mine or finding.get("AwsAccountId") != call.account_id:
                raise ServiceError(
                    "AccessDeniedException",
                    f"User: arn:{self.partition}:sts::{call.account_id}:assumed-role/fake/session is not "
                    f"authorized to perform: securityhub:BatchImportFindings on resource: {product_arn}",
                )

    def _injected_failure(self, finding: dict) -> tuple[str, str] | None:
        failure = self._finding_failures.get(finding.get("Id"))
        if failure is None or failure.remaining <= 0:
            return None
        failure.remaining -= 1
        return failure.code, failure.message

    def _asff_problem(self, finding: dict) -> tuple[str, str] | None:
        shape = service_model(self.service_name).shape_for("AwsSecurityFinding")
        report = shape_report(finding, shape, response=False)
        if report:
            return "InvalidInput", f"{NOT_ADHERING} {report}"
        rule_broken = _asff_rule_broken(finding)
        if rule_broken:
            return "InvalidInput", f"{NOT_ADHERING} {rule_broken}"
        if len(json.dumps(finding, default=str).encode()) > MAX_FINDING_BYTES:
            return "FindingSizeExceeded", "Finding size exceeded 240 KB"
        return None

    def _upsert(self, call: Call, finding: dict) -> None:
        state: _HubState = call.state
        key = (finding["ProductArn"], finding["Id"])
        incoming = copy.deepcopy(finding)
        incoming["Region"] = call.region  # set by Security Hub, never by the provider
        incoming.setdefault("RecordState", "ACTIVE")
        stored = state.findings.get(key)
        if stored is None:
            for owned in CUSTOMER_OWNED_FIELDS:
                incoming.pop(owned, None)
            incoming["Workflow"] = {"Status": "NEW"}
            state.store(key, incoming)
            return
        if _timestamp(incoming["UpdatedAt"]) <= _timestamp(stored["UpdatedAt"]):
            self.ignored_updates.append((incoming["Id"], incoming["UpdatedAt"]))
            return
        for kept in (*CUSTOMER_OWNED_FIELDS, *state.customer_set.get(key, ())):
            _copy_field(stored, incoming, kept)
        if _workflow_reopens(stored, incoming):
            incoming["Workflow"] = {"Status": "NEW"}
        state.store(key, incoming)

    # ------------------------------------------------------------------
    # BatchUpdateFindings
    # ------------------------------------------------------------------

    @implements("BatchUpdateFindings")
    def _batch_update_findings(self, call: Call) -> dict:
        state: _HubState = call.state
        processed, unprocessed, seen = [], [], set()
        for identifier in call.params["FindingIdentifiers"]:
            key = (identifier["ProductArn"], identifier["Id"])
            if key in seen:
                unprocessed.append(
                    _unprocessed(identifier, "DuplicatedFindingIdentifier", "Finding Identifier is duplicated")
                )
                continue
            seen.add(key)
            stored = state.findings.get(key)
            if stored is None:
                unprocessed.append(_unprocessed(identifier, "FindingNotFound", "Finding Not Found"))
                continue
            self._apply_customer_update(state, key, stored, call.params)
            processed.append(identifier)
        return {"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}

    @staticmethod
    def _apply_customer_update(state: _HubState, key: tuple[str, str], stored: dict, params: dict) -> None:
        if "Workflow" in params:
            stored["Workflow"] = {"Status": params["Workflow"]["Status"]}
        if "Note" in params:
            stored["Note"] = {**params["Note"], "UpdatedAt": _iso(utc_now())}
        if "VerificationState" in params:
            stored["VerificationState"] = params["VerificationState"]
        if "UserDefinedFields" in params:
            stored["UserDefinedFields"] = {**stored.get("UserDefinedFields", {}), **params["UserDefinedFields"]}
        if "Severity" in params:
            stored["Severity"] = {**stored.get("Severity", {}), **params["Severity"]}
        for replaced in ("Confidence", "Criticality", "Types", "RelatedFindings"):
            if replaced in params:
                stored[replaced] = copy.deepcopy(params[replaced])
        overridden = {name for name in CUSTOMER_OVERRIDABLE_FIELDS if name in params}
        state.customer_set.setdefault(key, set()).update(overridden)

    # ------------------------------------------------------------------
    # GetFindings
    # ------------------------------------------------------------------

    @implements("GetFindings")
    def _get_findings(self, call: Call) -> dict:
        state: _HubState = call.state
        matches = _compile_filters(call.params.get("Filters", {}))
        found = [finding for finding in state.candidates(call.params.get("Filters", {})) if matches(finding)]
        found = _sorted(found, call.params.get("SortCriteria", []))
        page, following = self.paginate(call, found, max_results=call.params.get("MaxResults"))
        return {"Findings": page, **following}


# ----------------------------------------------------------------------
# ASFF rules the model does not express
# ----------------------------------------------------------------------


def _asff_rule_broken(finding: dict) -> str | None:
    """The first ASFF rule `finding` breaks, worded like Security Hub's messages."""
    if finding["SchemaVersion"] != SCHEMA_VERSION:
        return f"data.SchemaVersion should be equal to {SCHEMA_VERSION}"
    if "Label" not in finding.get("Severity", {}):
        return "data should have required property 'Severity.Label'"
    types = finding.get("Types", [])
    if not types:
        return "data.Types should NOT have fewer than 1 items"
    for finding_type in types:
        if finding_type.split("/", 1)[0] not in TYPE_NAMESPACES:
            return f"data.Types should start with one of the namespaces {sorted(TYPE_NAMESPACES)}: {finding_type!r}"
    resources = finding["Resources"]
    if not 1 <= len(resources) <= MAX_RESOURCES:
        return f"data.Resources should have 1 to {MAX_RESOURCES} items, has {len(resources)}"
    for keys, limit in MAX_LENGTHS.items():
        for value in _path(*keys)(finding):
            if len(value) > limit:
                return f"data.{'.'.join(keys)} should NOT be longer than {limit} characters"
    for stamp in ("CreatedAt", "UpdatedAt", "FirstObservedAt", "LastObservedAt"):
        if stamp in finding and _timestamp_or_none(finding[stamp]) is None:
            return f"data.{stamp} should match format \"date-time\""
    return None


def _timestamp_or_none(value: str) -> datetime.datetime | None:
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _timestamp(value: str) -> datetime.datetime:
    parsed = _timestamp_or_none(value)
    if parsed is None:
        raise AssertionError(f"stored timestamp {value!r} does not parse")
    return parsed


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _copy_field(source: dict, target: dict, name: str) -> None:
    if name in source:
        target[name] = copy.deepcopy(source[name])
    else:
        target.pop(name, None)


def _compliance(finding: dict) -> str | None:
    return finding.get("Compliance", {}).get("Status")


def _workflow_reopens(old: dict, new: dict) -> bool:
    """Security Hub's own NOTIFIED/RESOLVED → NEW reset (see the module docstring)."""
    if new.get("Workflow", {}).get("Status") not in RESETTABLE_WORKFLOW:
        return False
    unarchived = old.get("RecordState") == "ARCHIVED" and new.get("RecordState") == "ACTIVE"
    regressed = _compliance(old) == "PASSED" and _compliance(new) in NOT_PASSED
    return unarchived or regressed


def _unprocessed(identifier: dict, code: str, message: str) -> dict:
    return {"FindingIdentifier": identifier, "ErrorCode": code, "ErrorMessage": message}


# ----------------------------------------------------------------------
# GetFindings filters and sorting
# ----------------------------------------------------------------------


def _compile_filters(filters: dict) -> Callable[[dict], bool]:
    """One predicate for all filters: AND across fields, per-field rules as documented."""
    predicates = [_field_predicate(name, conditions) for name, conditions in filters.items()]
    return lambda finding: all(predicate(finding) for predicate in predicates)


def _field_predicate(name: str, conditions: list[dict]) -> Callable[[dict], bool]:
    if name not in STRING_FILTER_FIELDS:
        raise AssertionError(
            f"SecurityHubFake does not implement the GetFindings filter {name!r}; "
            f"implemented: {', '.join(sorted(STRING_FILTER_FIELDS))}"
        )
    _check_comparisons(name, {condition["Comparison"] for condition in conditions})
    values_of = STRING_FILTER_FIELDS[name]
    positives = [c for c in conditions if c["Comparison"] in _POSITIVE]
    negatives = [c for c in conditions if c["Comparison"] in _NEGATIVE]

    def predicate(finding: dict) -> bool:
        values = values_of(finding)
        if positives and not any(_holds(c, value) for c in positives for value in values):
            return False
        return all(all(_holds(c, value) for value in values) for c in negatives)

    return predicate


def _check_comparisons(name: str, comparisons: set[str]) -> None:
    def invalid(reason: str) -> ServiceError:
        return ServiceError("InvalidInputException", f"Invalid filter {name}: {reason}")

    if "CONTAINS_WORD" in comparisons:
        raise invalid("CONTAINS_WORD works only in the V2 APIs")
    if "EQUALS" in comparisons and comparisons & {"NOT_EQUALS", "PREFIX_NOT_EQUALS"}:
        raise invalid("EQUALS cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS")
    for lonely in ("CONTAINS", "NOT_CONTAINS"):
        if lonely in comparisons and comparisons != {lonely}:
            raise invalid(f"{lonely} can only be combined with other {lonely} filters")


def _holds(condition: dict, value: str) -> bool:
    expected, comparison = condition["Value"], condition["Comparison"]
    return {
        "EQUALS": lambda: value == expected,
        "PREFIX": lambda: value.startswith(expected),
        "CONTAINS": lambda: expected in value,
        "NOT_EQUALS": lambda: value != expected,
        "PREFIX_NOT_EQUALS": lambda: not value.startswith(expected),
        "NOT_CONTAINS": lambda: expected not in value,
    }[comparison]()


def _sorted(findings: list[dict], criteria: list[dict]) -> list[dict]:
    """Sort by SortCriteria on implemented string fields; no criteria keeps import order."""
    ordered = list(findings)
    for criterion in reversed(criteria):  # stable sorts, last key first
        field_name = criterion.get("Field", "")
        if field_name in STRING_FILTER_FIELDS:
            values_of = STRING_FILTER_FIELDS[field_name]
        elif field_name in ("CreatedAt", "UpdatedAt"):
            values_of = _path(field_name)
        else:
            raise AssertionError(f"SecurityHubFake cannot sort by {field_name!r}")

        def sort_key(finding: dict, values_of=values_of):
            values = values_of(finding)
            return (0, values[0]) if values else (1, "")

        ordered.sort(key=sort_key, reverse=criterion.get("SortOrder") == "desc")
    return ordered

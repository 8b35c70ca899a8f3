"""A stateful AWS Systems Manager OpsCenter fake (OpsItems), validated against botocore's model.

moto has no OpsItem API. This fake answers a real boto3 ``ssm`` client from
memory through botocore's ``before-call.ssm.<Operation>`` events (see
`tests.doubles.botocore_model`); requests go through botocore's own parameter
validation first, then the model constraints botocore leaves to the server
(max, enum, pattern → ``ValidationException``), and every response is checked
against botocore's output shape. Implemented: CreateOpsItem, UpdateOpsItem,
GetOpsItem, DescribeOpsItems; any other ssm call raises
`UnimplementedOperation`. State is kept per (account, region); `items()` and
`get()` read it.

Semantics, with sources:

- Model limits (botocore ssm model, API_CreateOpsItem): Description 1..2048,
  Source 1..128, Title 1..1024 *in the model*, Category/Severity 1..64,
  Priority 1..5, OperationalData key 1..128, MaxResults 1..50.
- Title: the service rejects titles over **100** characters although the model
  says 1024 (superwerker/superwerker#574: "The docs mention that it should be
  less than 100, but exactly 100 characters works"; the DescribeOpsItems doc in
  the model: "The Equals operator for Title matches the first 100 characters").
  Over 100 → ``OpsItemInvalidParameterException`` (ParameterNames ["Title"]).
- Severity "1".."4" ("Severity options range from 1 to 4", OpsItem.Severity in
  the model); Category one of Availability, Cost, Performance, Recovery,
  Security ("Category options include: ...", OpsItem.Category). Anything else →
  ``OpsItemInvalidParameterException``.
- Source "can't contain the following strings: aws, amazon, and amzn"
  (CreateOpsItem.Source doc; checked case-insensitively).
- OperationalData (CreateOpsItem.OperationalData doc): value at most 20 KB;
  keys "can't begin with the following: amazon, aws, amzn, ssm, /amazon, /aws,
  /amzn, /ssm", except the documented ``/aws/resources``, ``/aws/automations``
  and ``/aws/dedup``. ``/aws/resources`` must be a JSON list of ``{"arn":
  ...}`` (aws-cli example ``[{"arn": "arn:aws:dynamodb:..."}]``), at most 100
  ("Each OpsItem can list a maximum of 100 related resource ARNs",
  https://docs.aws.amazon.com/systems-manager/latest/userguide/OpsCenter-working-with-OpsItems.html).
  ``/aws/dedup`` must be JSON ``{"dedupString": "..."}`` (the format of the
  default EventBridge rules, OpsCenter-working-deduplication.html).
- Deduplication
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/OpsCenter-working-deduplication-strings.html):
  the dedup string is not case sensitive; a CreateOpsItem whose dedup string
  matches an OpsItem that is Open or InProgress, with the same related
  resources, creates nothing; a Resolved match, different resources, or no
  dedup string create a new OpsItem. "After you create an OpsItem, you can't
  edit or change the deduplication strings" → an UpdateOpsItem that changes or
  deletes ``/aws/dedup`` is refused. What the API *answers* for a duplicate is
  not documented: the model gives ``OpsItemAlreadyExistsException`` an
  ``OpsItemId`` member, and cloud-custodian catches exactly that exception
  around create_ops_item (c7n/resources/ssm.py, PostItem). So by default
  (``on_duplicate="raise"``) the call raises ``OpsItemAlreadyExistsException``
  with ``OpsItemId`` of the existing item in ``error.response``;
  ``on_duplicate="return_existing"`` answers success with the existing
  OpsItemId/OpsItemArn instead. A client should handle both.
- Status: OpsItems of type ``/aws/issue`` (the default) take Open, InProgress
  and Resolved; other statuses of the model's enum belong to change requests →
  ``OpsItemInvalidParameterException``. Version goes up by one per update.
- DescribeOpsItems filters (the model's OpsItemFilters doc): Status Equal;
  Title Equal (first 100 characters; a longer value is an error) or Contains;
  OperationalDataValue Equal/Contains, only over SearchableString values, and
  the value must be 4..20 characters (cloud-custodian/cloud-custodian#5024:
  "OpsCenterInvalidArgumentException: Filter 'OperationalDataValue': '<32 hex>'
  - length of the value must be between 4 and 20"; case B23);
  OperationalDataKey Equal; OperationalData Equal with
  ``{"key":..,"value":..}``; Source Equal/Contains; OpsItemId, Priority,
  Severity, Category Equal. Values of one filter are OR'ed, filters AND'ed. A
  documented key/operator pair this fake does not implement raises
  AssertionError; an operator the key does not support is answered
  ``OpsCenterInvalidArgumentException`` like the service. Summaries carry only
  SearchableString operational data (String data is "only viewable by users who
  have access to the OpsItem (as provided by the GetOpsItem API)"). Results
  come in creation order; paging by MaxResults/NextToken, at most `page_size`
  per page.
- Quotas: ``fake.fail("CreateOpsItem", "OpsItemLimitExceededException")``
  injects the quota error (case B23, awslabs/aws-service-catalog-puppet#566).
"""

from __future__ import annotations

__all__ = ["OpsCenterFake"]

import copy
import json
import secrets
from dataclasses import dataclass, field

from tests.doubles.botocore_model import Call, ServiceError, ServiceFake, implements, utc_now

MAX_TITLE = 100
MAX_DATA_VALUE_BYTES = 20 * 1024
MAX_RELATED_RESOURCES = 100
SEVERITIES = ("1", "2", "3", "4")
CATEGORIES = ("Availability", "Cost", "Performance", "Recovery", "Security")
OPS_ITEM_TYPES = ("/aws/issue", "/aws/changerequest", "/aws/insight")
ISSUE_STATUSES = ("Open", "InProgress", "Resolved")
OPEN_STATUSES = ("Open", "InProgress")
RESERVED_KEY_PREFIXES = ("amazon", "aws", "amzn", "ssm", "/amazon", "/aws", "/amzn", "/ssm")
ALLOWED_RESERVED_KEYS = ("/aws/resources", "/aws/automations", "/aws/dedup")
FORBIDDEN_SOURCE_WORDS = ("aws", "amazon", "amzn")
FILTER_VALUE_LENGTHS = {"OperationalDataValue": (4, 20)}

# Filter key → operators the service documents for it, and which of them this fake implements.
DOCUMENTED_OPERATORS = {
    "CreatedTime": {"GreaterThan", "LessThan"},
    "LastModifiedTime": {"GreaterThan", "LessThan"},
    "Priority": {"Equal"},
    "Source": {"Contains", "Equal"},
    "Status": {"Equal"},
    "Title": {"Equal", "Contains"},
    "OperationalData": {"Equal"},
    "OperationalDataKey": {"Equal"},
    "OperationalDataValue": {"Equal", "Contains"},
    "OpsItemId": {"Equal"},
    "ResourceId": {"Contains"},
    "AutomationId": {"Equal"},
    "AccountId": {"Equal"},
    "Severity": {"Equal"},
    "Category": {"Equal"},
}
IMPLEMENTED_FILTERS = {
    ("Status", "Equal"), ("Title", "Equal"), ("Title", "Contains"), ("OperationalDataValue", "Equal"),
    ("OperationalDataValue", "Contains"), ("OperationalDataKey", "Equal"), ("OperationalData", "Equal"),
    ("Source", "Equal"), ("Source", "Contains"), ("OpsItemId", "Equal"), ("Priority", "Equal"),
    ("Severity", "Equal"), ("Category", "Equal"),
}
SUMMARY_MEMBERS = (
    "CreatedBy", "CreatedTime", "LastModifiedBy", "LastModifiedTime", "Priority", "Source", "Status", "OpsItemId",
    "Title", "OperationalData", "Category", "Severity", "OpsItemType", "ActualStartTime", "ActualEndTime",
    "PlannedStartTime", "PlannedEndTime",
)


class _OpsError(ServiceError):
    """A service error with the modelled members botocore puts beside ``Error``."""

    def __init__(self, code: str, message: str, **members):
        super().__init__(code, message)
        self.members = members


def _invalid(message: str, *parameters: str) -> _OpsError:
    return _OpsError("OpsItemInvalidParameterException", message, ParameterNames=list(parameters))


@dataclass
class _OpsState:
    items: dict[str, dict] = field(default_factory=dict)  # OpsItemId → OpsItem, creation order


def _dedup_string(data: dict) -> str | None:
    entry = data.get("/aws/dedup")
    if not entry:
        return None
    return json.loads(entry["Value"])["dedupString"]


def _resource_arns(data: dict) -> frozenset[str]:
    entry = data.get("/aws/resources")
    if not entry:
        return frozenset()
    return frozenset(resource["arn"] for resource in json.loads(entry["Value"]))


def _searchable(entry: dict) -> bool:
    return entry.get("Type") == "SearchableString"


class OpsCenterFake(ServiceFake):
    """OpsCenter (ssm OpsItem operations) for real boto3 ``ssm`` clients; see the module docstring."""

    service_name = "ssm"
    request_error_code = "ValidationException"

    def __init__(self, *, on_duplicate: str = "raise", **kwargs):
        super().__init__(**kwargs)
        if on_duplicate not in ("raise", "return_existing"):
            raise ValueError("on_duplicate must be 'raise' or 'return_existing'")
        self.on_duplicate = on_duplicate

    def new_state(self) -> _OpsState:
        return _OpsState()

    # ------------------------------------------------------------------
    # Accessors for tests
    # ------------------------------------------------------------------

    def items(self, *, region: str | None = None, account_id: str | None = None) -> list[dict]:
        """Copies of the OpsItems of one account and region (GetOpsItem shape), in creation order."""
        state = self.state_for(account_id, region)
        with self._lock:
            return copy.deepcopy(list(state.items.values()))

    def get(self, ops_item_id: str, *, region: str | None = None, account_id: str | None = None) -> dict | None:
        state = self.state_for(account_id, region)
        with self._lock:
            item = state.items.get(ops_item_id)
            return copy.deepcopy(item) if item is not None else None

    def set_status(self, ops_item_id: str, status: str, *, region: str | None = None,
                   account_id: str | None = None) -> None:
        """Change an OpsItem's status as an operator would in the console."""
        state = self.state_for(account_id, region)
        with self._lock:
            item = state.items[ops_item_id]
            item["Status"] = status
            self._touch(item)

    # ------------------------------------------------------------------
    # Errors with modelled members
    # ------------------------------------------------------------------

    def _error_response(self, error: ServiceError):
        response, parsed = super()._error_response(error)
        for name, value in getattr(error, "members", {}).items():
            parsed[name] = value
        return response, parsed

    # ------------------------------------------------------------------
    # Shared validation
    # ------------------------------------------------------------------

    def _check_common(self, params: dict) -> None:
        title = params.get("Title")
        if title is not None and len(title) > MAX_TITLE:
            raise _invalid(
                f"The Title parameter is {len(title)} characters long; an OpsItem title can have at most "
                f"{MAX_TITLE} characters.",
                "Title",
            )
        severity = params.get("Severity")
        if severity is not None and severity not in SEVERITIES:
            raise _invalid(f"Severity {severity!r} is not valid; valid values are 1, 2, 3 and 4.", "Severity")
        category = params.get("Category")
        if category is not None and category not in CATEGORIES:
            raise _invalid(
                f"Category {category!r} is not valid; valid values are {', '.join(CATEGORIES)}.", "Category"
            )
        for key, entry in (params.get("OperationalData") or {}).items():
            self._check_data_entry(key, entry)

    @staticmethod
    def _check_data_entry(key: str, entry: dict) -> None:
        lowered = key.lower()
        if lowered.startswith(RESERVED_KEY_PREFIXES) and key not in ALLOWED_RESERVED_KEYS:
            raise _invalid(
                f"Operational data key {key!r} is not valid: keys can't begin with "
                f"{', '.join(RESERVED_KEY_PREFIXES)}.",
                "OperationalData",
            )
        value = entry.get("Value")
        if value is None:
            raise _invalid(f"Operational data {key!r} has no Value.", "OperationalData")
        if len(value.encode()) > MAX_DATA_VALUE_BYTES:
            raise _invalid(
                f"Operational data {key!r} is {len(value.encode())} bytes; a value can be at most 20 KB.",
                "OperationalData",
            )
        if key == "/aws/resources":
            _check_resources(value)
        elif key == "/aws/dedup":
            _check_dedup(value)
        elif key == "/aws/automations":
            _check_automations(value)

    # ------------------------------------------------------------------
    # CreateOpsItem
    # ------------------------------------------------------------------

    @implements("CreateOpsItem")
    def _create_ops_item(self, call: Call) -> dict:
        params = call.params
        self._check_common(params)
        source = params["Source"]
        if any(word in source.lower() for word in FORBIDDEN_SOURCE_WORDS):
            raise _invalid(
                f"Source {source!r} is not valid: the source name can't contain aws, amazon or amzn.", "Source"
            )
        ops_item_type = params.get("OpsItemType", "/aws/issue")
        if ops_item_type not in OPS_ITEM_TYPES:
            raise _invalid(f"OpsItemType {ops_item_type!r} is not valid.", "OpsItemType")
        account = params.get("AccountId") or call.account_id
        if account != call.account_id:
            raise _OpsError(
                "OpsItemAccessDeniedException",
                "You don't have permission to view OpsItems in the specified account.",
            )
        state: _OpsState = call.state
        data = copy.deepcopy(params.get("OperationalData") or {})
        duplicate = self._open_duplicate(state, data)
        if duplicate is not None:
            if self.on_duplicate == "return_existing":
                return {"OpsItemId": duplicate["OpsItemId"], "OpsItemArn": duplicate["OpsItemArn"]}
            raise _OpsError(
                "OpsItemAlreadyExistsException",
                f"OpsItem with same dedup {duplicate['OpsItemId']} already exists.",
                OpsItemId=duplicate["OpsItemId"],
            )
        item = self._new_item(call, params, data, ops_item_type)
        state.items[item["OpsItemId"]] = item
        return {"OpsItemId": item["OpsItemId"], "OpsItemArn": item["OpsItemArn"]}

    @staticmethod
    def _open_duplicate(state: _OpsState, data: dict) -> dict | None:
        dedup = _dedup_string(data)
        if dedup is None:
            return None
        resources = _resource_arns(data)
        for item in state.items.values():
            existing = _dedup_string(item.get("OperationalData", {}))
            if (
                existing is not None
                and existing.lower() == dedup.lower()
                and item["Status"] in OPEN_STATUSES
                and _resource_arns(item.get("OperationalData", {})) == resources
            ):
                return item
        return None

    def _caller_arn(self, call: Call) -> str:
        return f"arn:{self.partition}:sts::{call.account_id}:assumed-role/fake/session"

    def _new_item(self, call: Call, params: dict, data: dict, ops_item_type: str) -> dict:
        ops_item_id = f"oi-{secrets.token_hex(6)}"
        now = utc_now()
        item = {
            "OpsItemId": ops_item_id,
            "OpsItemArn": f"arn:{self.partition}:ssm:{call.region}:{call.account_id}:opsitem/{ops_item_id}",
            "OpsItemType": ops_item_type,
            "Title": params["Title"],
            "Description": params["Description"],
            "Source": params["Source"],
            "Status": "Open",
            "OperationalData": data,
            "Notifications": copy.deepcopy(params.get("Notifications", [])),
            "RelatedOpsItems": copy.deepcopy(params.get("RelatedOpsItems", [])),
            "CreatedBy": self._caller_arn(call),
            "CreatedTime": now,
            "LastModifiedBy": self._caller_arn(call),
            "LastModifiedTime": now,
            "Version": "1",
        }
        for optional in ("Priority", "Severity", "Category", "ActualStartTime", "ActualEndTime",
                         "PlannedStartTime", "PlannedEndTime"):
            if optional in params:
                item[optional] = copy.deepcopy(params[optional])
        return item

    # ------------------------------------------------------------------
    # UpdateOpsItem / GetOpsItem
    # ------------------------------------------------------------------

    @staticmethod
    def _find(call: Call) -> dict:
        item = call.state.items.get(call.params["OpsItemId"])
        if item is None:
            raise _OpsError("OpsItemNotFoundException", "The specified OpsItem ID doesn't exist. Verify the ID and try again.")
        return item

    def _touch(self, item: dict, call: Call | None = None) -> None:
        item["LastModifiedTime"] = utc_now()
        if call is not None:
            item["LastModifiedBy"] = self._caller_arn(call)
        item["Version"] = str(int(item["Version"]) + 1)

    @implements("UpdateOpsItem")
    def _update_ops_item(self, call: Call) -> dict:
        params = call.params
        item = self._find(call)
        self._check_common(params)
        status = params.get("Status")
        if status is not None and item["OpsItemType"] == "/aws/issue" and status not in ISSUE_STATUSES:
            raise _invalid(
                f"Status {status!r} is not valid for an OpsItem of type /aws/issue; "
                f"valid values are {', '.join(ISSUE_STATUSES)}.",
                "Status",
            )
        data = item["OperationalData"]
        new_data = params.get("OperationalData") or {}
        to_delete = params.get("OperationalDataToDelete") or []
        old_dedup = _dedup_string(data)
        if "/aws/dedup" in to_delete and old_dedup is not None:
            raise _invalid("The deduplication string of an OpsItem can't be changed or deleted.", "OperationalDataToDelete")
        if "/aws/dedup" in new_data:
            new_dedup = _dedup_string(new_data)
            if old_dedup is None or new_dedup.lower() != old_dedup.lower():
                raise _invalid("The deduplication string of an OpsItem can't be changed or deleted.", "OperationalData")
        for key in to_delete:
            data.pop(key, None)
        for key, entry in new_data.items():
            data[key] = copy.deepcopy(entry)
        for member in ("Title", "Description", "Priority", "Severity", "Category", "Notifications",
                       "RelatedOpsItems", "ActualStartTime", "ActualEndTime", "PlannedStartTime",
                       "PlannedEndTime", "Status"):
            if member in params:
                item[member] = copy.deepcopy(params[member])
        self._touch(item, call)
        return {}

    @implements("GetOpsItem")
    def _get_ops_item(self, call: Call) -> dict:
        return {"OpsItem": copy.deepcopy(self._find(call))}

    # ------------------------------------------------------------------
    # DescribeOpsItems
    # ------------------------------------------------------------------

    @implements("DescribeOpsItems")
    def _describe_ops_items(self, call: Call) -> dict:
        predicates = [self._filter_predicate(f) for f in call.params.get("OpsItemFilters", [])]
        found = [item for item in call.state.items.values() if all(p(item) for p in predicates)]
        page, following = self.paginate(call, found, max_results=call.params.get("MaxResults"))
        return {"OpsItemSummaries": [_summary(item) for item in page], **following}

    @staticmethod
    def _filter_predicate(ops_filter: dict):
        key, operator, values = ops_filter["Key"], ops_filter["Operator"], ops_filter["Values"]
        documented = DOCUMENTED_OPERATORS.get(key)
        if documented is not None and operator not in documented:
            raise ServiceError(
                "OpsCenterInvalidArgumentException",
                f"Filter '{key}': operator '{operator}' is not supported; valid operators: "
                f"{', '.join(sorted(documented))}",
            )
        if (key, operator) not in IMPLEMENTED_FILTERS:
            raise AssertionError(
                f"OpsCenterFake does not implement the DescribeOpsItems filter {key} {operator}; "
                f"implemented: {sorted(IMPLEMENTED_FILTERS)}"
            )
        for value in values:
            bounds = FILTER_VALUE_LENGTHS.get(key)
            if bounds and not bounds[0] <= len(value) <= bounds[1]:
                raise ServiceError(
                    "OpsCenterInvalidArgumentException",
                    f"Filter '{key}': '{value}' - length of the value must be between {bounds[0]} and {bounds[1]}",
                )
            if key == "Title" and operator == "Equal" and len(value) > MAX_TITLE:
                raise ServiceError(
                    "OpsCenterInvalidArgumentException",
                    f"Filter 'Title': the filter value exceeds the length limit of {MAX_TITLE} characters",
                )
        matchers = [_matcher(key, operator, value) for value in values]
        return lambda item: any(matches(item) for matches in matchers)


def _matcher(key: str, operator: str, value: str):
    def searchable_values(item: dict) -> list[str]:
        return [entry["Value"] for entry in item.get("OperationalData", {}).values() if _searchable(entry)]

    if key == "OperationalDataValue":
        if operator == "Equal":
            return lambda item: value in searchable_values(item)
        return lambda item: any(value in candidate for candidate in searchable_values(item))
    if key == "OperationalDataKey":
        return lambda item: value in item.get("OperationalData", {})
    if key == "OperationalData":
        try:
            wanted = json.loads(value)
            wanted_key, wanted_value = wanted["key"], wanted["value"]
        except (ValueError, KeyError, TypeError):
            raise ServiceError(
                "OpsCenterInvalidArgumentException",
                "Filter 'OperationalData': the value must be {\"key\":\"key_name\",\"value\":\"a_value\"}",
            ) from None
        return lambda item: item.get("OperationalData", {}).get(wanted_key, {}).get("Value") == wanted_value
    if key == "Title":
        if operator == "Equal":
            return lambda item: item["Title"][:MAX_TITLE] == value
        return lambda item: value in item["Title"]
    if key == "Source" and operator == "Contains":
        return lambda item: value in item["Source"]
    if key == "Priority":
        return lambda item: str(item.get("Priority", "")) == value
    return lambda item: item.get(key) == value  # Status, Source, OpsItemId, Severity, Category: Equal


def _summary(item: dict) -> dict:
    summary = {name: copy.deepcopy(item[name]) for name in SUMMARY_MEMBERS if name in item}
    summary["OperationalData"] = {
        key: copy.deepcopy(entry) for key, entry in item.get("OperationalData", {}).items() if _searchable(entry)
    }
    return summary


def _check_resources(value: str) -> None:
    try:
        resources = json.loads(value)
    except ValueError:
        raise _invalid("/aws/resources must be a JSON list of {\"arn\": ...} objects.", "OperationalData") from None
    if not isinstance(resources, list) or not all(
        isinstance(resource, dict)
        and set(resource) == {"arn"}
        and isinstance(resource["arn"], str)
        and resource["arn"].startswith("arn:")
        for resource in resources
    ):
        raise _invalid("/aws/resources must be a JSON list of {\"arn\": ...} objects.", "OperationalData")
    if len(resources) > MAX_RELATED_RESOURCES:
        raise _invalid(
            f"/aws/resources lists {len(resources)} ARNs; an OpsItem can list at most {MAX_RELATED_RESOURCES}.",
            "OperationalData",
        )


def _check_dedup(value: str) -> None:
    try:
        dedup = json.loads(value)
    except ValueError:
        raise _invalid("/aws/dedup must be JSON {\"dedupString\": \"...\"}.", "OperationalData") from None
    if not (isinstance(dedup, dict) and isinstance(dedup.get("dedupString"), str) and dedup["dedupString"].strip()):
        raise _invalid("/aws/dedup must be JSON {\"dedupString\": \"...\"}.", "OperationalData")


def _check_automations(value: str) -> None:
    try:
        automations = json.loads(value)
    except ValueError:
        automations = None
    if not isinstance(automations, list) or not all(
        isinstance(a, dict) and {"automationType", "automationId"} <= set(a) for a in automations
    ):
        raise _invalid(
            "/aws/automations must be a JSON list of {\"automationType\", \"automationId\"} objects.",
            "OperationalData",
        )


"""AWS Systems Manager OpsCenter (OpsItems) behind TicketSystem. A gateway: the ssm client is its only AWS use.

- Create: CreateOpsItem with Title <= 100 (truncated with a marker), Source,
  Severity 1-4, Priority, Category Security, OperationalData `/aws/resources`
  (the role and every affected AppStream resource), `/aws/dedup` (OpsCenter's
  own de-duplication of open items) and `/roleguard/problem` (our 16-character
  digest: DescribeOpsItems' OperationalDataValue filter accepts 4-20, B23).
- Find: DescribeOpsItems, OperationalDataValue Equal <digest>.
- Update / resolve / reopen: UpdateOpsItem (Description with the change,
  Status Resolved / Open). OpsItems have no comments: the latest change heads
  the description.
- OpsItemLimitExceededException: TicketQuotaExceeded (B23: log, count, keep
  the Security Hub finding as the record; do not crash).
"""

from __future__ import annotations

from typing import Any, Sequence

from botocore.exceptions import ClientError

from . import render
from .base import TicketError, TicketQuotaExceeded, TicketRef
from .problems import Problem

FINISHED = frozenset({"Resolved", "Closed", "Cancelled", "Rejected", "CompletedWithSuccess", "CompletedWithFailure"})
MAX_PAGES = 10


class OpsCenterTickets:
    name = "opscenter"

    def __init__(self, client: Any, source: str = render.OPSITEM_SOURCE) -> None:
        self._ssm = client
        self._source = source

    def find_by_key(self, problem: Problem) -> TicketRef | None:
        refs: list[TicketRef] = []
        params: dict[str, Any] = {"OpsItemFilters": [{"Key": "OperationalDataValue", "Values": [problem.digest],
                                                      "Operator": "Equal"}], "MaxResults": 50}
        for _ in range(MAX_PAGES):
            page = self._call("describe_ops_items", **params)
            for item in page.get("OpsItemSummaries", []):
                data = item.get("OperationalData") or {}
                if (data.get("/roleguard/problem") or {}).get("Value") == problem.digest:
                    refs.append(TicketRef(item["OpsItemId"], item["OpsItemId"], item.get("Status") not in FINISHED))
            if not page.get("NextToken"):
                break
            params["NextToken"] = page["NextToken"]
        return next((r for r in refs if r.open), refs[0] if refs else None)

    def create(self, problem: Problem) -> TicketRef:
        fields = render.opsitem(problem)
        try:
            response = self._ssm.create_ops_item(Source=self._source, **fields)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if code == "OpsItemAlreadyExistsException" and err.response.get("OpsItemId"):
                return TicketRef(err.response["OpsItemId"], err.response["OpsItemId"], True)
            if code == "OpsItemLimitExceededException":
                raise TicketQuotaExceeded(f"opscenter CreateOpsItem: {code}: {_message(err)}") from err
            raise self._error("CreateOpsItem", err) from err
        return TicketRef(response["OpsItemId"], response["OpsItemId"], True)

    def update(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> None:
        self._call("update_ops_item", OpsItemId=ticket.id, **render.opsitem(problem, note))

    def resolve(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> None:
        # OperationalData keeps the resources it last listed: the resolved item still shows what it was about.
        fields = render.opsitem(problem, ["Resolved by AppStream Role Guard.", *note])
        self._call("update_ops_item", OpsItemId=ticket.id, Status="Resolved", Description=fields["Description"])

    def reopen(self, ticket: TicketRef, problem: Problem, note: Sequence[str]) -> TicketRef:
        fields = render.opsitem(problem, ["Reopened by AppStream Role Guard: the problem is back.", *note])
        self._call("update_ops_item", OpsItemId=ticket.id, Status="Open", **fields)
        return TicketRef(ticket.id, ticket.display, True)

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self._ssm, operation)(**params)
        except ClientError as err:
            raise self._error(operation, err) from err

    @staticmethod
    def _error(operation: str, err: ClientError) -> TicketError:
        code = err.response.get("Error", {}).get("Code", "")
        if code == "OpsItemLimitExceededException":
            return TicketQuotaExceeded(f"opscenter {operation}: {code}: {_message(err)}")
        return TicketError(f"opscenter {operation}: {code}: {_message(err)}")


def _message(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Message", ""))

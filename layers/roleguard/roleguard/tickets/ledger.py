"""The ticket ledger: problem key -> ticket, in DynamoDB. A gateway: the only code that calls the table.

One item per problem (pk = the problem key):
  state        CLAIMED (a ticket is being created, none exists yet) | OPEN | RESOLVED (what the ticket shows)
  version      bumped by every write; every write is conditional on it (optimistic locking)
  problem      the desired state: every affected resource with its detail (JSON)
  shown        the problem as the ticket last showed it (JSON); fingerprint(shown) == fingerprint(problem): in sync
  pending      change lines not yet posted to the ticket (JSON list)
  ticket_id / ticket_display / history (earlier tickets of this problem, on_regression=new)
  claimed_at   epoch seconds of the claim (a claim older than the stale age was abandoned)
  claim_token  which delivery holds the claim (resources of one batch join their own delivery's claim)

One item per AppStream resource (pk = "index#<resource ARN>"): `problems`, the
string set of problem keys that may list the resource (a superset: added
before a problem lists the resource, removed after it no longer does), so a
deleted resource or a removed role finds its problems.

The claim comes BEFORE the ticket: a conditional put (attribute_not_exists)
that only one delivery wins; the ticket id is recorded after; a failed create
releases the claim, so the ledger never points at a ticket that does not exist.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError

from .base import LedgerError
from .problems import Problem

log = logging.getLogger("roleguard.tickets.ledger")

CLAIMED, OPEN, RESOLVED = "CLAIMED", "OPEN", "RESOLVED"
INDEX_PREFIX = "index#"


@dataclass(frozen=True)
class Entry:
    key: str
    state: str
    version: int
    problem: Problem
    shown: Problem | None = None
    pending: tuple[str, ...] = ()
    ticket_id: str | None = None
    ticket_display: str | None = None
    history: tuple[str, ...] = ()
    claimed_at: float | None = None
    claim_token: str | None = None
    system: str = ""
    updated_at: str = ""

    def next(self, **changes: Any) -> "Entry":
        """The entry's next version with `changes`."""
        return replace(self, version=self.version + 1, **changes)

    @property
    def in_sync(self) -> bool:
        return self.shown is not None and self.shown.fingerprint() == self.problem.fingerprint()


@dataclass
class Ledger:
    client: Any  # boto3 dynamodb client
    table: str
    consistent: bool = field(default=True)

    # ------------------------------------------------------------------ problems

    def get(self, key: str) -> Entry | None:
        item = self._call("get_item", Key={"pk": {"S": key}}, ConsistentRead=self.consistent).get("Item")
        return None if item is None else _entry(item)

    def claim(self, entry: Entry) -> bool:
        """Create the item for a problem nobody has claimed; False if someone else got there first."""
        return self._put(entry, None)

    def save(self, entry: Entry) -> bool:
        """Write `entry` if the stored item is still `entry.version - 1`; False if it moved on."""
        return self._put(entry, entry.version - 1)

    def delete(self, entry: Entry) -> bool:
        """Delete the item if it is still at `entry.version` (releasing a claim that made no ticket)."""
        try:
            self._call("delete_item", Key={"pk": {"S": entry.key}}, ConditionExpression="#v = :v",
                       ExpressionAttributeNames={"#v": "version"},
                       ExpressionAttributeValues={":v": {"N": str(entry.version)}}, conditional=True)
        except _Lost:
            return False
        return True

    # ------------------------------------------------------------------ resource index

    def problems_of(self, resource_arn: str) -> set[str]:
        item = self._call("get_item", Key={"pk": {"S": INDEX_PREFIX + resource_arn}},
                          ConsistentRead=self.consistent).get("Item") or {}
        return set(item.get("problems", {}).get("SS", []))

    def index(self, resource_arn: str, add: set[str] = frozenset(), remove: set[str] = frozenset()) -> None:
        """Atomically add / remove problem keys of one resource (string-set ADD / DELETE)."""
        if add:
            self._call("update_item", Key={"pk": {"S": INDEX_PREFIX + resource_arn}}, UpdateExpression="ADD #p :k",
                       ExpressionAttributeNames={"#p": "problems"},
                       ExpressionAttributeValues={":k": {"SS": sorted(add)}})
        if remove:
            self._call("update_item", Key={"pk": {"S": INDEX_PREFIX + resource_arn}},
                       UpdateExpression="DELETE #p :k", ExpressionAttributeNames={"#p": "problems"},
                       ExpressionAttributeValues={":k": {"SS": sorted(remove)}})

    # ------------------------------------------------------------------ internals

    def _put(self, entry: Entry, expected_version: int | None) -> bool:
        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {"ConditionExpression": "#v = :v", "ExpressionAttributeNames": {"#v": "version"},
                         "ExpressionAttributeValues": {":v": {"N": str(expected_version)}}}
        try:
            self._call("put_item", Item=_item(entry), conditional=True, **condition)
        except _Lost:
            log.debug("ledger write of %s lost a race (expected version %s)", entry.key, expected_version)
            return False
        return True

    def _call(self, operation: str, *, conditional: bool = False, **params: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(TableName=self.table, **params)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code", "")
            if conditional and code == "ConditionalCheckFailedException":
                raise _Lost() from None
            message = err.response.get("Error", {}).get("Message", "")
            raise LedgerError(f"ledger {self.table} {operation}: {code}: {message}") from err


class _Lost(Exception):
    """A conditional write whose condition no longer held."""


def _item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": entry.key},
        "state": {"S": entry.state},
        "version": {"N": str(entry.version)},
        "problem": {"S": json.dumps(entry.problem.to_dict(), ensure_ascii=False, sort_keys=True)},
        "pending": {"S": json.dumps(list(entry.pending), ensure_ascii=False)},
        "history": {"S": json.dumps(list(entry.history))},
        "digest": {"S": entry.problem.digest},
    }
    if entry.shown is not None:
        item["shown"] = {"S": json.dumps(entry.shown.to_dict(), ensure_ascii=False, sort_keys=True)}
    for name, value in (("ticket_id", entry.ticket_id), ("ticket_display", entry.ticket_display),
                        ("claim_token", entry.claim_token), ("system", entry.system),
                        ("updated_at", entry.updated_at)):
        if value:
            item[name] = {"S": value}
    if entry.claimed_at is not None:
        item["claimed_at"] = {"N": repr(float(entry.claimed_at))}
    return item


def _entry(item: dict[str, Any]) -> Entry:
    def s(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    shown = s("shown")
    return Entry(
        key=item["pk"]["S"],
        state=item["state"]["S"],
        version=int(item["version"]["N"]),
        problem=Problem.from_dict(json.loads(item["problem"]["S"])),
        shown=Problem.from_dict(json.loads(shown)) if shown else None,
        pending=tuple(json.loads(s("pending") or "[]")),
        ticket_id=s("ticket_id"),
        ticket_display=s("ticket_display"),
        history=tuple(json.loads(s("history") or "[]")),
        claimed_at=float(item["claimed_at"]["N"]) if "claimed_at" in item else None,
        claim_token=s("claim_token"),
        system=s("system") or "",
        updated_at=s("updated_at") or "",
    )


# The table the template declares (tests and the demo create the same one).
TABLE_DEFINITION = {
    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}

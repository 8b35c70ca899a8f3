"""DynamoDB: the reverse index role -> AppStream resources, kept by every evaluation.

Items: `ROLE#<role key>` with a string set `resources`; `RES#<resource ARN>`
with the `role` key it was last seen with. IAM events name a role, never an
AppStream resource: this index turns one into the other.
"""

from __future__ import annotations

from typing import Any


class RoleIndex:
    def __init__(self, client: Any, table: str) -> None:
        self._ddb = client
        self._table = table

    def record(self, resource_arn: str, role_key: str | None) -> None:
        """The resource now uses `role_key` (None: no role, or gone)."""
        previous = self._ddb.get_item(TableName=self._table, Key={"pk": {"S": f"RES#{resource_arn}"}},
                                      ConsistentRead=True).get("Item")
        old = previous["role"]["S"] if previous and "role" in previous else None
        if old == role_key:
            return
        if old is not None:
            self._ddb.update_item(TableName=self._table, Key={"pk": {"S": f"ROLE#{old}"}},
                                  UpdateExpression="DELETE resources :r", ExpressionAttributeValues={":r": {"SS": [resource_arn]}})
        if role_key is None:
            self._ddb.delete_item(TableName=self._table, Key={"pk": {"S": f"RES#{resource_arn}"}})
            return
        self._ddb.update_item(TableName=self._table, Key={"pk": {"S": f"ROLE#{role_key}"}},
                              UpdateExpression="ADD resources :r", ExpressionAttributeValues={":r": {"SS": [resource_arn]}})
        self._ddb.put_item(TableName=self._table, Item={"pk": {"S": f"RES#{resource_arn}"}, "role": {"S": role_key}})

    def rebuild(self, members: dict[str, tuple[str, ...]], resources: dict[str, str | None]) -> None:
        """Write the index from a complete listing in bulk: one item per role, 25 resource items per call.

        `members`: role key -> every resource using it; `resources`: ARN -> role key (None: no role).
        A role no longer used keeps its old item until its resources are re-evaluated; that only
        ever makes a drift event re-evaluate a resource too many, never one too few.
        """
        for key, arns in sorted(members.items()):
            self._ddb.put_item(TableName=self._table, Item={"pk": {"S": f"ROLE#{key}"}, "resources": {"SS": list(arns)}})
        requests = []
        for arn, key in sorted(resources.items()):
            if key is None:
                requests.append({"DeleteRequest": {"Key": {"pk": {"S": f"RES#{arn}"}}}})
            else:
                requests.append({"PutRequest": {"Item": {"pk": {"S": f"RES#{arn}"}, "role": {"S": key}}}})
        for start in range(0, len(requests), 25):  # BatchWriteItem takes at most 25 requests
            pending = {self._table: requests[start : start + 25]}
            for _ in range(5):
                pending = self._ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
            if pending:
                raise RuntimeError(f"DynamoDB left {len(pending[self._table])} role index writes unprocessed")

    def resources_of(self, role_key: str) -> list[str]:
        item = self._ddb.get_item(TableName=self._table, Key={"pk": {"S": f"ROLE#{role_key}"}},
                                  ConsistentRead=True).get("Item")
        return sorted(item["resources"]["SS"]) if item and "resources" in item else []

"""IAM reads: the role, its trust policy, every attached and inline policy, its boundary and tags."""

from __future__ import annotations

import time
from typing import Any, Callable

from botocore.exceptions import ClientError

from ..model import PolicyDocument, ReadError, RoleFacts, RoleLookup
from ..policy.document import PolicyError, decode_policy
from .errors import as_read_error, error_code

AWS_MANAGED_PREFIX = ":iam::aws:policy/"


class ManagedPolicyCache:
    """AWS managed policy versions never change once published: cache their documents per container."""

    def __init__(self) -> None:
        self._documents: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, arn: str, version: str) -> dict[str, Any] | None:
        return self._documents.get((arn, version))

    def put(self, arn: str, version: str, document: dict[str, Any]) -> None:
        if AWS_MANAGED_PREFIX in arn:
            self._documents[(arn, version)] = document


class IamGateway:
    def __init__(
        self,
        client: Any,
        *,
        visibility_wait_seconds: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        managed_cache: ManagedPolicyCache | None = None,
        page_size: int | None = None,
    ) -> None:
        self._iam = client
        self._wait = visibility_wait_seconds
        self._sleep = sleep
        self._cache = managed_cache or ManagedPolicyCache()
        self._pages = {"PaginationConfig": {"PageSize": page_size}} if page_size else {}

    def read_role(self, role_name: str) -> tuple[RoleLookup, RoleFacts | None, ReadError | None]:
        try:
            role = self._get_role_waiting_for_visibility(role_name)
        except ClientError as err:
            return RoleLookup.UNREADABLE, None, as_read_error(err, f"iam:GetRole {role_name}")
        if role is None:
            return RoleLookup.NOT_FOUND, None, None
        return RoleLookup.FOUND, self._role_facts(role), None

    def roles_using_policy(self, policy_arn: str) -> list[str]:
        """Every role the managed policy is attached to (every page); errors propagate: the event is retried."""
        return [role["RoleName"]
                for page in self._iam.get_paginator("list_entities_for_policy").paginate(
                    PolicyArn=policy_arn, EntityFilter="Role")
                for role in page["PolicyRoles"]]

    def _get_role_waiting_for_visibility(self, role_name: str) -> dict[str, Any] | None:
        """GetRole, retrying NoSuchEntity briefly: a role created seconds ago may not be visible yet."""
        delay, waited = 1.0, 0.0
        while True:
            try:
                return self._iam.get_role(RoleName=role_name)["Role"]
            except ClientError as err:
                if error_code(err) != "NoSuchEntity":
                    raise
                if waited >= self._wait:
                    return None
            pause = min(delay, self._wait - waited)
            self._sleep(pause)
            waited += pause
            delay *= 2

    def _role_facts(self, role: dict[str, Any]) -> RoleFacts:
        name = role["RoleName"]
        errors: list[ReadError] = []
        managed = self._attached_policies(name, errors)
        inline = self._inline_policies(name, errors)
        boundary = None
        boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary_arn:
            boundary = self._managed_document(boundary_arn, "boundary", errors)
        trust = role.get("AssumeRolePolicyDocument")
        trust_error = None
        try:
            trust_doc = decode_policy(trust) if trust is not None else None
        except PolicyError as err:
            trust_error = ReadError(f"trust policy of {name}", "InvalidPolicy", str(err))
            trust_doc = None
        return RoleFacts(
            arn=role["Arn"],
            name=name,
            path=role.get("Path", "/"),
            trust_policy=trust_doc,
            managed_policies=tuple(managed),
            inline_policies=tuple(inline),
            permissions_boundary=boundary,
            tags={t["Key"]: t["Value"] for t in role.get("Tags", [])},
            read_errors=tuple(errors),
            trust_error=trust_error,
        )

    def _list_all(self, operation: str, key: str, role_name: str, errors: list[ReadError]) -> list[Any] | None:
        """Every page of a role listing; None (and a ReadError) when the listing did not complete."""
        try:
            return [
                item
                for page in self._iam.get_paginator(operation).paginate(RoleName=role_name, **self._pages)
                for item in page[key]
            ]
        except ClientError as err:
            api = "".join(part.title() for part in operation.split("_"))
            errors.append(as_read_error(err, f"iam:{api} {role_name}", vanished=True))
            return None

    def _attached_policies(self, role_name: str, errors: list[ReadError]) -> list[PolicyDocument]:
        attached = self._list_all("list_attached_role_policies", "AttachedPolicies", role_name, errors)
        if attached is None:
            return []
        docs = []
        for policy in attached:
            doc = self._managed_document(policy["PolicyArn"], "managed", errors)
            if doc is not None:
                docs.append(doc)
        return docs

    def _managed_document(self, arn: str, source: str, errors: list[ReadError]) -> PolicyDocument | None:
        try:
            meta = self._iam.get_policy(PolicyArn=arn)["Policy"]
            version = meta["DefaultVersionId"]
            document = self._cache.get(arn, version)
            if document is None:
                raw = self._iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
                document = decode_policy(raw)
                self._cache.put(arn, version, document)
        except ClientError as err:
            errors.append(as_read_error(err, f"iam:GetPolicy/GetPolicyVersion {arn}", vanished=True))
            return None
        except PolicyError as err:
            errors.append(ReadError(f"{source} policy {arn}", "InvalidPolicy", str(err)))
            return None
        return PolicyDocument(source=source, name=meta["PolicyName"], arn=arn, document=document)

    def _inline_policies(self, role_name: str, errors: list[ReadError]) -> list[PolicyDocument]:
        names = self._list_all("list_role_policies", "PolicyNames", role_name, errors)
        if names is None:
            return []
        docs = []
        for policy_name in names:
            try:
                raw = self._iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"]
                docs.append(PolicyDocument(source="inline", name=policy_name, document=decode_policy(raw)))
            except ClientError as err:
                errors.append(as_read_error(err, f"iam:GetRolePolicy {role_name}/{policy_name}", vanished=True))
            except PolicyError as err:
                errors.append(ReadError(f"inline policy {role_name}/{policy_name}", "InvalidPolicy", str(err)))
        return docs

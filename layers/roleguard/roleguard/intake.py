"""CloudTrail-via-EventBridge events in, evaluation targets out. Pure.

EventBridge delivers best effort, may repeat and reorder; the event only says
which resource to look at. A failed call (errorCode) changed nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .arns import partition_for_region
from .model import ResourceKind, ResourceRef

EVENT_KINDS: dict[str, ResourceKind] = {
    "CreateFleet": ResourceKind.FLEET,
    "UpdateFleet": ResourceKind.FLEET,
    "DeleteFleet": ResourceKind.FLEET,
    "CreateImageBuilder": ResourceKind.IMAGE_BUILDER,
    "DeleteImageBuilder": ResourceKind.IMAGE_BUILDER,
    "CreateAppBlockBuilder": ResourceKind.APP_BLOCK_BUILDER,
    "UpdateAppBlockBuilder": ResourceKind.APP_BLOCK_BUILDER,
    "DeleteAppBlockBuilder": ResourceKind.APP_BLOCK_BUILDER,
}
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]{0,100}")
_ACCOUNT = re.compile(r"[0-9]{12}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)


@dataclass(frozen=True)
class Target:
    ref: ResourceRef
    event_name: str
    event_id: str
    requested_role: str | None  # iamRoleArn as the caller wrote it: user input, may be junk
    role_removed: bool  # AttributesToDelete contains IAM_ROLE_ARN
    deleted: bool  # a Delete* call
    request: dict[str, Any]


@dataclass(frozen=True)
class Skip:
    reason: str
    metric: str  # FailedApiCall | UnhandledEvent | MalformedEvent


def _malformed(reason: str) -> Skip:
    return Skip(f"malformed event: {reason}", "MalformedEvent")


# IAM calls that change what a role grants or who may assume it (and the suppression tags).
ROLE_EVENTS = frozenset({
    "UpdateAssumeRolePolicy", "AttachRolePolicy", "DetachRolePolicy", "PutRolePolicy", "DeleteRolePolicy",
    "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "TagRole", "UntagRole", "DeleteRole",
})
POLICY_EVENTS = frozenset({"CreatePolicyVersion", "SetDefaultPolicyVersion"})


@dataclass(frozen=True)
class RoleChange:
    event_name: str
    account: str
    role_names: tuple[str, ...]  # the role named by the call
    policy_arn: str | None  # a managed policy whose default version changed: every role using it


def unwrap(event: Any) -> list[Any]:
    """The events inside an SNS delivery (IAM changes forwarded from us-east-1); otherwise the event itself."""
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        out = []
        for record in event["Records"]:
            sns = record.get("Sns") if isinstance(record, dict) else None
            if isinstance(sns, dict) and isinstance(sns.get("Message"), str):
                try:
                    out.append(json.loads(sns["Message"]))
                except (ValueError, RecursionError):
                    out.append(sns["Message"])  # parse_event calls it malformed
            else:
                out.append(record)
        return out
    return [event]


def _parse_iam(event: dict[str, Any], detail: dict[str, Any]) -> RoleChange | Skip:
    name = detail.get("eventName")
    if detail.get("eventSource") != "iam.amazonaws.com" or not isinstance(name, str) or name not in ROLE_EVENTS | POLICY_EVENTS:
        return Skip(f"IAM event {name!r} does not change a role", "UnhandledEvent")
    if detail.get("errorCode"):
        return Skip(f"{name} failed with {detail.get('errorCode')}: it changed nothing", "FailedApiCall")
    params = detail.get("requestParameters")
    account = detail.get("recipientAccountId") or event.get("account")
    if not isinstance(params, dict) or not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
        return _malformed(f"{name} has no requestParameters or account")
    if name in POLICY_EVENTS:
        arn = params.get("policyArn")
        if not isinstance(arn, str) or ":policy/" not in arn:
            return _malformed(f"{name} names no policyArn")
        if name == "CreatePolicyVersion" and not params.get("setAsDefault"):
            return Skip("CreatePolicyVersion without setAsDefault changes no role's permissions", "UnhandledEvent")
        return RoleChange(name, account, (), arn)
    role = params.get("roleName")
    if not isinstance(role, str) or not _ROLE_NAME.fullmatch(role):
        return _malformed(f"{name} requestParameters.roleName {role!r} is not a role name")
    return RoleChange(name, account, (role,), None)


def parse_event(event: Any) -> Target | RoleChange | Skip:
    if not isinstance(event, dict):
        return _malformed(f"expected a JSON object, got {type(event).__name__}")
    detail = event.get("detail")
    if event.get("source") == "aws.iam" and event.get("detail-type") == "AWS API Call via CloudTrail":
        return _parse_iam(event, detail) if isinstance(detail, dict) else _malformed("detail is not an object")
    if event.get("source") != "aws.appstream" or event.get("detail-type") != "AWS API Call via CloudTrail":
        return Skip(
            f"not an AppStream API call (source {event.get('source')!r}, detail-type {event.get('detail-type')!r})",
            "UnhandledEvent",
        )
    if not isinstance(detail, dict):
        return _malformed("detail is not an object")
    name = detail.get("eventName")
    if detail.get("eventSource") != "appstream.amazonaws.com" or not isinstance(name, str) or name not in EVENT_KINDS:
        return Skip(f"event {name!r} from {detail.get('eventSource')!r} is not one this product handles", "UnhandledEvent")
    if detail.get("errorCode"):
        return Skip(f"{name} failed with {detail.get('errorCode')}: it changed nothing", "FailedApiCall")
    params = detail.get("requestParameters")
    if not isinstance(params, dict):
        return _malformed(f"{name} has no requestParameters object")
    resource_name = params.get("name")
    if not isinstance(resource_name, str) or not _NAME.fullmatch(resource_name):
        return _malformed(f"{name} requestParameters.name {resource_name!r} is not an AppStream resource name")
    account = detail.get("recipientAccountId") or event.get("account")
    region = detail.get("awsRegion") or event.get("region")
    if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
        return _malformed(f"account {account!r} is not 12 digits")
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        return _malformed(f"region {region!r} is not an AWS region")
    role = params.get("iamRoleArn")
    to_delete = params.get("attributesToDelete") or []
    return Target(
        ref=ResourceRef(EVENT_KINDS[name], resource_name, account, region, partition_for_region(region)),
        event_name=name,
        event_id=str(detail.get("eventID", "")),
        requested_role=role if isinstance(role, str) else (None if role is None else repr(role)),
        role_removed=isinstance(to_delete, list) and "IAM_ROLE_ARN" in to_delete,
        deleted=name.startswith("Delete"),
        request=params,
    )

"""ARN parsing for role and AppStream ARNs. Input is user-supplied: junk is an answer, not a crash."""

from __future__ import annotations

import re
from dataclasses import dataclass

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b")

# IAM's own limits: role names 1-64 chars of [\w+=,.@-], paths 1-512 chars starting and ending with '/'.
_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
_PATH_SEGMENT = re.compile(r"[\w+=,.@-]+", re.ASCII)
_ACCOUNT = re.compile(r"[0-9]{12}")


class InvalidArn(ValueError):
    """The string is not an ARN of the expected kind; str(e) says why."""


@dataclass(frozen=True)
class RoleArn:
    partition: str
    account: str
    path: str  # "/" or "/a/b/"
    name: str

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role{self.path}{self.name}"


def parse_role_arn(value: object) -> RoleArn:
    if not isinstance(value, str) or not value:
        raise InvalidArn("role ARN is empty or not a string")
    if value != value.strip() or any(ch.isspace() for ch in value):
        raise InvalidArn(f"role ARN {value!r} contains whitespace")
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise InvalidArn(f"{value!r} is not an ARN (expected arn:partition:iam::account:role/name)")
    _, partition, service, region, account, resource = parts
    if partition not in PARTITIONS:
        raise InvalidArn(f"{value!r} has unknown partition {partition!r}")
    if service != "iam":
        raise InvalidArn(f"{value!r} is not an IAM ARN (service {service!r})")
    if region:
        raise InvalidArn(f"{value!r} has a region; IAM ARNs have none")
    if not _ACCOUNT.fullmatch(account):
        raise InvalidArn(f"{value!r} has account {account!r}, not 12 digits")
    if not resource.startswith("role/"):
        raise InvalidArn(f"{value!r} is not a role ARN (resource {resource.split('/')[0]!r})")
    segments = resource[len("role/") :].split("/")
    name = segments[-1]
    if not _ROLE_NAME.fullmatch(name):
        raise InvalidArn(f"{value!r} has an invalid role name {name!r}")
    middle = segments[:-1]
    if any(not _PATH_SEGMENT.fullmatch(seg) for seg in middle):
        raise InvalidArn(f"{value!r} has an invalid role path")
    path = "/" + "".join(seg + "/" for seg in middle)
    if len(path) > 512:
        raise InvalidArn(f"{value!r} has a role path longer than IAM's 512 characters")
    return RoleArn(partition=partition, account=account, path=path, name=name)


@dataclass(frozen=True)
class AppStreamArn:
    partition: str
    region: str
    account: str  # empty for AWS public images
    resource_type: str  # fleet | image-builder | app-block-builder | image | stack ...
    name: str


def parse_appstream_arn(value: object) -> AppStreamArn:
    if not isinstance(value, str) or any(ch.isspace() for ch in value):
        raise InvalidArn(f"{value!r} is not an AppStream ARN")
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "appstream" or parts[1] not in PARTITIONS:
        raise InvalidArn(f"{value!r} is not an AppStream ARN")
    _, partition, _, region, account, resource = parts
    resource_type, sep, name = resource.partition("/")
    if not sep or not name or not region:
        raise InvalidArn(f"{value!r} is not an AppStream resource ARN")
    return AppStreamArn(partition, region, account, resource_type, name)


def role_key(role_arn: object) -> str:
    """The identity IAM gives a role: partition, account and case-insensitive name (the path is not part of it)."""
    try:
        arn = parse_role_arn(role_arn)
    except InvalidArn:
        return f"invalid:{role_arn}"
    return f"{arn.partition}:{arn.account}:{arn.name.lower()}"


def same_role(arn_a: str, arn_b: str) -> bool:
    """Role ARNs as IAM compares them: role names are case-insensitive, paths do not matter."""
    return role_key(arn_a) == role_key(arn_b)


def partition_for_region(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-isob-"):
        return "aws-iso-b"
    if region.startswith("us-iso-"):
        return "aws-iso"
    return "aws"

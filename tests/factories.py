"""Small builders for core facts, so unit tests state only what matters to them."""

from __future__ import annotations

from roleguard.model import (AppStreamResource, EvaluationFacts, ImageFacts, ReadError, ResourceKind, ResourceRef,
                             RoleFacts, RoleLookup)
from roleguard.policy.document import decode_policy

ACCOUNT = "111122223333"
REGION = "us-east-1"


def resource(kind=ResourceKind.FLEET, name="my-fleet", role_arn=f"arn:aws:iam::{ACCOUNT}:role/FleetRole",
             account=ACCOUNT, region=REGION, partition="aws", **kw) -> AppStreamResource:
    return AppStreamResource(ref=ResourceRef(kind, name, account, region, partition), role_arn=role_arn, **kw)


def role(trust, name="FleetRole", path="/", account=ACCOUNT, **kw) -> RoleFacts:
    return RoleFacts(arn=f"arn:aws:iam::{account}:role{path}{name}", name=name, path=path,
                     trust_policy=decode_policy(trust) if trust is not None else None, **kw)


def facts(res=None, role_facts=None, lookup=None, role_error=None, image=None, image_error=None) -> EvaluationFacts:
    res = res or resource()
    if lookup is None:
        lookup = RoleLookup.FOUND if role_facts is not None else RoleLookup.NOT_FOUND
    return EvaluationFacts(resource=res, role_lookup=lookup, role=role_facts, role_error=role_error,
                           image=image, image_error=image_error)


def image(version="10-13-2022", latest=False, name="img") -> ImageFacts:
    return ImageFacts(name=name, arn=f"arn:aws:appstream:{REGION}:{ACCOUNT}:image/{name}", agent_version=version,
                      latest_agent_version=latest)


ACCESS_DENIED = ReadError("iam:GetRole FleetRole", "AccessDenied", "not authorized")
THROTTLED = ReadError("appstream:DescribeImages img", "ThrottlingException", "Rate exceeded", transient=True)

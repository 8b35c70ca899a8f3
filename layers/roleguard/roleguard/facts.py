"""Gather what the checks need, through the gateways. No boto3 here, no judgement either."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .arns import InvalidArn, parse_role_arn, same_role
from .gateways.appstream import AppStreamGateway
from .gateways.errors import ReadFailed
from .gateways.iam import IamGateway
from .intake import Target
from .model import AppStreamResource, EvaluationFacts, ReadError, ResourceKind, RoleLookup


@dataclass(frozen=True)
class Gathered:
    """Facts for an evaluation, or None when the resource has no role (any more) and its findings retire."""

    facts: EvaluationFacts | None
    retire_reason: str | None = None


def _from_request(target: Target) -> AppStreamResource:
    req = target.request
    return AppStreamResource(
        ref=target.ref,
        role_arn=target.requested_role,
        fleet_type=req.get("fleetType") if target.ref.kind is ResourceKind.FLEET else None,
        image_name=req.get("imageName"),
        image_arn=req.get("imageArn"),
        agent_version=req.get("appstreamAgentVersion"),
    )


def gather(target: Target, appstream: AppStreamGateway, iam: IamGateway) -> Gathered:
    """Events can repeat and arrive out of order: what AppStream says now wins over what the event said.

    The event's role is used only when AppStream reports none (a role the
    request named but that did not stick, e.g. junk) or cannot be read.
    Removal and deletion are confirmed with Describe before anything retires.
    """
    describe_error = None
    try:
        current = appstream.describe(target.ref)
    except ReadFailed as failed:
        if target.requested_role is None or target.deleted or target.role_removed:
            # Without the describe we cannot tell what is true now: let the event be retried.
            raise
        describe_error = failed.error
        resource = _from_request(target)
    else:
        if current is None:
            return Gathered(None, f"{target.ref.kind.label} {target.ref.name} does not exist ({target.event_name})")
        resource = current
        if target.role_removed and not current.role_arn:
            return Gathered(None, f"{target.event_name} removed the role (AttributesToDelete IAM_ROLE_ARN)")
        if not current.role_arn and target.requested_role is not None and not target.role_removed:
            resource = replace(current, role_arn=target.requested_role)

    if not resource.role_arn:
        return Gathered(None, f"{target.ref.kind.label} {target.ref.name} has no role")
    return Gathered(facts_for(resource, appstream, iam, describe_error))


def facts_for(
    resource: AppStreamResource,
    appstream: AppStreamGateway,
    iam: IamGateway,
    describe_error: ReadError | None = None,
) -> EvaluationFacts:
    lookup, role, role_error = RoleLookup.NOT_LOOKED_UP, None, None
    try:
        arn = parse_role_arn(resource.role_arn)
    except InvalidArn:
        arn = None
    if arn is not None and (arn.partition, arn.account) == (resource.ref.partition, resource.ref.account):
        lookup, role, role_error = iam.read_role(arn.name)

    others, others_error = None, None
    if arn is not None:
        try:
            peers = appstream.list_all(resource.ref.region, resource.ref.account, resource.ref.partition)
        except ReadFailed as failed:
            others_error = failed.error
        else:
            others = tuple(sorted(p.ref.arn for p in peers
                                  if p.ref != resource.ref and p.role_arn and same_role(p.role_arn, resource.role_arn)))

    tags_error = None
    if describe_error is None:
        try:
            resource = replace(resource, tags=appstream.tags(resource.ref.arn))
        except ReadFailed as failed:
            tags_error = failed.error
    else:
        tags_error = describe_error

    image, image_error = None, describe_error
    needs_image = resource.ref.kind is ResourceKind.FLEET and resource.fleet_type != "ELASTIC"
    if needs_image and image_error is None:
        try:
            image = appstream.image(arn=resource.image_arn, name=resource.image_name)
        except ReadFailed as failed:
            image_error = failed.error
    return EvaluationFacts(
        resource=resource,
        role_lookup=lookup,
        role=role,
        role_error=role_error,
        image=image,
        image_error=image_error,
        other_resources_using_role=others,
        others_error=others_error,
        tags_error=tags_error,
    )

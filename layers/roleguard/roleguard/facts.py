"""Gather what the checks need, through the gateways. No boto3 here, no judgement either."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .arns import InvalidArn, parse_role_arn, role_key
from .gateways.appstream import AppStreamGateway
from .gateways.errors import ReadFailed
from .gateways.iam import IamGateway
from .intake import Target
from .model import AppStreamResource, EvaluationFacts, ImageFacts, ReadError, ResourceKind, RoleFacts, RoleLookup


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


def gather(target: Target, appstream: AppStreamGateway, iam: IamGateway,
           shared: "SharedReads | None" = None) -> Gathered:
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
    return Gathered(facts_for(resource, shared or SharedReads(appstream, iam), describe_error))


class SharedReads:
    """Reads that many resources can share: each role, image and region listing is read once.

    One per event; one per sweep chunk, where `members` (role key -> ARNs of
    every resource using that role, from the sweep's own complete listing)
    replaces the per-resource region listing.
    """

    def __init__(self, appstream: AppStreamGateway, iam: IamGateway,
                 members: dict[str, tuple[str, ...]] | None = None) -> None:
        self.appstream, self._iam, self._members = appstream, iam, members
        self._roles: dict[str, tuple[RoleLookup, RoleFacts | None, ReadError | None]] = {}
        self._images: dict[tuple[str | None, str | None], tuple[ImageFacts | None, ReadError | None]] = {}

    def role(self, name: str) -> tuple[RoleLookup, RoleFacts | None, ReadError | None]:
        key = name.lower()  # IAM role names are case-insensitive
        if key not in self._roles:
            self._roles[key] = self._iam.read_role(name)
        return self._roles[key]

    def image(self, arn: str | None, name: str | None) -> tuple[ImageFacts | None, ReadError | None]:
        key = (arn, None if arn else name)
        if key not in self._images:
            try:
                self._images[key] = (self.appstream.image(arn=arn, name=name), None)
            except ReadFailed as failed:
                self._images[key] = (None, failed.error)
        return self._images[key]

    def others_using(self, resource: AppStreamResource) -> tuple[tuple[str, ...] | None, ReadError | None]:
        ref = resource.ref
        if self._members is None:
            try:
                peers = self.appstream.list_all(ref.region, ref.account, ref.partition)
            except ReadFailed as failed:
                return None, failed.error
            self._members = members_by_role(peers)
        return tuple(a for a in self._members.get(role_key(resource.role_arn), ()) if a != ref.arn), None


def members_by_role(resources: list[AppStreamResource]) -> dict[str, tuple[str, ...]]:
    members: dict[str, list[str]] = {}
    for resource in resources:
        if resource.role_arn:
            members.setdefault(role_key(resource.role_arn), []).append(resource.ref.arn)
    return {key: tuple(sorted(arns)) for key, arns in members.items()}


def facts_for(resource: AppStreamResource, shared: SharedReads, describe_error: ReadError | None = None,
              *, tags: dict[str, str] | None = None) -> EvaluationFacts:
    """`tags`: the resource's tags when the caller already has them; otherwise they are read here."""
    lookup, role, role_error = RoleLookup.NOT_LOOKED_UP, None, None
    try:
        arn = parse_role_arn(resource.role_arn)
    except InvalidArn:
        arn = None
    if arn is not None and (arn.partition, arn.account) == (resource.ref.partition, resource.ref.account):
        lookup, role, role_error = shared.role(arn.name)

    others, others_error = shared.others_using(resource) if arn is not None else (None, None)

    tags_error = describe_error
    if tags is not None:
        resource = replace(resource, tags=tags)
    elif describe_error is None:
        try:
            resource = replace(resource, tags=shared.appstream.tags(resource.ref.arn))
        except ReadFailed as failed:
            tags_error = failed.error

    image, image_error = None, describe_error
    needs_image = resource.ref.kind is ResourceKind.FLEET and resource.fleet_type != "ELASTIC"
    if needs_image and image_error is None:
        image, image_error = shared.image(resource.image_arn, resource.image_name)
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

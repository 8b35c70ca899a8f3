"""AppStream reads: the fleet, image builder or app block builder, and a fleet's image."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..model import AppStreamResource, ImageFacts, ResourceKind, ResourceRef
from .errors import error_code, raise_read_failed

_DESCRIBE = {
    ResourceKind.FLEET: ("describe_fleets", "Fleets"),
    ResourceKind.IMAGE_BUILDER: ("describe_image_builders", "ImageBuilders"),
    ResourceKind.APP_BLOCK_BUILDER: ("describe_app_block_builders", "AppBlockBuilders"),
}


def _latest(flag: Any) -> bool:
    # LatestAppstreamAgentVersion is a string enum TRUE | FALSE, not a boolean.
    return str(flag).upper() == "TRUE"


class AppStreamGateway:
    def __init__(self, client: Any) -> None:
        self._appstream = client

    def describe(self, ref: ResourceRef) -> AppStreamResource | None:
        """The resource as AppStream has it now; None when it does not exist."""
        operation, key = _DESCRIBE[ref.kind]
        try:
            items = getattr(self._appstream, operation)(Names=[ref.name]).get(key, [])
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return None
            raise_read_failed(err, f"appstream:{operation} {ref.name}")
        match = next((item for item in items if item.get("Name") == ref.name), None)
        return None if match is None else self.to_resource(ref, match)

    @staticmethod
    def to_resource(ref: ResourceRef, item: dict[str, Any]) -> AppStreamResource:
        return AppStreamResource(
            ref=ref,
            role_arn=item.get("IamRoleArn"),
            fleet_type=item.get("FleetType") if ref.kind is ResourceKind.FLEET else None,
            image_name=item.get("ImageName"),
            image_arn=item.get("ImageArn"),
            agent_version=item.get("AppstreamAgentVersion"),
            latest_agent_version=_latest(item.get("LatestAppstreamAgentVersion")),
        )

    def describe_many(self, kind: ResourceKind, refs: list[ResourceRef]) -> dict[str, AppStreamResource | None]:
        """Current state of several resources of one kind (name -> resource, None when gone), one call if it can."""
        operation, key = _DESCRIBE[kind]
        by_name = {ref.name: ref for ref in refs}
        found: dict[str, AppStreamResource | None] = dict.fromkeys(by_name)
        params: dict[str, Any] = {"Names": sorted(by_name)}
        try:
            while True:
                response = getattr(self._appstream, operation)(**params)
                for item in response.get(key, []):
                    if item.get("Name") in by_name:
                        found[item["Name"]] = self.to_resource(by_name[item["Name"]], item)
                if not response.get("NextToken"):
                    return found
                params = {"Names": sorted(by_name), "NextToken": response["NextToken"]}
        except ClientError as err:
            if error_code(err) != "ResourceNotFoundException":
                raise_read_failed(err, f"appstream:{operation}")
        # One of the names is gone and the call named it: ask one by one.
        return {name: self.describe(ref) for name, ref in by_name.items()}

    def tags(self, arn: str) -> dict[str, str]:
        """The resource's tags (suppression tags live here); ReadFailed when they cannot be read."""
        try:
            return dict(self._appstream.list_tags_for_resource(ResourceArn=arn).get("Tags", {}))
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return {}
            raise_read_failed(err, f"appstream:ListTagsForResource {arn}")

    def list_all(self, region: str, account: str, partition: str) -> list[AppStreamResource]:
        """Every fleet, image builder and app block builder of the region, every page.

        A failed page raises ReadFailed: a partial listing is never returned as if complete.
        """
        resources = []
        for kind, (operation, key) in _DESCRIBE.items():
            try:
                for item in self._every_page(operation, key):
                    ref = ResourceRef(kind, item["Name"], account, region, partition)
                    resources.append(self.to_resource(ref, item))
            except ClientError as err:
                raise_read_failed(err, f"appstream:{operation}")
        return resources

    def _every_page(self, operation: str, key: str) -> Any:
        # DescribeAppBlockBuilders has no boto3 paginator: follow NextToken ourselves for all three.
        params: dict[str, Any] = {}
        while True:
            response = getattr(self._appstream, operation)(**params)
            yield from response.get(key, [])
            token = response.get("NextToken")
            if not token:
                return
            params = {"NextToken": token}

    def image(self, *, arn: str | None = None, name: str | None = None) -> ImageFacts | None:
        """DescribeImages by ARN (works for public and shared images) or by name; None when not found."""
        if arn:
            params: dict[str, Any] = {"Arns": [arn]}
        elif name:
            params = {"Names": [name]}
        else:
            return None
        try:
            images = self._appstream.describe_images(**params).get("Images", [])
        except ClientError as err:
            if error_code(err) == "ResourceNotFoundException":
                return None
            raise_read_failed(err, f"appstream:DescribeImages {arn or name}")
        if not images:
            return None
        image = images[0]
        return ImageFacts(
            name=image["Name"],
            arn=image.get("Arn", arn or ""),
            agent_version=image.get("AppstreamAgentVersion"),
            latest_agent_version=_latest(image.get("LatestAppstreamAgentVersion")),
        )

"""A stateful AppStream 2.0 (WorkSpaces Applications) fake for real boto3 clients.

moto has no AppStream backend. This fake answers a boto3 ``appstream`` client
from memory by hooking botocore's ``before-call.appstream.<Operation>`` events
(see `tests.doubles.botocore_model`). It never touches the wire, so it is
indifferent to the protocol botocore uses for AppStream (smithy-rpc-v2-cbor in
botocore 1.43; awsJson1_1 in older releases).

Every response is validated against botocore's output shape (wrong member
names, types or enum values raise AssertionError); every request is checked
for the constraints botocore leaves to the server (enum, max, pattern) and
answered with ``ValidationException`` if it breaks one. Operations the fake
does not implement raise `UnimplementedOperation`.

Usage::

    fake = AppStreamFake()                       # account 123456789012, page size 2
    fake.add_image("Base", agent_version="09-03-2019", owner_account="", visibility="PUBLIC")
    fake.add_fleet("f1", image_name="Base", iam_role_arn="arn:aws:iam::123456789012:role/r")
    client = fake.attach(boto3.client("appstream", region_name="us-east-1"))
    client.describe_fleets()["Fleets"][0]["IamRoleArn"]

Semantics and where they come from:

- Describe* with ``Names`` naming an unknown resource raise
  ``ResourceNotFoundException`` (the only modelled error of DescribeFleets /
  DescribeImageBuilders; callers such as terraform-provider-aws treat it as
  "not found"). The message wording is the fake's own.
- DescribeFleets pages by NextToken and has no MaxResults member (botocore
  rejects it client-side). Pages hold at most `page_size` items (default 2).
- UpdateFleet / UpdateAppBlockBuilder follow the model's doc strings: nothing
  can change while STARTING or STOPPING; while RUNNING only the documented
  attributes (fleets: DisplayName, ComputeCapacity, ImageArn, ImageName,
  IdleDisconnectTimeoutInSeconds, DisconnectTimeoutInSeconds; Elastic fleets
  their own list; app block builders: DisplayName, Description). Changing the
  role of a RUNNING fleet therefore raises ``ResourceInUseException`` with the
  wording reported in aws-cloudformation/cloudformation-coverage-roadmap#1017.
- Created fleets and app block builders start STOPPED, image builders PENDING
  (not verified against AWS; tests can move them with `set_state`).
- Images are keyed by ARN. AWS public base images have an empty account field
  (``arn:aws:appstream:us-east-1::image/AppStream-WinServer2019-06-12-2023``):
  `add_image(..., owner_account="")`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from tests.doubles.botocore_model import (
    Call,
    ServiceError,
    ServiceFake,
    implements,
    service_model,
    utc_now,
    validate_shape,
)

FLEET = "fleet"
IMAGE_BUILDER = "image-builder"
APP_BLOCK_BUILDER = "app-block-builder"
IMAGE = "image"
KINDS = (FLEET, IMAGE_BUILDER, APP_BLOCK_BUILDER, IMAGE)
ROLE_CARRYING_KINDS = (FLEET, IMAGE_BUILDER, APP_BLOCK_BUILDER)

_OUTPUT_SHAPE = {
    FLEET: "Fleet",
    IMAGE_BUILDER: "ImageBuilder",
    APP_BLOCK_BUILDER: "AppBlockBuilder",
    IMAGE: "Image",
}

# UpdateFleet/UpdateAppBlockBuilder AttributesToDelete → (member, sub-member).
_FLEET_DELETABLE = {
    "VPC_CONFIGURATION": ("VpcConfig", None),
    "VPC_CONFIGURATION_SECURITY_GROUP_IDS": ("VpcConfig", "SecurityGroupIds"),
    "DOMAIN_JOIN_INFO": ("DomainJoinInfo", None),
    "IAM_ROLE_ARN": ("IamRoleArn", None),
    "USB_DEVICE_FILTER_STRINGS": ("UsbDeviceFilterStrings", None),
    "SESSION_SCRIPT_S3_LOCATION": ("SessionScriptS3Location", None),
    "MAX_SESSIONS_PER_INSTANCE": ("MaxSessionsPerInstance", None),
    "VOLUME_CONFIGURATION": ("RootVolumeConfig", None),
}
_APP_BLOCK_BUILDER_DELETABLE = {
    "IAM_ROLE_ARN": ("IamRoleArn", None),
    "ACCESS_ENDPOINTS": ("AccessEndpoints", None),
    "VPC_CONFIGURATION_SECURITY_GROUP_IDS": ("VpcConfig", "SecurityGroupIds"),
}

# What the UpdateFleet doc string allows on a RUNNING fleet, by fleet type.
_FLEET_RUNNING_UPDATABLE = {
    "ALWAYS_ON": {
        "DisplayName", "ComputeCapacity", "ImageArn", "ImageName",
        "IdleDisconnectTimeoutInSeconds", "DisconnectTimeoutInSeconds",
    },
    "ELASTIC": {
        "DisplayName", "IdleDisconnectTimeoutInSeconds", "DisconnectTimeoutInSeconds",
        "MaxConcurrentSessions", "SessionScriptS3Location", "UsbDeviceFilterStrings",
    },
}
_FLEET_RUNNING_UPDATABLE["ON_DEMAND"] = _FLEET_RUNNING_UPDATABLE["ALWAYS_ON"]
_APP_BLOCK_BUILDER_RUNNING_UPDATABLE = {"DisplayName", "Description"}
_TRANSITIONAL_STATES = {"STARTING", "STOPPING"}

DEFAULT_INSTANCE_TYPE = "stream.standard.medium"
DEFAULT_PLATFORM = "WINDOWS_SERVER_2019"
DEFAULT_SUBNET = "subnet-0123456789abcdef0"


@dataclass
class _AppStreamState:
    """One account in one region. Records are stored in their output shape."""

    fleets: dict[str, dict] = field(default_factory=dict)
    image_builders: dict[str, dict] = field(default_factory=dict)
    app_block_builders: dict[str, dict] = field(default_factory=dict)
    images: dict[str, dict] = field(default_factory=dict)  # by ARN
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # by ARN

    def collection(self, kind: str) -> dict[str, dict]:
        return {
            FLEET: self.fleets,
            IMAGE_BUILDER: self.image_builders,
            APP_BLOCK_BUILDER: self.app_block_builders,
            IMAGE: self.images,
        }[kind]

    def images_named(self, name: str) -> list[dict]:
        return [image for image in self.images.values() if image["Name"] == name]

    def has_arn(self, arn: str) -> bool:
        return arn in self.images or any(
            record["Arn"] == arn
            for kind in ROLE_CARRYING_KINDS
            for record in self.collection(kind).values()
        )


class AppStreamFake(ServiceFake):
    """Stateful AppStream fake; see the module docstring."""

    service_name = "appstream"
    request_error_code = "ValidationException"

    def __init__(self, *, page_size: int = 2, **options):
        super().__init__(page_size=page_size, **options)

    def new_state(self) -> _AppStreamState:
        return _AppStreamState()

    # ------------------------------------------------------------------
    # Seeding (no API call is recorded)
    # ------------------------------------------------------------------

    def arn(self, kind: str, name: str, *, region: str | None = None, account_id: str | None = None) -> str:
        """`arn:<partition>:appstream:<region>:<account>:<kind>/<name>`."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
        account = self.account_id if account_id is None else account_id
        return f"arn:{self.partition}:appstream:{region or self.default_region}:{account}:{kind}/{name}"

    def add_fleet(
        self,
        name: str,
        *,
        fleet_type: str = "ALWAYS_ON",
        image_name: str | None = None,
        image_arn: str | None = None,
        iam_role_arn: str | None = None,
        state: str = "RUNNING",
        instance_type: str = DEFAULT_INSTANCE_TYPE,
        platform: str = DEFAULT_PLATFORM,
        region: str | None = None,
        account_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> dict:
        scope = self.state_for(account_id, region)
        record = {
            "Arn": self.arn(FLEET, name, region=region, account_id=account_id),
            "Name": name,
            "InstanceType": instance_type,
            "FleetType": fleet_type,
            "State": state,
            "ComputeCapacityStatus": {"Desired": 0 if fleet_type == "ELASTIC" else 1},
            "Platform": platform,
            "CreatedTime": utc_now(),
        }
        if fleet_type == "ELASTIC":
            record["MaxConcurrentSessions"] = 5  # required for Elastic fleets
        self._set_image(scope, record, image_name, image_arn, region, account_id)
        _set_optional(record, "IamRoleArn", iam_role_arn)
        return self._seed(scope, FLEET, record, tags)

    def add_image_builder(
        self,
        name: str,
        *,
        image_arn: str | None = None,
        image_name: str | None = None,
        iam_role_arn: str | None = None,
        agent_version: str | None = "LATEST",
        latest_agent_version: str | None = None,
        state: str = "RUNNING",
        instance_type: str = DEFAULT_INSTANCE_TYPE,
        platform: str = DEFAULT_PLATFORM,
        region: str | None = None,
        account_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> dict:
        scope = self.state_for(account_id, region)
        record = {
            "Arn": self.arn(IMAGE_BUILDER, name, region=region, account_id=account_id),
            "Name": name,
            "InstanceType": instance_type,
            "Platform": platform,
            "State": state,
            "CreatedTime": utc_now(),
        }
        self._set_image(scope, record, image_name, image_arn, region, account_id)
        record.pop("ImageName", None)  # ImageBuilder carries only ImageArn
        _set_optional(record, "IamRoleArn", iam_role_arn)
        _set_optional(record, "AppstreamAgentVersion", agent_version)
        _set_optional(record, "LatestAppstreamAgentVersion", latest_agent_version)
        return self._seed(scope, IMAGE_BUILDER, record, tags)

    def add_app_block_builder(
        self,
        name: str,
        *,
        iam_role_arn: str | None = None,
        state: str = "RUNNING",
        instance_type: str = DEFAULT_INSTANCE_TYPE,
        platform: str = DEFAULT_PLATFORM,
        subnet_ids: tuple[str, ...] = (DEFAULT_SUBNET,),
        region: str | None = None,
        account_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> dict:
        scope = self.state_for(account_id, region)
        record = {
            "Arn": self.arn(APP_BLOCK_BUILDER, name, region=region, account_id=account_id),
            "Name": name,
            "InstanceType": instance_type,
            "Platform": platform,
            "State": state,
            "VpcConfig": {"SubnetIds": list(subnet_ids)},
            "CreatedTime": utc_now(),
        }
        _set_optional(record, "IamRoleArn", iam_role_arn)
        return self._seed(scope, APP_BLOCK_BUILDER, record, tags)

    def add_image(
        self,
        name: str,
        *,
        agent_version: str | None,
        latest_agent_version: str | None = None,
        visibility: str = "PRIVATE",
        owner_account: str | None = None,
        platform: str = DEFAULT_PLATFORM,
        state: str = "AVAILABLE",
        region: str | None = None,
        account_id: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> dict:
        """Seed an image visible to `account_id` (default: the fake's account).

        `owner_account` is the account in the image ARN: None means the
        viewing account, '' an AWS public image (empty account field), any
        other value an image shared from that account.
        """
        scope = self.state_for(account_id, region)
        owner = (account_id or self.account_id) if owner_account is None else owner_account
        record = {
            "Arn": self.arn(IMAGE, name, region=region, account_id=owner),
            "Name": name,
            "State": state,
            "Visibility": visibility,
            "Platform": platform,
            "ImageBuilderSupported": True,
            "CreatedTime": utc_now(),
        }
        _set_optional(record, "AppstreamAgentVersion", agent_version)
        _set_optional(record, "LatestAppstreamAgentVersion", latest_agent_version)
        return self._seed(scope, IMAGE, record, tags)

    def set_role(
        self, kind: str, name: str, arn: str | None, *, region: str | None = None, account_id: str | None = None
    ) -> None:
        """Attach (or with None detach) a role without an API call or state rules."""
        if kind not in ROLE_CARRYING_KINDS:
            raise ValueError(f"only {ROLE_CARRYING_KINDS} carry a role, not {kind!r}")
        record = self._seeded(kind, name, region, account_id)
        with self._lock:
            record.pop("IamRoleArn", None)
            _set_optional(record, "IamRoleArn", arn)
            validate_shape(self.service_name, _OUTPUT_SHAPE[kind], record)

    def set_tags(
        self, kind: str, name: str, tags: dict[str, str], *, region: str | None = None, account_id: str | None = None
    ) -> None:
        """Replace a resource's tags without an API call (TagResource is not modelled here)."""
        record = self._seeded(kind, name, region, account_id)
        scope = self.state_for(account_id, region)
        with self._lock:
            scope.tags[record["Arn"]] = dict(tags)

    def set_state(
        self, kind: str, name: str, state: str, *, region: str | None = None, account_id: str | None = None
    ) -> None:
        record = self._seeded(kind, name, region, account_id)
        with self._lock:
            record["State"] = state
            validate_shape(self.service_name, _OUTPUT_SHAPE[kind], record)

    def delete(self, kind: str, name: str, *, region: str | None = None, account_id: str | None = None) -> None:
        """Remove a resource (images: every image of that name) without an API call."""
        scope = self.state_for(account_id, region)
        record = self._seeded(kind, name, region, account_id)
        with self._lock:
            if kind == IMAGE:
                for image in scope.images_named(name):
                    del scope.images[image["Arn"]]
                    scope.tags.pop(image["Arn"], None)
            else:
                del scope.collection(kind)[name]
                scope.tags.pop(record["Arn"], None)

    def get(self, kind: str, name: str, *, region: str | None = None, account_id: str | None = None) -> dict | None:
        """A copy of the stored record (as Describe* would return it), or None."""
        scope = self.state_for(account_id, region)
        with self._lock:
            if kind == IMAGE:
                found = scope.images_named(name)
                return copy.deepcopy(found[0]) if found else None
            return copy.deepcopy(scope.collection(kind).get(name))

    # ------------------------------------------------------------------
    # Describe / List
    # ------------------------------------------------------------------

    @implements("DescribeFleets")
    def _describe_fleets(self, call: Call) -> dict:
        fleets = self._named_or_all(call, FLEET)
        page, following = self.paginate(call, fleets)
        return {"Fleets": page, **following}

    @implements("DescribeImageBuilders")
    def _describe_image_builders(self, call: Call) -> dict:
        builders = self._named_or_all(call, IMAGE_BUILDER)
        page, following = self.paginate(call, builders, max_results=call.params.get("MaxResults"))
        return {"ImageBuilders": page, **following}

    @implements("DescribeAppBlockBuilders")
    def _describe_app_block_builders(self, call: Call) -> dict:
        builders = self._named_or_all(call, APP_BLOCK_BUILDER)
        page, following = self.paginate(call, builders, max_results=call.params.get("MaxResults"))
        return {"AppBlockBuilders": page, **following}

    @implements("DescribeImages")
    def _describe_images(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        names, arns = call.params.get("Names"), call.params.get("Arns")
        if names and arns:
            # Not verified against AWS; the model offers this error for DescribeImages.
            raise ServiceError("InvalidParameterCombinationException", "Specify either Names or Arns, not both.")
        if names:
            images = [image for name in _unique(names) for image in self._images_named_or_fail(scope, name)]
        elif arns:
            images = [self._image_by_arn_or_fail(scope, arn) for arn in _unique(arns)]
        else:
            images = list(scope.images.values())
        wanted_type = call.params.get("Type")
        if wanted_type:
            images = [image for image in images if image.get("Visibility") == wanted_type]
        page, following = self.paginate(call, images, max_results=call.params.get("MaxResults"))
        return {"Images": page, **following}

    @implements("ListTagsForResource")
    def _list_tags_for_resource(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        arn = call.params["ResourceArn"]
        if not scope.has_arn(arn):
            raise ServiceError("ResourceNotFoundException", f"The resource {arn} does not exist.")
        return {"Tags": dict(scope.tags.get(arn, {}))}

    # ------------------------------------------------------------------
    # Fleets
    # ------------------------------------------------------------------

    @implements("CreateFleet")
    def _create_fleet(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        params = call.params
        name = params["Name"]
        self._fail_if_exists(scope, FLEET, name)
        fleet_type = params.get("FleetType", "ON_DEMAND")  # default not verified
        record = {
            "Arn": self.arn(FLEET, name, region=call.region, account_id=call.account_id),
            "Name": name,
            "InstanceType": params["InstanceType"],
            "FleetType": fleet_type,
            "State": "STOPPED",
            "ComputeCapacityStatus": _capacity_status(params.get("ComputeCapacity")),
            "CreatedTime": utc_now(),
        }
        if fleet_type != "ELASTIC" or params.get("ImageName") or params.get("ImageArn"):
            self._resolve_existing_image(scope, record, params)
        record.setdefault("Platform", params.get("Platform", DEFAULT_PLATFORM))
        _copy_shared_members(params, record, "Fleet", handled={"ComputeCapacity", "ImageName", "ImageArn"})
        return {"Fleet": self._store(scope, FLEET, record, params.get("Tags"))}

    @implements("UpdateFleet")
    def _update_fleet(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        params = call.params
        fleet = self._existing(scope, FLEET, params.get("Name"))
        changes = _requested_changes(params)
        allowed_when_running = _FLEET_RUNNING_UPDATABLE[fleet.get("FleetType", "ON_DEMAND")]
        _check_updatable("fleet", fleet, changes, allowed_when_running)
        _check_not_set_and_deleted(params)
        _delete_attributes(fleet, params.get("AttributesToDelete", []), _FLEET_DELETABLE)
        if params.get("DeleteVpcConfig"):
            fleet.pop("VpcConfig", None)
        if "ImageName" in params or "ImageArn" in params:
            self._resolve_existing_image(scope, fleet, params)
        if "ComputeCapacity" in params:
            fleet["ComputeCapacityStatus"] = _capacity_status(params["ComputeCapacity"])
        _copy_shared_members(
            params, fleet, "Fleet", handled={"ComputeCapacity", "ImageName", "ImageArn", "DeleteVpcConfig"}
        )
        return {"Fleet": copy.deepcopy(fleet)}

    @implements("DeleteFleet")
    def _delete_fleet(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        fleet = self._existing(scope, FLEET, call.params["Name"])
        del scope.fleets[fleet["Name"]]
        scope.tags.pop(fleet["Arn"], None)
        return {}

    # ------------------------------------------------------------------
    # Image builders
    # ------------------------------------------------------------------

    @implements("CreateImageBuilder")
    def _create_image_builder(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        params = call.params
        name = params["Name"]
        self._fail_if_exists(scope, IMAGE_BUILDER, name)
        record = {
            "Arn": self.arn(IMAGE_BUILDER, name, region=call.region, account_id=call.account_id),
            "Name": name,
            "InstanceType": params["InstanceType"],
            "State": "PENDING",
            "CreatedTime": utc_now(),
        }
        image = self._resolve_existing_image(scope, record, params)
        record.pop("ImageName", None)
        record["Platform"] = image.get("Platform", DEFAULT_PLATFORM)
        agent_version = params.get("AppstreamAgentVersion") or image.get("AppstreamAgentVersion")
        _set_optional(record, "AppstreamAgentVersion", agent_version)
        _copy_shared_members(params, record, "ImageBuilder", handled={"ImageName", "ImageArn"})
        return {"ImageBuilder": self._store(scope, IMAGE_BUILDER, record, params.get("Tags"))}

    @implements("DeleteImageBuilder")
    def _delete_image_builder(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        builder = self._existing(scope, IMAGE_BUILDER, call.params["Name"])
        del scope.image_builders[builder["Name"]]
        scope.tags.pop(builder["Arn"], None)
        return {"ImageBuilder": {**builder, "State": "DELETING"}}

    # ------------------------------------------------------------------
    # App block builders (no boto3 paginator exists for their Describe)
    # ------------------------------------------------------------------

    @implements("CreateAppBlockBuilder")
    def _create_app_block_builder(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        params = call.params
        name = params["Name"]
        self._fail_if_exists(scope, APP_BLOCK_BUILDER, name)
        record = {
            "Arn": self.arn(APP_BLOCK_BUILDER, name, region=call.region, account_id=call.account_id),
            "Name": name,
            "State": "STOPPED",
            "CreatedTime": utc_now(),
        }
        _copy_shared_members(params, record, "AppBlockBuilder", handled=set())
        return {"AppBlockBuilder": self._store(scope, APP_BLOCK_BUILDER, record, params.get("Tags"))}

    @implements("UpdateAppBlockBuilder")
    def _update_app_block_builder(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        params = call.params
        builder = self._existing(scope, APP_BLOCK_BUILDER, params["Name"])
        changes = _requested_changes(params)
        _check_updatable("app block builder", builder, changes, _APP_BLOCK_BUILDER_RUNNING_UPDATABLE)
        _check_not_set_and_deleted(params)
        self._check_app_block_builder_platform(params)
        _delete_attributes(builder, params.get("AttributesToDelete", []), _APP_BLOCK_BUILDER_DELETABLE)
        _copy_shared_members(params, builder, "AppBlockBuilder", handled=set())
        return {"AppBlockBuilder": copy.deepcopy(builder)}

    @implements("DeleteAppBlockBuilder")
    def _delete_app_block_builder(self, call: Call) -> dict:
        scope: _AppStreamState = call.state
        builder = self._existing(scope, APP_BLOCK_BUILDER, call.params["Name"])
        del scope.app_block_builders[builder["Name"]]
        scope.tags.pop(builder["Arn"], None)
        return {}

    # ------------------------------------------------------------------
    # Internals
    # ------------------------------------------------------------------

    def _seed(self, scope: _AppStreamState, kind: str, record: dict, tags: dict | None) -> dict:
        validate_shape(self.service_name, _OUTPUT_SHAPE[kind], record)  # fail fast on typos
        key = record["Arn"] if kind == IMAGE else record["Name"]
        with self._lock:
            if key in scope.collection(kind):
                raise ValueError(f"{kind} {record['Name']!r} is already seeded")
            return self._store(scope, kind, record, tags)

    @staticmethod
    def _store(scope: _AppStreamState, kind: str, record: dict, tags: dict | None) -> dict:
        key = record["Arn"] if kind == IMAGE else record["Name"]
        scope.collection(kind)[key] = record
        if tags:
            scope.tags[record["Arn"]] = dict(tags)
        return copy.deepcopy(record)

    def _seeded(self, kind: str, name: str, region: str | None, account_id: str | None) -> dict:
        scope = self.state_for(account_id, region)
        if kind == IMAGE:
            found = scope.images_named(name)
            record = found[0] if found else None
        else:
            record = scope.collection(kind).get(name)
        if record is None:
            where = f"{account_id or self.account_id}/{region or self.default_region}"
            raise KeyError(f"no {kind} named {name!r} in {where}")
        return record

    def _set_image(self, scope, record, image_name, image_arn, region, account_id) -> None:
        """Seeding: fill ImageName/ImageArn from whichever was given."""
        if image_arn:
            record["ImageArn"] = image_arn
            record["ImageName"] = image_name or image_arn.split("/", 1)[1]
        elif image_name:
            known = scope.images_named(image_name)
            record["ImageName"] = image_name
            record["ImageArn"] = (
                known[0]["Arn"] if known else self.arn(IMAGE, image_name, region=region, account_id=account_id)
            )

    def _resolve_existing_image(self, scope: _AppStreamState, record: dict, params: dict) -> dict:
        """API calls: the image named by ImageName/ImageArn must exist (not verified wording)."""
        if params.get("ImageArn"):
            image = self._image_by_arn_or_fail(scope, params["ImageArn"])
        elif params.get("ImageName"):
            image = self._images_named_or_fail(scope, params["ImageName"])[0]
        else:
            raise ServiceError("InvalidParameterCombinationException", "ImageName or ImageArn is required.")
        record["ImageName"] = image["Name"]
        record["ImageArn"] = image["Arn"]
        return image

    @staticmethod
    def _images_named_or_fail(scope: _AppStreamState, name: str) -> list[dict]:
        found = scope.images_named(name)
        if not found:
            raise ServiceError("ResourceNotFoundException", f"The image {name} does not exist.")
        return found

    @staticmethod
    def _image_by_arn_or_fail(scope: _AppStreamState, arn: str) -> dict:
        if arn not in scope.images:
            raise ServiceError("ResourceNotFoundException", f"The image {arn} does not exist.")
        return scope.images[arn]

    @staticmethod
    def _named_or_all(call: Call, kind: str) -> list[dict]:
        records = call.state.collection(kind)
        names = call.params.get("Names")
        if not names:
            return list(records.values())
        for name in names:
            if name not in records:
                raise ServiceError("ResourceNotFoundException", f"The {kind.replace('-', ' ')} {name} does not exist.")
        return [records[name] for name in _unique(names)]

    @staticmethod
    def _existing(scope: _AppStreamState, kind: str, name: str | None) -> dict:
        if not name:
            raise ServiceError("InvalidParameterCombinationException", "Name is required.")
        record = scope.collection(kind).get(name)
        if record is None:
            raise ServiceError("ResourceNotFoundException", f"The {kind.replace('-', ' ')} {name} does not exist.")
        return record

    @staticmethod
    def _fail_if_exists(scope: _AppStreamState, kind: str, name: str) -> None:
        if name in scope.collection(kind):
            raise ServiceError("ResourceAlreadyExistsException", f"The {kind.replace('-', ' ')} {name} already exists.")

    def _check_app_block_builder_platform(self, params: dict) -> None:
        # UpdateAppBlockBuilderRequest.Platform takes every PlatformType, the
        # AppBlockBuilder output shape only WINDOWS_SERVER_2019.
        platform = params.get("Platform")
        allowed = service_model(self.service_name).shape_for("AppBlockBuilderPlatformType").enum
        if platform and platform not in allowed:
            raise ServiceError("InvalidParameterCombinationException", f"Platform {platform} is not supported.")


def _set_optional(record: dict, member: str, value) -> None:
    if value is not None:
        record[member] = value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _capacity_status(capacity: dict | None) -> dict:
    return {"Desired": (capacity or {}).get("DesiredInstances", 0)}


def _requested_changes(params: dict) -> set[str]:
    return {member for member in params if member != "Name"}


def _check_updatable(noun: str, record: dict, changes: set[str], allowed_when_running: set[str]) -> None:
    state = record["State"]
    if state in _TRANSITIONAL_STATES and changes:
        raise ServiceError("ResourceInUseException", f"Cannot update {noun} {record['Name']} while it is {state}.")
    if state == "RUNNING" and not changes <= allowed_when_running:
        raise ServiceError(
            "ResourceInUseException",
            f"Cannot update the attribute for {noun} {record['Name']} when it is ACTIVE. "
            f"The {noun} must be stopped to complete this action.",
        )


def _check_not_set_and_deleted(params: dict) -> None:
    # Setting a role and deleting it in one call is contradictory (not verified).
    if params.get("IamRoleArn") and "IAM_ROLE_ARN" in params.get("AttributesToDelete", []):
        raise ServiceError(
            "InvalidParameterCombinationException", "IamRoleArn cannot be set and deleted in the same request."
        )


def _delete_attributes(record: dict, attributes: list[str], mapping: dict) -> None:
    for attribute in attributes:
        member, sub_member = mapping[attribute]
        if sub_member is None:
            record.pop(member, None)
        elif member in record:
            record[member].pop(sub_member, None)


def _copy_shared_members(params: dict, record: dict, shape_name: str, *, handled: set[str]) -> None:
    """Copy request members that the output shape carries under the same name."""
    output_members = service_model("appstream").shape_for(shape_name).members
    for member, value in params.items():
        if member in output_members and member not in handled:
            record[member] = copy.deepcopy(value)

"""The small AppStream estate behind the events/ files, with roles built from real trust policies.

Shared by the end-to-end tests and `make demo`, so the demo shows exactly
what the tests assert.
"""

from __future__ import annotations

from tests.doubles.world import ACCOUNT, EmbeddedAws
from tests.shared_inputs import trust_policy

# Least privilege and a network limit: what the AWS guide's best practices ask of an instance role.
READ_BUCKET = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadAppData", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::euc-app-data/*",
     "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f67890"}}}]}

# role (path/Name) -> (real trust policy file prefix, why it is here)
ROLES = {
    "appstream/FleetGoodRole": ("tp07", "AWS docs trust with an account-wide aws:SourceArn condition"),
    "appstream/ElasticFleetRole": ("tp14", "CDK ServicePrincipal trust"),
    "appstream/SharedImageFleetRole": ("tp16", "boto3 json.dumps compact trust"),
    "Ec2OnlyRole": ("tp15", "EC2 Image Builder role trusting only ec2.amazonaws.com"),
    "LegacyFleetRole": ("tp12", "scalar trust from aws-samples session recording"),
    "ImageBuilderRole": ("tp13", "aws-samples image automation trust, Service and Action as lists"),
    "PlaceholderTrustRole": ("tp05", "AWS docs trust with the literal 'your AWS account ID' placeholder"),
    "AppBlockBuilderRole": ("tp01", "AWS docs streaming instance role trust"),
}
GOV_ROLE = ("appstreamfiletransfer", "tp02")

# A trust the demo uses to fix PlaceholderTrustRole.
FIXED_TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}]}


def role_arn(path_name: str, account: str = ACCOUNT, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{path_name}"


def seed(aws: EmbeddedAws) -> None:
    for path_name, (prefix, _) in ROLES.items():
        aws.create_role(path_name, trust_policy(prefix), inline={"app-data": READ_BUCKET})
    aws.create_role(GOV_ROLE[0], trust_policy(GOV_ROLE[1]), region="us-gov-west-1")

    fake = aws.appstream
    fake.add_image("image-agent-2023", agent_version="10-13-2022")
    fake.add_image("image-legacy", agent_version="06-19-2019")
    fake.add_image("central-golden-image", agent_version="11-13-2019", owner_account="999988887777",
                   visibility="SHARED")
    gov = aws.gov_appstream
    gov.add_image("AppStream-WinServer2019-06-12-2023", agent_version="LATEST", latest_agent_version="TRUE",
                  owner_account="", visibility="PUBLIC")
    gov.add_fleet("fleet-gov", image_name="AppStream-WinServer2019-06-12-2023",
                  iam_role_arn=role_arn("appstreamfiletransfer", partition="aws-us-gov"))

    good = role_arn("appstream/FleetGoodRole")
    fake.add_fleet("fleet-good", fleet_type="ALWAYS_ON", image_name="image-agent-2023", iam_role_arn=good)
    fake.add_fleet("fleet-bad-trust", fleet_type="ON_DEMAND", image_name="image-agent-2023",
                   iam_role_arn=role_arn("Ec2OnlyRole"))
    fake.add_fleet("fleet-cross-account", image_name="image-agent-2023",
                   iam_role_arn=role_arn("SharedAppStreamRole", account="444455556666"))
    fake.add_fleet("fleet-legacy", image_name="image-legacy", iam_role_arn=role_arn("LegacyFleetRole"))
    fake.add_fleet("fleet-elastic", fleet_type="ELASTIC", iam_role_arn=role_arn("appstream/ElasticFleetRole"))
    fake.add_fleet("fleet-junk-role", image_name="image-agent-2023")
    fake.add_fleet("fleet-shared-image", image_arn="arn:aws:appstream:us-east-1:999988887777:image/central-golden-image",
                   iam_role_arn=role_arn("appstream/SharedImageFleetRole"))
    fake.add_image_builder("ib-old-agent", image_name="image-agent-2023", agent_version="08-08-2019",
                           iam_role_arn=role_arn("ImageBuilderRole"))
    fake.add_image_builder("ib-latest", image_name="image-agent-2023", agent_version="LATEST",
                           iam_role_arn=role_arn("ImageBuilderRole"))
    fake.add_image_builder("ib-placeholder", image_name="image-agent-2023", agent_version="LATEST",
                           iam_role_arn=role_arn("PlaceholderTrustRole"))
    fake.add_app_block_builder("abb-packager", iam_role_arn=role_arn("AppBlockBuilderRole"))


def fix_placeholder_trust(aws: EmbeddedAws) -> None:
    import json

    aws.client("iam").update_assume_role_policy(RoleName="PlaceholderTrustRole", PolicyDocument=json.dumps(FIXED_TRUST))


def apply_call(aws: EmbeddedAws, event_name: str) -> None:
    """Make the estate what the call in this event left behind (the product reads AppStream, not the event)."""
    changes = {
        "update-fleet-remove-role": lambda: aws.appstream.set_role("fleet", "fleet-good", None),
        "update-app-block-builder-remove-role": lambda: aws.appstream.set_role("app-block-builder", "abb-packager", None),
        "delete-fleet": lambda: aws.appstream.delete("fleet", "fleet-bad-trust"),
    }
    if event_name in changes:
        changes[event_name]()


# The order the demo sends events in: evaluate first, then the role removals and the delete.
EVENT_ORDER = [
    "create-fleet-good-role",
    "create-fleet-bad-trust",
    "create-fleet-cross-account-role",
    "update-fleet-set-role",
    "update-fleet-no-role-param",
    "create-fleet-elastic",
    "create-fleet-shared-image",
    "create-fleet-junk-role",
    "create-fleet-govcloud",
    "create-image-builder-old-agent",
    "create-image-builder-latest-agent",
    "create-image-builder-placeholder-trust",
    "create-app-block-builder",
    "create-fleet-error-invalid-role",
    "not-handled-associate-fleet",
    "not-handled-create-image-service-event",
    "update-fleet-remove-role",
    "update-app-block-builder-remove-role",
    "delete-fleet",
]

import pytest

from roleguard.arns import InvalidArn, parse_appstream_arn, parse_role_arn, partition_for_region, same_role
from tests.shared_inputs import case


def test_b10_paths_partitions_and_names_starting_with_arn():
    data = case("B10")
    for event, expected in zip(data["input"]["events"], data["expected"]):
        arn = parse_role_arn(event["detail"]["requestParameters"]["iamRoleArn"])
        assert (arn.name, arn.path, arn.account, arn.partition) == (
            expected["role_name"], expected["path"], expected["account"], expected["partition"])


@pytest.mark.parametrize(
    "junk, reason",
    [
        ("arn:aws:iam:: 111122223333:role/Admin", "whitespace"),
        (" arn:aws:iam::111122223333:role/Admin", "whitespace"),
        ("", "empty"),
        (None, "empty"),
        ("FleetRole", "not an ARN"),
        ("arn:aws:iam::111122223333:user/Bob", "not a role ARN"),
        ("arn:aws:s3:::bucket", "not an IAM ARN"),
        ("arn:aws-mars:iam::111122223333:role/R", "unknown partition"),
        ("arn:aws:iam::your-account:role/R", "not 12 digits"),
        ("arn:aws:iam::111122223333:role/", "invalid role name"),
        ("arn:aws:iam:us-east-1:111122223333:role/R", "has a region"),
        ("arn:aws:iam::111122223333:role/a//R", "invalid role path"),
    ],
)
def test_junk_role_arns_are_rejected_with_a_reason(junk, reason):
    with pytest.raises(InvalidArn, match=reason):
        parse_role_arn(junk)


def test_public_image_arn_has_empty_account():
    arn = parse_appstream_arn("arn:aws:appstream:us-east-1::image/AppStream-WinServer2019-06-12-2023")
    assert (arn.account, arn.resource_type, arn.name) == ("", "image", "AppStream-WinServer2019-06-12-2023")


def test_role_names_compare_case_insensitively_like_iam():
    assert same_role("arn:aws:iam::111122223333:role/a/FleetRole", "arn:aws:iam::111122223333:role/fleetrole")
    assert not same_role("arn:aws:iam::111122223333:role/FleetRole", "arn:aws:iam::444455556666:role/FleetRole")


@pytest.mark.parametrize("region, partition", [("us-east-1", "aws"), ("cn-north-1", "aws-cn"),
                                               ("us-gov-west-1", "aws-us-gov"), ("us-iso-east-1", "aws-iso"),
                                               ("us-isob-east-1", "aws-iso-b")])
def test_partition_for_region(region, partition):
    assert partition_for_region(region) == partition


@pytest.mark.parametrize("junk", ["arn:aws:iam::١١١١٢٢٢٢٣٣٣٣:role/R", "arn:aws:iam::111122223333:role/é",
                                  "arn:aws:iam::111122223333:role/" + "p/" * 300 + "R"])
def test_non_ascii_and_overlong_are_invalid(junk):
    with pytest.raises(InvalidArn):
        parse_role_arn(junk)

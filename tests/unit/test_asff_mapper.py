import json
from datetime import datetime, timezone

from roleguard.model import Finding, ResourceKind, ResourceRef, Severity, Status
from roleguard.sinks.asff import TRUNCATED, finding_id, later_than, product_arn, to_asff, truncate

NOW = datetime(2026, 12, 3, 12, 0, 0, tzinfo=timezone.utc)
REF = ResourceRef(ResourceKind.FLEET, "fleet-a", "111122223333", "eu-west-1")


def finding(**kw):
    base = dict(check_id="trust-allows-appstream", title="t", status=Status.FAILED, severity=Severity.HIGH,
                detail="d", resource=REF, role_arn="arn:aws:iam::111122223333:role/FleetRoleA",
                remediation="fix", documentation_url="https://docs.aws.amazon.com/x")
    base.update(kw)
    return Finding(**base)


def asff(f):
    return to_asff(f, created_at=NOW, first_observed_at=NOW, updated_at=NOW)


def test_ids_are_deterministic_and_independent_of_text():
    a = asff(finding())
    b = asff(finding(title="other", detail="other", status=Status.PASSED))
    assert a["Id"] == b["Id"] == "arn:aws:appstream:eu-west-1:111122223333:fleet/fleet-a/roleguard/trust-allows-appstream"
    assert a["Id"] != asff(finding(check_id="role-exists"))["Id"]
    assert finding_id(ResourceRef(ResourceKind.IMAGE_BUILDER, "fleet-a", "111122223333", "eu-west-1"), "x") != finding_id(REF, "x")


def test_b16_required_fields_and_resources():
    doc = asff(finding())
    assert doc["ProductArn"] == product_arn("aws", "eu-west-1", "111122223333") == \
        "arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default"
    assert doc["AwsAccountId"] == "111122223333" and doc["SchemaVersion"] == "2018-10-08"
    assert doc["Types"] == ["Software and Configuration Checks/AWS Security Best Practices"]
    assert doc["CreatedAt"] == "2026-12-03T12:00:00.000Z"
    assert doc["Compliance"] == {"Status": "FAILED"} and doc["Severity"] == {"Label": "HIGH"}
    types = [(r["Type"], r["Id"]) for r in doc["Resources"]]
    assert types == [("Other", REF.arn), ("AwsIamRole", "arn:aws:iam::111122223333:role/FleetRoleA")]


def test_junk_role_is_shown_as_text_resource():
    doc = asff(finding(role_arn="arn:aws:iam:: 111122223333:role/Admin"))
    assert doc["Resources"][1]["Type"] == "Other" and doc["Resources"][1]["Id"] == "arn:aws:iam:: 111122223333:role/Admin"


def test_long_and_multibyte_text_is_truncated_within_limits_with_marker():
    doc = asff(finding(title="é" * 300, detail="☃" * 5000, remediation="x" * 600))
    assert len(doc["Title"]) == 256 and doc["Title"].endswith(TRUNCATED)
    assert len(doc["Description"]) == 1024 and doc["Description"].endswith(TRUNCATED)
    assert len(doc["Remediation"]["Recommendation"]["Text"]) == 512
    json.loads(json.dumps(doc, ensure_ascii=False))  # still valid JSON


def test_truncate_edges():
    assert truncate("a" * 256, 256) == "a" * 256
    assert len(truncate("a" * 257, 256)) == 256
    assert truncate("", 10) == "-"  # never empty text


def test_updated_at_always_moves_forward():
    assert later_than(NOW, None) == NOW
    assert later_than(NOW, "2026-12-03T12:00:00.000Z") > NOW
    assert later_than(NOW, "2027-01-01T00:00:00.000Z") > datetime(2027, 1, 1, tzinfo=timezone.utc)

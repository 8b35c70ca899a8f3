"""Each documented BatchImportFindings limit at its edge: the limit passes, limit + 1 is truncated or rejected."""

import copy
import json
from datetime import datetime, timezone

import pytest

from roleguard.model import Finding, ResourceKind, ResourceRef, Severity, Status
from roleguard.sinks.asff import (LIMITS, MAX_FINDING_BYTES, TRUNCATED, InvalidFinding, finding_bytes, to_asff,
                                  validate)

NOW = datetime(2026, 12, 3, tzinfo=timezone.utc)
REF = ResourceRef(ResourceKind.FLEET, "fleet-a", "111122223333", "us-east-1")


def finding(**kw):
    base = dict(check_id="least-privilege", title="t", status=Status.FAILED, severity=Severity.HIGH, detail="d",
                resource=REF, role_arn="arn:aws:iam::111122223333:role/R", remediation="fix",
                documentation_url="https://docs.aws.amazon.com/x")
    base.update(kw)
    return Finding(**base)


def asff(**kw):
    return to_asff(finding(**kw), created_at=NOW, first_observed_at=NOW, updated_at=NOW)


@pytest.mark.parametrize("field, key, limit", [("title", "Title", 256), ("detail", "Description", 1024)])
@pytest.mark.parametrize("char", ["a", "é", "☃", "🦀"])  # 1-, 2-, 3- and 4-byte UTF-8
def test_text_limits_count_characters_at_the_edge(field, key, limit, char):
    at_limit = asff(**{field: char * limit})
    assert at_limit[key] == char * limit  # the limit itself is kept whole
    over = asff(**{field: char * (limit + 1)})
    assert len(over[key]) == limit and over[key].endswith(TRUNCATED)


def test_remediation_text_edge():
    assert len(asff(remediation="r" * 512)["Remediation"]["Recommendation"]["Text"]) == 512
    over = asff(remediation="r" * 513)["Remediation"]["Recommendation"]["Text"]
    assert len(over) == 512 and over.endswith(TRUNCATED)


def test_hostile_text_stays_valid_json():
    hostile = '"}]}\\u0000\x00\n<script>' + "\ud7ff" + "‮" * 10
    doc = asff(detail=hostile, title=hostile)
    assert json.loads(json.dumps(doc, ensure_ascii=False))["Description"] == hostile


def test_evidence_is_json_and_capped_per_value_and_count():
    doc = asff(evidence={f"k{i}": {"list": ["x" * 3000]} for i in range(80)})
    fields = doc["ProductFields"]
    assert len(fields) <= LIMITS["ProductFields"]
    assert all(len(v) <= LIMITS["ProductFieldValue"] and len(k) <= LIMITS["ProductFieldKey"] for k, v in fields.items())
    assert fields["roleguard/evidence/k0"].startswith('{"list": ["xxx')


@pytest.mark.parametrize("mutate, problem", [
    (lambda d: d.update(Id="i" * 513), "Id has 513 > 512"),
    (lambda d: d.update(GeneratorId="g" * 513), "GeneratorId has 513 > 512"),
    (lambda d: d.update(Title="t" * 257), "Title has 257 > 256"),
    (lambda d: d.update(Description="d" * 1025), "Description has 1025 > 1024"),
    (lambda d: d["Remediation"]["Recommendation"].update(Text="r" * 513), "Text has 513 > 512"),
    (lambda d: d["Remediation"]["Recommendation"].update(Text=""), "Text is empty"),
    (lambda d: d.update(Resources=d["Resources"] * 17), "Resources has 34 > 32"),
    (lambda d: d.update(Resources=[]), "Resources is missing or empty"),
    (lambda d: d.update(Severity={"Label": "SEVERE"}), "Severity.Label"),
    (lambda d: d.pop("Types"), "Types is missing"),
    (lambda d: d["ProductFields"].update({f"k{i}": "v" for i in range(60)}), "ProductFields has"),
    (lambda d: d["ProductFields"].update({"k" * 129: "v"}), "ProductFields key has 129 > 128"),
    (lambda d: d["ProductFields"].update(big="v" * 2049), "has 2049 > 2048"),
])
def test_validator_rejects_each_limit_plus_one(mutate, problem):
    doc = asff()
    validate(doc)
    broken = copy.deepcopy(doc)
    mutate(broken)
    with pytest.raises(InvalidFinding, match=problem.replace(".", r"\.").replace("(", r"\(")):
        validate(broken)


def test_validator_edges_pass_exactly_at_the_limits():
    doc = asff()
    doc.update(Id="i" * 512, GeneratorId="g" * 512, Title="t" * 256, Description="d" * 1024)
    doc["Remediation"]["Recommendation"]["Text"] = "r" * 512
    doc["Resources"] = (doc["Resources"] * 16)[:32]
    validate(doc)


def test_whole_finding_size_limit():
    doc = asff()
    doc["Resources"][0]["Details"]["Other"] = {f"k{i}": "x" * 1024 for i in range(400)}  # ~420 KB
    with pytest.raises(InvalidFinding, match="bytes > 245760"):
        validate(doc)
    assert finding_bytes(asff(evidence={f"e{i}": "z" * 5000 for i in range(48)})) <= MAX_FINDING_BYTES


def test_a_role_arn_longer_than_the_resource_id_limit_is_named_truncated():
    long_path = "/" + "p/" * 250
    role_arn = f"arn:aws:iam::111122223333:role{long_path}R"
    doc = asff(role_arn=role_arn)
    role = doc["Resources"][1]
    assert len(role_arn) > 512 and role["Type"] == "Other" and len(role["Id"]) == 512
    assert role["Details"]["Other"]["roleguard:roleArnTruncated"] == "true"

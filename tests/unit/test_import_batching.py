from roleguard.gateways.securityhub import MAX_IMPORT_BYTES, chunks, import_batches
from tests.shared_inputs import case


def test_b19_batches_of_at_most_100():
    expected = case("B19")["expected"]["calls"]
    findings = [{"Id": f"f{i}", "Title": "t"} for i in range(sum(expected))]
    assert [len(b) for b in import_batches(findings)] == expected


def test_batches_stay_under_6_mb():
    big = [{"Id": f"f{i}", "Description": "x" * 200_000} for i in range(70)]  # ~14 MB in all
    batches = list(import_batches(big))
    assert len(batches) == 3 and sum(len(b) for b in batches) == 70
    import json
    assert all(len(json.dumps({"Findings": b}).encode()) < MAX_IMPORT_BYTES for b in batches)


def test_filter_values_are_chunked_by_20():
    assert [len(c) for c in chunks(list(range(45)), 20)] == [20, 20, 5]


def test_archiving_drops_security_hubs_own_product_fields():
    from datetime import datetime, timezone

    from roleguard.sinks.securityhub import SecurityHubSink

    previous = {"Id": "x", "UpdatedAt": "2026-01-01T00:00:00.000Z", "RecordState": "ACTIVE", "Workflow": {"Status": "NEW"},
                "ProductFields": {"roleguard/CheckId": "role-exists",
                                  **{f"aws/securityhub/Field{i}": "v" for i in range(60)}}}
    archived = SecurityHubSink._archived(previous, datetime(2026, 2, 1, tzinfo=timezone.utc))
    assert archived["ProductFields"] == {"roleguard/CheckId": "role-exists"}
    assert archived["RecordState"] == "ARCHIVED" and "Workflow" not in archived

"""`make demo`: the product's main job end to end, on an embedded AWS (no account needed).

moto (IAM, STS, SQS, EventBridge) and the validated AppStream / Security Hub
fakes; a small estate whose roles use real trust policies; every events/ file
routed through template.yaml's own rule pattern into the real Lambda handler;
then a table of the Security Hub findings, and the full ASFF written to out/.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "layers" / "roleguard"), str(REPO / "functions" / "evaluate")]
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "AppStreamRoleGuard")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines between the demo's output


class _Context:
    function_name = "roleguard-demo-evaluate"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:roleguard-demo-evaluate"
    aws_request_id = "demo"


def _row(cells, widths):
    return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()


ORDER = {"FAILED": 0, "WARNING": 1, "NOT_AVAILABLE": 2, "PASSED": 3}


def _print_table(findings: list[dict]) -> None:
    active = [f for f in findings if f["RecordState"] == "ACTIVE"]
    active.sort(key=lambda f: (f["Resources"][0]["Id"], ORDER[f["Compliance"]["Status"]], f["GeneratorId"]))
    widths = (34, 28, 13, 13, 9)
    print("\n  Security Hub findings (ACTIVE):\n")
    print("  " + _row(("resource", "check", "status", "severity", "workflow"), widths) + "  why")
    for f in active:
        resource = f["Resources"][0]["Id"].split(":", 5)[5]
        if f["Region"] != "us-east-1":
            resource += f" ({f['Region']})"
        cells = (resource, f["ProductFields"]["roleguard/CheckId"], f["Compliance"]["Status"], f["Severity"]["Label"],
                 f["Workflow"]["Status"])
        print("  " + _row(cells, widths) + "  " + f["Description"][:160])


def main() -> int:
    from roleguard import root
    from tests.doubles import estate
    from tests.doubles.world import EmbeddedAws, EventRoute
    from tests.events import load_event

    logging.getLogger("roleguard").setLevel(logging.WARNING)
    with EmbeddedAws() as aws:
        estate.seed(aws)
        services = aws.services()
        root.services = lambda: services  # the handler's composition root, pointed at the embedded AWS
        import app  # functions/evaluate/app.py, the real handler

        route = EventRoute(aws)

        def send(name: str) -> None:
            estate.apply_call(aws, name)  # the estate as the call left it: the product reads AppStream
            delivered = route.deliver(load_event(name))
            if delivered is None:
                print(f"  {name:42} not matched by the rule (never invoked)")
                return
            result = app.lambda_handler(delivered, _Context())
            print(f"  {name:42} {result['outcome']:9} {result['reason'][:70]}")

        def hub_findings() -> list[dict]:
            return aws.securityhub.findings(region="us-east-1") + aws.gov_securityhub.findings(region="us-gov-west-1")

        print("1. Events routed through template.yaml's AppStreamApiCallRule pattern into the evaluate handler:\n")
        lifecycle = ["update-fleet-remove-role", "update-app-block-builder-remove-role", "delete-fleet"]
        for name in estate.EVENT_ORDER:
            if name not in lifecycle:
                send(name)
        _print_table(hub_findings())

        print("\n2. Fixing PlaceholderTrustRole's trust policy (aws:SourceAccount = this account) and sending its event again:\n")
        estate.fix_placeholder_trust(aws)
        send("create-image-builder-placeholder-trust")
        placeholder = [f for f in hub_findings() if f["Id"].endswith("ib-placeholder/roleguard/trust-allows-appstream")]
        for f in placeholder:
            print(f"  trust-allows-appstream of ib-placeholder is now {f['Compliance']['Status']}, "
                  f"Workflow {f['Workflow']['Status']}: {f['Description'][:80]}")

        print("\n3. Role removed from a fleet and an app block builder, one fleet deleted:\n")
        for name in lifecycle:
            send(name)
        findings = hub_findings()
    archived = [f for f in findings if f["RecordState"] == "ARCHIVED"]
    print(f"\n  Archived: {len(archived)} findings of these resources:")
    for resource in sorted({f["Resources"][0]["Id"].split(":", 5)[5] for f in archived}):
        print(f"    {resource}")
    active = [f for f in findings if f["RecordState"] == "ACTIVE"]

    out = REPO / "out"
    out.mkdir(exist_ok=True)
    path = out / "demo-findings.asff.json"
    path.write_text(json.dumps(findings, indent=2, ensure_ascii=False) + "\n")
    failing = sum(1 for f in active if f["Compliance"]["Status"] != "PASSED")
    print(f"\n{len(active)} active findings ({failing} not PASSED), {len(archived)} archived.")
    print(f"Full ASFF JSON: {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make demo`: the product's main job end to end, on an embedded AWS (no account needed).

moto (IAM, STS, SQS, EventBridge) and the validated AppStream / Security Hub
fakes; a small estate whose roles use real trust policies; every events/ file
routed through template.yaml's own rule pattern into the real Lambda handler;
then a table of the Security Hub findings, and the full ASFF written to out/.
With the sinks "securityhub,tickets" the same run keeps one Jira ticket per
problem on a local Jira-compatible server (tests/doubles/ticket_servers.py):
failing roles open tickets, a role shared by two fleets has one, fixing a role
closes its ticket.
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


def _print_tickets(jira, about: str = "") -> None:
    """The local Jira's issues (those whose summary mentions `about`): key, status, summary, resources listed."""
    print("\n  Jira tickets (local Jira Cloud-compatible server, project SEC):\n")
    if not jira.issues:
        print("  (none)")
    for key, issue in jira.issues.items():
        if about not in issue["summary"]:
            continue
        affected = [line.split(" (arn:", 1)[0] for line in jira.description_text(key).splitlines()
                    if " in us-east-1 (arn:" in line or " in us-gov-west-1 (arn:" in line]
        print(f"  {key:7} {issue['status']['name']:12} {issue['summary']}")
        print(f"  {'':7} {'':12} lists: {'; '.join(affected) or '-'}; {len(issue['comments'])} comment(s)")


def _shared_role_event(aws, load_event):
    """A second fleet starts using Ec2OnlyRole (the bad role of fleet-bad-trust)."""
    from tests.doubles import estate

    aws.appstream.add_fleet("fleet-bad-trust-2", fleet_type="ON_DEMAND", image_name="image-agent-2023",
                            iam_role_arn=estate.role_arn("Ec2OnlyRole"))
    event = load_event("create-fleet-bad-trust")
    event["detail"]["requestParameters"]["name"] = "fleet-bad-trust-2"
    event["detail"]["eventID"] = "0f6b1a7e-0000-4b7a-8e1d-2f3c4b5a6d02"
    return event


def main() -> int:
    from roleguard import root
    from tests.doubles import estate
    from tests.doubles.ticket_servers import JiraServer
    from tests.doubles.ticket_world import jira_secret, jira_settings, tickets_world
    from tests.doubles.world import EmbeddedAws, EventRoute
    from tests.events import load_event

    logging.getLogger("roleguard").setLevel(logging.WARNING)
    with EmbeddedAws() as aws, JiraServer("cloud") as jira:
        estate.seed(aws)
        # Sinks "securityhub,tickets": the ledger in moto's DynamoDB, the Jira credentials in its Secrets Manager.
        services = tickets_world(aws, jira_settings(jira), jira_secret(jira))
        root.services = lambda: services  # the handler's composition root, pointed at the embedded AWS
        import app  # functions/evaluate/app.py, the real handler

        route = EventRoute(aws)

        def send(name: str, event: dict | None = None) -> None:
            estate.apply_call(aws, name)  # the estate as the call left it: the product reads AppStream
            delivered = route.deliver(event or load_event(name))
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
        _print_tickets(jira)

        print("\n   A second fleet starts using Ec2OnlyRole: its trust problem is the role's, so no second ticket:\n")
        send("fleet-bad-trust-2 (CreateFleet)", _shared_role_event(aws, load_event))
        _print_tickets(jira, about="Ec2OnlyRole")

        print("\n2. Fixing PlaceholderTrustRole's trust policy (aws:SourceAccount = this account) and sending its event again:\n")
        estate.fix_placeholder_trust(aws)
        send("create-image-builder-placeholder-trust")
        placeholder = [f for f in hub_findings() if f["Id"].endswith("ib-placeholder/roleguard/trust-allows-appstream")]
        for f in placeholder:
            print(f"  trust-allows-appstream of ib-placeholder is now {f['Compliance']['Status']}, "
                  f"Workflow {f['Workflow']['Status']}: {f['Description'][:80]}")
        for key, issue in jira.issues.items():
            if "PlaceholderTrustRole" in issue["summary"]:
                print(f"  its ticket {key} is now {issue['status']['name']}: "
                      f"{jira.comment_texts(key)[-1].splitlines()[-1][:110]}")

        print("\n3. Role removed from a fleet and an app block builder, one fleet deleted:\n")
        for name in lifecycle:
            send(name)
        findings = hub_findings()
        _print_tickets(jira)
        tickets = {key: issue["status"]["name"] for key, issue in jira.issues.items()}
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
    print(f"{len(tickets)} Jira tickets: " + ", ".join(f"{k} {v}" for k, v in tickets.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

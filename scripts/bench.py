"""`make bench`: cold-start import cost of the handler and the AWS calls of one evaluation.

Not a test: it prints numbers. Cold start is the common case for this Lambda
(it is invoked rarely), so import-time work is what users pay on most events.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PATHS = [str(REPO), str(REPO / "layers" / "roleguard"), str(REPO / "functions" / "evaluate")]
RUNS = 7

SNIPPETS = {
    "import boto3": "import boto3",
    "import boto3 + create iam/appstream/securityhub clients": (
        "import boto3\n"
        "for s in ('iam', 'appstream', 'securityhub'): boto3.client(s, region_name='us-east-1')"
    ),
    "import the handler module (functions/evaluate/app.py)": "import app",
    "handler module + composition root's clients on first use": (
        "import app\nfrom roleguard import root\ns = root.services()\n"
        "s.iam('us-east-1'); s.appstream('us-east-1'); s.sinks('us-east-1')"
    ),
}


def cold_seconds(snippet: str) -> float:
    code = "import time\n_t = time.perf_counter()\n" + snippet + "\nprint(time.perf_counter() - _t)"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(PATHS), PYTHONDONTWRITEBYTECODE="0",
               AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def import_times() -> None:
    print(f"Cold import, fresh interpreter each run, median of {RUNS} (after one warm-up run for .pyc files):\n")
    for label, snippet in SNIPPETS.items():
        cold_seconds(snippet)
        runs = [cold_seconds(snippet) for _ in range(RUNS)]
        print(f"  {label:60} {statistics.median(runs) * 1000:8.1f} ms   (min {min(runs) * 1000:.1f}, max {max(runs) * 1000:.1f})")
    print()


def api_calls_of_one_create_fleet() -> None:
    sys.path[:0] = PATHS
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from roleguard import pipeline
    from tests.doubles import estate
    from tests.doubles.world import EmbeddedAws
    from tests.events import load_event

    with EmbeddedAws() as aws:
        estate.seed(aws)
        services = aws.services()
        for attempt in ("first evaluation (new findings)", "same event again (existing findings)"):
            aws.api_calls.clear()
            aws.appstream.calls.clear()
            pipeline.handle_event(load_event("create-fleet-good-role"), services)
            calls = {k: v for k, v in aws.api_calls.items()
                     if not k.startswith(("sqs:", "events:")) and not k.endswith(("Table", "Tables"))}
            facts = {k: v for k, v in calls.items() if k.split(":")[0] in ("appstream2", "iam")}
            index = sum(v for k, v in calls.items() if k.startswith("dynamodb:") and "Table" not in k)
            print(f"AWS API calls of one CreateFleet evaluation, {attempt}:")
            for name, count in sorted(calls.items()):
                print(f"  {name:40} {count}")
            # The role has 1 inline and 0 managed policies: the facts need the fleet, its image, the role,
            # both policy listings and the one inline document; dedicated-role needs every page of the
            # region's fleets, image builders and app block builders.
            pages = sum(-(-count // aws.appstream.page_size) or 1 for count in _estate_sizes(aws).values())
            minimum = 1 + 1 + 1 + 1 + 1 + 1 + 1 + pages
            print(f"  facts: {sum(facts.values())} calls; minimum for these facts: {minimum} "
                  f"(7 for the fleet, its tags, its image and its role, {pages} listing pages for dedicated-role: "
                  f"{_estate_sizes(aws)} at {aws.appstream.page_size} per page)")
            print(f"  role index (DynamoDB): {index} calls (read the resource's last role; write only when it changed)")
            hub = sum(v for k, v in calls.items() if k.startswith("securityhub:"))
            print(f"  Security Hub: {hub} calls "
                  "(GetFindings for CreatedAt/Workflow, BatchImportFindings, BatchUpdateFindings only when a check newly passes)\n")


def _estate_sizes(aws) -> dict[str, int]:
    client = aws.client("appstream")
    return {
        "fleets": sum(len(p["Fleets"]) for p in client.get_paginator("describe_fleets").paginate()),
        "image builders": sum(len(p["ImageBuilders"]) for p in client.get_paginator("describe_image_builders").paginate()),
        "app block builders": len(client.describe_app_block_builders()["AppBlockBuilders"]),
    }


if __name__ == "__main__":
    import_times()
    api_calls_of_one_create_fleet()

"""`make bench`, part 3: the sweep at scale on a synthetic estate (a benchmark, not a test).

Each scenario runs in a fresh process (its own moto and fakes, its own peak
memory): N resources spread over R roles, the sweep planned and every chunk
evaluated through the real code with bounded concurrency. Printed: API calls by
kind, wall time, calls per resource, peak RSS. With a simulated per-call
latency the same sweep shows what bounded concurrency buys.

Usage: scripts/bench_scale.py [--quick]  (quick: the small scenarios only)
"""

from __future__ import annotations

import json
import os
import resource as rusage
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PATHS = [str(REPO), str(REPO / "layers" / "roleguard"), str(REPO / "functions" / "evaluate")]

SCENARIOS = [  # (resources, roles, simulated latency per call in seconds, chunks evaluated at once)
    (100, 10, 0.0, 2), (1000, 100, 0.0, 2), (10000, 1000, 0.0, 4),  # the estate grows
    (1000, 1000, 0.0, 2), (1000, 10, 0.0, 2),  # same estate, more resources per role
    (200, 20, 0.02, 1), (200, 20, 0.02, 4),  # 20 ms per call: what bounded concurrency buys
]
QUICK = [(100, 10, 0.0, 2), (100, 100, 0.0, 2), (100, 10, 0.02, 1), (100, 10, 0.02, 4)]


def run_scenario(resources: int, roles: int, latency: float, concurrency: int) -> dict:
    sys.path[:0] = PATHS
    os.environ.update(POWERTOOLS_METRICS_DISABLED="true", POWERTOOLS_LOG_LEVEL="ERROR")
    import logging

    logging.getLogger("roleguard").setLevel(logging.ERROR)
    from roleguard import sweep
    from tests.doubles.world import EmbeddedAws

    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}
    grant = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                       "Resource": "arn:aws:s3:::app-data/*"}]}
    with EmbeddedAws(appstream_page_size=25) as aws:  # DescribeFleets pages hold ~25 fleets
        for r in range(roles):
            aws.create_role(f"role-{r:04d}", trust, inline={"app-data": grant})
        aws.appstream.add_image("golden", agent_version="10-13-2022")
        for i in range(resources):
            role = f"arn:aws:iam::111122223333:role/role-{i % roles:04d}"
            if i % 10 == 9:
                aws.appstream.add_image_builder(f"ib-{i:05d}", image_name="golden", agent_version="LATEST",
                                                iam_role_arn=role)
            else:
                aws.appstream.add_fleet(f"fleet-{i:05d}", image_name="golden", iam_role_arn=role)
        services = aws.services()
        # Time the product, not the fakes' own model validation (tests always validate).
        aws.appstream.validating = aws.securityhub.validating = False
        aws.set_latency(latency)
        aws.api_calls.clear()
        started = time.perf_counter()
        plan = sweep.plan(services, "us-east-1", "111122223333")
        records = aws.sweep_messages()
        now = datetime.now(timezone.utc)
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(lambda rec: sweep.run_chunk(services, json.loads(rec["body"]), now), records))
        wall = time.perf_counter() - started
        calls = Counter({k: v for k, v in aws.api_calls.items() if k.split(":")[0] != "sqs"})
        findings = len(aws.securityhub.findings())
    return {"resources": resources, "roles": roles, "latency": latency, "concurrency": concurrency,
            "chunks": plan["chunks"], "wall": wall, "calls": dict(calls), "findings": findings,
            "peak_rss_mb": rusage.getrusage(rusage.RUSAGE_SELF).ru_maxrss / 1024}


def main(quick: bool) -> None:
    print("Sweep at scale (fresh process per scenario; fleets and image builders, 25 per DescribeFleets page):\n")
    rows = []
    for scenario in QUICK if quick else SCENARIOS:
        out = subprocess.run([sys.executable, __file__, "--one", json.dumps(scenario)], capture_output=True,
                             text=True, check=True, cwd=REPO)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    kinds = sorted({k for r in rows for k in r["calls"]})
    header = f"{'resources':>9} {'roles':>5} {'res/role':>8} {'latency':>7} {'conc':>4} {'chunks':>6} {'wall s':>7} " \
             f"{'calls':>7} {'calls/res':>9} {'peak MB':>7}"
    print(header)
    for r in rows:
        total = sum(r["calls"].values())
        print(f"{r['resources']:>9} {r['roles']:>5} {r['resources'] / r['roles']:>8.0f} {r['latency'] * 1000:>5.0f}ms "
              f"{r['concurrency']:>4} {r['chunks']:>6} {r['wall']:>7.1f} {total:>7} {total / r['resources']:>9.2f} "
              f"{r['peak_rss_mb']:>7.0f}")
    print("\nAPI calls by kind:")
    print(f"{'resources/roles':>16} " + " ".join(f"{k.split(':')[1][:22]:>22}" for k in kinds))
    for r in rows:
        label = f"{r['resources']}/{r['roles']}" + (f" @{r['latency'] * 1000:.0f}ms x{r['concurrency']}" if r["latency"] else "")
        print(f"{label:>16} " + " ".join(f"{r['calls'].get(k, 0):>22}" for k in kinds))
    print("\nRoles are read once per sweep (GetRole = roles); the listing costs one call per page; images are read once "
          "per chunk; tags, the role index and Security Hub grow with resources (ListTagsForResource per resource, "
          "GetFindings per 20 resources, BatchImportFindings per 100 findings).")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        print(json.dumps(run_scenario(*json.loads(sys.argv[2]))))
    else:
        main(quick="--quick" in sys.argv)

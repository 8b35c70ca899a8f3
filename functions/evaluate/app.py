"""Evaluate handler: AppStream and IAM CloudTrail events, the scheduled sweep and its chunks.

Thin on purpose: recognise the input, call the core, return a summary.
Clients are built on first use by the composition root, not at import time.

Inputs:
- an AppStream CloudTrail event from EventBridge: evaluate that resource;
- an SNS delivery of IAM CloudTrail events (forwarded from us-east-1): re-evaluate the resources using the role;
- {"job": "sweep"} from EventBridge Scheduler: list the region, queue chunks;
- SQS records of sweep chunks: evaluate each chunk.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from roleguard import intake, pipeline, root, sweep

logger = Logger(service="roleguard")
metrics = Metrics(namespace="AppStreamRoleGuard", service="roleguard")

SWEEP_JOB = {"job": "sweep"}  # the scheduled input template.yaml sends


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    _, _, _, region, account, _ = context.invoked_function_arn.split(":", 5)
    services = root.services()
    services.start_invocation(context)  # ticket requests never wait past the invocation's remaining time
    if event == SWEEP_JOB:
        summary = sweep.plan(services, region, account)
        metrics.add_metric(name="SweepChunksQueued", unit=MetricUnit.Count, value=summary["chunks"])
        return summary
    if _sqs_records(event):
        return _sweep_chunks(event["Records"], services)
    results = [_one_event(e, services, region) for e in intake.unwrap(event)]
    return results[0] if len(results) == 1 else {"results": results}


def _sqs_records(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)


def _sweep_chunks(records: list[dict[str, Any]], services: Any) -> dict[str, Any]:
    # Batch size 1 in template.yaml: an exception fails this one message, SQS redelivers it, then dead-letters it.
    done = []
    for record in records:
        message = json.loads(record["body"])
        now = datetime.now(timezone.utc)
        run = sweep.run_chunk if message.get("job") == "sweep-chunk" else sweep.run_reevaluation
        done.append(run(services, message, now))
    metrics.add_metric(name="SweepChunksEvaluated", unit=MetricUnit.Count, value=len(done))
    return {"chunks": done}


def _one_event(event: Any, services: Any, region: str) -> dict[str, Any]:
    summary = pipeline.handle_event(event, services, home_region=region)
    if summary.metric:
        metrics.add_metric(name=summary.metric, unit=MetricUnit.Count, value=1)
    if summary.unknown_suppressions:
        metrics.add_metric(name="UnknownSuppressionIds", unit=MetricUnit.Count, value=len(summary.unknown_suppressions))
    failing = [f for f in summary.findings if f.failing]
    if failing:
        metrics.add_metric(name="FailingFindings", unit=MetricUnit.Count, value=len(failing))
    # The ticket system refused new tickets (OpsItemLimitExceededException, B23): counted, not raised.
    refused = sum(1 for r in summary.reports for d in r.details if d.startswith("quota exceeded"))
    if refused:
        metrics.add_metric(name="TicketQuotaExceeded", unit=MetricUnit.Count, value=refused)
    logger.info(
        summary.outcome,
        extra={"reason": summary.reason, "resource": summary.resource,
               "failing": [f"{f.check_id}={f.status.value}" for f in failing]},
    )
    return summary.as_dict()

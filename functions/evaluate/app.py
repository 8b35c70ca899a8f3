"""Evaluate handler: AppStream CloudTrail event (via EventBridge) -> role checks -> Security Hub.

Thin on purpose: parse, call the core, return a summary. Clients are built on
first use by the composition root, not at import time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from roleguard import pipeline, root

logger = Logger(service="roleguard")
metrics = Metrics(namespace="AppStreamRoleGuard", service="roleguard")


REFRESH_JOB = {"job": "refresh"}  # the scheduled input template.yaml sends


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event == REFRESH_JOB:
        return refresh(context)
    summary = pipeline.handle_event(event, root.services())
    if summary.metric:
        metrics.add_metric(name=summary.metric, unit=MetricUnit.Count, value=1)
    if summary.unknown_suppressions:
        metrics.add_metric(name="UnknownSuppressionIds", unit=MetricUnit.Count, value=len(summary.unknown_suppressions))
    failing = [f for f in summary.findings if f.failing]
    if failing:
        metrics.add_metric(name="FailingFindings", unit=MetricUnit.Count, value=len(failing))
    logger.info(
        summary.outcome,
        extra={"reason": summary.reason, "resource": summary.resource,
               "failing": [f"{f.check_id}={f.status.value}" for f in failing]},
    )
    return summary.as_dict()


def refresh(context: LambdaContext) -> dict[str, Any]:
    """Re-evaluate resources whose findings are going stale (Security Hub deletes them after 90 days)."""
    services = root.services()
    _, _, _, region, account, _ = context.invoked_function_arn.split(":", 5)
    result = pipeline.refresh_stale(services, region, account, datetime.now(timezone.utc),
                                    timedelta(days=services.settings.refresh_after_days))
    metrics.add_metric(name="ResourcesRefreshed", unit=MetricUnit.Count, value=len(result["refreshed"]))
    logger.info("refresh", extra={k: v for k, v in result.items() if k != "refreshed"})
    return result

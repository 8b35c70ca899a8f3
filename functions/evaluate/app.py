"""Evaluate handler: AppStream CloudTrail event (via EventBridge) -> role checks -> Security Hub.

Thin on purpose: parse, call the core, return a summary. Clients are built on
first use by the composition root, not at import time.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from roleguard import pipeline, root

logger = Logger(service="roleguard")
metrics = Metrics(namespace="AppStreamRoleGuard", service="roleguard")


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
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

"""The scheduled sweep: every resource of the region, in chunks fanned out through SQS.

The planner lists every fleet, image builder and app block builder (every
page; a failed page fails the sweep and archives nothing), groups them by role
so each role is read once per sweep, and queues chunks small enough to finish
well within the Lambda timeout. It also queues the resources that still have
ACTIVE findings but were not listed: each is confirmed with Describe before its
findings are archived. Orchestration only: no boto3 here.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from . import engine
from .arns import partition_for_region, role_key
from .facts import SharedReads, facts_for, members_by_role
from .model import AppStreamResource, ResourceKind, ResourceRef
from .sinks.asff import GENERATOR_PREFIX, product_arn
from .sinks.base import ResourceOutcome

log = logging.getLogger("roleguard")

CHUNK_RESOURCES = 25  # resources per chunk: ~25 x (tags + image) calls, seconds even at 100 ms per call
MAX_MEMBERS = 2000  # ARNs of one role carried in a message (SQS messages are at most 256 KB)


def _serialise(resource: AppStreamResource) -> dict[str, Any]:
    data = asdict(resource)
    data.pop("tags")
    ref = data.pop("ref")
    data["ref"] = {**ref, "kind": resource.ref.kind.value}
    return data


def _deserialise(data: dict[str, Any]) -> AppStreamResource:
    ref = dict(data["ref"])
    ref["kind"] = ResourceKind(ref["kind"])
    return AppStreamResource(ref=ResourceRef(**ref), **{k: v for k, v in data.items() if k != "ref"})


def chunk_by_role(resources: list[AppStreamResource], size: int = CHUNK_RESOURCES) -> list[list[AppStreamResource]]:
    """Resources of one role stay together (one role read); a role larger than a chunk gets chunks of its own."""
    by_role: dict[str, list[AppStreamResource]] = {}
    for resource in sorted(resources, key=lambda r: r.ref.arn):
        by_role.setdefault(role_key(resource.role_arn) if resource.role_arn else "", []).append(resource)
    chunks: list[list[AppStreamResource]] = []
    current: list[AppStreamResource] = []
    for _, group in sorted(by_role.items()):
        if len(group) > size:
            chunks.extend(group[i : i + size] for i in range(0, len(group), size))
            continue
        if len(current) + len(group) > size:
            chunks.append(current)
            current = []
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks


def plan(services: Any, region: str, account: str) -> dict[str, Any]:
    partition = partition_for_region(region)
    resources = services.appstream(region).list_all(region, account, partition)  # ReadFailed: nothing queued
    members = members_by_role(resources)
    listed = {r.ref.arn for r in resources}
    index = services.role_index(region)
    if index is not None:
        index.rebuild(members, {r.ref.arn: role_key(r.role_arn) if r.role_arn else None for r in resources})
    findings = services.hub(region).active_findings(product_arn(partition, region, account), GENERATOR_PREFIX)
    vanished = sorted({f["Resources"][0]["Id"] for f in findings} - listed)

    messages: list[dict[str, Any]] = []
    for chunk in chunk_by_role(resources):
        keys = {role_key(r.role_arn) for r in chunk if r.role_arn}
        messages.append({
            "job": "sweep-chunk", "region": region, "account": account,
            "resources": [_serialise(r) for r in chunk],
            # Truncated past MAX_MEMBERS: dedicated-role then names 2,000 others, which still fails it.
            "members": {k: list(members[k][:MAX_MEMBERS]) for k in sorted(keys)},
        })
    messages += _reevaluation_messages(region, account, vanished)
    services.sweep_queue(region).send_all(messages)
    summary = {"resources": len(resources), "roles": len(members), "chunks": len(messages), "vanished": len(vanished)}
    log.info("sweep planned: %s", summary)
    return summary


def _reevaluation_messages(region: str, account: str, arns: list[str]) -> list[dict[str, Any]]:
    return [{"job": "reevaluate", "region": region, "account": account, "arns": arns[i : i + CHUNK_RESOURCES]}
            for i in range(0, len(arns), CHUNK_RESOURCES)]


def queue_reevaluation(services: Any, region: str, account: str, arns: list[str]) -> int:
    """Queue resources to be re-evaluated one by one (a changed role shared by many); returns the chunk count."""
    messages = _reevaluation_messages(region, account, arns)
    services.sweep_queue(region).send_all(messages)
    return len(messages)


def _current(services: Any, region: str, planned: list[AppStreamResource]) -> list[tuple[ResourceRef, AppStreamResource | None]]:
    """What AppStream says now: a chunk may run long after planning, and an event may have changed the role since."""
    appstream = services.appstream(region)
    current: list[tuple[ResourceRef, AppStreamResource | None]] = []
    for kind in ResourceKind:
        refs = [r.ref for r in planned if r.ref.kind is kind]
        if refs:
            now = appstream.describe_many(kind, refs)
            current += [(ref, now[ref.name]) for ref in refs]
    return current


def run_chunk(services: Any, message: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Evaluate one chunk; publish all its findings in batches. Transient read errors fail the message (SQS retries)."""
    from .pipeline import IncompleteEvaluation, record_role

    region = message["region"]
    members = {k: tuple(v) for k, v in message["members"].items()}
    shared = SharedReads(services.appstream(region), services.iam(region), members=members)
    outcomes, transient = [], []
    fresh: SharedReads | None = None
    planned = [_deserialise(data) for data in message["resources"]]
    for ref, resource in _current(services, region, planned):
        if resource is None or not resource.role_arn:
            record_role(services, ref, None)
            why = "no longer exists" if resource is None else "has no role"
            outcomes.append(ResourceOutcome(ref, (), retired_reason=why))
            continue
        reads = shared
        if any(p.ref == ref and p.role_arn != resource.role_arn for p in planned):
            # Changed since planning: the planned members say nothing about the new role; list again.
            record_role(services, ref, resource.role_arn)
            fresh = fresh or SharedReads(services.appstream(region), services.iam(region))
            reads = fresh
        facts = facts_for(resource, reads)
        outcomes.append(ResourceOutcome(resource.ref, tuple(engine.evaluate(facts)),
                                        suppression_known=facts.suppression_known))
        transient += [e for e in facts.read_errors() if e.transient]
    for sink in services.sinks(region):
        sink.publish(outcomes, now)
    if transient:
        raise IncompleteEvaluation("; ".join(sorted({e.describe() for e in transient})))
    return {"evaluated": len(outcomes)}


def run_reevaluation(services: Any, message: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Resources known by ARN (vanished from a listing, or using a changed role): Describe decides each."""
    from .pipeline import evaluate_target, target_for_arn

    region = message["region"]
    shared = SharedReads(services.appstream(region), services.iam(region))
    done = 0
    for arn in message["arns"]:
        target = target_for_arn(arn, "Re-evaluation")
        if target is None:
            log.error("finding resource %r is not an AppStream resource ARN; left as it is", arn)
            continue
        evaluate_target(target, services, now, shared)
        done += 1
    return {"evaluated": done}

"""Run cloudsplaining over a set of policy documents; called by scripts/bench_peer.py inside .venv-peer.

    python cloudsplaining_scan.py IN.json OUT.json

IN.json is {"policies": {name: policy document}, "watch": [action, ...]}.
OUT.json gets, for each name, the peer's privilege-escalation findings and the
time its analysis took, plus the versions in use and the peer's method list.
For explaining disagreements (untimed), it also lists which `watch` actions
(and actions of its own methods) the peer counts as allowed without
constraints in that policy (the input its privilege-escalation matcher sees),
and which it counts as allowed at all.

The peer is used through its own per-policy entry point,
cloudsplaining.command.scan_policy_file.scan_policy (what `cloudsplaining
scan-policy-file` runs), with its defaults: the default exclusions
configuration, flag_conditional_statements=False and
flag_resource_arn_statements=False (statements with a Condition, and actions
on named resource ARNs, are not flagged). It builds a
scan.policy_document.PolicyDocument and a PolicyFinding and returns every
finding kind (PrivilegeEscalation, ResourceExposure, ServiceWildcard,
CredentialsExposure, DataExfiltration, InfrastructureModification), so the
time is that of the peer's whole per-policy analysis, comparable to ours.

The peer's privilege-escalation verdict is PrivilegeEscalation.findings, i.e.
PolicyDocument.allows_privilege_escalation: a method of
cloudsplaining/shared/constants.py PRIVILEGE_ESCALATION_METHODS (Rhino
Security Labs' methods plus pathfinding.cloud's) is found when all its actions
are among those the policy allows on Resource "*" in a statement without a
Condition (or, for actions that take no resource, in any statement without a
Condition), minus every action any Deny statement names.

The peer's policy-name exclusions (AWSServiceRoleFor*, *ServiceRolePolicy,
AdministratorAccess, ...) are applied by its account `scan` command to whole
policies by name, not by scan_policy: every policy is judged by both tools.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from importlib import metadata


def main(src: str, dst: str) -> None:
    started = time.perf_counter()
    from cloudsplaining.command.scan_policy_file import scan_policy
    from cloudsplaining.scan.policy_document import PolicyDocument
    from cloudsplaining.shared.constants import PRIVILEGE_ESCALATION_METHODS

    import_s = time.perf_counter() - started
    with open(src, encoding="utf-8") as fh:
        given = json.load(fh)
    policies, watch = given["policies"], {a.lower() for a in given.get("watch", ())}
    for actions in PRIVILEGE_ESCALATION_METHODS.values():
        watch.update(actions)
    results = {}
    sink = io.StringIO()  # the peer prints a coloured NOTE for each Allow+NotAction statement
    for name, document in policies.items():
        entry: dict = {}
        t0 = time.perf_counter()
        try:
            with contextlib.redirect_stdout(sink):
                found = scan_policy(document)
            entry["seconds"] = time.perf_counter() - t0
            escalation = found.get("PrivilegeEscalation", {}).get("findings", [])
            entry["escalation"] = {e["type"]: e["actions"] for e in escalation}
            entry["kinds"] = sorted(k for k, v in found.items() if isinstance(v, dict) and v.get("findings"))
            with contextlib.redirect_stdout(sink):  # untimed: what the escalation matcher was given
                doc = PolicyDocument(document)
                seen = {a.lower() for a in doc.all_allowed_unrestricted_actions + doc.all_allowed_unrestrictable_actions}
            entry["unconstrained"] = sorted(seen & watch)
            entry["allowed"] = sorted({a.lower() for a in doc.all_allowed_actions} & watch)
        except Exception as err:  # noqa: BLE001 - a peer failure on one policy is a result, not a crash
            entry.setdefault("seconds", time.perf_counter() - t0)
            entry["error"] = f"{type(err).__name__}: {err}"
        results[name] = entry
        sink.seek(0)
        sink.truncate()
    out = {
        "versions": {p: metadata.version(p) for p in ("cloudsplaining", "policy_sentry")},
        "python": sys.version.split()[0],
        "import_seconds": import_s,
        "methods": dict(PRIVILEGE_ESCALATION_METHODS),
        "results": results,
    }
    with open(dst, "w", encoding="utf-8") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: cloudsplaining_scan.py IN.json OUT.json")
    main(sys.argv[1], sys.argv[2])

"""`make bench`, second part: our least-privilege analysis beside a peer's, over every AWS managed policy.

Not a test: it prints numbers (docs/peer-comparison.md explains them).

    .venv/bin/python scripts/bench_peer.py [--peer-python .venv-peer/bin/python] [--examples 4] [--json OUT]

* The policies: every AWS managed policy document moto bundles
  (moto.iam.aws_managed_policies.aws_managed_policies_data, the real set).
* Ours: roleguard.checks.least_privilege.analyse(effective_permissions(role))
  for a role whose only policy is that managed policy (as the Lambda and
  `roleguard check-role` judge a role), timed per policy in this process.
* The peer: cloudsplaining's scan_policy() on the same document, timed per
  policy inside .venv-peer by scripts/peer/cloudsplaining_scan.py (the peer
  pins its own boto3 and policy_sentry, so it cannot share .venv).
* Privilege-escalation verdicts. Ours: the analysis reports a problem of kind
  full-admin (CRITICAL), privilege-escalation or passrole-combination (HIGH).
  NotAction (HIGH) alone does not count: when a NotAction grant includes an
  escalation action, privilege-escalation is reported for it too. The peer's:
  PrivilegeEscalation has at least one finding (one of its
  PRIVILEGE_ESCALATION_METHODS).
* Each disagreement is put in a class that says why the two differ (see
  `classify_ours` and `classify_peer`), with example policies.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PEER_SCRIPT = REPO / "scripts" / "peer" / "cloudsplaining_scan.py"
DEFAULT_PEER_PYTHON = REPO / ".venv-peer" / "bin" / "python"
ACCOUNT = "111122223333"
ESCALATION_KINDS = ("full-admin", "privilege-escalation", "passrole-combination")

# The peer's methods that come from Rhino Security Labs' original research
# (https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/); the others in its
# PRIVILEGE_ESCALATION_METHODS were added from pathfinding.cloud (Datadog).
RHINO_METHODS = frozenset({
    "CreateAccessKey", "CreateLoginProfile", "UpdateLoginProfile", "AddUserToGroup", "CreateNewPolicyVersion",
    "SetExistingDefaultPolicyVersion", "AttachUserPolicy", "AttachGroupPolicy", "AttachRolePolicy", "PutUserPolicy",
    "PutGroupPolicy", "PutRolePolicy", "UpdateRolePolicyToAssumeIt", "CreateEC2WithExistingIP",
    "PassExistingRoleToNewLambdaThenInvoke", "PassExistingRoleToNewLambdaThenTriggerWithNewDynamo",
    "PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo", "PassExistingRoleToNewGlueDevEndpoint",
    "PassExistingRoleToCloudFormation", "PassExistingRoleToNewDataPipeline", "UpdateExistingGlueDevEndpoint",
    "EditExistingLambdaFunctionWithRole",
})
# Conditions that limit how far an escalation action can raise permissions, not just when it may be used:
# which managed policies may be attached, or which permissions boundary the target must carry.
BOUNDING_KEYS = frozenset({"iam:policyarn", "iam:permissionsboundary"})

# The service each of our PassRole combinations passes the role to (for iam:PassedToService).
COMBINATION_SERVICE = {
    "ec2:runinstances": "ec2.amazonaws.com",
    "lambda:createfunction": "lambda.amazonaws.com",
    "cloudformation:createstack": "cloudformation.amazonaws.com",
    "glue:createdevendpoint": "glue.amazonaws.com",
    "datapipeline:createpipeline": "datapipeline.amazonaws.com",
}

# Classes where docs/peer-comparison.md found the peer right; all were fixed in our check since, so a policy
# still listed under one of them is a case the fix deliberately keeps (e.g. a wildcard or admin PolicyARN bound).
PEER_RIGHT = ("W2", "W6", "W7", "W8", "P1", "P2")

# Disagreement classes, in the order they are printed. docs/peer-comparison.md discusses each by its id.
CLASSES = {
    "W1": "iam:PassRole / sts:AssumeRole on every role (whatever the condition): the peer has no single-action "
          "rule for them, only combinations",
    "W2": "a PassRole combination the peer lists only with more actions (lambda:CreateFunction without a trigger)",
    "W3": "conditional grant, condition only narrows the context (iam:PassedToService, aws:CalledVia, tags, ...): "
          "peer skips every statement with a Condition",
    "W4": "conditional grant whose iam:PolicyARN / iam:PermissionsBoundary bound still allows escalation "
          "(wildcard or admin policy, IfExists, or an unbounded sibling grant): peer skips every conditional statement",
    "W5": "escalation action on a resource pattern (role/prefix-*, function:prefix*, ...): "
          "peer counts only Resource \"*\"",
    "W6": "PassRole combination whose iam:PassRole names specific roles: peer counts only Resource \"*\"",
    "W7": "PassRole combination whose iam:PassedToService names other services than the one the combination needs",
    "W8": "full admin ('*') in a conditional grant whose condition limits the actions themselves "
          "(aws:IsMcpServiceAction): peer skips every statement with a Condition",
    "W9": "action also named by a Deny with a narrower Resource or a Condition: the peer removes it outright",
    "W0": "escalation paths the peer does not know (ssm:SendCommand / StartSession, cloudformation:UpdateStack, "
          "sagemaker presigned notebook URL, lambda:UpdateFunctionConfiguration, EC2 paths in conditional grants)",
    "P1": "peer method from pathfinding.cloud that our list does not have",
    "P2": "peer method from Rhino's original list",
}


# ------------------------------------------------------------------ inputs


def managed_policies() -> dict[str, dict]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def watched_actions() -> set[str]:
    """Every action our escalation rules name (the peer script reports which of these it sees unconstrained)."""
    from roleguard.checks import least_privilege as lp

    out = set(lp.ESCALATION_ALONE) | set(lp.ESCALATION_ON_ALL_ROLES)
    for combo in lp.PASSROLE_COMBINATIONS:
        out |= set(combo)
    return {a.lower() for a in out}


# ------------------------------------------------------------------ ours


def run_ours(policies: dict[str, dict]) -> tuple[dict, float]:
    """Analyse each policy as a role's only policy. Returns per-policy results and the one-off setup time."""
    t0 = time.perf_counter()
    from roleguard.checks import least_privilege as lp
    from roleguard.model import PolicyDocument, RoleFacts
    from roleguard.policy import actions as action_table
    from roleguard.policy.effective import effective_permissions

    action_table.all_actions()  # load the bundled IAM table once, as a warm Lambda has
    setup = time.perf_counter() - t0
    out = {}
    for name, meta in policies.items():
        arn = f"arn:aws:iam::aws:policy{meta.get('Path', '/')}{name}"
        doc = PolicyDocument("managed", name, meta["Document"], arn)
        role = RoleFacts(arn=f"arn:aws:iam::{ACCOUNT}:role/BenchRole", name="BenchRole", path="/",
                         trust_policy=None, managed_policies=(doc,))
        start = time.perf_counter()
        try:
            eff = effective_permissions(role)
            problems = lp.analyse(eff)
        except Exception as err:  # noqa: BLE001 - reported, not fatal: the benchmark should finish
            out[name] = {"seconds": time.perf_counter() - start, "error": f"{type(err).__name__}: {err}"}
            continue
        seconds = time.perf_counter() - start
        escalation = [p for p in problems if p.kind in ESCALATION_KINDS and p.severity is not None
                      and p.severity.value in ("HIGH", "CRITICAL")]
        out[name] = {"seconds": seconds, "eff": eff, "escalation": escalation}
    return out, setup


# ------------------------------------------------------------------ peer


def run_peer(policies: dict[str, dict], peer_python: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="roleguard-peer-") as tmp:
        src, dst = Path(tmp, "policies.json"), Path(tmp, "peer.json")
        src.write_text(json.dumps({"policies": {n: m["Document"] for n, m in policies.items()},
                                   "watch": sorted(watched_actions())}), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        started = time.perf_counter()
        done = subprocess.run([peer_python, str(PEER_SCRIPT), str(src), str(dst)], capture_output=True, text=True,
                              env=env)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"bench_peer: the peer failed (exit {done.returncode}):\n{done.stderr.strip()[-2000:]}")
        found = json.loads(dst.read_text(encoding="utf-8"))
    found["wall_seconds"] = wall
    return found


# ------------------------------------------------------------------ classifying disagreements


def _passes_to(grant, service: str) -> bool:
    """Can this PassRole grant pass a role to `service`, as far as its iam:PassedToService condition says?"""
    from fnmatch import fnmatchcase

    for c in grant.statement.conditions or ():
        op = c.operator.lower().split(":")[-1].removesuffix("ifexists")
        if c.key.lower() == "iam:passedtoservice" and op in ("stringequals", "stringequalsignorecase", "stringlike"):
            if not any(fnmatchcase(service, v.lower()) if op == "stringlike" else v.lower() == service
                       for v in c.values):
                return False
    return True


def _units(problem, eff) -> list[tuple[str, frozenset[str], list]]:
    """Split one of our escalation problems into (kind, actions, grants holding them) units."""
    from roleguard.checks import least_privilege as lp

    where = problem.where.removesuffix(" (conditional)")
    here = [g for g in eff.grants if g.where == where]
    if problem.kind == "privilege-escalation":
        return [("privilege-escalation", frozenset({a.split(" on ")[0].lower()}), here) for a in problem.actions]
    if problem.kind == "full-admin":
        acts = frozenset(a.lower() for a in lp.ESCALATION_ALONE if here and a in here[0].actions)
        return [("full-admin", acts, here)]
    acts = frozenset(a.lower() for a in problem.actions)
    holders = [g for g in eff.grants if {a.lower() for a in g.actions} & acts]
    return [("passrole-combination", acts, holders)]


def classify_ours(problem, eff, peer_entry: dict, methods: dict[str, list[str]]) -> list[str]:
    """Why the peer does not report one of our escalation problems (the peer flagged nothing in this policy).

    Our single-action rule for iam:PassRole / sts:AssumeRole on every role is W1 (the peer has no such
    one-action method). For a PassRole combination: can its iam:PassRole serve it at all (W7: passed only to
    other services; W6: only named roles)? Then: would any of the peer's methods fire on these actions (with
    the other actions the policy allows) had the peer read every grant as we do? If not, the
    peer simply has no such rule (W2). If one would, the actions of those methods that it did not see
    unconstrained tell why: their statement's Condition (W3, W4), its Resource (W5), or a Deny the peer
    applies whatever its Resource and Condition (W9); when one of these is a class where the peer is
    right, only those are given (they settle it).
    """
    from roleguard.checks import least_privilege as lp

    from roleguard.policy.effective import statement_actions

    unconstrained = set(peer_entry.get("unconstrained", ()))
    allowed = set(peer_entry.get("allowed", ())) | unconstrained
    labels = []
    for kind, acts, grants in _units(problem, eff):
        if kind == "full-admin":
            labels.append("W8" if grants and grants[0].statement.conditions else "W0")
            continue
        if kind == "privilege-escalation" and acts <= {"iam:passrole", "sts:assumerole"}:
            labels.append("W1")  # our single-action rule; none of the peer's methods is one action of these
            continue
        if kind == "passrole-combination":
            # Checked first: decisive whatever else the statements say.
            passers = [g for g in grants if "iam:PassRole" in g.actions]
            service = next(COMBINATION_SERVICE[a] for a in acts if a in COMBINATION_SERVICE)
            if passers and not any(_passes_to(g, service) for g in passers):
                labels.append("W7")
                continue
            if passers and not any(lp.reaches_every_role(g.statement.resources) for g in passers):
                labels.append("W6")
                continue
        # Could one of the peer's methods fire here, had it read every grant as we do?
        relevant = [set(m) for m in methods.values() if set(m) & acts and set(m) <= acts | allowed]
        if not relevant:
            labels.append("W2" if kind == "passrole-combination" else "W0")
            continue
        # It would: the actions of those methods that it did not see unconstrained tell why.
        hidden = set().union(*relevant) - unconstrained
        found = [_why_hidden(action, eff, statement_actions) for action in sorted(hidden)]
        decisive = [c for c in found if c in PEER_RIGHT]
        labels.extend(decisive or found or ["W0"])
    return sorted(set(labels) or {"W0"}, key=list(CLASSES).index)


def _why_hidden(action: str, eff, statement_actions) -> str:
    """Why the peer does not count `action` as allowed without constraints although we see it granted."""
    holders = [g for g in eff.grants if action in {a.lower() for a in g.actions}]
    if not holders:
        return "W0"
    stmt = holders[0].statement
    if stmt.conditions:
        return "W4" if {c.key.lower() for c in stmt.conditions} & BOUNDING_KEYS else "W3"
    if stmt.resources is None or "*" not in stmt.resources:
        return "W5"
    if any(action in {x.lower() for x in statement_actions(d.statement)} for d in eff.denies):
        return "W9"
    return "W0"


def classify_peer(method: str) -> str:
    return "P2" if method in RHINO_METHODS else "P1"


# ------------------------------------------------------------------ report


def _ms_stats(seconds: dict[str, float]) -> dict[str, str]:
    values = sorted(seconds.values())
    slowest = max(seconds, key=seconds.get)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return {
        "total": f"{sum(values):.2f} s",
        "mean": f"{statistics.fmean(values) * 1000:.2f} ms",
        "median": f"{statistics.median(values) * 1000:.2f} ms",
        "p95": f"{p95 * 1000:.2f} ms",
        "slowest": f"{seconds[slowest] * 1000:.0f} ms ({slowest})",
    }


def _row(label: str, ours: str, peer: str) -> str:
    return f"  {label:34} {ours:>38}   {peer:>38}"


def report(policies, ours, ours_setup, peer, examples: int) -> dict:
    import moto

    results = peer["results"]
    names = sorted(policies)
    ours_err = [n for n in names if "error" in ours[n]]
    peer_err = [n for n in names if "error" in results[n]]
    judged = [n for n in names if n not in ours_err and n not in peer_err]
    we = {n for n in judged if ours[n]["escalation"]}
    they = {n for n in judged if results[n]["escalation"]}
    only_we, only_they = sorted(we - they), sorted(they - we)

    versions = peer["versions"]
    print(f"Peer comparison: roleguard least-privilege vs cloudsplaining {versions['cloudsplaining']} "
          f"(policy_sentry {versions['policy_sentry']}, Python {peer['python']})")
    print(f"over {len(names)} AWS managed policies (moto {moto.__version__}'s bundled set), each judged as a "
          "role's only policy\n")
    so, sp = _ms_stats({n: ours[n]["seconds"] for n in names}), _ms_stats({n: results[n]["seconds"] for n in names})
    print(_row("", "ours (roleguard)", "peer (cloudsplaining)"))
    print(_row("setup (imports + IAM action table)", f"{ours_setup * 1000:.0f} ms",
               f"{peer['import_seconds'] * 1000:.0f} ms"))
    for key in ("total", "mean", "median", "p95", "slowest"):
        print(_row("analysis " + key if key == "total" else f"ms/policy {key}", so[key], sp[key]))
    print(_row("peer subprocess wall time", "", f"{peer['wall_seconds']:.2f} s"))
    print(_row("errors", str(len(ours_err)), str(len(peer_err))))
    print(_row("privilege escalation flagged", str(len(we)), str(len(they))))
    print()
    print(f"Privilege-escalation verdicts on {len(judged)} policies: agree on {len(judged) - len(only_we) - len(only_they)} "
          f"(both flag {len(we & they)}, neither {len(judged) - len(we | they)}), "
          f"DISAGREE on {len(only_we) + len(only_they)}:")
    slr = {n for n in names if policies[n].get("Path", "/").startswith("/aws-service-role/")}
    print(f"  we flag, peer doesn't: {len(only_we):4}   ({len(slr.intersection(only_we))} of them service-linked-role policies)")
    print(f"  peer flags, we don't:  {len(only_they):4}   ({len(slr.intersection(only_they))} of them service-linked-role policies)")
    print(f"  Service-linked-role policies (path /aws-service-role/, {len(slr)} of the {len(names)}) can be attached only "
          "to their service's\n  service-linked role (IAM: PolicyNotAttachableException), never to an AppStream instance role: "
          f"{len(only_we) + len(only_they) - len(slr.intersection(only_we)) - len(slr.intersection(only_they))} "
          "disagreements remain without them.")

    # Classes: a policy is counted in each class one of its problems falls in; "only" = all of them do.
    by_class: dict[str, list[str]] = defaultdict(list)
    only: dict[str, int] = defaultdict(int)
    detail: dict[str, list[str]] = {}
    for n in only_we:
        eff = ours[n]["eff"]
        found = {}
        for p in ours[n]["escalation"]:
            for cls in classify_ours(p, eff, results[n], peer["methods"]):
                found.setdefault(cls, []).append(p)
        for cls, probs in found.items():
            by_class[cls].append(n)
            if len(found) == 1:
                only[cls] += 1
        detail[n] = [f"{cls}: {p.text}" for cls, probs in sorted(found.items()) for p in probs]
    for n in only_they:
        found = {}
        for method in results[n]["escalation"]:
            found.setdefault(classify_peer(method), []).append(method)
        for cls in found:
            by_class[cls].append(n)
            if len(found) == 1:
                only[cls] += 1
        detail[n] = [f"{cls}: {m} ({' + '.join(results[n]['escalation'][m])})"
                     for cls, ms in sorted(found.items()) for m in ms]

    print("\nClasses of disagreement (a policy is counted in every class one of its findings falls in;"
          " 'only' = all its findings do):")
    for cls, text in CLASSES.items():
        if cls not in by_class:
            continue
        members = by_class[cls]
        side = "we flag" if cls.startswith("W") else "peer flags"
        print(f"  {cls} [{side}] {len(members):4} policies ({only[cls]} only): {text}")
        print(f"       e.g. {', '.join(members[:examples])}")
    fixed = [n for n in only_we if {d.split(":")[0] for d in detail[n]} <= set(PEER_RIGHT)]
    ours_right = [c for c in CLASSES if c.startswith("W") and c not in PEER_RIGHT and c in by_class]
    right = [c for c in PEER_RIGHT if c in by_class]
    if right:
        print(f"\n  docs/peer-comparison.md finds the peer right in {', '.join(right)}: {len(fixed)} of the "
              f"{len(only_we)} 'we flag' policies have findings only there.")
    print(f"  Every remaining 'we flag' class is one where docs/peer-comparison.md finds us right ({', '.join(ours_right)}); "
          f"{len(only_we) - len(fixed)} of {len(only_we)} policies.")
    if only_they:
        print("\nPeer flags, we don't:")
        for n in only_they:
            print(f"  {n}: {'; '.join(detail[n])}")
    return {
        "policies": len(names), "judged": len(judged), "ours_errors": ours_err, "peer_errors": peer_err,
        "service_linked": sorted(slr & (set(only_we) | set(only_they))),
        "ours_flag": len(we), "peer_flag": len(they), "we_flag_peer_not": only_we, "peer_flags_we_not": only_they,
        "classes": {c: by_class[c] for c in CLASSES if c in by_class}, "detail": detail,
        "timing": {"ours": so, "peer": sp, "ours_setup_ms": ours_setup * 1000,
                   "peer_setup_ms": peer["import_seconds"] * 1000},
        "versions": versions,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-python", default=str(DEFAULT_PEER_PYTHON),
                        help="the interpreter of the venv where cloudsplaining is installed (default: .venv-peer)")
    parser.add_argument("--examples", type=int, default=4, help="example policy names per class")
    parser.add_argument("--json", metavar="OUT", help="also write every verdict and class to this JSON file")
    args = parser.parse_args(argv)
    if not Path(args.peer_python).exists():
        sys.exit(f"bench_peer: no peer interpreter at {args.peer_python} (run `make peer-venv`)")
    policies = managed_policies()
    ours, ours_setup = run_ours(policies)
    peer = run_peer(policies, args.peer_python)
    summary = report(policies, ours, ours_setup, peer, args.examples)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()

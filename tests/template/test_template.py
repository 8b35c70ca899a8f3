"""Tests of template.yaml: the event wiring, failure handling, logging and the
least-privilege IAM policy of the evaluate function, plus `sam validate --lint`
and an offline `sam build` (no container)."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse

pytestmark = pytest.mark.template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"

EVENT_NAMES = [
    "CreateFleet",
    "UpdateFleet",
    "CreateImageBuilder",
    "CreateAppBlockBuilder",
    "UpdateAppBlockBuilder",
    "DeleteFleet",
    "DeleteImageBuilder",
    "DeleteAppBlockBuilder",
]

# Everything the evaluate function may call, and nothing else.
EXPECTED_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "iam:GetRole",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "appstream:DescribeFleets",
    "appstream:DescribeImageBuilders",
    "appstream:DescribeAppBlockBuilders",
    "appstream:DescribeImages",
    "appstream:ListTagsForResource",
    "iam:ListEntitiesForPolicy",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "securityhub:BatchImportFindings",
    "securityhub:BatchUpdateFindings",
    "securityhub:GetFindings",
    "sqs:SendMessage",
}
# Only when the Tracing parameter is Active.
TRACING_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
# ---- tickets: only when Sinks includes tickets (the ledger's dynamodb actions are above), the secret only
# when a name is given, OpsCenter only for that system. No ssm:GetOpsItem: the OpsCenter client never calls it.
TICKET_ACTIONS = {"secretsmanager:GetSecretValue", "ssm:CreateOpsItem", "ssm:DescribeOpsItems", "ssm:UpdateOpsItem"}


# --------------------------------------------------------------------------- helpers


def _sub(value: Any) -> str:
    """The template string of a !Sub (short or long form)."""
    assert isinstance(value, dict) and "Fn::Sub" in value, value
    sub = value["Fn::Sub"]
    return sub if isinstance(sub, str) else sub[0]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Statements of a policy document, with both branches of any Fn::If."""
    found: list[dict[str, Any]] = []
    for stmt in _as_list(document["Statement"]):
        if isinstance(stmt, dict) and "Fn::If" in stmt:
            _, then, otherwise = stmt["Fn::If"]
            found.extend(s for s in (then, otherwise) if s != {"Ref": "AWS::NoValue"})
        else:
            found.append(stmt)
    return found


def _policy_reference() -> dict[str, Any]:
    """cfn-lint's copy of the IAM Service Authorization Reference."""
    import cfnlint.data.AdditionalSpecs

    path = Path(cfnlint.data.AdditionalSpecs.__file__).parent / "Policies.json"
    return json.loads(path.read_text())


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="module")
def transformed(template: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation template the SAM transform produces."""
    sam = copy.deepcopy(template)
    sam["Resources"]["EvaluateFunction"]["Properties"]["CodeUri"] = "s3://bucket/evaluate.zip"
    sam["Resources"]["RoleGuardLayer"]["Properties"]["ContentUri"] = "s3://bucket/layer.zip"
    translator = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        boto_session=boto3.session.Session(region_name="us-east-1"),
    )
    return translator.translate(
        sam, parameter_values={}, get_managed_policy_map=lambda: {}
    )


@pytest.fixture(scope="module")
def role_statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    role = resources["EvaluateFunctionRole"]
    assert role["Type"] == "AWS::IAM::Role"
    statements: list[dict[str, Any]] = []
    for policy in role["Properties"]["Policies"]:
        statements.extend(_statements(policy["PolicyDocument"]))
    return statements


def _statement_for(statements: list[dict[str, Any]], action: str) -> dict[str, Any]:
    matching = [s for s in statements if action in _as_list(s["Action"])]
    assert len(matching) == 1, f"{action} must be granted by exactly one statement"
    return matching[0]


# --------------------------------------------------------------------------- trigger


def test_rule_is_a_plain_events_rule_on_the_default_bus(resources):
    rule = resources["AppStreamApiCallRule"]
    assert rule["Type"] == "AWS::Events::Rule"
    assert rule["Properties"].get("EventBusName", "default") == "default"
    assert rule["Properties"].get("State", "ENABLED") == "ENABLED"


def test_rule_pattern_matches_exactly_the_role_bearing_appstream_calls(resources):
    pattern = resources["AppStreamApiCallRule"]["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.appstream"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["appstream.amazonaws.com"],
            "eventName": EVENT_NAMES,
        },
    }


def test_rule_targets_the_function_with_retries_and_a_dead_letter_queue(resources):
    targets = resources["AppStreamApiCallRule"]["Properties"]["Targets"]
    assert len(targets) == 1
    target = targets[0]
    assert target["Arn"] == {"Fn::GetAtt": ["EvaluateFunction", "Arn"]}
    retry = target["RetryPolicy"]
    assert 0 <= retry["MaximumRetryAttempts"] <= 185
    assert 60 <= retry["MaximumEventAgeInSeconds"] <= 86400
    dlq = target["DeadLetterConfig"]["Arn"]
    assert dlq == {"Fn::GetAtt": ["RuleDeadLetterQueue", "Arn"]}
    assert resources["RuleDeadLetterQueue"]["Type"] == "AWS::SQS::Queue"


def test_dead_letter_queue_accepts_messages_only_from_the_rule(resources):
    policies = [
        r for r in resources.values()
        if r["Type"] == "AWS::SQS::QueuePolicy"
        and {"Ref": "RuleDeadLetterQueue"} in r["Properties"]["Queues"]
    ]
    assert len(policies) == 1
    (stmt,) = _statements(policies[0]["Properties"]["PolicyDocument"])
    assert stmt["Effect"] == "Allow"
    assert stmt["Principal"] == {"Service": "events.amazonaws.com"}
    assert _as_list(stmt["Action"]) == ["sqs:SendMessage"]
    assert stmt["Resource"] == {"Fn::GetAtt": ["RuleDeadLetterQueue", "Arn"]}
    source_arns = [
        values["aws:SourceArn"]
        for op, values in stmt["Condition"].items()
        if op in ("ArnEquals", "StringEquals") and "aws:SourceArn" in values
    ]
    assert source_arns == [[{"Fn::GetAtt": ["AppStreamApiCallRule", "Arn"]},
                            {"Fn::If": ["InIamEventsRegion", {"Fn::GetAtt": ["IamRoleChangeRule", "Arn"]},
                                        {"Ref": "AWS::NoValue"}]}]]


def test_only_the_rule_and_the_iam_changes_topic_may_invoke_the_function(resources):
    permissions = {k: r for k, r in resources.items() if r["Type"] == "AWS::Lambda::Permission"}
    assert set(permissions) == {"EvaluateFunctionInvokePermission", "IamChangesInvokePermission"}
    topic = permissions["IamChangesInvokePermission"]["Properties"]
    assert topic["Principal"] == "sns.amazonaws.com" and "Fn::If" in topic["SourceArn"]
    props = permissions["EvaluateFunctionInvokePermission"]["Properties"]
    assert props["Action"] == "lambda:InvokeFunction"
    assert props["Principal"] == "events.amazonaws.com"
    assert props["FunctionName"] == {"Fn::GetAtt": ["EvaluateFunction", "Arn"]}
    assert props["SourceArn"] == {"Fn::GetAtt": ["AppStreamApiCallRule", "Arn"]}
    assert props["SourceAccount"] == {"Ref": "AWS::AccountId"}


# --------------------------------------------------------------------------- failures


def test_every_queue_is_encrypted(resources):
    queues = {k: r for k, r in resources.items() if r["Type"] == "AWS::SQS::Queue"}
    assert set(queues) == {"RuleDeadLetterQueue", "FunctionFailureQueue", "SweepQueue", "SweepDeadLetterQueue"}
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name


def test_function_failures_go_to_their_own_queue(template, resources):
    config = resources["EvaluateFunction"]["Properties"]["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == {"Ref": "MaximumRetryAttempts"}
    param = template["Parameters"]["MaximumRetryAttempts"]
    assert param["Default"] == 2
    assert param["MinValue"] == 0 and param["MaxValue"] == 2
    on_failure = config["DestinationConfig"]["OnFailure"]
    assert on_failure == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["FunctionFailureQueue", "Arn"]},
    }


def test_transform_emits_the_event_invoke_config(transformed):
    configs = [
        r for r in transformed["Resources"].values()
        if r["Type"] == "AWS::Lambda::EventInvokeConfig"
    ]
    assert len(configs) == 1
    props = configs[0]["Properties"]
    assert props["FunctionName"] == {"Ref": "EvaluateFunction"}
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["FunctionFailureQueue", "Arn"]
    }


# --------------------------------------------------------------------------- function


def test_function_runs_python313_from_the_shared_layout(resources):
    fn = resources["EvaluateFunction"]
    assert fn["Type"] == "AWS::Serverless::Function"
    props = fn["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Handler"] == "app.lambda_handler"
    assert props["CodeUri"].rstrip("/") == "functions/evaluate"
    assert props["Layers"] == [{"Ref": "RoleGuardLayer"}]
    assert 30 <= props["Timeout"] <= 120
    assert props["MemorySize"] == 256
    assert props["Role"] == {"Fn::GetAtt": ["EvaluateFunctionRole", "Arn"]}
    assert (ROOT / "functions/evaluate/requirements.txt").is_file()


def test_layer_builds_with_python313(resources):
    layer = resources["RoleGuardLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/roleguard"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
    requirements = (ROOT / "layers/roleguard/requirements.txt").read_text().splitlines()
    pins = [line.strip() for line in requirements if line.strip() and not line.startswith("#")]
    assert "aws-lambda-powertools==3.37.0" in pins
    # Tracer is not used: aws-xray-sdk would drag an unpinned botocore into the layer.
    assert not [p for p in pins if p.lower().startswith("aws-xray-sdk")]
    # the Lambda runtime provides boto3
    assert not [p for p in pins if p.lower().startswith(("boto3", "botocore"))]


def test_function_environment(resources):
    env = resources["EvaluateFunction"]["Properties"]["Environment"]["Variables"]
    assert env == {
        "POWERTOOLS_SERVICE_NAME": "roleguard",
        "POWERTOOLS_METRICS_NAMESPACE": "AppStreamRoleGuard",
        "POWERTOOLS_LOG_LEVEL": {"Ref": "LogLevel"},
        "POWERTOOLS_TRACE_DISABLED": {"Fn::If": ["TracingEnabled", "false", "true"]},
        "ROLEGUARD_SINKS": {"Ref": "Sinks"},
        "ROLEGUARD_ROLE_VISIBILITY_WAIT_SECONDS": {"Ref": "RoleVisibilityWaitSeconds"},
        "ROLEGUARD_INDEX_TABLE": {"Ref": "RoleIndexTable"},
        "ROLEGUARD_SWEEP_QUEUE_URL": {"Ref": "SweepQueue"},
        # ---- tickets
        "ROLEGUARD_TICKET_SYSTEM": {"Ref": "TicketSystem"},
        "ROLEGUARD_TICKET_MIN_SEVERITY": {"Ref": "TicketMinimumSeverity"},
        "ROLEGUARD_TICKET_ON_REGRESSION": {"Ref": "TicketOnRegression"},
        "ROLEGUARD_TICKET_SECRET_NAME": {"Ref": "TicketSecretName"},
        "ROLEGUARD_TICKET_URL": {"Ref": "TicketUrl"},
        "ROLEGUARD_JIRA_PROJECT": {"Ref": "JiraProjectKey"},
        "ROLEGUARD_JIRA_ISSUE_TYPE": {"Ref": "JiraIssueType"},
        "ROLEGUARD_JIRA_LABELS": {"Ref": "JiraLabels"},
        "ROLEGUARD_JIRA_PRIORITIES": {"Ref": "JiraPriorities"},
        "ROLEGUARD_SERVICENOW_TABLE": {"Ref": "ServiceNowTable"},
        "ROLEGUARD_SERVICENOW_CLOSE_CODE": {"Ref": "ServiceNowCloseCode"},
        "ROLEGUARD_LEDGER_TABLE": {"Ref": "TicketLedgerTable"},
    }


def test_parameters_all_have_defaults(template):
    params = template["Parameters"]
    assert all("Default" in p for p in params.values()), params
    assert params["LogLevel"]["Default"] == "INFO"
    assert params["Sinks"]["Default"] == "securityhub"
    assert params["Sinks"]["AllowedValues"] == ["securityhub", "tickets", "securityhub,tickets"]
    assert params["RoleVisibilityWaitSeconds"]["Default"] == 10
    assert params["LogRetentionInDays"]["Default"] == 90
    assert params["Tracing"]["Default"] == "Disabled"


def test_log_group_is_explicit_with_retention(template, resources):
    group = resources["EvaluateLogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    fn_props = resources["EvaluateFunction"]["Properties"]
    assert _sub(group["Properties"]["LogGroupName"]) == "/aws/lambda/" + _sub(fn_props["FunctionName"])
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}
    assert template["Parameters"]["LogRetentionInDays"]["Default"] == 90
    assert fn_props["LoggingConfig"]["LogGroup"] == {"Ref": "EvaluateLogGroup"}


def test_outputs(template):
    assert {
        "EvaluateFunctionArn",
        "AppStreamApiCallRuleArn",
        "RuleDeadLetterQueueUrl",
        "RuleDeadLetterQueueArn",
        "FunctionFailureQueueUrl",
        "FunctionFailureQueueArn",
        "RoleGuardLayerArn",
    } <= set(template["Outputs"])


# --------------------------------------------------------------------------- IAM


def test_no_hard_coded_partition(template):
    offending = [s for s in _strings(template) if "arn:aws:" in s or "arn:aws-" in s]
    assert offending == []


def test_no_managed_policies_on_the_function_role(template, transformed):
    assert not [s for s in _strings(template) if "FullAccess" in s]
    roles = {k: r for k, r in transformed["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert set(roles) == {"EvaluateFunctionRole", "EvaluateFunctionSweepScheduleRole"}
    assert not any(r["Properties"].get("ManagedPolicyArns") for r in roles.values())


def test_sweep_schedule_and_fan_out_have_retries_and_dead_letter_queues(transformed, template):
    schedule = next(r for r in transformed["Resources"].values() if r["Type"] == "AWS::Scheduler::Schedule")
    target = schedule["Properties"]["Target"]
    assert json.loads(target["Input"]) == {"job": "sweep"}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["RuleDeadLetterQueue", "Arn"]}
    assert template["Parameters"]["SweepSchedule"]["Default"] == "rate(1 day)"  # well inside the 90-day deletion
    queue = template["Resources"]["SweepQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] and queue["RedrivePolicy"]["maxReceiveCount"] >= 1
    assert queue["VisibilityTimeout"] >= 6 * template["Resources"]["EvaluateFunction"]["Properties"]["Timeout"]
    mapping = next(r for r in transformed["Resources"].values() if r["Type"] == "AWS::Lambda::EventSourceMapping")
    assert mapping["Properties"]["BatchSize"] == 1
    assert mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"] == {"Ref": "SweepConcurrency"}
    role = transformed["Resources"]["EvaluateFunctionSweepScheduleRole"]
    actions = {a for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]
               for a in _as_list(s["Action"])}
    assert actions == {"lambda:InvokeFunction", "sqs:SendMessage"}


def test_function_role_grants_exactly_what_the_function_calls(role_statements):
    actions = {a for s in role_statements for a in _as_list(s["Action"])}
    assert actions == EXPECTED_ACTIONS | TRACING_ACTIONS | TICKET_ACTIONS


def test_every_statement_is_explicit(role_statements):
    for stmt in role_statements:
        assert stmt["Effect"] == "Allow"
        assert "Resource" in stmt and "NotResource" not in stmt, stmt
        assert "NotAction" not in stmt, stmt
        for action in _as_list(stmt["Action"]):
            assert "*" not in action and "?" not in action, action


def test_every_action_exists_and_star_only_where_required(role_statements):
    reference = _policy_reference()
    for stmt in role_statements:
        resources = _as_list(stmt["Resource"])
        for action in _as_list(stmt["Action"]):
            service, name = action.split(":")
            known = reference[service]["Actions"]
            assert name.lower() in known, f"{action} is not an IAM action"
            if "*" in resources:
                assert not known[name.lower()].get("Resources"), (
                    f"{action} supports resource-level permissions: scope it"
                )


def test_logging_only_to_the_own_log_group(role_statements):
    stmt = _statement_for(role_statements, "logs:PutLogEvents")
    assert set(_as_list(stmt["Action"])) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert _sub(stmt["Resource"]) == (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${EvaluateLogGroup}:*"
    )


def test_iam_reads_scoped_to_roles_and_policies(role_statements):
    role_stmt = _statement_for(role_statements, "iam:GetRole")
    assert _sub(role_stmt["Resource"]) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"
    policy_stmt = _statement_for(role_statements, "iam:GetPolicyVersion")
    assert sorted(_sub(r) for r in policy_stmt["Resource"]) == sorted([
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*",
        "arn:${AWS::Partition}:iam::aws:policy/*",
    ])


def test_securityhub_import_scoped_to_the_default_product(role_statements):
    stmt = _statement_for(role_statements, "securityhub:BatchImportFindings")
    assert _as_list(stmt["Action"]) == ["securityhub:BatchImportFindings"]
    assert _sub(stmt["Resource"]) == (
        "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}"
        ":product/${AWS::AccountId}/default"
    )
    hub = _statement_for(role_statements, "securityhub:BatchUpdateFindings")
    assert "securityhub:GetFindings" in _as_list(hub["Action"])
    assert _sub(hub["Resource"]) == (
        "arn:${AWS::Partition}:securityhub:${AWS::Region}:${AWS::AccountId}:hub/default"
    )


def test_send_message_only_to_the_failure_and_sweep_queues(role_statements):
    targets = [s["Resource"] for s in role_statements if "sqs:SendMessage" in _as_list(s["Action"])]
    assert sorted(t["Fn::GetAtt"][0] for t in targets) == ["FunctionFailureQueue", "SweepQueue"]


# --------------------------------------------------------------------------- SAM CLI


def _sam() -> str:
    candidate = Path(sys.executable).parent / "sam"
    found = str(candidate) if candidate.exists() else shutil.which("sam")
    if not found:
        pytest.fail("the SAM CLI is a dev dependency: run `make venv`")
    return found


def _sam_env() -> dict[str, str]:
    env = dict(os.environ)
    env["SAM_CLI_TELEMETRY"] = "0"
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    # sam build looks up `python3.13` on PATH: the venv's comes first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


@pytest.mark.sam
def test_sam_validate_lint():
    proc = subprocess.run(
        [_sam(), "validate", "--lint", "--template-file", str(TEMPLATE)],
        cwd=ROOT, env=_sam_env(), capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "is a valid SAM Template" in proc.stdout + proc.stderr


@pytest.mark.sam
@pytest.mark.slow
def test_sam_build_without_container(tmp_path):
    build_dir = tmp_path / "build"
    proc = subprocess.run(
        [
            _sam(), "build",
            "--template-file", str(TEMPLATE),
            "--build-dir", str(build_dir),
            "--cache-dir", str(tmp_path / "cache"),
        ],
        cwd=ROOT, env=_sam_env(), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    layer = build_dir / "RoleGuardLayer" / "python"
    assert (layer / "roleguard" / "__init__.py").is_file()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert not (layer / "aws_xray_sdk").exists()
    assert not (layer / "botocore").exists(), "the runtime provides botocore"
    assert not (layer / "boto3").exists(), "the runtime provides boto3"
    assert (build_dir / "EvaluateFunction" / "app.py").is_file()
    assert (build_dir / "template.yaml").is_file()


def test_iam_role_changes_reach_every_regional_stack(template):
    resources = template["Resources"]
    rule = resources["IamRoleChangeRule"]
    assert rule["Condition"] == "InIamEventsRegion"  # IAM events exist only in us-east-1 (per partition)
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.iam"] and "UpdateAssumeRolePolicy" in pattern["detail"]["eventName"]
    target = rule["Properties"]["Targets"][0]
    assert target["Arn"] == {"Ref": "IamChangesTopic"} and "DeadLetterConfig" in target and "RetryPolicy" in target
    subscription = resources["IamChangesSubscription"]
    assert "Condition" not in subscription  # every stack subscribes, wherever it is
    assert subscription["Properties"]["Region"] == {"Ref": "IamEventsRegion"}
    assert resources["IamChangesInvokePermission"]["Properties"]["Principal"] == "sns.amazonaws.com"


def test_role_index_survives_redeploys_and_is_protected(template):
    table = template["Resources"]["RoleIndexTable"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST" and props["SSESpecification"]["SSEEnabled"]
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]


# --------------------------------------------------------------------------- tickets


def test_ticket_parameters_and_their_defaults(template):
    from roleguard.config import Settings

    params = template["Parameters"]
    assert params["TicketMinimumSeverity"]["Default"] == "HIGH"
    assert params["TicketOnRegression"]["Default"] == "reopen"
    assert params["TicketOnRegression"]["AllowedValues"] == ["reopen", "new"]
    assert params["TicketSystem"]["AllowedValues"] == ["jira-cloud", "jira-dc", "servicenow", "opscenter"]
    assert params["TicketSecretName"]["Default"] == ""
    # the template's defaults are the code's defaults
    defaults = Settings()
    assert (defaults.ticket_min_severity, defaults.ticket_on_regression, defaults.servicenow_table,
            defaults.jira_issue_type, defaults.servicenow_close_code) == (
        params["TicketMinimumSeverity"]["Default"], params["TicketOnRegression"]["Default"],
        params["ServiceNowTable"]["Default"], params["JiraIssueType"]["Default"],
        params["ServiceNowCloseCode"]["Default"])
    assert ",".join("=".join(p) for p in defaults.jira_priorities) == params["JiraPriorities"]["Default"]


def test_ticket_ledger_survives_redeploys_and_is_protected(template):
    from roleguard.tickets.ledger import TABLE_DEFINITION

    table = template["Resources"]["TicketLedgerTable"]
    assert "Condition" not in table  # kept while tickets are switched off, so switching back on finds it
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST" and props["SSESpecification"]["SSEEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["KeySchema"] == TABLE_DEFINITION["KeySchema"]  # what the ledger code writes
    assert props["AttributeDefinitions"] == TABLE_DEFINITION["AttributeDefinitions"]


def _ticket_statement(template, sid):
    role = template["Resources"]["EvaluateFunctionRole"]
    for policy in role["Properties"]["Policies"]:
        for stmt in _as_list(policy["PolicyDocument"]["Statement"]):
            if isinstance(stmt, dict) and "Fn::If" in stmt and stmt["Fn::If"][1].get("Sid") == sid:
                condition, then, otherwise = stmt["Fn::If"]
                assert otherwise == {"Ref": "AWS::NoValue"}
                return condition, then
    raise AssertionError(f"no conditional statement {sid}")


def test_ticket_permissions_are_conditional_and_least_privilege(template):
    conditions = template["Conditions"]
    assert conditions["TicketsEnabled"] == {"Fn::Or": [{"Fn::Equals": [{"Ref": "Sinks"}, "tickets"]},
                                                       {"Fn::Equals": [{"Ref": "Sinks"}, "securityhub,tickets"]}]}
    condition, ledger = _ticket_statement(template, "TicketLedger")
    assert condition == "TicketsEnabled"
    assert set(ledger["Action"]) == {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                     "dynamodb:DeleteItem"}
    assert ledger["Resource"] == {"Fn::GetAtt": ["TicketLedgerTable", "Arn"]}

    condition, secret = _ticket_statement(template, "ReadTicketSecret")
    assert condition == "ReadsTicketSecret"
    assert {"Condition": "TicketsEnabled"} in conditions["ReadsTicketSecret"]["Fn::And"]
    assert {"Fn::Not": [{"Fn::Equals": [{"Ref": "TicketSecretName"}, ""]}]} in conditions["ReadsTicketSecret"]["Fn::And"]
    assert secret["Action"] == "secretsmanager:GetSecretValue"
    assert _sub(secret["Resource"]) == (
        "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${TicketSecretName}-??????")

    for sid, actions in (("CreateAndFindOpsItems", {"ssm:CreateOpsItem", "ssm:DescribeOpsItems"}),
                         ("UpdateOpsItems", {"ssm:UpdateOpsItem"})):
        condition, stmt = _ticket_statement(template, sid)
        assert condition == "TicketsOnOpsCenter" and set(_as_list(stmt["Action"])) == actions
    _, update = _ticket_statement(template, "UpdateOpsItems")
    assert _sub(update["Resource"]) == "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:opsitem/*"


def test_only_the_secrets_name_is_in_the_environment(template):
    env = template["Resources"]["EvaluateFunction"]["Properties"]["Environment"]["Variables"]
    assert env["ROLEGUARD_TICKET_SECRET_NAME"] == {"Ref": "TicketSecretName"}
    assert not [k for k in env if any(w in k for w in ("TOKEN", "PASSWORD", "CREDENTIAL"))]
    assert "https" in template["Parameters"]["TicketUrl"]["AllowedPattern"]


@pytest.mark.parametrize("sinks", ["securityhub", "tickets", "securityhub,tickets"])
def test_every_sinks_value_translates(template, sinks):
    sam = copy.deepcopy(template)
    sam["Resources"]["EvaluateFunction"]["Properties"]["CodeUri"] = "s3://bucket/evaluate.zip"
    sam["Resources"]["RoleGuardLayer"]["Properties"]["ContentUri"] = "s3://bucket/layer.zip"
    translator = Translator(managed_policy_map=None, sam_parser=Parser(),
                            boto_session=boto3.session.Session(region_name="us-east-1"))
    out = translator.translate(sam, parameter_values={"Sinks": sinks, "TicketSystem": "opscenter"},
                               get_managed_policy_map=lambda: {})
    assert "TicketLedgerTable" in out["Resources"]

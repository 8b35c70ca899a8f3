"""least-privilege on the real permission policies, the peer-tool cases, each severity and each status."""

import json

import pytest

from roleguard.checks import least_privilege
from roleguard.model import PolicyDocument, ReadError, RoleLookup, Severity, Status
from tests.factories import ACCESS_DENIED, facts, resource, role
from tests.shared_inputs import PERMISSION_POLICIES, case

TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "appstream.amazonaws.com"}, "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}]}


def run(*documents, boundary=None, managed=(), errors=()):
    docs = tuple(d if isinstance(d, PolicyDocument) else PolicyDocument("inline", f"p{i}", d)
                 for i, d in enumerate(documents))
    return least_privilege.run(facts(resource(), role(TRUST, inline_policies=docs, managed_policies=tuple(managed),
                                                      permissions_boundary=boundary, read_errors=tuple(errors))))


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def kinds(result):
    return {(p["kind"], p["severity"]) for p in result.evidence["problems"]}


# ------------------------------------------------------------------ real permission policies

# Verdict and a fragment of the detail, with the reason. CloudFormation intrinsics ({"Fn::Sub"}, {"Ref"},
# {"Fn::GetAtt"}) make a statement unreadable (WARNING unless the rest fails); Terraform/CDK `${...}` strings
# are judged as written (they name one account's resources).
REAL_EXPECTED = {
    # ENI create/delete and EIP associate/disassociate on "*"; its s3 statement names AppStream's buckets.
    "p01": (Status.FAILED, Severity.MEDIUM, "ec2:CreateNetworkInterface"),
    # s3:PutObject on arn:aws:s3:::*/* is every object of every bucket: write on all resources.
    "p02": (Status.FAILED, Severity.MEDIUM, "write on arn:aws:s3:::*, arn:aws:s3:::*/*: inline policy p0 statement #1: s3:PutObject"),
    # appstream:*, cloudwatch:*, logs:* and ENI/s3 writes, all on "*".
    "p03": (Status.FAILED, Severity.MEDIUM, "service-wide wildcard: inline policy p0 statement #1: appstream:*, cloudwatch:*, logs:*"),
    # Everything scoped to managed-instance/* and instance/* of one (placeholder) account and region.
    "p04": (Status.PASSED, None, "2 statement(s)"),
    # The only statement's Resource is {"Fn::Sub": ...}: nothing readable to judge.
    "p05": (Status.WARNING, None, "Resource must be a string"),
    "p06": (Status.WARNING, None, "Resource must be a string"),  # Fn::GetAtt
    "p07": (Status.WARNING, None, "Resource must be a string"),  # Fn::GetAtt
    # states:SendTask* on "*" take no resource ARN (IAM allows only "*"): not a finding; the other three
    # statements hold Ref/Fn::GetAtt/Fn::Join.
    "p08": (Status.WARNING, None, "statement #2"),
    # ssm:GetParameter (Read) on "*" is not a finding; s3 read on one bucket.
    "p09": (Status.PASSED, None, "2 statement(s) in 2 policies"),
    # StartSession/TerminateSession on named instance/document/session ARNs; Describe*/Get* on "*".
    "p10": (Status.PASSED, None, "3 statement(s)"),
    # ec2:ModifyImageAttribute (Write) on "*", despite the Sid's "WithTagCondition".
    "p11": (Status.FAILED, Severity.MEDIUM, "ec2:ModifyImageAttribute"),
    # ec2:CopyImage (Write) on "*"; ec2:CreateTags is Tagging, not a finding.
    "p12": (Status.FAILED, Severity.MEDIUM, "ec2:CopyImage"),
    # appstream:CreateImageBuilder/DeleteImageBuilder/... and logs:PutResourcePolicy on "*"; statement #1
    # (Fn::GetAtt) unreadable, so partial; appstream:GetImageBuilders does not exist.
    "p13": (Status.FAILED, Severity.MEDIUM, "appstream:CreateImageBuilder"),
    # The service-linked role's policy: appstream:UpdateFleet and CloudWatch alarm writes on "*".
    "p15": (Status.FAILED, Severity.MEDIUM, "appstream:UpdateFleet, cloudwatch:PutMetricAlarm, cloudwatch:DeleteAlarms"),
}


def real_documents(prefix):
    (path,) = PERMISSION_POLICIES.glob(f"{prefix}-*.json")
    doc = json.loads(path.read_text())
    if prefix == "p09":  # two inline policies keyed by name
        return tuple(PolicyDocument("inline", name, d) for name, d in doc.items())
    return (PolicyDocument("inline", "p0", doc),)


def test_every_real_permission_policy_is_covered():
    prefixes = {p.name.split("-")[0] for p in PERMISSION_POLICIES.glob("p*.json")}
    assert prefixes == set(REAL_EXPECTED) | {"p14"}  # p14 lists attachments, tested below


@pytest.mark.parametrize("prefix", sorted(REAL_EXPECTED))
def test_real_permission_policies(prefix):
    status, severity, fragment = REAL_EXPECTED[prefix]
    result = run(*real_documents(prefix))
    assert result.status is status, result.detail
    assert result.severity is severity
    assert fragment in result.detail
    assert len(result.detail) <= 1024


def test_p13_says_the_evaluation_was_partial_and_names_the_unknown_action():
    result = run(*real_documents("p13"))
    assert "partial: could not read inline policy p0 statement #1" in result.detail
    assert any(p["kind"] == "unknown-action" and p["actions"] == ["appstream:GetImageBuilders"]
               for p in result.evidence["problems"])


def test_p14_attachments_on_the_ukhomeoffice_instance_role():
    # AmazonAppStreamServiceAccess (= p01) + AmazonSSMManagedInstanceCore (moto's copy) + p04 inline.
    data = managed_policies()
    attachments = json.loads(next(PERMISSION_POLICIES.glob("p14-*.json")).read_text())["attachments"]
    arns = [a["policy_arn"] for a in attachments if "UKHomeOffice" in a["source"]]
    assert len(arns) == 2
    managed = tuple(PolicyDocument("managed", arn.rsplit("/", 1)[1], data[arn.rsplit("/", 1)[1]]["Document"], arn)
                    for arn in arns)
    result = run(*real_documents("p04"), managed=managed)
    assert result.status is Status.FAILED and result.severity is Severity.MEDIUM
    assert "managed policy arn:aws:iam::aws:policy/service-role/AmazonAppStreamServiceAccess" in result.detail
    assert "ssm:UpdateInstanceInformation" in result.detail  # SSM core's ssm/ssmmessages writes on "*"


# ------------------------------------------------------------------ the cases


def test_b03_lower_case_passrole_and_get_wildcard():
    c = case("B03")
    result = run(c["input"]["inline_policy_lower_case"])
    assert c["expected"]["inline_policy_lower_case"]["least_privilege"] == "FAIL"
    assert result.status is Status.FAILED and result.severity is Severity.HIGH
    assert "iam:PassRole on *" in result.detail  # matched case-insensitively
    assert "s3:get*" in result.detail  # the read-only wildcard is named, as the case's reason says


@pytest.mark.parametrize("name", ["inline_policy_not_iam", "inline_policy_not_invalid"])
def test_b05_allow_not_action_is_full_admin(name):
    c = case("B05")
    result = run(c["input"][name])
    assert c["expected"][name]["least_privilege"] == "FAIL"
    assert result.status is Status.FAILED and result.severity.value == c["expected"][name]["severity"] == "CRITICAL"
    assert "full admin" in result.detail and "NotAction" in result.detail
    # must_not: evaluate the NotAction list as if it were the granted actions
    assert "iam:*" not in {a for p in result.evidence["problems"] if p["kind"] == "service-wildcard" for a in p["actions"]}


def test_b06_conditional_deny_is_not_a_grant():
    c = case("B06")
    assert run(c["input"]["inline_policy"]).status is Status.PASSED
    assert c["expected"]["inline_policy"]["least_privilege"] == "PASS"


def test_b02_single_statement_object():
    c = case("B02")
    result = run(c["input"]["inline_policy"])
    assert result.status is Status.PASSED and "1 statement(s)" in result.detail


def test_b14_every_page_counts():
    data = managed_policies()
    managed = (PolicyDocument("managed", "ReadOnlyBucketA", policy(allow("s3:GetObject", "arn:aws:s3:::a/*")),
                              "arn:aws:iam::111122223333:policy/ReadOnlyBucketA"),
               PolicyDocument("managed", "AdministratorAccess", data["AdministratorAccess"]["Document"],
                              "arn:aws:iam::aws:policy/AdministratorAccess"))
    result = run(policy(allow("s3:ListBucket", "arn:aws:s3:::a")), managed=managed)
    assert case("B14")["expected"]["least_privilege"] == "FAIL"
    assert result.status is Status.FAILED and result.severity is Severity.CRITICAL
    assert "AdministratorAccess" in result.detail


# ------------------------------------------------------------------ severities


@pytest.mark.parametrize("statement", [allow("*"), allow("*:*"), allow(["*"], ["*"]),
                                       {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*"], "Resource": "*"}])
def test_critical_full_admin(statement):
    result = run(policy(statement))
    assert result.severity is Severity.CRITICAL and "full admin: inline policy p0 statement #1" in result.detail
    assert [p["kind"] for p in result.evidence["problems"]] == ["full-admin"]  # nothing redundant beside it


def test_full_admin_with_a_condition_is_still_critical():
    result = run(policy(allow("*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})))
    assert result.severity is Severity.CRITICAL and "(conditional)" in result.detail


def test_a_deny_of_iam_leaves_admin_equivalent():
    result = run(policy(allow("*"), {"Effect": "Deny", "Action": "iam:*", "Resource": "*"}))
    assert result.severity is Severity.CRITICAL


@pytest.mark.parametrize("statement,fragment", [
    ({"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::b"}, "Allow+NotAction"),
    (allow("iam:PassRole"), "iam:PassRole on *"),
    (allow("iam:Pass*"), "iam:PassRole on *"),
    (allow("iam:PassRole", "arn:aws:iam::111122223333:role/*"), "iam:PassRole on arn:aws:iam::111122223333:role/*"),
    (allow("iam:CreatePolicyVersion", "arn:aws:iam::111122223333:policy/x"), "iam:CreatePolicyVersion"),
    (allow("iam:setdefaultpolicyversion", "arn:aws:iam::111122223333:policy/x"), "iam:SetDefaultPolicyVersion"),
    (allow("iam:Put*Policy", "arn:aws:iam::111122223333:role/r"), "iam:PutRolePolicy"),
    (allow("iam:AttachRolePolicy", "arn:aws:iam::111122223333:role/r"), "iam:AttachRolePolicy"),
    (allow("iam:UpdateAssumeRolePolicy", "arn:aws:iam::111122223333:role/r"), "iam:UpdateAssumeRolePolicy"),
    (allow("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/u"), "iam:CreateAccessKey"),
    (allow(["iam:CreateLoginProfile", "iam:UpdateLoginProfile"], "arn:aws:iam::111122223333:user/u"), "iam:UpdateLoginProfile"),
    (allow("sts:AssumeRole"), "sts:AssumeRole on *"),
])
def test_high(statement, fragment):
    result = run(policy(statement))
    assert result.status is Status.FAILED and result.severity is Severity.HIGH, result.detail
    assert fragment in result.detail


def test_not_action_that_leaves_a_few_services_is_high_not_critical():
    keep = ["s3", "ec2"]
    from roleguard.policy import actions

    excluded = [f"{p}:*" for p in actions.service_prefixes() if p not in keep]
    result = run(policy({"Effect": "Allow", "NotAction": excluded, "Resource": "*"}))
    assert result.severity is Severity.HIGH and "Allow+NotAction" in result.detail
    assert "full-admin" not in {p["kind"] for p in result.evidence["problems"]}


PASS_ALL = allow("iam:PassRole", "arn:aws:iam::*:role/*")
COMBINATIONS = [["ec2:RunInstances"], ["lambda:CreateFunction", "lambda:InvokeFunction"],
                ["lambda:CreateFunction", "lambda:AddPermission"],
                ["lambda:CreateFunction", "lambda:CreateEventSourceMapping"], ["cloudformation:CreateStack"],
                ["glue:CreateDevEndpoint"], ["datapipeline:CreatePipeline", "datapipeline:PutPipelineDefinition"]]


@pytest.mark.parametrize("create", COMBINATIONS)
def test_passrole_combinations_across_policies(create):
    creator = policy(allow(create, "arn:aws:ec2:us-east-1:111122223333:instance/*"))
    result = run(policy(PASS_ALL), creator)
    assert result.severity is Severity.HIGH
    assert f"PassRole + {' + '.join(create)}" in result.detail and "inline policy p0" in result.detail \
        and "inline policy p1" in result.detail
    assert ("passrole-combination", "HIGH") in kinds(result)


@pytest.mark.parametrize("create", COMBINATIONS)
def test_passrole_to_named_roles_is_a_note_naming_them_not_a_combination(create):
    # W6: the PassRole half must reach every role, as the single-action rule requires.
    creator = policy(allow(create, "arn:aws:ec2:us-east-1:111122223333:instance/*"))
    result = run(policy(allow("iam:PassRole", "arn:aws:iam::111122223333:role/AppRole")), creator)
    assert result.status is Status.PASSED, result.detail
    assert ("passrole-named-roles", None) in kinds(result)
    assert "only arn:aws:iam::111122223333:role/AppRole" in result.detail


def test_passrole_to_every_role_but_a_boundary_naming_them_is_a_note():
    b = PolicyDocument("boundary", "B", policy(allow("iam:PassRole", "arn:aws:iam::111122223333:role/App"),
                                               allow("ec2:RunInstances")))
    result = run(policy(allow(["iam:PassRole", "ec2:RunInstances"])), boundary=b)
    assert "passrole-combination" not in {k for k, _ in kinds(result)}
    assert "only the roles boundary policy B allows" in result.detail


def test_scoped_passrole_alone_and_half_a_pipeline_are_not_escalation():
    assert run(policy(allow("iam:PassRole", "arn:aws:iam::111122223333:role/AppRole"))).status is Status.PASSED
    result = run(policy(PASS_ALL, allow("datapipeline:CreatePipeline",
                                        "arn:aws:datapipeline:us-east-1:111122223333:pipeline/x")))
    assert "passrole-combination" not in {k for k, _ in kinds(result)}


def test_passrole_and_create_function_alone_is_not_a_path():
    # W2: a new function must also be run (InvokeFunction, AddPermission or CreateEventSourceMapping).
    result = run(policy(PASS_ALL, allow(["lambda:CreateFunction", "lambda:GetFunction"])))
    assert "passrole-combination" not in {k for k, _ in kinds(result)}
    assert result.severity is Severity.HIGH and "iam:PassRole on arn:aws:iam::*:role/*" in result.detail  # W1 stays


def test_several_triggers_make_one_combination_finding():
    result = run(policy(PASS_ALL, allow(["lambda:CreateFunction", "lambda:InvokeFunction", "lambda:AddPermission"])))
    found = [p for p in result.evidence["problems"] if p["kind"] == "passrole-combination"]
    assert len(found) == 1
    assert found[0]["actions"] == ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction",
                                   "lambda:AddPermission"]


def passed_to(operator, services):
    return allow("iam:PassRole", Condition={operator: {"iam:PassedToService": services}})


@pytest.mark.parametrize("grant,combines", [
    (passed_to("StringEquals", ["dax.amazonaws.com", "application-autoscaling.amazonaws.com"]), False),
    (passed_to("StringLike", "ec2.amazonaws.com*"), False),  # lambda is not ec2
    (passed_to("StringNotEquals", ["lambda.amazonaws.com", "lambda.amazonaws.com.cn"]), False),
    (passed_to("StringNotEquals", "lambda.amazonaws.com"), True),  # China's principal is not excluded
    (passed_to("StringEquals", "lambda.amazonaws.com"), True),
    (passed_to("StringEqualsIfExists", "lambda.amazonaws.com.cn"), True),
    (passed_to("StringLike", "*.amazonaws.com"), True),
    (passed_to("StringNotEquals", "ec2.amazonaws.com"), True),
    (allow("iam:PassRole", Condition={"StringEquals": {"aws:ResourceTag/team": "a"}}), True),  # other keys: maybe
])
def test_iam_passed_to_service_must_allow_the_combinations_service(grant, combines):
    # W7: IAM refuses to pass the role to a service the condition does not allow.
    result = run(policy(grant, allow(["lambda:CreateFunction", "lambda:InvokeFunction"])))
    assert (("passrole-combination", "HIGH") in kinds(result)) is combines
    assert ("privilege-escalation", "HIGH") in kinds(result)  # PassRole on "*" itself (W1) is still reported


def attach(condition, action="iam:AttachRolePolicy", resource="arn:aws:iam::111122223333:role/app-*"):
    return allow(action, resource, Condition=condition)


DENY_ALL = "arn:aws:iam::aws:policy/AWSDenyAll"


@pytest.mark.parametrize("statement", [
    attach({"ArnEquals": {"iam:PolicyARN": DENY_ALL}}),
    attach({"ArnLike": {"iam:PolicyArn": [DENY_ALL, "arn:aws:iam::*:policy/team/ReadOnly"]}}),
    attach({"ArnEqualsIfExists": {"iam:PolicyARN": DENY_ALL}}),  # always in an Attach*Policy request
    attach({"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::111122223333:policy/Boundary"}},
           ["iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"]),
    # A key the action's requests never carry fails a condition without IfExists: bounded (in fact never allowed).
    attach({"ArnEquals": {"iam:PolicyARN": DENY_ALL}}, "iam:PutRolePolicy"),
])
def test_policy_arn_and_permissions_boundary_conditions_bound_the_escalation(statement):
    # W4: MEDIUM "bounded", naming the bound, not HIGH.
    result = run(policy(statement))
    assert result.status is Status.FAILED and result.severity is Severity.MEDIUM, result.detail
    assert ("bounded-escalation", "MEDIUM") in kinds(result)
    assert "privilege-escalation" not in {k for k, _ in kinds(result)}
    assert "bounded privilege escalation" in result.detail and "only with iam:P" in result.detail


@pytest.mark.parametrize("statement,others", [
    (attach({"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}), ()),
    (attach({"ArnEquals": {"iam:PolicyARN": "arn:aws:iam::111122223333:policy/administratoraccess"}}), ()),
    (attach({"ArnEquals": {"iam:PolicyARN": [DENY_ALL, "arn:aws:iam::aws:policy/IAMFullAccess"]}}), ()),
    (attach({"ArnLike": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AWS*"}}), ()),
    (attach({"StringLike": {"iam:PolicyARN": "*"}}), ()),
    (attach({"ArnNotEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}}), ()),
    (attach({"ArnEqualsIfExists": {"iam:PolicyARN": DENY_ALL}}, "iam:PutRolePolicy"), ()),  # absent: holds
    (attach({"StringEqualsIfExists": {"iam:PermissionsBoundary": "arn:aws:iam::111122223333:policy/B"}}), ()),
    (attach({"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::111122223333:policy/B"}}),
     (allow("iam:DeleteRolePermissionsBoundary", "arn:aws:iam::111122223333:role/app-x"),)),
    (attach({"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::111122223333:policy/B"}}),
     (allow("iam:PutRolePermissionsBoundary", "arn:aws:iam::111122223333:role/app-x"),)),
    (attach({"StringEquals": {"aws:ResourceTag/team": "a"}}), ()),  # only narrows the context
])
def test_a_bound_that_allows_admin_a_wildcard_or_can_be_lifted_stays_high(statement, others):
    result = run(policy(statement, *others))
    assert result.severity is Severity.HIGH, result.detail
    assert ("privilege-escalation", "HIGH") in kinds(result)


def test_a_boundary_setter_limited_to_a_named_boundary_keeps_the_bound():
    b = {"StringEquals": {"iam:PermissionsBoundary": "arn:aws:iam::111122223333:policy/B"}}
    result = run(policy(attach(b), attach(b, "iam:PutRolePermissionsBoundary")))
    assert result.severity is Severity.MEDIUM and ("bounded-escalation", "MEDIUM") in kinds(result)


MCP_ONLY = {"Bool": {"aws:IsMcpServiceAction": "true"}}


def test_mcp_service_action_condition_limits_star_to_the_mcp_actions():
    # W8: not full admin; what remains is the MCP servers' own actions.
    result = run(policy(allow("*", Condition=MCP_ONLY)))
    assert result.severity is Severity.MEDIUM, result.detail
    assert not {k for k, _ in kinds(result)} & {"full-admin", "privilege-escalation", "not-action"}
    note = next(p for p in result.evidence["problems"] if p["kind"] == "condition-limits-actions")
    assert "aws:IsMcpServiceAction" in note["where"] or "aws:IsMcpServiceAction" in result.detail
    assert "aws-mcp:CallReadWriteTool" in result.detail


@pytest.mark.parametrize("condition", [
    {"BoolIfExists": {"aws:IsMcpServiceAction": "true"}},  # absent key: the condition holds for any action
    {"Bool": {"aws:IsMcpServiceAction": "false"}},
    {"Bool": {"aws:IsMcpServiceAction": ["true", "false"]}},
    {"Bool": {"aws:ViaAWSService": "true"}},
])
def test_other_conditions_do_not_limit_the_actions(condition):
    assert run(policy(allow("*", Condition=condition))).severity is Severity.CRITICAL


def test_mcp_condition_removes_escalation_actions_from_a_grant():
    result = run(policy(allow(["iam:PassRole", "iam:PutRolePolicy", "aws-mcp:InvokeMcp"], Condition=MCP_ONLY)))
    assert result.status is Status.PASSED, result.detail


@pytest.mark.parametrize("actions,resource", [
    (["cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet"], "*"),
    (["cloudformation:UpdateStack"], "arn:aws:cloudformation:*:*:stack/*"),
    (["ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"], "arn:aws:ec2:*:*:instance/*"),
    (["ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"], "*"),
    (["ec2-instance-connect:SendSSHPublicKey"], "arn:aws:ec2:*:*:instance/*"),
    (["ssm:StartSession"], "*"),
    (["ssm:SendCommand"], "*"),
    (["sagemaker:CreatePresignedNotebookInstanceUrl"], "*"),
])
def test_paths_that_borrow_an_existing_role_are_high_on_all_resources(actions, resource):
    # P1 (pathfinding.cloud) and the related Rhino paths: no iam:PassRole needed.
    result = run(policy(allow(actions, resource)))
    assert result.severity is Severity.HIGH, result.detail
    assert ("privilege-escalation", "HIGH") in kinds(result)
    assert f"privilege escalation by {' + '.join(actions)} on all resources" in result.detail


@pytest.mark.parametrize("actions,resource", [
    (["cloudformation:UpdateStack"], "arn:aws:cloudformation:us-east-1:111122223333:stack/app/*"),
    (["ec2:ModifyInstanceAttribute", "ec2:StopInstances", "ec2:StartInstances"],
     "arn:aws:ec2:us-east-1:111122223333:instance/i-0123456789abcdef0"),
    (["ssm:StartSession"], "arn:aws:ec2:*:*:launch-template/*"),  # every resource, but of another type
])
def test_paths_on_named_resources_are_a_note(actions, resource):
    result = run(policy(allow(actions, resource)))
    assert "privilege-escalation" not in {k for k, _ in kinds(result)}
    assert ("escalation-path-scoped", None) in kinds(result) and "for the named resources only" in result.detail


def test_modify_user_data_needs_stop_and_start_on_every_instance_too():
    result = run(policy(allow("ec2:ModifyInstanceAttribute"),
                        allow(["ec2:StopInstances", "ec2:StartInstances"], "arn:aws:ec2:us-east-1:111122223333:instance/*")))
    assert "privilege-escalation" not in {k for k, _ in kinds(result)}


def test_send_command_needs_a_document_that_takes_commands():
    instances = allow("ssm:SendCommand", "arn:aws:ec2:*:*:instance/*", Sid="Instances")
    vss = allow("ssm:SendCommand", "arn:aws:ssm:*:*:document/AWSEC2-CreateVssSnapshot", Sid="Vss")
    result = run(policy(instances, vss))
    assert "privilege-escalation" not in {k for k, _ in kinds(result)}
    assert "only with the named documents arn:aws:ssm:*:*:document/AWSEC2-CreateVssSnapshot" in result.detail
    shell = allow("ssm:SendCommand", "arn:aws:ssm:*::document/AWS-RunShellScript", Sid="Shell")
    result = run(policy(instances, shell))
    assert ("privilege-escalation", "HIGH") in kinds(result)
    assert "with a command document (inline policy p0 statement 'Shell')" in result.detail


def test_update_function_configuration_is_escalation_alone():
    result = run(policy(allow("lambda:UpdateFunctionConfiguration", "arn:aws:lambda:us-east-1:111122223333:function:app")))
    assert result.severity is Severity.HIGH and "lambda:UpdateFunctionConfiguration" in result.detail


@pytest.mark.parametrize("statement,kind", [
    (allow("s3:*", "arn:aws:s3:::my-bucket/*"), "service-wildcard"),
    (allow("*:Get*"), "service-wildcard"),
    (allow("s3:PutObject"), "write-on-all-resources"),
    (allow("s3:PutBucketPolicy"), "write-on-all-resources"),  # Permissions management
    (allow("s3:Put*"), "write-on-all-resources"),
    (allow("ec2:TerminateInstances", "arn:aws:ec2:*:*:instance/*"), "write-on-all-resources"),
])
def test_medium(statement, kind):
    result = run(policy(statement))
    assert result.status is Status.FAILED and result.severity is Severity.MEDIUM, result.detail
    assert (kind, "MEDIUM") in kinds(result)


@pytest.mark.parametrize("statement", [
    allow(["s3:GetObject", "s3:ListAllMyBuckets", "ec2:Describe*"]),  # Read and List on "*"
    allow("ec2:CreateTags"),  # Tagging on "*"
    allow(["cloudwatch:PutMetricData", "xray:PutTraceSegments"]),  # Write that IAM allows only on "*"
    allow("s3:PutObject", "arn:aws:s3:::my-bucket/*"),  # write on a named bucket
    allow("ec2:TerminateInstances", "arn:aws:ec2:us-east-1:111122223333:instance/*"),  # one account's instances
])
def test_not_findings(statement):
    result = run(policy(statement))
    assert result.status is Status.PASSED, result.detail
    assert "1 statement(s) in 1 policy checked" in result.detail


def test_read_only_wildcard_is_a_note_on_a_passing_role():
    result = run(policy(allow("s3:Get*")))
    assert result.status is Status.PASSED and "read-only wildcard s3:Get*" in result.detail


def test_worst_severity_wins_and_every_problem_is_in_the_evidence():
    result = run(policy(allow("s3:*"), allow("iam:PassRole")), policy(allow("*")))
    assert result.severity is Severity.CRITICAL
    assert result.detail.index("CRITICAL") < result.detail.index("HIGH") < result.detail.index("MEDIUM")
    assert {k for k, _ in kinds(result)} >= {"full-admin", "privilege-escalation", "service-wildcard"}


def test_detail_stays_short_and_evidence_keeps_everything():
    statements = [allow(f"s3:Put{n}", "*", Sid=f"Put{n}") for n in ("Object", "BucketPolicy", "BucketAcl")]
    docs = [policy(*statements) for _ in range(30)]
    result = run(*docs)
    assert len(result.detail) <= 1000 and "more (see evidence)" in result.detail
    assert len(result.evidence["problems"]) == 90


# ------------------------------------------------------------------ Deny and boundary


def test_unconditional_deny_removes_the_escalation():
    assert run(policy(allow("iam:PassRole"), {"Effect": "Deny", "Action": "iam:*", "Resource": "*"})).status \
        is Status.PASSED


def test_conditional_deny_does_not_remove_it():
    guarded = {"Effect": "Deny", "Action": "iam:*", "Resource": "*",
               "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}}
    assert run(policy(allow("iam:PassRole"), guarded)).severity is Severity.HIGH


def test_boundary_limits_what_is_judged():
    b = PolicyDocument("boundary", "B", policy(allow(["s3:GetObject", "ec2:Describe*"])),
                       "arn:aws:iam::111122223333:policy/B")
    result = run(policy(allow("*")), boundary=b)
    assert result.status is Status.PASSED
    assert "within boundary policy arn:aws:iam::111122223333:policy/B" in result.detail


def test_boundary_scoping_write_to_a_bucket_removes_write_on_star():
    b = PolicyDocument("boundary", "B", policy(allow("s3:PutObject", "arn:aws:s3:::b/*")))
    assert run(policy(allow("s3:PutObject")), boundary=b).status is Status.PASSED
    assert run(policy(allow("s3:PutObject"))).status is Status.FAILED


def test_boundary_scoping_passrole_to_one_role_is_not_on_all_roles():
    b = PolicyDocument("boundary", "B", policy(allow("iam:PassRole", "arn:aws:iam::111122223333:role/App")))
    assert run(policy(allow("iam:PassRole")), boundary=b).status is Status.PASSED
    b_all = PolicyDocument("boundary", "B", policy(allow("iam:PassRole", "arn:aws:iam::111122223333:role/*")))
    assert run(policy(allow("iam:PassRole")), boundary=b_all).severity is Severity.HIGH


# ------------------------------------------------------------------ WARNING / NOT_AVAILABLE


def test_placeholders_do_not_crash_and_name_the_policy():
    result = run(PolicyDocument("inline", "root", policy(allow("s3:PutObject", {"Fn::Sub": "${Bucket.Arn}/*"}))))
    assert result.status is Status.WARNING and "inline policy root statement #1" in result.detail


def test_unreadable_policy_is_not_available_never_passed():
    error = ReadError("iam:GetPolicy/GetPolicyVersion arn:aws:iam::111122223333:policy/X", "AccessDenied", "denied")
    result = run(policy(allow("s3:GetObject", "arn:aws:s3:::b/*")), errors=[error])
    assert result.status is Status.NOT_AVAILABLE and "policy/X failed with AccessDenied" in result.detail


def test_unreadable_policy_beside_a_failing_one_is_failed_and_partial():
    error = ReadError("iam:ListRolePolicies FleetRole", "AccessDenied")
    result = run(policy(allow("iam:PassRole")), errors=[error])
    assert result.status is Status.FAILED and "partial: could not read iam:ListRolePolicies FleetRole" in result.detail


def test_trust_policy_read_error_is_not_a_permission_policy_problem():
    error = ReadError("trust policy of FleetRole", "InvalidPolicy", "not JSON")
    docs = (PolicyDocument("inline", "p0", policy(allow("s3:GetObject", "arn:aws:s3:::b/*"))),)
    gathered = facts(resource(), role(TRUST, inline_policies=docs, trust_error=error))
    assert least_privilege.run(gathered).status is Status.PASSED


def test_role_unavailable():
    result = least_privilege.run(facts(resource(), lookup=RoleLookup.UNREADABLE, role_error=ACCESS_DENIED))
    assert result.status is Status.NOT_AVAILABLE and "AccessDenied" in result.detail
    assert least_privilege.run(facts(resource())).status is Status.NOT_AVAILABLE


def test_role_without_policies_passes():
    assert run().status is Status.PASSED


def test_metadata():
    check = least_privilege.CHECK
    assert check.id == "least-privilege" and check.scope.value == "role" and len(check.remediation) <= 512
    assert check.documentation_url.endswith("best-practices.html#grant-least-privilege")


# ------------------------------------------------------------------ every AWS managed policy (moto ships them)

_MANAGED = None


def managed_policies():
    global _MANAGED
    if _MANAGED is None:
        from moto.iam.aws_managed_policies import aws_managed_policies_data

        _MANAGED = json.loads(aws_managed_policies_data)
    return _MANAGED


def managed_result(name):
    meta = managed_policies()[name]
    doc = PolicyDocument("managed", name, meta["Document"], f"arn:aws:iam::aws:policy{meta.get('Path', '/')}{name}")
    return least_privilege.run(facts(resource(), role(TRUST, managed_policies=(doc,))))


def test_aws_managed_policy_anchors():
    assert managed_result("AdministratorAccess").severity is Severity.CRITICAL
    for name in ("ReadOnlyAccess", "ViewOnlyAccess"):
        found = {k for k, _ in kinds(managed_result(name))}
        assert not found & {"privilege-escalation", "passrole-combination", "full-admin", "not-action"}, name
    iam_full = managed_result("IAMFullAccess")
    assert iam_full.severity is Severity.HIGH and ("privilege-escalation", "HIGH") in kinds(iam_full)
    s3_full = managed_result("AmazonS3FullAccess")
    assert ("service-wildcard", "MEDIUM") in kinds(s3_full) and "s3:*" in s3_full.detail
    assert managed_result("PowerUserAccess").severity is Severity.CRITICAL  # NotAction iam:*, organizations:*, account:*


@pytest.mark.parametrize("name,severity,kind", [
    ("AWSMcpServiceActionsFullAccess", Severity.MEDIUM, "service-wildcard"),  # W8: not full admin
    ("AWSIQPermissionServiceRolePolicy", Severity.MEDIUM, "bounded-escalation"),  # W4: attaches AWSDenyAll only
    ("AccountManagementFromVercel", Severity.MEDIUM, "bounded-escalation"),  # W4: within Vercel's boundary
    ("CloudFormationStackSetsOrgMemberServiceRolePolicy", Severity.HIGH, "privilege-escalation"),  # attaches admin
    ("AWSDataPipeline_FullAccess", Severity.MEDIUM, "passrole-named-roles"),  # W6: two named roles
    ("AmazonEC2FullAccess", Severity.HIGH, "privilege-escalation"),  # P1: user data, launch template
    ("EC2InstanceConnect", Severity.HIGH, "privilege-escalation"),  # P1: SendSSHPublicKey
    ("AWSCloudFormationFullAccess", Severity.HIGH, "privilege-escalation"),  # P1: change sets
    ("SecretsManagerReadWrite", Severity.HIGH, "privilege-escalation"),  # P1: change sets
])
def test_aws_managed_policies_the_peer_comparison_settled(name, severity, kind):
    result = managed_result(name)
    assert result.severity is severity, result.detail
    assert kind in {k for k, _ in kinds(result)}


def test_dynamodb_full_access_passes_roles_only_to_dax_and_autoscaling():
    # W7: its PassRole cannot serve lambda:CreateFunction or Data Pipeline.
    assert "passrole-combination" not in {k for k, _ in kinds(managed_result("AmazonDynamoDBFullAccess"))}


def test_admin_policy_names_cover_every_admin_managed_policy():
    from roleguard.policy.effective import effective_permissions

    found = set()
    for name, meta in managed_policies().items():
        doc = PolicyDocument("managed", name, meta["Document"], f"arn:aws:iam::aws:policy/{name}")
        eff = effective_permissions(role(TRUST, managed_policies=(doc,)))
        if any(p.kind == "full-admin" for p in least_privilege.analyse(eff)) or any(
                not g.statement.conditions and g.on_all_resources(a)
                for g in eff.grants for a in least_privilege.ESCALATION_ALONE if a.startswith("iam:") and a in g.actions):
            found.add(name.lower())
    assert found and found <= least_privilege.ADMIN_POLICY_NAMES


def test_every_aws_managed_policy_is_analysed_without_raising():
    statuses = {}
    for name in managed_policies():
        result = managed_result(name)
        statuses[name] = result.status
        assert len(result.detail) <= 1024, name
    assert len(statuses) > 1000
    assert Status.PASSED in statuses.values() and Status.FAILED in statuses.values()

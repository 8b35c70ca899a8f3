"""An embedded AWS for tests, the demo and the benchmark.

moto for IAM, STS, SQS and EventBridge (in-process); the validated fakes for
AppStream and Security Hub, which moto lacks or covers thinly. Clients come
from one factory, so the product's composition root (`roleguard.root.Services`)
runs unchanged on top.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from samtranslator.yaml_helper import yaml_parse

from roleguard.arns import partition_for_region
from roleguard.config import Settings
from roleguard.root import Services
from tests.doubles.appstream_fake import AppStreamFake
from tests.doubles.securityhub_fake import SecurityHubFake

ACCOUNT = "111122223333"
REPO = Path(__file__).resolve().parents[2]
# The fakes answer before botocore's retry loop (as Stubber does), so an injected
# throttle reaches the caller as "throttled past retries"; moto's IAM is retried normally.
TEST_RETRY = Config(retries={"max_attempts": 2, "mode": "standard"})


def template_rule_pattern(logical_id: str = "AppStreamApiCallRule") -> dict[str, Any]:
    """The EventPattern exactly as template.yaml declares it."""
    template = yaml_parse((REPO / "template.yaml").read_text())
    return template["Resources"][logical_id]["Properties"]["EventPattern"]


class EmbeddedAws:
    """Start with `with EmbeddedAws() as aws:`; everything stops on exit."""

    def __init__(self, account: str = ACCOUNT, appstream_page_size: int = 2, latency_seconds: float = 0.0,
                 aws_managed_policies: bool = False) -> None:
        self.account = account
        self._managed = aws_managed_policies  # moto loads the 1,500+ real AWS managed policies (slower start)
        self.appstream = AppStreamFake(account_id=account, page_size=appstream_page_size,
                                       latency_seconds=latency_seconds)
        self.securityhub = SecurityHubFake(account_id=account, latency_seconds=latency_seconds)
        # GovCloud is another partition: its own AppStream and Security Hub, as in AWS.
        self.gov_appstream = AppStreamFake(account_id=account, page_size=appstream_page_size,
                                           partition="aws-us-gov", default_region="us-gov-west-1")
        self.gov_securityhub = SecurityHubFake(account_id=account, partition="aws-us-gov",
                                               default_region="us-gov-west-1")
        self._clients: dict[tuple[str, str], Any] = {}
        self.api_calls: Counter[str] = Counter()  # "iam:GetRole" -> count, every client, every call
        self.sleeps: list[float] = []  # every wait the product asked for; none is really slept
        self._latency = 0.0
        self._mock = None
        self._saved_env: dict[str, str | None] = {}

    def __enter__(self) -> "EmbeddedAws":
        from moto import mock_aws

        for key, value in {"MOTO_ACCOUNT_ID": self.account, "AWS_ACCESS_KEY_ID": "testing",
                           "MOTO_IAM_LOAD_MANAGED_POLICIES": "true" if self._managed else "false",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
            self._saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        self._mock = mock_aws()
        self._mock.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._mock is not None:
            self._mock.stop()
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or "us-east-1"
        key = (service, region)
        if key not in self._clients:
            made = boto3.client(service, region_name=region, config=TEST_RETRY)
            made.meta.events.register("before-parameter-build", self._count_call)
            made.meta.events.register("before-parameter-build", self._simulated_latency)
            if service == "dynamodb":
                _create_index_table(made)
            gov = partition_for_region(region) == "aws-us-gov"
            if service == "appstream":
                (self.gov_appstream if gov else self.appstream).attach(made)
            elif service == "securityhub":
                (self.gov_securityhub if gov else self.securityhub).attach(made)
            self._clients[key] = made
        return self._clients[key]

    def set_latency(self, seconds: float) -> None:
        """From now on every API call, moto's and the fakes', takes at least `seconds` (a benchmark's network)."""
        self._latency = seconds

    def _simulated_latency(self, **_: Any) -> None:
        if self._latency:
            time.sleep(self._latency)

    def _count_call(self, model: Any, **_: Any) -> None:
        self.api_calls[f"{model.service_model.endpoint_prefix}:{model.name}"] += 1

    def services(self, **settings: Any) -> Services:
        settings.setdefault("role_visibility_wait_seconds", 0.0)
        settings.setdefault("index_table", INDEX_TABLE)
        if "sweep_queue_url" not in settings:
            settings["sweep_queue_url"] = self.client("sqs").create_queue(QueueName="roleguard-sweep")["QueueUrl"]
        return Services(Settings(**settings), self.client, sleep=self.sleeps.append)

    def sweep_messages(self, region: str = "us-east-1") -> list[dict[str, Any]]:
        """Drain the sweep queue as the SQS event source would, as Lambda SQS records."""
        sqs = self.client("sqs", region)
        url = sqs.get_queue_url(QueueName="roleguard-sweep")["QueueUrl"]
        records = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return records
            for m in messages:
                records.append({"eventSource": "aws:sqs", "messageId": m["MessageId"], "body": m["Body"]})
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    # -- IAM seeding ------------------------------------------------------

    def create_role(self, arn_path_name: str, trust: str | dict, *, inline: dict[str, dict] | None = None,
                    managed: list[str] = (), region: str = "us-east-1", tags: dict[str, str] | None = None) -> str:
        """Create a role 'path/Name' (path optional) with a trust policy and permission policies."""
        path, _, name = arn_path_name.rpartition("/")
        iam = self.client("iam", region)
        trust_text = trust if isinstance(trust, str) else json.dumps(trust)
        arn = iam.create_role(RoleName=name, Path=f"/{path}/" if path else "/", AssumeRolePolicyDocument=trust_text,
                              Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])["Role"]["Arn"]
        for policy_name, document in (inline or {}).items():
            iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
        for policy_arn in managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        return arn


INDEX_TABLE = "roleguard-role-index"


def _create_index_table(dynamodb: Any) -> None:
    """The template's RoleIndexTable, in whichever region a client first asks for it."""
    if INDEX_TABLE not in dynamodb.list_tables()["TableNames"]:
        dynamodb.create_table(TableName=INDEX_TABLE, BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])


class EventRoute:
    """Delivers events through moto's EventBridge with the template's own rule pattern, into an SQS queue.

    What comes out of the queue is what EventBridge would hand the function;
    an event the pattern does not match never comes out.
    """

    def __init__(self, aws: EmbeddedAws, pattern: dict[str, Any] | None = None, name: str = "AppStreamApiCallRule") -> None:
        self._aws = aws
        self._pattern = pattern or template_rule_pattern(name)
        self._name = name
        self._queues: dict[str, str] = {}

    def _queue(self, region: str) -> str:
        if region not in self._queues:
            sqs, events = self._aws.client("sqs", region), self._aws.client("events", region)
            url = sqs.create_queue(QueueName=f"roleguard-target-{self._name}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            events.put_rule(Name=self._name, EventPattern=json.dumps(self._pattern))
            events.put_targets(Rule=self._name, Targets=[{"Id": "evaluate", "Arn": arn}])
            self._queues[region] = url
        return self._queues[region]

    def deliver(self, event: dict[str, Any]) -> dict[str, Any] | None:
        region = event.get("region", "us-east-1")
        url = self._queue(region)
        entry = {"Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(event["detail"]),
                 "Resources": event.get("resources", [])}
        response = self._aws.client("events", region).put_events(Entries=[entry])
        assert response["FailedEntryCount"] == 0, response
        messages = self._aws.client("sqs", region).receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return None
        assert len(messages) == 1, "one event in, at most one delivery out"
        self._aws.client("sqs", region).delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        delivered = json.loads(messages[0]["Body"])
        # moto's envelope omits the account; EventBridge sets it to the event's account.
        delivered.setdefault("account", event.get("account"))
        return delivered

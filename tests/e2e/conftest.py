import pytest

from roleguard import root
from tests.doubles import estate
from tests.doubles.world import EmbeddedAws, EventRoute


class LambdaContext:
    function_name = "roleguard-test-evaluate"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:111122223333:function:roleguard-test-evaluate"
    aws_request_id = "test-request"


@pytest.fixture
def world(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "AppStreamRoleGuard")
    with EmbeddedAws() as aws:
        estate.seed(aws)
        services = aws.services()
        monkeypatch.setattr(root, "services", lambda: services)
        aws.route = EventRoute(aws)
        yield aws


@pytest.fixture
def invoke(world):
    """Send an events/ file through the rule pattern into the real handler; None when the rule drops it."""
    import app
    from tests.events import load_event

    def send(name_or_event):
        if isinstance(name_or_event, str):
            estate.apply_call(world, name_or_event)
        event = load_event(name_or_event) if isinstance(name_or_event, str) else name_or_event
        delivered = world.route.deliver(event)
        return None if delivered is None else app.lambda_handler(delivered, LambdaContext())

    return send


def stored(world, resource_suffix, region="us-east-1"):
    """{check id: stored finding} for one resource, e.g. 'fleet/fleet-good'."""
    hub = world.gov_securityhub if region.startswith("us-gov-") else world.securityhub
    return {f["ProductFields"]["roleguard/CheckId"]: f for f in hub.findings(region=region)
            if f["Resources"][0]["Id"].endswith(":" + resource_suffix)}

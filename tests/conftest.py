"""Shared fixtures: fake credentials, moto in-process and over HTTP."""

from __future__ import annotations

import os

import boto3
import pytest

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture
def aws_env(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def moto_inprocess(aws_env):
    from moto import mock_aws

    with mock_aws():
        yield lambda service, region="us-east-1": boto3.client(service, region_name=region)


@pytest.fixture(scope="session")
def moto_server():
    """moto as a real HTTP server on a free local port: the SDK talks to it over a socket."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def moto_http(moto_server, aws_env):
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    return lambda service, region="us-east-1": boto3.client(service, region_name=region, endpoint_url=moto_server)


@pytest.fixture(params=["inprocess", "http"])
def aws(request):
    """Run a test against moto both in-process and as a server over HTTP."""
    return request.getfixturevalue("moto_inprocess" if request.param == "inprocess" else "moto_http")

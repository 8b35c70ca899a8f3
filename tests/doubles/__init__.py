"""Test doubles for AWS services moto does not cover (well enough).

- `appstream_fake.AppStreamFake`: stateful AppStream 2.0 fake.
- `securityhub_fake.SecurityHubFake`: stateful Security Hub fake with the
  documented import/update/filter semantics.
- `botocore_model`: botocore-model validation and the `ServiceFake` base that
  hooks a fake into a real boto3 client (``before-call.<service-id>.<Operation>``).

Both fakes validate every response against botocore's own service model, so
they fail loudly instead of drifting from the real API.
"""

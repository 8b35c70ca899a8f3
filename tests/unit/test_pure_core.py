"""The core imports no boto3/botocore, and importing it builds nothing."""

import subprocess
import sys

CORE = ["roleguard.model", "roleguard.arns", "roleguard.policy.document", "roleguard.policy.conditions",
        "roleguard.policy.trust", "roleguard.policy.matching", "roleguard.checks", "roleguard.engine",
        "roleguard.intake", "roleguard.sinks.asff", "roleguard.sinks.base", "roleguard.config"]


def test_core_modules_import_no_aws_sdk():
    code = "import sys\n" + "".join(f"import {m}\n" for m in CORE) + (
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore'))\n"
        "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

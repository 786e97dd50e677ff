"""Shared helpers of the tests/e2e/test_gcp_*.py suites (the testenv gcp-emulator component must be up)."""

from __future__ import annotations

import json
import os
import urllib.request

from _testenv import require_env  # pylint: disable=import-error


def gcp_env():
    return require_env("ECHO_GCP_EMULATOR_URL", files=("env.d/gcp.env",))


def control(env, path, body=None):
    """Call an emulator control endpoint directly (no proxy)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(env["ECHO_GCP_EMULATOR_URL"] + path, data=data,
                                 method="POST" if data is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


def client_environ(env):
    """Process environment for a GCP client going through the TLS proxy."""
    out = dict(os.environ)
    out.update({
        "HTTPS_PROXY": env["ECHO_GCP_HTTPS_PROXY"],
        "NO_PROXY": "127.0.0.1,localhost",
        "REQUESTS_CA_BUNDLE": env["ECHO_GCP_CA_BUNDLE"],
    })
    return out

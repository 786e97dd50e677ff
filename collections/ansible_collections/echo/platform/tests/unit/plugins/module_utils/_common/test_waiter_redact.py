from __future__ import annotations

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common import redact, waiter
from ansible_collections.echo.platform.plugins.module_utils._common.errors import WaitTimeout, failed_to


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_for_returns_first_ready_state():
    clock = FakeClock()
    states = iter(["provisioning", "provisioning", "running"])
    assert waiter.wait_for(lambda: next(states), lambda s: s == "running", timeout=60, interval=5,
                           sleep=clock.sleep, clock=clock) == "running"
    assert clock.now == 10


def test_wait_for_times_out_with_last_state():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as err:
        waiter.wait_for(lambda: {"status": "creating"}, lambda s: False, timeout=12, interval=5,
                        what="database db1", sleep=clock.sleep, clock=clock)
    assert err.value.last == {"status": "creating"}
    assert "database db1" in str(err.value)
    assert clock.now == 12


def test_wait_for_stops_on_terminal_failure():
    clock = FakeClock()
    with pytest.raises(WaitTimeout) as err:
        waiter.wait_for(lambda: "errored", lambda s: s == "running", timeout=60, sleep=clock.sleep, clock=clock,
                        failed=lambda s: "state errored" if s == "errored" else None)
    assert "state errored" in str(err.value)
    assert clock.now == 0


def test_fingerprint_is_keyed_stable_and_hides_value():
    canary = "CANARY-s3cr3t-value"
    fp = redact.fingerprint(canary, "k1")
    assert fp == redact.fingerprint(canary, "k1")
    assert fp != redact.fingerprint(canary, "k2")
    assert fp != redact.fingerprint(canary + "x", "k1")
    assert canary not in fp and fp.startswith("hmac-sha256:")
    assert list(redact.fingerprint_map({"B": "2", "A": "1"}, "k")) == ["A", "B"]


def test_redact_keys_nested():
    data = {"name": "db", "connection": {"password": "pw", "host": "h"}, "pools": [{"password": "x"}]}
    out = redact.redact_keys(data, {"password"})
    assert out["connection"]["password"] != "pw" and out["connection"]["host"] == "h"
    assert out["pools"][0]["password"] != "x"
    assert data["connection"]["password"] == "pw"


def test_failed_to_message():
    assert failed_to("create", "VPC", "echo-dev-vpc", "422 invalid") == "Failed to create VPC echo-dev-vpc: 422 invalid"
    assert failed_to("list", "VPCs", None, "boom") == "Failed to list VPCs: boom"

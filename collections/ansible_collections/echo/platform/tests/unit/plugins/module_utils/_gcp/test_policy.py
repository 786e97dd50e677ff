# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Policy merge logic and the etag read-modify-write loop (no network)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common.errors import GcpError
from ansible_collections.echo.platform.plugins.module_utils._gcp import policy as pol
from ansible_collections.echo.platform.plugins.module_utils._gcp.iam import ProjectIamService

ROLE = "roles/aiplatform.user"
SA = "serviceAccount:vertex-caller@p.iam.gserviceaccount.com"
COND = {"title": "until 2030", "expression": "request.time < timestamp('2030-01-01T00:00:00Z')"}


def base_policy():
    return {
        "version": 3,
        "etag": "BwA=",
        "bindings": [
            {"role": "roles/owner", "members": ["user:a@example.com"]},
            {"role": ROLE, "members": ["user:b@example.com"], "condition": COND},
        ],
        "auditConfigs": [{"service": "allServices", "auditLogConfigs": [{"logType": "DATA_READ"}]}],
    }


def test_add_creates_unconditional_binding_and_keeps_conditional_one():
    before = base_policy()
    changed, after = pol.desired_policy(before, ROLE, SA, "present")
    assert changed
    assert before == base_policy(), "input must not be mutated"
    assert {"role": ROLE, "members": [SA]} in after["bindings"]
    cond = [b for b in after["bindings"] if b.get("condition")]
    assert cond == [{"role": ROLE, "members": ["user:b@example.com"], "condition": COND}]
    assert after["etag"] == "BwA=" and after["auditConfigs"] == before["auditConfigs"]


def test_add_is_idempotent():
    once = pol.desired_policy(base_policy(), ROLE, SA, "present")[1]
    changed, twice = pol.desired_policy(once, ROLE, SA, "present")
    assert not changed and twice == once


def test_member_only_in_conditional_binding_is_not_present():
    policy = base_policy()
    assert not pol.has_member(policy, ROLE, "user:b@example.com")
    changed = pol.desired_policy(policy, ROLE, "user:b@example.com", "absent")[0]
    assert not changed


def test_add_appends_to_existing_binding():
    policy = {"bindings": [{"role": ROLE, "members": ["user:x@example.com"]}]}
    changed, after = pol.desired_policy(policy, ROLE, SA, "present")
    assert changed and after["bindings"] == [{"role": ROLE, "members": ["user:x@example.com", SA]}]


def test_remove_drops_empty_binding_but_keeps_others():
    with_sa = pol.desired_policy(base_policy(), ROLE, SA, "present")[1]
    changed, after = pol.desired_policy(with_sa, ROLE, SA, "absent")
    assert changed
    assert after["bindings"] == base_policy()["bindings"]


def test_remove_keeps_other_members():
    policy = {"bindings": [{"role": ROLE, "members": ["user:x@example.com", SA]}]}
    changed, after = pol.desired_policy(policy, ROLE, SA, "absent")
    assert changed and after["bindings"] == [{"role": ROLE, "members": ["user:x@example.com"]}]


def test_empty_policy():
    changed, after = pol.desired_policy({"etag": "ACAB"}, ROLE, SA, "present")
    assert changed and after == {"etag": "ACAB", "bindings": [{"role": ROLE, "members": [SA]}]}
    changed, after = pol.desired_policy({"etag": "ACAB"}, ROLE, SA, "absent")
    assert not changed


def test_binding_diff_and_body():
    before = base_policy()
    after = pol.desired_policy(before, ROLE, SA, "present")[1]
    assert pol.binding_diff(before, after, ROLE) == {
        "before": {"role": ROLE, "members": []}, "after": {"role": ROLE, "members": [SA]}}
    body = pol.set_policy_body(after)
    assert body["policy"]["version"] == 3 and body["updateMask"] == "bindings,etag,auditConfigs"
    assert pol.set_policy_body({"bindings": []})["updateMask"] == "bindings,etag"


@pytest.mark.parametrize("member", ["", "vertex@p.iam", "serviceaccount:x@y", "user:"])
def test_bad_member(member):
    assert pol.validate_member(member)


@pytest.mark.parametrize("member", [SA, "user:a@b.c", "group:g@b.c", "domain:b.c", "allUsers"])
def test_good_member(member):
    assert pol.validate_member(member) is None


def test_roles():
    assert pol.validate_role(ROLE) is None
    assert pol.validate_role("projects/p/roles/custom.role") is None
    assert pol.validate_role("aiplatform.user")


class FakeClient:
    """An in-memory project policy with etags; ``race`` runs once between our read and write."""

    def __init__(self, policy, race=None, fail=None):
        self.policy = policy
        self.etag = 1
        self.policy["etag"] = "e1"
        self.race = race
        self.fail = list(fail or [])
        self.writes = 0

    def call(self, method, url, body=None, what=None):
        if url.endswith(":getIamPolicy"):
            out = copy.deepcopy(self.policy)
            if self.race:
                race, self.race = self.race, None
                race(self)
            return out
        if self.fail:
            raise GcpError("boom", status=self.fail.pop(0))
        new = body["policy"]
        if new.get("etag") != self.policy["etag"]:
            raise GcpError("Failed to write IAM policy: HTTP 409 ABORTED", status=409)
        self.etag += 1
        new["etag"] = "e%d" % self.etag
        self.policy = copy.deepcopy(new)
        self.writes += 1
        return copy.deepcopy(new)

    def bump(self, role, member):
        self.policy = pol.desired_policy(self.policy, role, member, "present")[1]
        self.etag += 1
        self.policy["etag"] = "e%d" % self.etag


def service(client):
    return ProjectIamService(client, "p", sleep=lambda s: None, rand=lambda: 0.0)


def test_concurrent_writer_keeps_both_bindings():
    client = FakeClient({"bindings": []}, race=lambda c: c.bump("roles/viewer", "user:other@example.com"))
    changed, _before, after, conflicts = service(client).ensure(ROLE, SA, "present")
    assert changed and conflicts == 1
    assert pol.has_member(client.policy, ROLE, SA)
    assert pol.has_member(client.policy, "roles/viewer", "user:other@example.com")
    assert after["etag"] == client.policy["etag"]


def test_check_mode_writes_nothing():
    client = FakeClient({"bindings": []})
    changed, dummy, after, dummy2 = service(client).ensure(ROLE, SA, "present", check_mode=True)
    assert changed and client.writes == 0 and pol.has_member(after, ROLE, SA)


def test_412_is_retried_and_400_is_not():
    client = FakeClient({"bindings": []}, fail=[412])
    assert service(client).ensure(ROLE, SA, "present")[3] == 1
    client = FakeClient({"bindings": []}, fail=[400])
    with pytest.raises(GcpError):
        service(client).ensure(ROLE, SA, "present")


def test_gives_up_after_attempts():
    client = FakeClient({"bindings": []}, fail=[409] * 20)
    with pytest.raises(GcpError) as err:
        service(client).ensure(ROLE, SA, "present")
    assert err.value.status == 409

# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Project IAM policy service: etag read-modify-write of one member/role.

Private to the echo.platform collection. A concurrent writer makes setIamPolicy fail with 409
(ABORTED) or 412 (FAILED_PRECONDITION) on the stale etag; then the policy is read again and the
change re-applied to the fresh copy, so neither writer's bindings are lost.
"""

from __future__ import annotations

import random
import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import GcpError
from ansible_collections.echo.platform.plugins.module_utils._common.retry import RetryPolicy, backoff_delay
from ansible_collections.echo.platform.plugins.module_utils._gcp import policy as pol

CRM_URL = "https://cloudresourcemanager.googleapis.com/v1/projects/%s"
ETAG_CONFLICT = (409, 412)


class ProjectIamService:
    def __init__(self, client, project, conflict_policy=None, sleep=time.sleep, rand=random.random):
        self.client = client
        self.project = project
        self.conflict_policy = conflict_policy or RetryPolicy(attempts=8, base_delay=0.5, max_delay=8.0)
        self.sleep = sleep
        self.rand = rand

    def get_policy(self):
        return self.client.call("POST", (CRM_URL % self.project) + ":getIamPolicy",
                                {"options": {"requestedPolicyVersion": 3}},
                                what="read IAM policy of project %s" % self.project)

    def set_policy(self, policy):
        return self.client.call("POST", (CRM_URL % self.project) + ":setIamPolicy", pol.set_policy_body(policy),
                                what="write IAM policy of project %s" % self.project)

    def ensure(self, role, member, state, check_mode=False):
        """(changed, before policy, after policy, conflicts retried)."""
        conflicts = 0
        attempt = 0
        while True:
            attempt += 1
            before = self.get_policy()
            changed, after = pol.desired_policy(before, role, member, state)
            if not changed or check_mode:
                return changed, before, after, conflicts
            try:
                written = self.set_policy(after)
                return True, before, written, conflicts
            except GcpError as exc:
                if exc.status not in ETAG_CONFLICT or attempt >= self.conflict_policy.attempts:
                    raise
                conflicts += 1
                self.sleep(backoff_delay(attempt, self.conflict_policy, rand=self.rand))

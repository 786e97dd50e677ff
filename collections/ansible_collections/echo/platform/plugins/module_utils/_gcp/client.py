# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small REST client for Google APIs: JSON in, JSON out, GcpError on failure, retries on 429/5xx.

Private to the echo.platform collection. I/O only; no decisions about resources here.
"""

from __future__ import annotations

import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import GcpError
from ansible_collections.echo.platform.plugins.module_utils._common.retry import (
    RetryPolicy,
    call_with_retry,
    parse_retry_after,
)

try:
    import requests
    REQUESTS_ERRORS = (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
except ImportError:  # pragma: no cover
    REQUESTS_ERRORS = ()


def _reason(response):
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:300] or response.reason
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return "%s %s" % (err.get("status") or response.status_code, err.get("message") or "")
    return str(body)[:300]


class GcpClient:
    """Calls one Google API with an authorized session."""

    def __init__(self, session, policy=None, sleep=time.sleep, timeout=60):
        self.session = session
        self.policy = policy or RetryPolicy(attempts=6, base_delay=1.0, max_delay=20.0)
        self.sleep = sleep
        self.timeout = timeout

    def _once(self, method, url, body, what):
        try:
            response = self.session.request(method, url, json=body, timeout=self.timeout)
        except REQUESTS_ERRORS as exc:
            raise GcpError("Failed to %s: %s" % (what, type(exc).__name__))
        if response.status_code >= 400:
            raise GcpError("Failed to %s: HTTP %s %s" % (what, response.status_code, _reason(response)),
                           status=response.status_code,
                           retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if response.status_code == 204 or not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise GcpError("Failed to %s: the response is not JSON" % what, status=response.status_code)

    def call(self, method, url, body=None, what=None):
        """JSON result of ``method url``; retries throttling and transient errors."""
        what = what or "%s %s" % (method, url)
        return call_with_retry(lambda: self._once(method, url, body, what), self.policy, sleep=self.sleep)

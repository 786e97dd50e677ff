# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One error family for every echo.platform module.

Private to the echo.platform collection: no compatibility promise for other users.
Messages read "Failed to <verb> <kind> <id>: <reason>"; modules catch EchoError once in main().
"""

from __future__ import annotations


class EchoError(Exception):
    """Base error. ``status`` and ``body`` describe an API response when there was one."""

    def __init__(self, message, status=None, body=None, retry_after=None, result=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.retry_after = retry_after
        self.result = result or {}

    def __str__(self):
        return self.message

    def to_result(self):
        """Extra, non-secret fields for fail_json."""
        out = dict(self.result)
        if self.status is not None:
            out["status"] = self.status
        return out


class DoError(EchoError):
    """A DigitalOcean API or Spaces call failed."""


class GcpError(EchoError):
    """A Google Cloud API call failed."""


class LokiError(EchoError):
    """A Loki query failed."""


class SealedSecretsError(EchoError):
    """Sealing, merging or reading sealed secrets failed."""


class K8sError(EchoError):
    """A Kubernetes API call failed."""


class ValidationError(EchoError):
    """Bad input, detected before any change was made."""


class WaitTimeout(EchoError):
    """A wait ran out of time; ``last`` holds the last state seen."""

    def __init__(self, message, last=None, elapsed=None):
        super().__init__(message, result={"last_seen": last} if last is not None else None)
        self.last = last
        self.elapsed = elapsed


def failed_to(verb, kind, ident, reason):
    """Build the canonical message: 'Failed to <verb> <kind> <ident>: <reason>'."""
    target = kind if ident in (None, "") else "%s %s" % (kind, ident)
    return "Failed to %s %s: %s" % (verb, target, reason)

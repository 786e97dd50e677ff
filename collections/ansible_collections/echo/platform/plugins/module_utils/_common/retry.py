# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retry with jittered exponential backoff, shared by every API client of the collection.

Private to the echo.platform collection. Pure decisions (what to retry, how long to wait) are
separate from the loop, and the loop takes ``sleep``/``clock``/``rand`` so tests inject them.
Retried: 429, 5xx (500, 502, 503, 504) and connection-level failures. Never retried: other 4xx.
The wait is at least the server's Retry-After (seconds or HTTP date) and at most ``max_delay``
unless Retry-After asks for more, capped by ``max_retry_after``.
"""

from __future__ import annotations

import email.utils
import random
import time

RETRYABLE_STATUS = frozenset((429, 500, 502, 503, 504))


class RetryPolicy:
    """How many attempts and how long to wait between them."""

    def __init__(self, attempts=6, base_delay=0.5, factor=2.0, max_delay=30.0, jitter=True, max_retry_after=300.0):
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        self.attempts = attempts
        self.base_delay = base_delay
        self.factor = factor
        self.max_delay = max_delay
        self.jitter = jitter
        self.max_retry_after = max_retry_after


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/invalid."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
        return max(0.0, seconds)
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, parsed.timestamp() - now)


def is_retryable_status(status):
    """True for throttling and transient server errors."""
    return status in RETRYABLE_STATUS


def backoff_delay(attempt, policy, retry_after=None, rand=random.random):
    """Delay before retry number ``attempt`` (1-based), honouring Retry-After as a floor."""
    delay = min(policy.max_delay, policy.base_delay * (policy.factor ** (attempt - 1)))
    if policy.jitter:
        # "equal jitter": keep half, randomise the other half, so delays never collapse to zero
        delay = delay / 2.0 + rand() * delay / 2.0
    if retry_after is not None:
        delay = max(delay, min(float(retry_after), policy.max_retry_after))
    return delay


class RetryDecision:
    """What ``classify`` says about one failure."""

    __slots__ = ("retry", "retry_after")

    def __init__(self, retry, retry_after=None):
        self.retry = retry
        self.retry_after = retry_after


def default_classify(exc):
    """Retry on exceptions carrying a retryable ``status``, or connection-level errors without one."""
    status = getattr(exc, "status", None)
    if status is None:
        return RetryDecision(isinstance(exc, (ConnectionError, TimeoutError)))
    return RetryDecision(is_retryable_status(status), getattr(exc, "retry_after", None))


def call_with_retry(fn, policy=None, classify=default_classify, sleep=time.sleep, rand=random.random, on_retry=None):
    """Call ``fn()`` until it succeeds, a failure is not retryable, or attempts run out.

    ``classify(exc)`` returns a RetryDecision. ``on_retry(attempt, exc, delay)`` is called before
    each sleep (for counting or logging). The last exception is re-raised unchanged.
    """
    policy = policy or RetryPolicy()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except Exception as exc:  # pylint: disable=broad-except
            decision = classify(exc)
            if not decision.retry or attempt >= policy.attempts:
                raise
            delay = backoff_delay(attempt, policy, decision.retry_after, rand)
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            sleep(delay)

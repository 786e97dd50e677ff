from __future__ import annotations

import email.utils

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common import retry
from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError


def test_parse_retry_after_seconds_and_date():
    assert retry.parse_retry_after("7") == 7.0
    assert retry.parse_retry_after(" 0 ") == 0.0
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 42, usegmt=True)
    assert retry.parse_retry_after(date, now=now) == pytest.approx(42, abs=1)
    assert retry.parse_retry_after(email.utils.formatdate(now - 10, usegmt=True), now=now) == 0.0
    assert retry.parse_retry_after(None) is None
    assert retry.parse_retry_after("soon") is None


@pytest.mark.parametrize("status,expected", [(429, True), (500, True), (503, True), (400, False), (404, False), (422, False)])
def test_retryable_status(status, expected):
    assert retry.is_retryable_status(status) is expected


def test_backoff_grows_is_capped_and_honours_retry_after():
    policy = retry.RetryPolicy(base_delay=1, factor=2, max_delay=5, jitter=False)
    assert [retry.backoff_delay(n, policy) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 5, 5]
    assert retry.backoff_delay(1, policy, retry_after=12) == 12
    capped = retry.RetryPolicy(base_delay=1, jitter=False, max_retry_after=20)
    assert retry.backoff_delay(1, capped, retry_after=999) == 20


def test_jitter_keeps_at_least_half():
    policy = retry.RetryPolicy(base_delay=4, factor=1, jitter=True)
    assert retry.backoff_delay(1, policy, rand=lambda: 0.0) == 2
    assert retry.backoff_delay(1, policy, rand=lambda: 1.0) == 4


def test_call_with_retry_retries_transient_then_succeeds():
    calls, sleeps = [], []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise DoError("throttled", status=429, retry_after=3)
        return "ok"

    assert retry.call_with_retry(flaky, retry.RetryPolicy(jitter=False), sleep=sleeps.append) == "ok"
    assert len(calls) == 3
    assert sleeps == [3, 3]


def test_call_with_retry_never_retries_validation_errors():
    calls = []

    def bad():
        calls.append(1)
        raise DoError("invalid", status=422)

    with pytest.raises(DoError):
        retry.call_with_retry(bad, sleep=lambda s: None)
    assert len(calls) == 1


def test_call_with_retry_gives_up_after_attempts():
    calls = []

    def down():
        calls.append(1)
        raise DoError("unavailable", status=503)

    with pytest.raises(DoError):
        retry.call_with_retry(down, retry.RetryPolicy(attempts=4), sleep=lambda s: None)
    assert len(calls) == 4


def test_connection_errors_are_retried():
    assert retry.default_classify(ConnectionResetError()).retry is True
    assert retry.default_classify(ValueError()).retry is False

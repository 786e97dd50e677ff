# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one DigitalOcean API client of the collection, built on pydo's HTTP pipeline.

Private to the echo.platform collection. It fixes pydo's quirks in one place:

* bearer auth: azure-core's policy refuses ``http://`` URLs, so a small policy sets the header
  itself (the local emulator speaks plain HTTP on loopback);
* pydo's own retries are switched off; ours (``_common/retry.call_with_retry``) retry 429/5xx with
  backoff honouring ``Retry-After`` and DigitalOcean's ``ratelimit-reset``;
* a POST is retried only when the failure proves nothing was created: a 429, or a 5xx/lost
  response followed by a read (``probe``) that finds no such resource;
* reads return ``None`` on 404 (pydo returns the error body as if it were the resource);
* the kubeconfig is fetched raw (pydo's ``get_kubeconfig`` drops the YAML body);
* lists are followed page by page.
Every failure becomes one DoError: "Failed to <verb> <kind> <name>: <reason>".
"""

from __future__ import annotations

import json
import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to
from ansible_collections.echo.platform.plugins.module_utils._common.retry import (
    RetryDecision,
    RetryPolicy,
    call_with_retry,
    is_retryable_status,
    parse_retry_after,
)

try:
    import pydo
    from azure.core.exceptions import AzureError, ServiceRequestError
    from azure.core.pipeline.policies import SansIOHTTPPolicy
    from azure.core.rest import HttpRequest

    HAS_PYDO = True
    PYDO_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module
    HAS_PYDO = False
    PYDO_IMPORT_ERROR = exc
    SansIOHTTPPolicy = object

DEFAULT_API_URL = "https://api.digitalocean.com"
USER_AGENT = "echo.platform"


class BearerTokenPolicy(SansIOHTTPPolicy):
    """Authorization: Bearer <token>, for https and (loopback emulator) http URLs alike."""

    def __init__(self, token):
        super().__init__()
        self._token = token

    def on_request(self, request):
        request.http_request.headers["Authorization"] = "Bearer %s" % self._token


class _Retryable(Exception):
    """Internal: a failed attempt, with what the retry classifier needs to know."""

    def __init__(self, error, status, retry_after, method, connection=False):
        super().__init__(str(error))
        self.error = error
        self.status = status
        self.retry_after = retry_after
        self.method = method
        self.connection = connection


def retry_after_from_headers(headers, now=None):
    """Seconds to wait, from ``Retry-After`` or else (when exhausted) ``ratelimit-reset``; None if neither."""
    headers = dict((str(k).lower(), v) for k, v in (headers or {}).items())
    now = time.time() if now is None else now
    delay = parse_retry_after(headers.get("retry-after"), now=now)
    if delay is not None:
        return delay
    reset = headers.get("ratelimit-reset")
    remaining = headers.get("ratelimit-remaining")
    if reset is not None and (remaining is None or str(remaining).strip() == "0"):
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def should_retry(method, status, connection=False, created=None):
    """The retry decision for one failed attempt (pure).

    ``created`` is the result of the post-failure probe for a POST: True (it exists), False
    (proved absent) or None (no probe possible).
    """
    if status == 429:
        return True  # throttled requests are rejected before anything happens
    if not (connection or is_retryable_status(status)):
        return False
    if method != "POST":
        return True  # GET/PUT/PATCH/DELETE are idempotent
    return created is False


def error_reason(status, body):
    """Human reason from a DigitalOcean error body (id + message), never the whole body."""
    if isinstance(body, dict):
        message = body.get("message") or body.get("id")
        if message:
            return "%s (HTTP %s)" % (message, status)
    if isinstance(body, str) and body.strip():
        return "%s (HTTP %s)" % (body.strip()[:200], status)
    return "HTTP %s" % status


def next_page_url(body):
    """The ``links.pages.next`` URL of a list response, or None."""
    links = (body or {}).get("links") or {}
    pages = links.get("pages") or {}
    return pages.get("next") if isinstance(pages, dict) else None


class DoClient:
    """Thin I/O layer: ``request`` + ``get`` (None on 404) + ``list_all`` + ``kubeconfig``."""

    def __init__(self, api_url=DEFAULT_API_URL, token=None, timeout=60, policy=None, sleep=time.sleep,
                 transport=None, on_request=None):
        if not HAS_PYDO:
            raise DoError("Failed to load the DigitalOcean client: the pydo Python package is required (%s)"
                          % PYDO_IMPORT_ERROR)
        if not token:
            raise DoError("Failed to authenticate to DigitalOcean: no API token. Set api_token "
                          "or the DIGITALOCEAN_TOKEN (or DO_API_TOKEN) environment variable.")
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")
        self.policy = policy or RetryPolicy(attempts=8, base_delay=0.5, max_delay=20.0, max_retry_after=120.0)
        self.sleep = sleep
        self.requests = 0
        self.on_request = on_request
        kwargs = dict(endpoint=self.api_url, authentication_policy=BearerTokenPolicy(token), retry_total=0,
                      connection_timeout=timeout, read_timeout=timeout, user_agent=USER_AGENT)
        if transport is not None:
            kwargs["transport"] = transport
        self._pydo = pydo.Client(token, **kwargs)

    # ---- one attempt ----------------------------------------------------------------------------
    def _send_once(self, method, path, body, params, what):
        url = path if path.startswith("http") else self.api_url + path
        req = HttpRequest(method, url, params=params or None,
                          json=body if body is not None else None,
                          headers={"Accept": "application/json"})
        self.requests += 1
        if self.on_request is not None:
            self.on_request(method, path)
        try:
            # stream=True: pydo's ContentDecodePolicy must not parse bodies (it chokes on the YAML kubeconfig)
            resp = self._pydo.send_request(req, stream=True)
            resp.read()
        except ServiceRequestError as exc:  # never reached the server: always safe to retry
            raise _Retryable(DoError(failed_to(*what, reason="connection failed: %s" % exc)), None, None, "GET", True)
        except AzureError as exc:  # sent, but no (complete) answer: like a 5xx
            raise _Retryable(DoError(failed_to(*what, reason="no response: %s" % exc)), None, None, method, True)
        status = resp.status_code
        text = resp.text() if resp.content else ""
        data = None
        if text:
            ctype = resp.headers.get("Content-Type", "")
            if "json" in ctype:
                try:
                    data = json.loads(text)
                except ValueError:
                    data = text
            else:
                data = text
        if status >= 400:
            headers = dict(resp.headers.items())
            retry_after = retry_after_from_headers(headers)
            err = DoError(failed_to(*what, reason=error_reason(status, data)), status=status, retry_after=retry_after)
            raise _Retryable(err, status, retry_after, method)
        return status, data

    # ---- the public call ------------------------------------------------------------------------
    def request(self, method, path, body=None, params=None, verb="call", kind="resource", name=None,
                probe=None, missing_ok=False):
        """Return the decoded body (or None). ``probe()`` (POST only) reads the resource after a failure.

        A 404 returns None when ``missing_ok`` (reads and deletes); otherwise it raises DoError.
        """
        what = (verb, kind, name)
        found = {}

        def classify(exc):
            if not isinstance(exc, _Retryable):
                return RetryDecision(False)
            created = None
            if method == "POST" and exc.status != 429 and (exc.connection or is_retryable_status(exc.status)) \
                    and probe is not None:
                existing = probe()
                created = existing is not None
                if created:
                    found["value"] = existing
            return RetryDecision(should_retry(method, exc.status, exc.connection, created), exc.retry_after)

        try:
            return call_with_retry(lambda: self._send_once(method, path, body, params, what)[1],
                                   policy=self.policy, classify=classify, sleep=self.sleep)
        except _Retryable as exc:
            if "value" in found:
                return found["value"]  # the failed POST did create it
            if exc.status == 404 and missing_ok:
                return None
            raise exc.error

    def get(self, path, kind, name=None, params=None):
        """GET one resource; None when it does not exist."""
        return self.request("GET", path, params=params, verb="read", kind=kind, name=name, missing_ok=True)

    def delete(self, path, kind, name=None):
        """DELETE (retried: it is idempotent); a resource that is already gone is not an error."""
        self.request("DELETE", path, verb="delete", kind=kind, name=name, missing_ok=True)

    def list_all(self, path, key, kind, params=None, per_page=200):
        """Every item of a paginated list (follows ``links.pages.next``)."""
        params = dict(params or {})
        params.setdefault("per_page", per_page)
        params.setdefault("page", 1)
        items = []
        while True:
            body = self.request("GET", path, params=params, verb="list", kind=kind) or {}
            chunk = body.get(key) or []
            items.extend(chunk)
            total = ((body.get("meta") or {}).get("total"))
            if not next_page_url(body) or not chunk or (total is not None and len(items) >= total):
                return items
            params["page"] = int(params["page"]) + 1

    def kubeconfig(self, cluster_id, name=None, expiry_seconds=0):
        """The cluster's kubeconfig YAML (raw GET: pydo's get_kubeconfig returns None for 200)."""
        params = {"expiry_seconds": expiry_seconds} if expiry_seconds else None
        text = self.request("GET", "/v2/kubernetes/clusters/%s/kubeconfig" % cluster_id, params=params,
                            verb="fetch the kubeconfig of", kind="Kubernetes cluster", name=name or cluster_id)
        if not isinstance(text, str) or "apiVersion" not in text:
            raise DoError(failed_to("fetch the kubeconfig of", "Kubernetes cluster", name or cluster_id,
                                    "the API returned no kubeconfig"))
        return text

# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP client of the Loki API: direct URL or the Kubernetes API server's service proxy.

Private to the echo.platform collection. I/O and retries only: every call goes through
``_common.retry.call_with_retry`` (429, 5xx, timeouts and connection errors; Retry-After honoured).
One requests.Session per thread, so export workers can share one client.
"""

from __future__ import annotations

import threading
import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import EchoError, LokiError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._common import retry as retry_mod
from ansible_collections.echo.platform.plugins.module_utils._k8s import client as k8s

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc


def service_proxy_path(namespace, service, port, scheme=None):
    """The API server's proxy path to the Loki Service (see ``_k8s.client.service_proxy_path``)."""
    for kind, value in (("namespace", namespace), ("service", service)):
        if not value:
            raise ValidationError("The Loki %s is empty: set service_%s (or url for a direct connection)" % (kind, kind))
    return k8s.service_proxy_path(namespace, service, port, scheme=scheme)


def kube_connection(kubeconfig=None, context=None):
    """The API server's base URL and requests settings from a kubeconfig (``_k8s.client.http_settings``)."""
    if not k8s.HAS_KUBERNETES:
        raise LokiError("The Kubernetes service proxy needs the 'kubernetes' Python package: %s" % k8s.KUBERNETES_IMPORT_ERROR)
    try:
        return k8s.http_settings(kubeconfig=kubeconfig or None, context=context or None)
    except EchoError as exc:
        raise LokiError(str(exc))


class _HttpFailure(LokiError):
    """A retryable-or-not failure of one request (status None = connection/timeout)."""

    def __init__(self, message, status=None, body=None, retry_after=None, transient=False):
        super().__init__(message, status=status, body=body, retry_after=retry_after)
        self.transient = transient


def _classify(exc):
    if isinstance(exc, _HttpFailure):
        if exc.status is None:
            return retry_mod.RetryDecision(exc.transient)
        return retry_mod.RetryDecision(retry_mod.is_retryable_status(exc.status), exc.retry_after)
    return retry_mod.RetryDecision(False)


class LokiClient:
    """GET/POST against Loki with retries. ``conn`` is the dict of loki_connection options."""

    def __init__(self, conn, policy=None, sleep=time.sleep, on_retry=None):
        if not HAS_REQUESTS:
            raise LokiError("The 'requests' Python package is required: %s" % REQUESTS_IMPORT_ERROR)
        self.conn = conn
        self.timeout = float(conn.get("timeout") or 60)
        self.policy = policy or retry_mod.RetryPolicy(attempts=max(1, int(conn.get("retries", 5)) + 1), max_delay=20.0)
        self.sleep = sleep
        self.on_retry = on_retry
        self.retries = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self.secrets = []
        url = (conn.get("url") or "").strip()
        headers = {}
        auth = None
        if conn.get("username"):
            auth = (conn["username"], conn.get("password") or "")
            if conn.get("password"):
                self.secrets.append(conn["password"])
        if conn.get("bearer_token"):
            headers["Authorization"] = "Bearer %s" % conn["bearer_token"]
            self.secrets.append(conn["bearer_token"])
        if auth and conn.get("bearer_token"):
            raise ValidationError("Set either username/password or bearer_token for Loki, not both")
        verify = conn.get("ca_path") or conn.get("validate_certs", True)
        cert = None
        if url:
            if not url.startswith(("http://", "https://")):
                raise ValidationError("Invalid Loki url %r: it must start with http:// or https://" % url)
            self.base = url.rstrip("/")
            self.via = "url"
        else:
            if auth or conn.get("bearer_token"):
                raise ValidationError(
                    "Loki username/password/bearer_token only apply to a direct url; through the Kubernetes "
                    "service proxy the kubeconfig's credentials are used"
                )
            kube = kube_connection(conn.get("kubeconfig"), conn.get("context"))
            self.secrets.extend(kube["secrets"])
            headers.update(kube["headers"])
            auth = kube["auth"]
            verify = conn.get("ca_path") or kube["verify"]
            cert = kube["cert"]
            self.base = kube["base"] + service_proxy_path(
                conn.get("namespace"), conn.get("service"), conn.get("port"), conn.get("service_scheme"))
            self.via = "service_proxy"
        self._headers = headers
        self._auth = auth
        self._verify = verify
        self._cert = cert

    def _session(self):
        sess = getattr(self._local, "session", None)
        if sess is None:
            sess = requests.Session()
            sess.headers.update(self._headers)
            sess.headers["Accept-Encoding"] = "gzip"
            sess.auth = self._auth
            sess.verify = self._verify
            sess.cert = self._cert
            self._local.session = sess
        return sess

    def _note_retry(self, attempt, exc, delay):
        with self._lock:
            self.retries += 1
        if self.on_retry is not None:
            self.on_retry(attempt, exc, delay)

    def _once(self, path, params):
        url = self.base + path
        try:
            # verify/cert per request: requests lets REQUESTS_CA_BUNDLE override a Session-level verify
            resp = self._session().get(url, params=params, timeout=self.timeout, verify=self._verify, cert=self._cert)
        except requests.exceptions.Timeout as exc:
            raise _HttpFailure("Failed to query Loki at %s: timed out (%s)" % (url, type(exc).__name__), transient=True)
        except requests.exceptions.SSLError as exc:
            raise _HttpFailure("Failed to query Loki at %s: TLS error: %s" % (url, exc), transient=False)
        except requests.exceptions.ConnectionError as exc:
            raise _HttpFailure("Failed to query Loki at %s: cannot connect (%s)" % (url, _short(exc)), transient=True)
        if resp.status_code != 200:
            body = resp.text[:500].strip()
            raise _HttpFailure(
                "Failed to query Loki at %s: HTTP %d: %s" % (url, resp.status_code, body or resp.reason),
                status=resp.status_code, body=body,
                retry_after=retry_mod.parse_retry_after(resp.headers.get("Retry-After")))
        try:
            doc = resp.json()
        except ValueError:
            raise _HttpFailure("Failed to query Loki at %s: the answer is not JSON: %r" % (url, resp.text[:200]))
        if isinstance(doc, dict) and doc.get("status") not in (None, "success"):
            raise _HttpFailure("Failed to query Loki at %s: %s" % (url, doc.get("error") or doc))
        return doc

    def get(self, path, params=None):
        """GET ``path`` (JSON answer) with retries; raises LokiError with the last failure."""
        try:
            return retry_mod.call_with_retry(lambda: self._once(path, params), policy=self.policy,
                                             classify=_classify, sleep=self.sleep, on_retry=self._note_retry)
        except _HttpFailure as exc:
            raise LokiError(exc.message, status=exc.status, body=exc.body)

    def query_range(self, query, start_ns, end_ns, limit, direction="forward"):
        doc = self.get("/loki/api/v1/query_range", {
            "query": query, "start": str(start_ns), "end": str(end_ns), "limit": str(limit), "direction": direction})
        return doc.get("data") or {}

    def series(self, match, start_ns, end_ns):
        doc = self.get("/loki/api/v1/series", {"match[]": match, "start": str(start_ns), "end": str(end_ns)})
        return doc.get("data") or []


def _short(exc):
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."

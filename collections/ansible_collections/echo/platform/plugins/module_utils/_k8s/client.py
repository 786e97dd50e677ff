# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small Kubernetes API client: raw GETs, Secrets, and service-proxy reads (no port-forward).

Private to the echo.platform collection. Built on the official ``kubernetes`` client's ApiClient so
kubeconfig contexts, tokens and client certificates work as in kubernetes.core.
"""

from __future__ import annotations

import base64
import json

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore

from ansible_collections.echo.platform.plugins.module_utils._common.errors import K8sError, failed_to

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.exceptions import ApiException
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the modules
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = exc


def service_proxy_path(namespace, service, port, path="", scheme=None):
    """API path of the API server's proxy to a Service: /api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy[/PATH].

    ``port`` is a number or a port name (empty: the Service's only port); ``scheme`` (http/https) when the
    Service speaks TLS."""
    name = "%s:%s" % (service, port) if port not in (None, "") else str(service)
    if scheme:
        name = "%s:%s" % (scheme, name)
    base = "/api/v1/namespaces/%s/services/%s/proxy" % (quote(str(namespace), safe=""), quote(name, safe=":"))
    return base + ("/" + path.lstrip("/") if path else "")


def decode_secret_data(secret):
    """{key: str value} from a Secret object's base64 ``data`` (and plain ``stringData``)."""
    out = {}
    for key, val in ((secret or {}).get("data") or {}).items():
        raw = base64.b64decode(val or "")
        try:
            out[key] = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise K8sError("Secret key %s holds binary data; only UTF-8 text values are supported" % key)
    out.update((secret or {}).get("stringData") or {})
    return out


def build_configuration(kubeconfig=None, context=None, host=None, api_key=None, validate_certs=None,
                        ca_cert=None, **_ignored):
    """A kubernetes.client.Configuration from kubernetes.core-style options."""
    cfg = k8s_client.Configuration()
    if host and not kubeconfig:
        cfg.host = host
        if api_key:
            cfg.api_key = {"authorization": "Bearer %s" % api_key}
    else:
        try:
            k8s_config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=cfg)
        except Exception as exc:  # kubernetes raises ConfigException, IOError, TypeError...
            raise K8sError(failed_to("load", "kubeconfig", kubeconfig or "(default)", exc))
        if host:
            cfg.host = host
        if api_key:
            cfg.api_key = {"authorization": "Bearer %s" % api_key}
    if validate_certs is not None:
        cfg.verify_ssl = validate_certs
    if ca_cert:
        cfg.ssl_ca_cert = ca_cert
    cfg.retries = 1
    return cfg


def http_settings(**auth):
    """How to reach the API server with a plain HTTP library (requests): base URL, headers, basic auth,
    TLS verification and client certificate, from the same kubernetes.core-style options as ``K8sClient``.
    ``secrets`` lists the credential strings, for the caller to keep out of its output."""
    cfg = build_configuration(**auth)
    headers = {}
    token = (cfg.api_key or {}).get("authorization") or (cfg.api_key or {}).get("BearerToken")
    if token:
        prefix = (cfg.api_key_prefix or {}).get("authorization")
        headers["Authorization"] = ("%s %s" % (prefix, token)) if prefix and not token.startswith(prefix) else token
    basic = (cfg.username, cfg.password) if cfg.username and cfg.password else None
    verify = (cfg.ssl_ca_cert or True) if cfg.verify_ssl else False
    cert = (cfg.cert_file, cfg.key_file) if cfg.cert_file else None
    return {"base": cfg.host.rstrip("/"), "headers": headers, "auth": basic, "verify": verify, "cert": cert,
            "secrets": [v for v in (token, token and token.split(" ", 1)[-1], cfg.password) if v]}


class K8sClient:
    """GET-only helper around ApiClient; every failure becomes a K8sError."""

    def __init__(self, request_timeout=30, api_client=None, **auth):
        self.timeout = request_timeout or 30
        self.api = api_client or k8s_client.ApiClient(build_configuration(**auth))

    def request(self, method, path, body=None, content_type="application/json", accept="application/json"):
        """Return (status, bytes); 404 is returned, other errors raise K8sError."""
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            resp = self.api.call_api(path, method, header_params=headers, body=body,
                                     auth_settings=["BearerToken"], _preload_content=False,
                                     _request_timeout=self.timeout, _return_http_data_only=False)
        except ApiException as exc:
            if exc.status == 404:
                return 404, exc.body or b""
            reason = _api_reason(exc)
            raise K8sError(failed_to(method.lower(), "path", path, reason), status=exc.status)
        except Exception as exc:  # urllib3 connection errors and timeouts
            why = "Kubernetes API unreachable at %s (%s)" % (self.api.configuration.host, type(exc).__name__)
            raise K8sError(failed_to(method.lower(), "path", path, why))
        if isinstance(resp, tuple):
            resp = resp[0]
        return resp.status, resp.data

    def get_json(self, path):
        status, data = self.request("GET", path)
        if status == 404:
            return None
        return json.loads(data)

    def get_secret(self, namespace, name):
        """The Secret object or None."""
        return self.get_json("/api/v1/namespaces/%s/secrets/%s" % (namespace, name))

    def get_sealed_secret(self, namespace, name):
        return self.get_json("/apis/bitnami.com/v1alpha1/namespaces/%s/sealedsecrets/%s" % (namespace, name))

    def service_proxy_get(self, namespace, service, port, path, accept="*/*"):
        """Body of GET ``path`` on the Service, through the API server proxy."""
        full = service_proxy_path(namespace, service, port, path)
        status, data = self.request("GET", full, accept=accept)
        if status == 404:
            raise K8sError(failed_to("read", "service", "%s/%s:%s" % (namespace, service, port),
                                     "404 from the service proxy for %s (is the Service there and running?)" % path),
                           status=404)
        return data


def _api_reason(exc):
    try:
        body = json.loads(exc.body)
        return "%s %s" % (exc.status, body.get("message") or body)
    except (TypeError, ValueError, AttributeError):
        return "%s %s" % (exc.status, exc.reason)

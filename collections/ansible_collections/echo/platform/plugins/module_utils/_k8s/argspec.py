# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubernetes connection options (names as in kubernetes.core); mirrors doc fragment echo.platform.k8s_auth.

Private to the echo.platform collection.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

K8S_AUTH_ARG_SPEC = dict(
    kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"])),
    context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
    host=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_HOST"])),
    api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["K8S_AUTH_API_KEY"])),
    validate_certs=dict(type="bool", aliases=["verify_ssl"]),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"], fallback=(env_fallback, ["K8S_AUTH_SSL_CA_CERT"])),
    request_timeout=dict(type="int", default=30),
)

K8S_AUTH_KEYS = tuple(K8S_AUTH_ARG_SPEC)


def auth_params(params):
    """The connection options from a module's params (or a target dict)."""
    return dict((k, params.get(k)) for k in K8S_AUTH_KEYS)

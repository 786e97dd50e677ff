# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection of the Kubernetes modules, in the collection's one shape: ``ARG_SPEC`` (the options, names as in
kubernetes.core; doc fragment echo.platform.k8s_auth) and ``client_from_module(module)``.

Private to the echo.platform collection.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

ARG_SPEC = dict(
    kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG"])),
    context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
    host=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_HOST"])),
    api_key=dict(type="str", no_log=True, fallback=(env_fallback, ["K8S_AUTH_API_KEY"])),
    validate_certs=dict(type="bool", aliases=["verify_ssl"]),
    ca_cert=dict(type="path", aliases=["ssl_ca_cert"], fallback=(env_fallback, ["K8S_AUTH_SSL_CA_CERT"])),
    request_timeout=dict(type="int", default=30),
)

K8S_AUTH_KEYS = tuple(ARG_SPEC)


def auth_params(params):
    """The connection options from a module's params (or a target dict)."""
    return dict((k, params.get(k)) for k in K8S_AUTH_KEYS)


def client_from_options(options):
    """A K8sClient for connection options given as a dict (a module's params, or one target of several)."""
    from ansible_collections.echo.platform.plugins.module_utils._k8s.client import K8sClient

    return K8sClient(**auth_params(options))


def client_from_module(module):
    """A K8sClient for the module's connection options."""
    return client_from_options(module.params)

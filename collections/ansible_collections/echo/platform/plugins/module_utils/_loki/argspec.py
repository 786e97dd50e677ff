# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection of the Loki modules, in the collection's one shape: ``ARG_SPEC`` (the options; doc fragment
echo.platform.loki_connection) and ``client_from_module(module)``. Through the Kubernetes service proxy, the API
server is reached with the ``_k8s`` package's settings.

Private to the echo.platform collection.
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

ARG_SPEC = dict(
    url=dict(type="str", fallback=(env_fallback, ["LOKI_URL"])),
    kubeconfig=dict(type="path", fallback=(env_fallback, ["K8S_AUTH_KUBECONFIG", "KUBECONFIG"])),
    context=dict(type="str", fallback=(env_fallback, ["K8S_AUTH_CONTEXT"])),
    service_namespace=dict(type="str", default="monitoring"),
    service_name=dict(type="str", default="loki"),
    service_port=dict(type="str", default="3100"),
    username=dict(type="str", fallback=(env_fallback, ["LOKI_USERNAME"])),
    password=dict(type="str", no_log=True, fallback=(env_fallback, ["LOKI_PASSWORD"])),
    bearer_token=dict(type="str", no_log=True, fallback=(env_fallback, ["LOKI_BEARER_TOKEN"])),
    ca_path=dict(type="path"),
    validate_certs=dict(type="bool", default=True),
    timeout=dict(type="int", default=60),
    retries=dict(type="int", default=5),
)


def connection_from_params(params):
    """The dict LokiClient takes, from module parameters."""
    return dict(
        url=params.get("url"),
        kubeconfig=params.get("kubeconfig"),
        context=params.get("context"),
        namespace=params.get("service_namespace"),
        service=params.get("service_name"),
        port=params.get("service_port"),
        username=params.get("username"),
        password=params.get("password"),
        bearer_token=params.get("bearer_token"),
        ca_path=params.get("ca_path"),
        validate_certs=params.get("validate_certs", True),
        timeout=params.get("timeout") or 60,
        retries=params.get("retries") if params.get("retries") is not None else 5,
    )


def client_from_module(module):
    """A LokiClient for the module's connection options; its credentials become the module's no-log values."""
    from ansible_collections.echo.platform.plugins.module_utils._loki.client import LokiClient

    client = LokiClient(connection_from_params(module.params))
    for secret in client.secrets:
        module.add_secret(secret)
    return client

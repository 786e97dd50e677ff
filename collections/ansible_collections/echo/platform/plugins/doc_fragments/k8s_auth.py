# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options of plugins/module_utils/_k8s/argspec.py ARG_SPEC (names as in kubernetes.core)
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of a kubeconfig file. If not set (and O(host) is not set either), the E(K8S_AUTH_KUBECONFIG)
        environment variable, then E(KUBECONFIG), then C(~/.kube/config) are used.
    type: path
  context:
    description:
      - The kubeconfig context to use. If not set, the value of E(K8S_AUTH_CONTEXT), else the current context.
    type: str
  host:
    description:
      - URL of the Kubernetes API server, instead of (or overriding) the kubeconfig's.
      - If not set, the value of the E(K8S_AUTH_HOST) environment variable is used.
    type: str
  api_key:
    description:
      - Bearer token for the API server. If not set, the value of E(K8S_AUTH_API_KEY) is used.
    type: str
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate. Default is the kubeconfig's setting.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path of a CA bundle for the API server. If not set, the value of E(K8S_AUTH_SSL_CA_CERT) is used.
    type: path
    aliases: [ssl_ca_cert]
  request_timeout:
    description:
      - Seconds to wait for each API response.
    type: int
    default: 30
requirements:
  - kubernetes (Python client)
"""

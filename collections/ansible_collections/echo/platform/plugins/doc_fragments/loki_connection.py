# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options of plugins/module_utils/_loki/argspec.py ARG_SPEC
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Loki HTTP API, for example V(http://127.0.0.1:3100).
      - When empty, Loki is reached through the Kubernetes API server's service proxy
        (C(/api/v1/namespaces/NS/services/NAME:PORT/proxy)) with the credentials of O(kubeconfig), so no
        port-forward is needed.
      - If not set, the value of the E(LOKI_URL) environment variable is used.
    type: str
  kubeconfig:
    description:
      - Path of the kubeconfig used for the service proxy when O(url) is empty.
      - If not set, E(K8S_AUTH_KUBECONFIG) or E(KUBECONFIG) is used, then C(~/.kube/config).
    type: path
  context:
    description:
      - Kubeconfig context for the service proxy; the current context when not set.
      - If not set, the value of the E(K8S_AUTH_CONTEXT) environment variable is used.
    type: str
  service_namespace:
    description:
      - Namespace of the Loki Service, for the service proxy.
    type: str
    default: monitoring
  service_name:
    description:
      - Name of the Loki Service, for the service proxy.
    type: str
    default: loki
  service_port:
    description:
      - Port (number or name) of the Loki Service, for the service proxy.
    type: str
    default: "3100"
  username:
    description:
      - User name for HTTP basic authentication against O(url).
      - If not set, the value of the E(LOKI_USERNAME) environment variable is used.
    type: str
  password:
    description:
      - Password for HTTP basic authentication against O(url).
      - If not set, the value of the E(LOKI_PASSWORD) environment variable is used.
    type: str
  bearer_token:
    description:
      - Bearer token sent to O(url) (mutually exclusive with O(username)/O(password)).
      - If not set, the value of the E(LOKI_BEARER_TOKEN) environment variable is used.
    type: str
  ca_path:
    description:
      - PEM file of the certificate authority that signed Loki's (or the API server's) TLS certificate.
    type: path
  validate_certs:
    description:
      - Whether to verify TLS certificates.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for one HTTP answer.
    type: int
    default: 60
  retries:
    description:
      - How many times one request is retried on 429, 5xx, timeouts and connection errors, with jittered
        exponential backoff that waits at least the server's C(Retry-After).
    type: int
    default: 5
"""

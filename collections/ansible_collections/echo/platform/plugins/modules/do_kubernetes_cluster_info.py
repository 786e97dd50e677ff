#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: do_kubernetes_cluster_info
short_description: Find a DigitalOcean Kubernetes (DOKS) cluster by name and optionally fetch a fresh kubeconfig
version_added: 0.2.0
description:
  - Looks up the cluster O(name) and returns its id, status and endpoint; RV(exists) is false when there is none.
  - With O(return_kubeconfig=true) it also fetches a new kubeconfig through the DigitalOcean API (the ones DOKS hands
    out expire after 7 days). The kubeconfig holds a bearer token, so register the result under C(no_log) and write it
    with mode C(0600). Nothing changes, so the module always reports unchanged.
author:
  - echo.platform maintainers (@dembrane)
options:
  name:
    description:
      - Cluster name (unique in the account).
    type: str
    required: true
  return_kubeconfig:
    description:
      - Fetch and return the cluster's kubeconfig in RV(kubeconfig) (only when the cluster is running).
    type: bool
    default: false
  expiry_seconds:
    description:
      - Lifetime of the kubeconfig's token in seconds; V(0) keeps DigitalOcean's default (7 days).
    type: int
    default: 0
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.attributes
  - echo.platform.attributes.INFO_MODULE
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Fetch a fresh kubeconfig for the prod cluster
  echo.platform.do_kubernetes_cluster_info:
    name: dbr-echo-prod-k8s
    return_kubeconfig: true
  register: cluster
  no_log: true

- name: Keep it private
  ansible.builtin.copy:
    content: "{{ cluster.kubeconfig }}"
    dest: .state/prod/kubeconfig
    mode: "0600"
  no_log: true
  when: cluster.kubeconfig | default('') | length > 0
"""

RETURN = r"""
exists:
  description: Whether a cluster of that name exists.
  returned: always
  type: bool
  sample: true
id:
  description: Cluster id.
  returned: when RV(exists)
  type: str
  sample: bd5f5959-5e1e-4205-a714-a914373942af
status:
  description: Cluster state (V(running), V(provisioning), ...).
  returned: when RV(exists)
  type: str
  sample: running
endpoint:
  description: API server URL.
  returned: when RV(exists)
  type: str
  sample: https://bd5f5959.k8s.ondigitalocean.com
kubeconfig:
  description: The kubeconfig YAML (secret; only with O(return_kubeconfig) and a running cluster, else empty).
  returned: always
  type: str
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.cluster import cluster_result, find_cluster


def run(client, params):
    cur = find_cluster(client, params["name"])
    if cur is None:
        return dict(changed=False, exists=False, kubeconfig="")
    res = cluster_result(cur)
    out = dict(changed=False, exists=True, id=res.get("id"), status=res.get("status"), endpoint=res.get("endpoint"),
               kubeconfig="")
    if params["return_kubeconfig"] and res.get("status") == "running":
        out["kubeconfig"] = client.kubeconfig(cur["id"], params["name"], expiry_seconds=params["expiry_seconds"])
    return out


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        return_kubeconfig=dict(type="bool", default=False),
        expiry_seconds=dict(type="int", default=0),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC], supports_check_mode=True)
    # the kubeconfig is returned on purpose (return_kubeconfig); the calling task carries no_log
    module.run(lambda: run(do_connection.client_from_module(module), module.params))


if __name__ == "__main__":
    main()

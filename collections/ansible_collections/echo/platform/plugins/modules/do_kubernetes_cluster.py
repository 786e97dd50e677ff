#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_kubernetes_cluster
short_description: Manage a DigitalOcean Kubernetes (DOKS) cluster and its node pools
version_added: 0.1.0
description:
  - Create, update or delete a DOKS cluster, found by name.
  - Node pools are matched by name and changed in place (count, autoscale range, tags); missing pools are added.
    The cluster is never recreated. Region, VPC and a pool's droplet size cannot change in place; a difference
    fails with a message. A version difference is reported as a warning (upgrades are not done by this module).
  - Optionally writes the cluster's kubeconfig to O(kubeconfig_path) with mode C(0600); the kubeconfig
    content is never returned.
author:
  - echo.platform maintainers (@dembrane)
options:
  name:
    description:
      - Cluster name (unique in the account).
    type: str
    required: true
  state:
    description:
      - Whether the cluster should exist. V(absent) deletes the cluster and its node pools.
    type: str
    choices: [present, absent]
    default: present
  region:
    description:
      - Region slug, for example V(ams3). Required when O(state=present).
    type: str
  version:
    description:
      - Kubernetes version slug, for example V(1.34.4-do.0). Required when O(state=present).
    type: str
  vpc_uuid:
    description:
      - UUID of the VPC the cluster joins (see M(echo.platform.do_vpc)).
    type: str
  tags:
    description:
      - Cluster tags. Tags DOKS adds by itself (V(k8s), V(k8s:<id>)) are ignored when comparing.
    type: list
    elements: str
  auto_upgrade:
    description:
      - Whether patch upgrades are applied automatically in the maintenance window.
    type: bool
  surge_upgrade:
    description:
      - Whether upgrades create new nodes before draining old ones.
    type: bool
  ha:
    description:
      - Whether the control plane is highly available.
    type: bool
  node_pools:
    description:
      - Node pools of the cluster. Required when O(state=present).
    type: list
    elements: dict
    suboptions:
      name:
        description: Pool name (unique within the cluster).
        type: str
        required: true
      size:
        description: Droplet size slug, for example V(s-4vcpu-8gb).
        type: str
        required: true
      count:
        description:
          - Number of nodes. With O(node_pools[].auto_scale=true) it defaults to O(node_pools[].min_nodes) at creation
            and the autoscaler's current count is kept when it is within the range.
        type: int
      auto_scale:
        description: Whether the pool autoscales between O(node_pools[].min_nodes) and O(node_pools[].max_nodes).
        type: bool
        default: false
      min_nodes:
        description: Smallest autoscaled node count.
        type: int
      max_nodes:
        description: Largest autoscaled node count.
        type: int
      tags:
        description: Tags of the pool's droplets.
        type: list
        elements: str
  purge_node_pools:
    description:
      - Delete node pools that are not listed in O(node_pools). Off by default, so pools made elsewhere survive.
    type: bool
    default: false
  kubeconfig_path:
    description:
      - Write the cluster's kubeconfig to this path (mode C(0600)) once the cluster is running.
      - The file is rewritten only when its content differs (this counts as a change).
    type: path
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.wait
  - echo.platform.attributes
  - echo.platform.attributes.FULL
  - echo.platform.attributes.DO_ACTION_GROUP
"""

EXAMPLES = r"""
- name: Ensure the environment's cluster and write its kubeconfig
  echo.platform.do_kubernetes_cluster:
    name: dbr-echo-dev-k8s-cluster
    region: ams3
    version: 1.34.4-do.0
    vpc_uuid: "{{ vpc.vpc.id }}"
    tags: [dbr-echo, dev]
    node_pools:
      - name: default-pool
        size: s-4vcpu-8gb
        auto_scale: true
        min_nodes: 1
        max_nodes: 3
        tags: [dbr-echo, dev]
    kubeconfig_path: "{{ echo_state_dir }}/kubeconfig"
    wait_timeout: 1800
  register: cluster

- name: Start creating a cluster without waiting (poll later with async_status or a second run)
  echo.platform.do_kubernetes_cluster:
    name: dbr-echo-testing-k8s-cluster
    region: ams3
    version: 1.34.4-do.0
    node_pools:
      - {name: default-pool, size: s-4vcpu-8gb, auto_scale: true, min_nodes: 2, max_nodes: 4}
    wait: false
"""

RETURN = r"""
id:
  description: Cluster UUID (null in check mode before creation).
  returned: when O(state=present)
  type: str
  sample: bd5f5959-5e1e-4205-a714-a914373942af
endpoint:
  description: URL of the cluster's Kubernetes API.
  returned: when O(state=present)
  type: str
  sample: https://bd5f5959-5e1e-4205-a714-a914373942af.k8s.ondigitalocean.com
status:
  description: Cluster state (V(provisioning), V(running), ...).
  returned: when O(state=present)
  type: str
  sample: running
cluster:
  description: The managed fields of the cluster, plus id, endpoint, ipv4, status and URN.
  returned: always
  type: dict
  sample:
    name: dbr-echo-dev-k8s-cluster
    region: ams3
    version: 1.34.4-do.0
    status: running
    node_pools:
      - {name: default-pool, size: s-4vcpu-8gb, auto_scale: true, min_nodes: 1, max_nodes: 3, tags: [dbr-echo, dev]}
kubeconfig_changed:
  description: Whether the kubeconfig file was (or in check mode would be) rewritten.
  returned: when O(kubeconfig_path) is set and the cluster runs
  type: bool
  sample: false
"""

import os

from ansible_collections.echo.platform.plugins.module_utils._common.argspec import WAIT_ARG_SPEC
from ansible_collections.echo.platform.plugins.module_utils._common.files import private_file_differs, write_private_file
from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.cluster import ensure_cluster


def ensure(client, params, check_mode, poll_interval):
    """ensure_cluster, then the kubeconfig file it fetched the text of (check mode: only compared)."""
    result = ensure_cluster(client, params, check_mode, poll_interval=poll_interval)
    text = result.pop("kubeconfig", None)
    if text is not None:
        path = params["kubeconfig_path"]
        changed = private_file_differs(path, text) if check_mode else write_private_file(path, text)
        result["changed"] = result["changed"] or changed
        result["kubeconfig_changed"] = changed
    return result


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        region=dict(type="str"),
        version=dict(type="str"),
        vpc_uuid=dict(type="str"),
        tags=dict(type="list", elements="str"),
        auto_upgrade=dict(type="bool"),
        surge_upgrade=dict(type="bool"),
        ha=dict(type="bool"),
        node_pools=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True),
            size=dict(type="str", required=True),
            count=dict(type="int"),
            auto_scale=dict(type="bool", default=False),
            min_nodes=dict(type="int"),
            max_nodes=dict(type="int"),
            tags=dict(type="list", elements="str"),
        )),
        purge_node_pools=dict(type="bool", default=False),
        kubeconfig_path=dict(type="path"),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC, WAIT_ARG_SPEC], supports_check_mode=True,
                        required_if=[("state", "present", ["region", "version", "node_pools"])])
    for pool in module.params.get("node_pools") or []:
        if pool["auto_scale"] and (pool.get("min_nodes") is None or pool.get("max_nodes") is None
                                   or pool["min_nodes"] > pool["max_nodes"]):
            module.fail_json(msg="node_pools: pool %s autoscales, so it needs min_nodes <= max_nodes "
                                 "(got min_nodes=%s, max_nodes=%s)" % (pool["name"], pool.get("min_nodes"), pool.get("max_nodes")))
    # seconds between two reads while waiting (the rehearsal environment sets it lower)
    poll_interval = float(os.environ.get("ECHO_DO_POLL_INTERVAL", "2"))
    module.run(lambda: ensure(do_connection.client_from_module(module), module.params, module.check_mode, poll_interval))


if __name__ == "__main__":
    main()

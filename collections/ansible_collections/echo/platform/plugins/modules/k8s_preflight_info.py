#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k8s_preflight_info
short_description: Check rendered manifests the way the kubelet and the scheduler would, before a rollout
version_added: 0.2.0
description:
  - Reads rendered Kubernetes manifests (for example the output of C(helm template) for exactly the value files an
    Argo CD Application lists) and reports what would break once the pods are created, before anything is changed.
  - "Config check: every Secret and ConfigMap a pod template references (env C(secretKeyRef)/C(configMapKeyRef),
    C(envFrom), volumes, projected volumes, image pull secrets) must exist with the referenced key, in the cluster
    or among the committed SealedSecret manifests the GitOps flow is about to sync (O(sealed_manifests)).
    References marked C(optional: true) are skipped. A missing required key is what the kubelet reports as
    CreateContainerConfigError."
  - "Capacity check: the long-running pods (replicas x requests, DaemonSets x nodes they tolerate), plus the pods of
    workloads already running in O(running_namespaces), are placed on the node pools at their minimum size
    (O(node_pools)) largest first, as a scheduler would. Node sizes are DigitalOcean Kubernetes size slugs; the
    allocatable CPU and memory are what DOKS leaves to pods. RV(capacity.shortfall) says by how much they do not fit."
  - Secret values are never read into the result; only key names are compared.
  - The module only reads, so it never reports a change.
author:
  - echo.platform maintainers (@dembrane)
options:
  manifests:
    description:
      - Rendered manifests, as a list of objects or as one multi-document YAML string (the C(stdout) of C(helm template)).
      - One of O(manifests) and O(sources) is required.
    type: raw
  default_namespace:
    description:
      - Namespace of the objects of O(manifests) that have none in their metadata (helm template leaves namespaced
        objects without one unless the chart sets it).
    type: str
    default: default
  sources:
    description:
      - Several renders at once (one per release), each with the namespace its objects go to. They are checked
        together, so the capacity check places the pods of every source on the same nodes.
    type: list
    elements: dict
    default: []
    suboptions:
      namespace:
        description: Namespace of the objects of this source that have none in their metadata.
        type: str
        required: true
      manifests:
        description: Rendered manifests of this source (list of objects or multi-document YAML string).
        type: raw
        required: true
  check_config:
    description:
      - Read the referenced Secrets and ConfigMaps from the cluster and report missing ones in RV(missing).
      - Needs the cluster connection options.
    type: bool
    default: true
  sealed_manifests:
    description:
      - SealedSecret manifests (paths of YAML files) whose keys count as present, because the GitOps flow syncs them
        (the secrets folder an Argo CD Application tracks). Missing files are ignored.
    type: list
    elements: path
    default: []
  allow_missing:
    description:
      - Exceptions for one run, as C(KEY), C(SECRET:KEY) or C(NAMESPACE/SECRET:KEY) (C(NAME) or C(NAMESPACE/NAME) for a
        whole object). Listed references are not reported.
    type: list
    elements: str
    default: []
  node_pools:
    description:
      - The node pools at their minimum size. Empty skips the capacity check.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the pool.
        type: str
        required: true
      size:
        description: DigitalOcean size slug of its nodes, for example C(s-4vcpu-8gb).
        type: str
        required: true
      count:
        description: The number of nodes to plan with (the minimum of an autoscaled pool).
        type: int
        required: true
      labels:
        description: Labels of the pool's nodes (used for nodeSelector).
        type: dict
        default: {}
      taints:
        description: Taints of the pool's nodes (C(key), C(value), C(effect)).
        type: list
        elements: dict
        default: []
  running_namespaces:
    description:
      - Namespaces whose live Deployments, StatefulSets and DaemonSets also take node capacity (the platform releases,
        for example ingress-nginx, cert-manager and Argo CD). Objects that O(manifests) also define are counted once.
      - Needs the cluster connection options; ignored when the cluster cannot be reached and O(check_config) is false.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - echo.platform.k8s_auth
  - echo.platform.attributes
  - echo.platform.attributes.INFO_MODULE
"""

EXAMPLES = r"""
- name: Render the echo chart exactly as its Application does
  kubernetes.core.helm_template:
    chart_ref: charts/echo
    release_namespace: echo-prod
    values_files: [charts/echo/values.yaml, charts/echo/values-prod.yaml, releases/prod.yaml]
  register: rendered

- name: Check secrets, config and capacity before the rollout
  echo.platform.k8s_preflight_info:
    manifests: "{{ rendered.stdout }}"
    default_namespace: echo-prod
    kubeconfig: .state/prod/kubeconfig
    sealed_manifests: [secrets/prod/echo-backend-secrets.yaml]
    node_pools:
      - {name: default-pool, size: s-4vcpu-8gb, count: 2}
    running_namespaces: [ingress-nginx, cert-manager, argocd, kube-system]
  register: preflight

- name: Stop when a referenced key is missing
  ansible.builtin.assert:
    that: preflight.missing | length == 0
    fail_msg: "{{ preflight.missing | map(attribute='name') | list }}"
"""

RETURN = r"""
images:
  description: Container images of the rendered pod templates.
  returned: always
  type: list
  elements: str
  sample: [registry.digitalocean.com/dbr-cr/dbr-echo-server:v2.2.2]
references:
  description: Number of Secret/ConfigMap references found in the pod templates.
  returned: always
  type: int
  sample: 42
missing:
  description: References the cluster (and O(sealed_manifests)) cannot satisfy; C(key) null means the object is missing.
  returned: always
  type: list
  elements: dict
  sample:
    - {kind: Secret, namespace: echo-prod, name: echo-backend-secrets, key: ASSEMBLYAI_API_KEY,
       used_by: ["Deployment echo-prod/echo-api container api-server env ASSEMBLYAI_API_KEY"]}
capacity:
  description: The placement of the pods on the node pools at their minimum size (empty when O(node_pools) is empty).
  returned: always
  type: dict
  contains:
    fits:
      description: Whether every pod found a node.
      type: bool
    nodes:
      description: Nodes planned with.
      type: int
    requested:
      description: Total requests (C(cpu_m), C(memory_bytes)).
      type: dict
    allocatable:
      description: Total allocatable of the nodes (C(cpu_m), C(memory_bytes)).
      type: dict
    shortfall:
      description: What the pods that found no node request (C(cpu_m), C(memory_bytes)).
      type: dict
    unplaced:
      description: The pods that found no node.
      type: list
      elements: dict
    nodes_needed:
      description: Per pool, the smallest node count at which everything fits (null when none up to 50).
      type: dict
    message:
      description: One line, e.g. "requests 10750m CPU ... short by 2950m CPU / 7.00Gi memory".
      type: str
  sample: {fits: true, nodes: 2, message: "requests 3 CPU / 5.50Gi memory on 2 node(s) with 7800m CPU / 12Gi allocatable: fits"}
"""

import os

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.echo.platform.plugins.module_utils._common.errors import EchoError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._k8s import workloads as wl
from ansible_collections.echo.platform.plugins.module_utils._k8s import argspec as k8s_connection

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover
    HAS_YAML = False

_LIST_PATHS = {
    "Deployment": "/apis/apps/v1/namespaces/%s/deployments",
    "StatefulSet": "/apis/apps/v1/namespaces/%s/statefulsets",
    "DaemonSet": "/apis/apps/v1/namespaces/%s/daemonsets",
}
_GET_PATHS = {"Secret": "/api/v1/namespaces/%s/secrets/%s", "ConfigMap": "/api/v1/namespaces/%s/configmaps/%s"}


def argument_spec():
    return dict(
        manifests=dict(type="raw"),
        default_namespace=dict(type="str", default="default"),
        sources=dict(type="list", elements="dict", default=[], options=dict(
            namespace=dict(type="str", required=True),
            manifests=dict(type="raw", required=True),
        )),
        check_config=dict(type="bool", default=True),
        sealed_manifests=dict(type="list", elements="path", default=[]),
        allow_missing=dict(type="list", elements="str", default=[]),
        node_pools=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            size=dict(type="str", required=True),
            count=dict(type="int", required=True),
            labels=dict(type="dict", default={}),
            taints=dict(type="list", elements="dict", default=[]),
        )),
        running_namespaces=dict(type="list", elements="str", default=[]),
    )


def load_manifests(value):
    """Objects of a list or of a multi-document YAML string (empty documents dropped)."""
    if isinstance(value, (list, tuple)):
        docs = list(value)
    elif isinstance(value, str):
        docs = list(yaml.safe_load_all(value))
    elif isinstance(value, dict):
        docs = [value]
    else:
        raise EchoError("manifests must be a list of objects or a YAML string, not %s" % type(value).__name__)
    out = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "List":
            out.extend(i for i in doc.get("items") or [] if isinstance(i, dict))
        elif isinstance(doc, dict) and doc:
            out.append(doc)
    return out


def sealed_keys(paths):
    """{(Secret, namespace, name): keys} of the SealedSecret manifests found at ``paths``."""
    found = {}
    for path in paths:
        if not os.path.isfile(path):
            continue
        with open(path) as handle:
            for doc in yaml.safe_load_all(handle):
                if not isinstance(doc, dict) or doc.get("kind") != "SealedSecret":
                    continue
                meta = doc.get("metadata") or {}
                template_meta = ((doc.get("spec") or {}).get("template") or {}).get("metadata") or {}
                name = template_meta.get("name") or meta.get("name")
                namespace = template_meta.get("namespace") or meta.get("namespace")
                keys = set(((doc.get("spec") or {}).get("encryptedData") or {}).keys())
                keys |= set((((doc.get("spec") or {}).get("template") or {}).get("data") or {}).keys())
                found.setdefault(("Secret", namespace, name), set()).update(keys)
    return found


def live_keys(client, refs):
    """{(kind, namespace, name): keys} of the referenced objects that exist (keys only, never values)."""
    found = {}
    for kind, namespace, name in sorted({(r["kind"], r["namespace"], r["name"]) for r in refs}):
        obj = client.get_json(_GET_PATHS[kind] % (namespace, name))
        if obj is None:
            continue
        keys = set((obj.get("data") or {}).keys()) | set((obj.get("binaryData") or {}).keys())
        found[(kind, namespace, name)] = keys
    return found


def running_workloads(client, namespaces, rendered):
    """Live Deployments/StatefulSets/DaemonSets of ``namespaces`` not defined by the rendered manifests."""
    own = {(d.get("kind"), (d.get("metadata") or {}).get("namespace"), (d.get("metadata") or {}).get("name"))
           for d in rendered}
    docs = []
    for namespace in namespaces:
        for kind, path in sorted(_LIST_PATHS.items()):
            listing = client.get_json(path % namespace) or {}
            for item in listing.get("items") or []:
                meta = item.get("metadata") or {}
                if (kind, meta.get("namespace"), meta.get("name")) in own:
                    continue
                item = dict(item, kind=kind)
                docs.append(item)
    return docs


def with_namespace(docs, namespace):
    """``docs`` with ``namespace`` filled in where helm template left it out (namespaced kinds only)."""
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        if not meta.get("namespace") and doc.get("kind") in wl.WORKLOAD_KINDS + ("Secret", "ConfigMap"):
            meta["namespace"] = namespace
    return docs


def run(module):
    params = module.params
    namespace = params["default_namespace"]
    docs = with_namespace(load_manifests(params["manifests"]), namespace) if params["manifests"] is not None else []
    for source in params["sources"]:
        docs.extend(with_namespace(load_manifests(source["manifests"]), source["namespace"]))
    refs = wl.config_refs(docs, namespace)
    result = {"changed": False, "images": wl.images(docs), "references": len(refs), "missing": [], "capacity": {}}

    client = None
    if params["check_config"] or params["running_namespaces"]:
        from ansible_collections.echo.platform.plugins.module_utils._k8s import client as k8s
        if not k8s.HAS_KUBERNETES:
            module.fail_json(msg=missing_required_lib("kubernetes"), exception=str(k8s.KUBERNETES_IMPORT_ERROR))
        client = k8s_connection.client_from_module(module)

    if params["check_config"]:
        available = live_keys(client, refs)
        # what the rendered manifests create themselves (a chart's own ConfigMaps) exists once they are applied
        for ident, keys in wl.rendered_keys(docs).items():
            available.setdefault(ident, set()).update(keys)
        for ident, keys in sealed_keys(params["sealed_manifests"]).items():
            available.setdefault(ident, set()).update(keys)
        result["missing"] = wl.missing_refs(refs, available, params["allow_missing"])

    if params["node_pools"]:
        extra = running_workloads(client, params["running_namespaces"], docs) if client else []
        pools = [dict(p) for p in params["node_pools"]]
        plan = wl.plan_capacity(docs, pools, namespace, extra)
        needed = dict((pool["name"], wl.nodes_needed(docs, pool, [p for p in pools if p is not pool], namespace, extra))
                      for pool in pools)
        first = pools[0] if len(pools) == 1 else None
        plan["nodes_needed"] = needed
        plan["message"] = wl.capacity_message(plan, first, needed.get(first["name"]) if first else None)
        result["capacity"] = plan
    return result


def preflight(module):
    try:
        return run(module)
    except ValueError as exc:  # a quantity or a YAML document the manifests cannot hold
        raise ValidationError("Failed to read the rendered manifests: %s" % exc)


def main():
    module = EchoModule(argument_spec(), shared_specs=[k8s_connection.ARG_SPEC], supports_check_mode=True,
                        required_one_of=[("manifests", "sources")])
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    module.run(preflight, module)


if __name__ == "__main__":
    main()

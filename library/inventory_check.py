#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""This repository's own module (not the collection's): the inventory schema of ECHO's environments.

The ``echo_*`` variables, their shapes and what makes a value valid belong to this repository's
inventories, so the check lives here, beside them (``library/``, found through ansible.cfg), and the
echo.platform collection stays free of them. ``validate`` is pure and returns a list of problems, each
naming the variable, what is wrong and how to fix it; credentials arrive as presence flags only.
"""

from __future__ import annotations

import ipaddress
import re

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: inventory_check
short_description: Validate an environment's inventory values before any layer runs
description:
  - Checks the C(echo_*) values of one environment. It checks the environment name, that the VPC CIDR is valid, private and does
    not overlap other environments, Droplet and database size slugs, versions, autoscale ranges, bucket and
    namespace names, domains and host names, image tags, and that the credentials the selected layers need are present.
  - Every problem names the variable, what is wrong and the fix. The module fails when there is any problem,
    so a run stops before it changes anything.
  - Credentials are passed as presence flags only; the module never receives secret values.
author:
  - echo.platform maintainers (@dembrane)
extends_documentation_fragment:
  - echo.platform.attributes
  - echo.platform.attributes.INFO_MODULE
options:
  settings:
    description:
      - The environment's C(echo_*) variables (C(echo_env), C(echo_known_envs), C(echo_vpc_cidr), C(echo_node_pools), ...).
    type: dict
    required: true
  group_names:
    description:
      - The inventory groups of the host, one of which must be named after the environment.
    type: list
    elements: str
    required: true
  other_cidrs:
    description:
      - VPC CIDRs of the other environments, keyed by environment name.
    type: dict
    default: {}
  layers:
    description:
      - Layers this run touches; see RV(layers). Credentials are required only for these.
    type: list
    elements: str
    default: []
  credentials:
    description:
      - Presence of each credential variable (C(true) when set). Never pass the values themselves.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Validate the inventory
  inventory_check:
    settings:
      echo_env: "{{ echo_env }}"
      echo_known_envs: "{{ echo_known_envs }}"
      echo_vpc_cidr: "{{ echo_vpc_cidr }}"
    group_names: "{{ group_names }}"
    other_cidrs:
      dev: 10.10.11.0/24
    layers: [do]
    credentials:
      echo_do_token: "{{ echo_do_token | length > 0 }}"
"""

RETURN = r"""
problems:
  description: Each problem found, with the variable it concerns and a message that says how to fix it.
  returned: always
  type: list
  elements: dict
  sample: [{"variable": "echo_vpc_cidr", "msg": "echo_vpc_cidr: 10.10.11.0/24 overlaps the dev environment's 10.10.11.0/24. Fix: ..."}]
layers:
  description: The layers the check considered.
  returned: always
  type: list
  elements: str
  sample: [do, gcp]
"""



SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
REGION = re.compile(r"^[a-z]{3}[0-9]$")
DOKS_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+-do\.[0-9]+$")
DROPLET_SIZE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*-[0-9]+vcpu-[0-9]+gb(-[a-z0-9]+)*$")
DB_SIZE = re.compile(r"^db-[a-z0-9]+-[0-9]+vcpu-[0-9]+gb$")
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
ENGINE_VERSIONS = {"pg": ("13", "14", "15", "16", "17"), "valkey": ("7", "8")}
EVICTION_POLICIES = ("noeviction", "allkeys_lru", "allkeys_random", "volatile_lru", "volatile_random", "volatile_ttl")
POOL_MODES = ("transaction", "session", "statement")

# Which credentials each layer needs; the value names the variable and where it may come from.
LAYER_CREDENTIALS = {
    "do": (("echo_do_token", "set vault_echo_do_token in the environment's vault or export DIGITALOCEAN_TOKEN"),
           ("echo_spaces_access_key_id", "set vault_echo_spaces_access_key_id or export SPACES_ACCESS_KEY_ID"),
           ("echo_spaces_secret_access_key", "set vault_echo_spaces_secret_access_key or export SPACES_SECRET_ACCESS_KEY")),
    "gcp": (("echo_gcp_credentials", "export GOOGLE_APPLICATION_CREDENTIALS=<service-account.json>, "
             "set echo_gcp_auth_kind=application for ADC, or provide GCP_ACCESS_TOKEN with echo_gcp_auth_kind=accesstoken"),),
    "dns": (("echo_do_token", "set vault_echo_do_token in the environment's vault or export DIGITALOCEAN_TOKEN"),),
    "deploy": (("echo_argocd_repo_password", "set vault_echo_argocd_repo_password or export ECHO_ARGOCD_REPO_PASSWORD "
                "(needed when echo_deploy_method=argocd)"),),
}


# The shape every structured setting must have, with an example for the fix. Values given on the command line as
# key=value extra vars are always strings, so a mapping or list there must be given as JSON or YAML.
SHAPES = {
    "echo_known_envs": (list, "a list of environment names", '["dev", "testing", "prod"]'),
    "echo_node_pools": (list, "a list of node pools", '[{"name": "echo-pool", "size": "s-4vcpu-8gb", "min_nodes": 1, "max_nodes": 3}]'),
    "echo_postgres": (dict, "a mapping", '{"name": "echo-pg", "engine": "pg", "version": "16", ...}'),
    "echo_valkey": (dict, "a mapping", '{"name": "echo-valkey", "engine": "valkey", "version": "8", ...}'),
    "echo_postgres_pool": (dict, "a mapping", '{"name": "echo-pool", "mode": "transaction", "size": 10}'),
    "echo_image_tags": (dict, "a mapping of image name to tag", '{"server": "v1.2.3", "directus": "v1.2.3"}'),
}
TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", list: "a list", dict: "a mapping"}


def _type_name(value):
    for kind, name in TYPE_NAMES.items():
        if type(value) is kind:  # pylint: disable=unidiomatic-typecheck
            return name
    return "a %s" % type(value).__name__


def _check_shapes(settings, problems):
    """Report settings of the wrong type by name; return the names whose deeper checks must be skipped."""
    wrong = set()
    for var, (kind, what, example) in SHAPES.items():
        value = settings.get(var)
        if value is None or isinstance(value, kind):  # an unset value is the deeper checks' to report
            continue
        wrong.add(var)
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        fix = "give %s such as %s" % (what, example)
        if isinstance(value, str):
            fix += ("; key=value extra vars are always strings, so on the command line pass JSON "
                    "(-e '{\"%s\": %s}') or a file (-e @file.yml)" % (var, example))
        problems.append(_problem(var, "is %s (%s), not %s" % (_type_name(value), shown, what.split(" of ")[0]), fix))
    return wrong


def _problem(variable, message, fix):
    return {"variable": variable, "msg": "%s: %s. Fix: %s" % (variable, message, fix)}


def valid_hostname(name):
    if not isinstance(name, str) or not name or len(name) > 253 or name.endswith("."):
        return False
    labels = name.split(".")
    return len(labels) >= 2 and all(DNS_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


def _check_cidr(settings, other_cidrs, problems):
    cidr = settings.get("echo_vpc_cidr")
    try:
        net = ipaddress.ip_network(str(cidr), strict=True)
    except ValueError as exc:
        problems.append(_problem("echo_vpc_cidr", "%r is not a valid network (%s)" % (cidr, exc),
                                 "use a private IPv4 network such as 10.10.14.0/24"))
        return
    if net.version != 4 or not net.is_private:
        problems.append(_problem("echo_vpc_cidr", "%s is not a private IPv4 network" % net,
                                 "pick a range inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16"))
    if not 16 <= net.prefixlen <= 28:
        problems.append(_problem("echo_vpc_cidr", "prefix /%d is outside DigitalOcean's /16 to /28" % net.prefixlen,
                                 "use a prefix between /16 and /28"))
    for env, other in sorted((other_cidrs or {}).items()):
        try:
            other_net = ipaddress.ip_network(str(other), strict=False)
        except ValueError:
            continue
        if net.overlaps(other_net):
            problems.append(_problem("echo_vpc_cidr", "%s overlaps the %s environment's %s" % (net, env, other_net),
                                     "choose a range no other environment uses"))


def _check_pools(pools, problems):
    if not isinstance(pools, list) or not pools:
        problems.append(_problem("echo_node_pools", "needs at least one node pool", "list pools with name, size, min_nodes, max_nodes"))
        return
    seen = set()
    for idx, pool in enumerate(pools):
        var = "echo_node_pools[%d]" % idx
        if not isinstance(pool, dict):
            problems.append(_problem(var, "is not a mapping", "give name, size, auto_scale, min_nodes and max_nodes"))
            continue
        name = pool.get("name")
        if not isinstance(name, str) or not SLUG.match(name):
            problems.append(_problem(var + ".name", "%r is not a valid pool name" % (name,), "use lowercase letters, digits and dashes"))
        elif name in seen:
            problems.append(_problem(var + ".name", "pool name %s is used twice" % name, "give every pool a unique name"))
        seen.add(name)
        size = pool.get("size")
        if not isinstance(size, str) or not DROPLET_SIZE.match(size):
            problems.append(_problem(var + ".size", "%r is not a Droplet size slug" % (size,), "use a slug such as s-4vcpu-8gb"))
        lo, hi = pool.get("min_nodes"), pool.get("max_nodes")
        if not isinstance(lo, int) or not isinstance(hi, int) or isinstance(lo, bool) or isinstance(hi, bool):
            problems.append(_problem(var, "min_nodes and max_nodes must be integers", "set both, for example 1 and 3"))
        elif lo < 1 or hi < lo or hi > 100:
            problems.append(_problem(var, "autoscale range %s-%s is invalid" % (lo, hi), "use 1 <= min_nodes <= max_nodes <= 100"))


def _check_database(var, db, engine, problems):
    if not isinstance(db, dict):
        problems.append(_problem(var, "is not a mapping", "give name, engine, version, size and num_nodes"))
        return
    if not isinstance(db.get("name"), str) or not SLUG.match(db.get("name") or ""):
        problems.append(_problem(var + ".name", "%r is not a valid name" % (db.get("name"),), "use lowercase letters, digits and dashes"))
    if db.get("engine") != engine:
        problems.append(_problem(var + ".engine", "must be %s, got %r" % (engine, db.get("engine")), "set engine: %s" % engine))
    version = str(db.get("version"))
    if version not in ENGINE_VERSIONS[engine]:
        problems.append(_problem(var + ".version", "%s version %r is not one of %s" % (engine, db.get("version"), ", ".join(ENGINE_VERSIONS[engine])),
                                 "quote a supported major version, e.g. \"%s\"" % ENGINE_VERSIONS[engine][-1]))
    if not isinstance(db.get("size"), str) or not DB_SIZE.match(db.get("size") or ""):
        problems.append(_problem(var + ".size", "%r is not a database size slug" % (db.get("size"),), "use a slug such as db-s-1vcpu-1gb"))
    nodes = db.get("num_nodes")
    if not isinstance(nodes, int) or isinstance(nodes, bool) or not 1 <= nodes <= 3:
        problems.append(_problem(var + ".num_nodes", "%r is not 1, 2 or 3" % (nodes,), "set num_nodes between 1 and 3"))
    if engine == "valkey" and db.get("eviction_policy") not in EVICTION_POLICIES:
        problems.append(_problem(var + ".eviction_policy", "%r is not a Valkey eviction policy" % (db.get("eviction_policy"),),
                                 "use one of " + ", ".join(EVICTION_POLICIES)))


def validate(settings, group_names, other_cidrs=None, layers=(), credentials=None):
    """Return the list of problems in ``settings`` (the echo_* values of one environment)."""
    problems = []
    wrong = _check_shapes(settings, problems)
    # a setting of the wrong type was reported by name; its deeper checks would only repeat that
    settings = dict((k, v) for k, v in settings.items() if k not in wrong)
    env = settings.get("echo_env")
    known = settings.get("echo_known_envs") or []
    if "echo_known_envs" in wrong:
        pass  # reported above; the environment cannot be checked against it
    elif env not in known:
        problems.append(_problem("echo_env", "unknown environment %r" % (env,),
                                 "use one of %s, set in inventories/<env>/group_vars/<env>/main.yml" % ", ".join(known)))
    elif env not in (group_names or []):
        problems.append(_problem("echo_env", "%r does not match the inventory group(s) %s" % (env, ", ".join(group_names or [])),
                                 "put localhost in a group named after the environment"))

    if not isinstance(settings.get("echo_region"), str) or not REGION.match(settings.get("echo_region") or ""):
        problems.append(_problem("echo_region", "%r is not a DigitalOcean region slug" % (settings.get("echo_region"),), "use a slug such as ams3"))
    _check_cidr(settings, other_cidrs, problems)
    version = settings.get("echo_kubernetes_version")
    if not isinstance(version, str) or not DOKS_VERSION.match(version):
        problems.append(_problem("echo_kubernetes_version", "%r is not a DOKS version slug" % (version,), "use the form 1.34.4-do.0"))
    if "echo_node_pools" not in wrong:
        _check_pools(settings.get("echo_node_pools"), problems)
    for var, engine in (("echo_postgres", "pg"), ("echo_valkey", "valkey")):
        if var not in wrong:
            _check_database(var, settings.get(var), engine, problems)
    if "echo_postgres_pool" not in wrong:
        pool = settings.get("echo_postgres_pool") or {}
        if pool.get("mode") not in POOL_MODES:
            problems.append(_problem("echo_postgres_pool.mode", "%r is not a pool mode" % (pool.get("mode"),), "use transaction, session or statement"))
        size = pool.get("size")
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 100:
            problems.append(_problem("echo_postgres_pool.size", "%r is not between 1 and 100" % (size,), "set a pool size such as 10"))

    bucket = settings.get("echo_uploads_bucket")
    if not isinstance(bucket, str) or not BUCKET.match(bucket or ""):
        problems.append(_problem("echo_uploads_bucket", "%r is not a valid bucket name" % (bucket,), "use 3-63 lowercase letters, digits and dashes"))
    for var in ("echo_namespace", "echo_monitoring_namespace"):
        value = settings.get(var)
        if not isinstance(value, str) or not DNS_LABEL.match(value or ""):
            problems.append(_problem(var, "%r is not a valid namespace name" % (value,), "use a DNS label (lowercase, digits, dashes)"))

    domain = settings.get("echo_domain")
    if not valid_hostname(domain):
        problems.append(_problem("echo_domain", "%r is not a valid domain name" % (domain,), "use a name such as echo-next.dembrane.com"))
    for var in ("echo_api_host", "echo_directus_host", "echo_grafana_host", "echo_prometheus_host"):
        value = settings.get(var)
        if value in (None, "") and var in ("echo_grafana_host", "echo_prometheus_host"):
            continue
        if not valid_hostname(value):
            problems.append(_problem(var, "%r is not a valid host name" % (value,), "use a fully qualified name such as api.%s" % (domain or "example.com")))
        elif valid_hostname(domain) and value != domain and not value.endswith("." + domain):
            problems.append(_problem(var, "%s is not under echo_domain %s" % (value, domain), "use a host name under %s" % domain))

    for name, tag in sorted((settings.get("echo_image_tags") or {}).items()):
        if tag not in (None, "") and not IMAGE_TAG.match(str(tag)):
            problems.append(_problem("echo_image_tags.%s" % name, "%r is not a valid image tag" % (tag,), "use letters, digits, '.', '_' and '-'"))
    if settings.get("echo_deploy_method") not in ("argocd", "helm"):
        problems.append(_problem("echo_deploy_method", "%r is not argocd or helm" % (settings.get("echo_deploy_method"),), "set argocd or helm"))

    credentials = credentials or {}
    for layer in layers:
        for var, fix in LAYER_CREDENTIALS.get(layer, ()):
            if layer == "deploy" and settings.get("echo_deploy_method") != "argocd":
                continue
            if not credentials.get(var):
                problems.append(_problem(var, "is empty but the %s layer needs it" % layer, fix))
    return problems





def main():
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", required=True),
            group_names=dict(type="list", elements="str", required=True),
            other_cidrs=dict(type="dict", default={}),
            layers=dict(type="list", elements="str", default=[]),
            credentials=dict(type="dict", default={}, no_log=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    problems = validate(params["settings"], params["group_names"], params["other_cidrs"], params["layers"], params["credentials"])
    result = dict(changed=False, problems=problems, layers=params["layers"])
    if problems:
        module.fail_json(msg="Inventory check failed with %d problem(s): %s" % (len(problems), " | ".join(p["msg"] for p in problems)),
                         **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: secret_diff
short_description: Compare secret keys between desired values, the live Secret and other environments, without values
version_added: 0.1.0
description:
  - Reads the live Secret O(namespace)/O(name) through the Kubernetes API and compares it with desired values
    (O(desired) and/or O(desired_file)), with the live Secrets of other environments (O(compare_to)), or both.
  - Returns the key names that would be added, changed, removed or left unchanged, a presence and equality matrix when
    more than two sources take part, keyed fingerprints instead of values, and the required keys each component
    misses.
  - "Fingerprints are HMAC-SHA256 (cut to 16 hex characters) over the key name and value, under a key derived for this
    run from O(fingerprint_key), or from 32 random bytes when it is not set. Equal values give equal fingerprints
    within one run, so sources can be compared; fingerprints can't be reversed, and without O(fingerprint_key)
    they are not comparable across runs. With a vaulted O(fingerprint_key) they are stable across runs."
  - Values are never returned. The module only reads, so it never reports a change.
author:
  - echo.platform maintainers (@dembrane)
options:
  name:
    description:
      - Name of the live Secret.
    type: str
    required: true
  namespace:
    description:
      - Namespace of the live Secret.
    type: str
    required: true
  label:
    description:
      - Name of the live source in RV(fingerprints), RV(matrix) and RV(missing_required), usually the environment.
    type: str
    default: live
  desired:
    description:
      - Desired keys and values. Combined with O(desired_file); on a clash O(desired) wins.
    type: dict
  desired_file:
    description:
      - A .env-style file of desired C(KEY=VALUE) lines (same rules as O(echo.platform.sealed_secret#module:values_file)).
    type: path
  compare_to:
    description:
      - Other environments' live Secrets. With no desired values and one entry, RV(added)/RV(changed_keys)/RV(removed)
        describe going from the live Secret to that entry.
    type: list
    elements: dict
    default: []
    suboptions:
      label:
        description: Name of this source (the environment).
        type: str
        required: true
      namespace:
        description: Namespace of its Secret.
        type: str
        required: true
      name:
        description: Name of its Secret. Default is O(name).
        type: str
      kubeconfig:
        description: Kubeconfig of its cluster. Default is the top-level connection.
        type: path
      context:
        description: Kubeconfig context.
        type: str
      host:
        description: API server URL.
        type: str
      api_key:
        description: Bearer token.
        type: str
      validate_certs:
        description: Verify the API server certificate.
        type: bool
      ca_cert:
        description: CA bundle path.
        type: path
  required_keys:
    description:
      - "Required Secret keys per component, for example C({api: [DATABASE_URL, REDIS_URL], directus: [DIRECTUS_SECRET]}).
        RV(missing_required) lists what each source lacks."
    type: dict
    default: {}
  fingerprint_key:
    description:
      - Base key of the fingerprints (keep it in the vault). Not set means a random key per run.
    type: str
extends_documentation_fragment:
  - echo.platform.k8s_auth
  - echo.platform.attributes
  - echo.platform.attributes.INFO_MODULE
  - echo.platform.attributes.SEALED_ACTION_GROUP
"""

EXAMPLES = r"""
- name: What would these values change in the dev backend secret?
  echo.platform.secret_diff:
    name: echo-backend-secrets
    namespace: echo-dev
    kubeconfig: .state/dev/kubeconfig
    desired_file: /tmp/rotation.env
  register: preview

- name: Which keys differ between dev, testing and prod?
  echo.platform.secret_diff:
    name: echo-backend-secrets
    namespace: echo-dev
    label: dev
    kubeconfig: .state/dev/kubeconfig
    compare_to:
      - {label: testing, namespace: echo-testing, kubeconfig: .state/testing/kubeconfig}
      - {label: prod, namespace: echo-prod, kubeconfig: .state/prod/kubeconfig}
    required_keys:
      api: [DATABASE_URL, REDIS_URL, DIRECTUS_ADMIN_TOKEN]
  register: matrix
"""

RETURN = r"""
exists:
  description: Whether the live Secret O(namespace)/O(name) exists.
  returned: always
  type: bool
  sample: true
added:
  description: Keys in the desired values (or the compared source) that the live Secret lacks.
  returned: always
  type: list
  elements: str
  sample: [SENDGRID_API_KEY]
changed_keys:
  description: Keys in both whose values differ.
  returned: always
  type: list
  elements: str
  sample: [DIRECTUS_ADMIN_TOKEN]
removed:
  description: Keys of the live Secret missing from the desired values (or the compared source).
  returned: always
  type: list
  elements: str
  sample: []
unchanged:
  description: Keys in both with equal values.
  returned: always
  type: list
  elements: str
  sample: [DATABASE_URL]
fingerprints:
  description: Per source, key name to fingerprint.
  returned: always
  type: dict
  sample: {live: {DATABASE_URL: "hmac-sha256:9f2c4a0e1b7d3c55"}}
matrix:
  description:
    - Presence and equality over every source. C(keys) maps each key to its fingerprint per source (null when
      absent); C(differing) lists keys whose presence or value differs; C(missing) lists per source the keys others have.
  returned: always
  type: dict
  sample: {keys: {MOLLIE_API_KEY: {dev: "hmac-sha256:1c...", testing: null}}, differing: [MOLLIE_API_KEY],
           missing: {dev: [], testing: [MOLLIE_API_KEY]}}
missing_required:
  description: Per source, per component, the required keys it lacks (only sources and components that miss any).
  returned: always
  type: dict
  sample: {testing: {api: [ASSEMBLYAI_API_KEY]}}
"""

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.echo.platform.plugins.module_utils._common.errors import ValidationError
from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._k8s import argspec as k8s_connection
from ansible_collections.echo.platform.plugins.module_utils._sealed import keydiff, service


def argument_spec():
    return dict(
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        label=dict(type="str", default="live"),
        desired=dict(type="dict", no_log=True),
        desired_file=dict(type="path"),
        compare_to=dict(type="list", elements="dict", default=[], options=dict(
            label=dict(type="str", required=True),
            namespace=dict(type="str", required=True),
            name=dict(type="str"),
            kubeconfig=dict(type="path"),
            context=dict(type="str"),
            host=dict(type="str"),
            api_key=dict(type="str", no_log=True),
            validate_certs=dict(type="bool"),
            ca_cert=dict(type="path"),
        )),
        required_keys=dict(type="dict", default={}, no_log=False),
        fingerprint_key=dict(type="str", no_log=True),
    )


def read_live(params, namespace, name):
    from ansible_collections.echo.platform.plugins.module_utils._k8s.client import HAS_KUBERNETES, decode_secret_data
    if not HAS_KUBERNETES:
        raise ValidationError(missing_required_lib("kubernetes"))
    secret = k8s_connection.client_from_options(params).get_secret(namespace, name)
    return None if secret is None else decode_secret_data(secret)


def compare(sources, label, desired, other_labels, required, run_key):
    """Pure part: sources {label: map or None}; returns the module result (no values)."""
    live = sources[label] or {}
    if desired is not None:
        after = desired
    elif len(other_labels) == 1:
        after = sources[other_labels[0]] or {}
    else:
        after = live
    diff = keydiff.diff_maps(live, after)
    table = keydiff.matrix(sources, run_key)
    fps = dict((src, keydiff.fingerprints(m or {}, run_key)) for src, m in sources.items())
    missing = {}
    for src, values in sources.items():
        gone = keydiff.missing_required(list((values or {}).keys()), required)
        if gone:
            missing[src] = gone
    return dict(changed=False, exists=sources[label] is not None, added=diff["added"], changed_keys=diff["changed"],
                removed=diff["removed"], unchanged=diff["unchanged"], fingerprints=fps, matrix=table,
                missing_required=missing)


def run(module):
    p = module.params
    desired = None
    if p["desired"] is not None or p["desired_file"]:
        desired = service.read_values(p["desired"], p["desired_file"], option="desired")
        for val in desired.values():
            module.add_secret(val)
    labels = [p["label"]] + [t["label"] for t in p["compare_to"]]
    if desired is not None:
        labels.append("desired")
    dupes = sorted(set(x for x in labels if labels.count(x) > 1))
    if dupes:
        raise ValidationError("compare_to: labels must be unique (and not 'desired'); repeated: %s" % ", ".join(dupes))
    for comp, keys in (p["required_keys"] or {}).items():
        if not isinstance(keys, list):
            raise ValidationError("required_keys.%s must be a list of key names" % comp)
    sources = {p["label"]: read_live(p, p["namespace"], p["name"])}
    for target in p["compare_to"]:
        conn = dict(p)
        for key in ("kubeconfig", "context", "host", "api_key", "validate_certs", "ca_cert"):
            if target.get(key) is not None:
                conn[key] = target[key]
        if target.get("kubeconfig") and not target.get("context"):
            conn["context"] = None
        sources[target["label"]] = read_live(conn, target["namespace"], target.get("name") or p["name"])
    for values in sources.values():
        for val in (values or {}).values():
            module.add_secret(val)
    if desired is not None:
        sources["desired"] = desired
    run_key = keydiff.derive_run_key(p["fingerprint_key"])
    return compare(sources, p["label"], desired, [t["label"] for t in p["compare_to"]], p["required_keys"], run_key)


def main():
    spec = argument_spec()
    spec.update(k8s_connection.ARG_SPEC)
    module = EchoModule(argument_spec=spec, supports_check_mode=True)
    module.run(run, module)


if __name__ == "__main__":
    main()

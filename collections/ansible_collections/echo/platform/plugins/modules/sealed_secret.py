#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sealed_secret
short_description: Seal values into a SealedSecret manifest file without ever losing a key
version_added: 0.1.0
description:
  - Encrypts values the way C(kubeseal) does (RSA-OAEP-SHA256 wrapped AES-256-GCM session key per value) so the
    Bitnami sealed-secrets controller unseals them, and merges them into the SealedSecret manifest at O(path).
  - The merge happens at the ciphertext level. Keys you do not supply keep their ciphertext byte for byte.
    A key leaves the manifest only when listed in O(remove). A manifest with fewer keys than before is never written
    otherwise, and O(reseal=true) fails when a value for any existing key is missing.
  - "Change detection: nothing can be decrypted without the controller's private key, so a supplied key is
    re-encrypted (reported in RV(updated)) unless O(only_new=true), or unless O(fingerprint_key) is given and the
    manifest's recorded fingerprint of that key matches the supplied value. Fingerprints are HMAC-SHA256 under
    O(fingerprint_key) (keep it in the vault, never in git) over namespace/name, key name and value, stored in the
    annotation C(echo.platform/fingerprints); without the vault key they can't be brute-forced."
  - The file is written atomically (temporary file and rename) with sorted keys and unwrapped base64, so git diffs
    stay minimal. Template metadata and type of an existing manifest are kept.
  - The certificate comes from O(certificate), O(certificate_path), or else from the controller through the Kubernetes
    API service proxy (C(/api/v1/namespaces/NS/services/NAME:PORT/proxy/v1/cert.pem)); no port-forward is needed.
  - Values are never returned or logged; results and diffs hold key names only.
author:
  - echo.platform maintainers (@dembrane)
options:
  path:
    description:
      - The SealedSecret manifest file (YAML, or JSON which is read and rewritten as YAML). Created when missing.
    type: path
    required: true
  name:
    description:
      - Name of the Secret (and SealedSecret).
    type: str
    required: true
  namespace:
    description:
      - Namespace of the Secret.
    type: str
    required: true
  scope:
    description:
      - V(strict) binds each value to O(namespace) and O(name); V(namespace-wide) to O(namespace) only; V(cluster-wide)
        to nothing. The non-strict scopes are written as the C(sealedsecrets.bitnami.com/namespace-wide) or
        C(sealedsecrets.bitnami.com/cluster-wide) annotation.
      - Changing the scope of an existing manifest re-encrypts every key, so every value must be supplied.
    type: str
    default: strict
    choices: [strict, namespace-wide, cluster-wide]
  values:
    description:
      - Keys and plaintext values to add or update. Values must be strings.
      - Combined with O(values_file); on a clash the value from O(values) wins.
    type: dict
  values_file:
    description:
      - A .env-style file of C(KEY=VALUE) lines to add or update. C(=) inside values, single and double quotes,
        multi-line quoted values and long base64 values are kept exactly; C(#) starts a comment only at line start.
    type: path
  use_live_values:
    description:
      - Read the live Secret O(namespace)/O(name) through the Kubernetes API and use its values for every key not
        given in O(values) or O(values_file). Values stay in memory. Use with O(reseal=true) after the controller
        renewed its key.
    type: bool
    default: false
  remove:
    description:
      - Key names to remove. Names not in the manifest are reported in RV(not_present).
    type: list
    elements: str
    default: []
  expect_keys:
    description:
      - Key names the resulting manifest must hold unless listed in O(remove), for example the live Secret's keys.
        The module fails before writing anything when one would be missing.
    type: list
    elements: str
    default: []
  generate:
    description:
      - Key names whose value this module generates (random letters and digits, O(generate_length) long) when the key
        is absent from the manifest, from O(expect_keys) and from the supplied values. A generated value is never
        replaced by a later run; it is never returned or logged. A key that the live Secret has but the manifest lacks
        is not generated; the run then fails on O(expect_keys) instead of silently changing the value.
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  generate_length:
    description:
      - Length of each generated value (at least 16).
    type: int
    default: 32
    version_added: 0.2.0
  htpasswd:
    description:
      - Seal one htpasswd entry C(user:<bcrypt hash>), as nginx basic auth (C(auth-type basic), C(auth-secret-type
        auth-file)) reads it, under O(htpasswd.key). Needs the Python library C(bcrypt).
      - With O(fingerprint_key) the salt is derived from the fingerprint key, the Secret and the password, so the same
        password seals the same entry and a re-run is a no-op; without it every run re-hashes and re-encrypts.
    type: dict
    version_added: 0.2.0
    suboptions:
      key:
        description: Key of the entry in the Secret.
        type: str
        default: auth
      user:
        description: User name.
        type: str
        required: true
      password:
        description: Plaintext password (from the vault).
        type: str
        required: true
  only_new:
    description:
      - Only add keys the manifest does not have yet; supplied values of existing keys are ignored.
    type: bool
    default: false
  reseal:
    description:
      - Re-encrypt every key with the current certificate. Fails unless a value is available for every existing key
        that is not listed in O(remove).
    type: bool
    default: false
  fingerprint_key:
    description:
      - Secret key for the per-key fingerprints that make re-running with the same values a no-op. Keep it in the vault.
    type: str
  certificate:
    description:
      - The controller's certificate as PEM text.
    type: str
  certificate_path:
    description:
      - Path of the controller's certificate (PEM).
    type: path
  controller_namespace:
    description:
      - Namespace of the sealed-secrets controller Service, used when no certificate is given.
    type: str
    default: kube-system
  controller_name:
    description:
      - Name of the sealed-secrets controller Service.
    type: str
    default: sealed-secrets-controller
  controller_port:
    description:
      - Port (number or name) of the controller Service that serves C(/v1/cert.pem).
    type: str
    default: "8080"
  type:
    description:
      - Type of the unsealed Secret. Default keeps the manifest's type, or C(Opaque) for a new manifest.
    type: str
  template_labels:
    description:
      - Labels added to the unsealed Secret's template metadata.
    type: dict
  template_annotations:
    description:
      - Annotations added to the unsealed Secret's template metadata.
    type: dict
  mode:
    description:
      - File mode of the manifest (it holds ciphertext only).
    type: raw
    default: "0644"
extends_documentation_fragment:
  - echo.platform.k8s_auth
  - echo.platform.attributes
  - echo.platform.attributes.SEALED_ACTION_GROUP
attributes:
  check_mode:
    support: full
    details:
      - Check mode seals in memory (it needs the certificate) and writes nothing.
  diff_mode:
    support: full
    details:
      - The diff lists key names only; re-encrypted keys are marked.
notes:
  - "Sealed values: a random 32-byte AES-256-GCM key with an all-zero nonce encrypts the value; the key is wrapped
    with RSA-OAEP-SHA256 using the label C(namespace/name), C(namespace) or empty; stored as a 2-byte big-endian
    length, the RSA ciphertext, then the GCM ciphertext and tag, base64-encoded."
"""

EXAMPLES = r"""
- name: Add or update two keys in the dev backend secret
  echo.platform.sealed_secret:
    path: secrets/dev/echo-backend-secrets.yaml
    name: echo-backend-secrets
    namespace: echo-dev
    kubeconfig: .state/dev/kubeconfig
    fingerprint_key: "{{ vault_echo_sealed_fingerprint_key }}"
    values:
      DIRECTUS_ADMIN_TOKEN: "{{ new_admin_token }}"
      SENDGRID_API_KEY: "{{ sendgrid_key }}"
  no_log: true

- name: Add keys from a .env file, offline, with a certificate file
  echo.platform.sealed_secret:
    path: secrets/prod/echo-backend-secrets.yaml
    name: echo-backend-secrets
    namespace: echo-prod
    certificate_path: secrets/prod/sealing-cert.pem
    values_file: /tmp/new-keys.env

- name: Remove a key that is no longer used
  echo.platform.sealed_secret:
    path: secrets/dev/echo-backend-secrets.yaml
    name: echo-backend-secrets
    namespace: echo-dev
    certificate_path: secrets/dev/sealing-cert.pem
    remove: [LLM__TEXT_FAST__API_BASE]

- name: Reseal every key with the controller's renewed certificate, values from the live Secret
  echo.platform.sealed_secret:
    path: secrets/dev/echo-backend-secrets.yaml
    name: echo-backend-secrets
    namespace: echo-dev
    kubeconfig: .state/dev/kubeconfig
    reseal: true
    use_live_values: true
"""

RETURN = r"""
path:
  description: The manifest file.
  returned: always
  type: str
  sample: secrets/dev/echo-backend-secrets.yaml
added:
  description: Keys that were not in the manifest and are now sealed.
  returned: always
  type: list
  elements: str
  sample: [SENDGRID_API_KEY]
updated:
  description: Existing keys that were re-encrypted.
  returned: always
  type: list
  elements: str
  sample: [DIRECTUS_ADMIN_TOKEN]
removed:
  description: Keys removed because they were listed in O(remove).
  returned: always
  type: list
  elements: str
  sample: []
unchanged:
  description: Keys whose ciphertext was kept as it was.
  returned: always
  type: list
  elements: str
  sample: [DATABASE_URL, REDIS_URL]
generated:
  description: Keys whose value this run generated (see O(generate)); names only.
  returned: always
  type: list
  elements: str
  sample: [DIRECTUS_SECRET]
  version_added: 0.2.0
not_present:
  description: Keys listed in O(remove) that the manifest did not have.
  returned: always
  type: list
  elements: str
  sample: []
key_names:
  description: Every key in the manifest after the change (predicted in check mode).
  returned: always
  type: list
  elements: str
  sample: [DATABASE_URL, DIRECTUS_ADMIN_TOKEN, REDIS_URL, SENDGRID_API_KEY]
scope:
  description: The scope the manifest is sealed for.
  returned: always
  type: str
  sample: strict
certificate:
  description: SHA-256 of the certificate used (DER) and its expiry.
  returned: always
  type: dict
  sample: {sha256: 3f1c0e..., not_after: "2036-11-25T10:00:00+00:00"}
"""

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.echo.platform.plugins.module_utils._common.errors import EchoError, SealedSecretsError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._k8s import argspec as k8s_connection
from ansible_collections.echo.platform.plugins.module_utils._sealed import crypto, generate as gen, service
from ansible_collections.echo.platform.plugins.module_utils._sealed.yamlio import HAS_YAML


def argument_spec():
    return dict(
        path=dict(type="path", required=True),
        name=dict(type="str", required=True),
        namespace=dict(type="str", required=True),
        scope=dict(type="str", default="strict", choices=list(crypto.SCOPES)),
        values=dict(type="dict", no_log=True),
        values_file=dict(type="path"),
        use_live_values=dict(type="bool", default=False),
        remove=dict(type="list", elements="str", default=[], no_log=False),
        expect_keys=dict(type="list", elements="str", default=[], no_log=False),
        only_new=dict(type="bool", default=False),
        generate=dict(type="list", elements="str", default=[], no_log=False),
        generate_length=dict(type="int", default=32),
        htpasswd=dict(type="dict", no_log=False, options=dict(
            key=dict(type="str", default="auth", no_log=False),
            user=dict(type="str", required=True),
            password=dict(type="str", required=True, no_log=True),
        )),
        reseal=dict(type="bool", default=False),
        fingerprint_key=dict(type="str", no_log=True),
        certificate=dict(type="str"),
        certificate_path=dict(type="path"),
        controller_namespace=dict(type="str", default="kube-system"),
        controller_name=dict(type="str", default="sealed-secrets-controller"),
        controller_port=dict(type="str", default="8080"),
        type=dict(type="str"),
        template_labels=dict(type="dict"),
        template_annotations=dict(type="dict"),
        mode=dict(type="raw", default="0644"),
    )


def _mode(value):
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        raise ValidationError("mode must be an octal string like '0644', got %r" % value)


def _client(params):
    from ansible_collections.echo.platform.plugins.module_utils._k8s.client import HAS_KUBERNETES
    if not HAS_KUBERNETES:
        raise ValidationError(missing_required_lib("kubernetes"))
    return k8s_connection.client_from_options(params)


def run(module):
    p = module.params
    values = service.read_values(p["values"], p["values_file"])
    for val in values.values():
        module.add_secret(val)
    client = None
    if p["use_live_values"]:
        from ansible_collections.echo.platform.plugins.module_utils._k8s.client import decode_secret_data
        client = _client(p)
        live = client.get_secret(p["namespace"], p["name"])
        if live is None:
            raise ValidationError("use_live_values: there is no live Secret %s/%s to read values from"
                                  % (p["namespace"], p["name"]))
        live_values = decode_secret_data(live)
        for val in live_values.values():
            module.add_secret(val)
        for key, val in live_values.items():
            if key not in p["remove"]:
                values.setdefault(key, val)
    if p["certificate"]:
        pem = p["certificate"]
    elif p["certificate_path"]:
        try:
            with open(p["certificate_path"], "r") as handle:
                pem = handle.read()
        except (IOError, OSError) as exc:
            raise ValidationError("certificate_path %s can't be read (%s); fetch it with the controller running or "
                                  "leave certificate_path unset" % (p["certificate_path"], exc.strerror))
    else:
        client = client or _client(p)
        pem = service.fetch_certificate(client, p["controller_namespace"], p["controller_name"], p["controller_port"])
    result = service.seal_manifest(
        p["path"], p["namespace"], p["name"], values, pem, scope=p["scope"], remove=p["remove"],
        reseal=p["reseal"], only_new=p["only_new"], fingerprint_key=p["fingerprint_key"], secret_type=p["type"],
        template_labels=p["template_labels"], template_annotations=p["template_annotations"],
        check_mode=module.check_mode, mode=_mode(p["mode"]), expect_keys=p["expect_keys"],
        generate=p["generate"], generate_length=p["generate_length"], htpasswd=p["htpasswd"], on_secret=module.add_secret)
    return result


def seal(module):
    try:
        return run(module)
    except EchoError:
        raise
    except Exception as exc:  # never let a traceback carry locals; the message names the type only
        raise SealedSecretsError("Failed to seal %s/%s: unexpected %s" % (module.params["namespace"], module.params["name"],
                                                                          type(exc).__name__),
                                 result={"exception": traceback.format_exc()})


def main():
    spec = argument_spec()
    spec.update(k8s_connection.ARG_SPEC)
    module = EchoModule(argument_spec=spec, supports_check_mode=True,
                        mutually_exclusive=[("certificate", "certificate_path")])
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML"))
    if not crypto.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(crypto.CRYPTOGRAPHY_IMPORT_ERROR))
    if module.params["htpasswd"] and not gen.HAS_BCRYPT:
        module.fail_json(msg=missing_required_lib("bcrypt"))
    module.run(seal, module)


if __name__ == "__main__":
    main()

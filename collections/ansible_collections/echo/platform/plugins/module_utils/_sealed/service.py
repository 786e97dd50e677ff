# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service layer of the sealed_secret and secret_diff modules: read inputs, plan, write.

Private to the echo.platform collection. No AnsibleModule here: check mode is an argument.
"""

from __future__ import annotations

import os

from ansible_collections.echo.platform.plugins.module_utils._common.errors import (
    EchoError, SealedSecretsError, ValidationError, failed_to)
from ansible_collections.echo.platform.plugins.module_utils._sealed import crypto, generate as gen, manifest as mf
from ansible_collections.echo.platform.plugins.module_utils._sealed.envfile import parse_env, valid_key
from ansible_collections.echo.platform.plugins.module_utils._sealed.yamlio import (
    atomic_write, dump_yaml, load_manifest_file)

CERT_PATH = "/v1/cert.pem"


def read_values(values=None, values_file=None, option="values"):
    """Merge a .env file and a dict (the dict wins); validates key names and value types."""
    merged = {}
    if values_file:
        if not os.path.isfile(values_file):
            raise ValidationError("%s_file %s does not exist; give the path of a KEY=VALUE file" % (option, values_file))
        with open(values_file, "rb") as handle:
            merged.update(parse_env(handle.read(), source="%s_file %s" % (option, values_file)))
    for key, val in (values or {}).items():
        if not valid_key(str(key)):
            raise ValidationError("%s: %r is not a valid key name (letters, digits, '_', '-', '.')" % (option, key))
        if val is None or isinstance(val, (dict, list)):
            raise ValidationError("%s: the value of %s must be a string (got %s)"
                                  % (option, key, "nothing" if val is None else type(val).__name__))
        if isinstance(val, bool):
            raise ValidationError("%s: the value of %s is a boolean; quote it so YAML keeps it a string" % (option, key))
        merged[str(key)] = str(val)
    return merged


def fetch_certificate(client, namespace, service, port):
    """PEM text of the controller's current certificate, via the API server's service proxy."""
    try:
        data = client.service_proxy_get(namespace, service, port, CERT_PATH)
    except EchoError as exc:
        raise SealedSecretsError(failed_to("fetch", "sealing certificate from", "%s/%s:%s" % (namespace, service, port),
                                           "%s. Check the controller is running, or pass certificate_path"
                                           % exc.message))
    return data.decode("utf-8") if isinstance(data, bytes) else data


def seal_manifest(path, namespace, name, values, certificate_pem, scope="strict", remove=(), reseal=False,
                  only_new=False, fingerprint_key=None, secret_type=None, template_labels=None,
                  template_annotations=None, check_mode=False, mode=0o644, random_bytes=os.urandom, expect_keys=(),
                  generate=(), generate_length=32, htpasswd=None, on_secret=None):
    """Merge ``values`` into the manifest at ``path``; returns a result dict (no values in it).

    ``generate``: keys made here (random, ``generate_length`` letters and digits) only when neither the
    manifest, ``expect_keys`` (the live Secret) nor ``values`` has them. ``htpasswd``: dict(key, user,
    password) sealed as one ``user:<bcrypt>`` line. ``on_secret(value)`` is told every value made here.
    """
    existing = load_manifest_file(path)
    if existing is not None:
        mf.validate_manifest(existing, namespace, name, source=path)
    public_key, cert_info = crypto.load_certificate(certificate_pem)
    values = dict(values or {})
    sealed_keys = list(((existing or {}).get("spec") or {}).get("encryptedData") or {})
    if htpasswd:
        hkey = htpasswd.get("key") or "auth"
        if hkey in values:
            raise ValidationError("htpasswd.key %s is also given in values; choose one" % hkey)
        values[hkey] = gen.htpasswd_line(htpasswd.get("user") or "", htpasswd.get("password") or "", fingerprint_key,
                                         namespace, name, random_bytes=random_bytes)
        if on_secret:
            on_secret(values[hkey])
    generated = gen.plan_generated(generate, sealed_keys, expect_keys, list(values) + list(remove or ()))
    for key in generated:
        values[key] = gen.random_secret(generate_length, random_bytes=random_bytes)
        if on_secret:
            on_secret(values[key])

    def seal(label, value):
        return crypto.encrypt_value(public_key, label, value, random_bytes=random_bytes)

    new, plan = mf.merge(existing, namespace, name, values, seal, scope=scope, remove=remove, reseal=reseal,
                         only_new=only_new, fp_key=fingerprint_key, secret_type=secret_type,
                         template_labels=template_labels, template_annotations=template_annotations)
    lost = sorted(set(expect_keys or ()) - set(plan["keys"]) - set(remove or ()))
    if lost:
        raise SealedSecretsError(
            "Refusing to write %s: it would lack %d key(s) that must be kept: %s. Supply their values (for example "
            "with use_live_values) or list them in remove" % (path, len(lost), ", ".join(lost)))
    before_keys = sorted(((existing or {}).get("spec") or {}).get("encryptedData") or {})
    if len(plan["keys"]) < len(before_keys) - len(plan["removed"]):
        raise SealedSecretsError("Refusing to write %s: it would hold fewer keys than before" % path)
    changed = existing is None or new != existing
    text = dump_yaml(new)
    if changed and not check_mode:
        atomic_write(path, text, mode)
    before_text, after_text = mf.key_diff_lines(plan, before_keys)
    return dict(
        changed=changed,
        path=path,
        added=plan["added"],
        updated=plan["updated"],
        removed=plan["removed"],
        unchanged=plan["unchanged"],
        not_present=plan["absent_removals"],
        generated=generated,
        key_names=plan["keys"],
        scope=scope,
        certificate=dict(sha256=cert_info["sha256"], not_after=cert_info["not_after"]),
        diff=dict(before=before_text if existing is not None else "", after=after_text,
                  before_header="%s (key names)" % path, after_header="%s (key names)" % path),
    )

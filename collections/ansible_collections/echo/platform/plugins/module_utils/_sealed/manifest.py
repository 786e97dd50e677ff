# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""SealedSecret manifests: merge at the ciphertext level, render stably.

Private to the echo.platform collection. Nothing here can decrypt, so a merge never touches the
ciphertext of a key the caller did not name: untouched keys stay byte-identical. Keys leave a
manifest only when listed in ``remove``; the merge refuses any result with fewer keys otherwise.

Change detection without decryption: when the caller gives a ``fingerprint_key`` (a secret kept
in the vault, never in git), the manifest records per key an HMAC-SHA256 of
``namespace/name NUL key NUL value`` under that key, in the annotation ``echo.platform/fingerprints``
(and the key's own id in ``echo.platform/fingerprint-key-id``). Supplying the same value again
then matches the recorded fingerprint and is a no-op. Without the vault key the fingerprints can't
be brute-forced, even for short values; binding the namespace/name hides equal values across
environments. Without a ``fingerprint_key`` a supplied key is always re-encrypted (reported as
updated) unless ``only_new`` is set.
"""

from __future__ import annotations

import copy
import json

from ansible_collections.echo.platform.plugins.module_utils._common.errors import SealedSecretsError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._common.redact import fingerprint
from ansible_collections.echo.platform.plugins.module_utils._sealed import crypto
from ansible_collections.echo.platform.plugins.module_utils._sealed.envfile import valid_key

API_VERSION = "bitnami.com/v1alpha1"
KIND = "SealedSecret"
ANN_NAMESPACE_WIDE = "sealedsecrets.bitnami.com/namespace-wide"
ANN_CLUSTER_WIDE = "sealedsecrets.bitnami.com/cluster-wide"
ANN_FINGERPRINTS = "echo.platform/fingerprints"
ANN_FINGERPRINT_KEY_ID = "echo.platform/fingerprint-key-id"
FINGERPRINT_LENGTH = 32


def value_fingerprint(fp_key, namespace, name, key, value):
    """Keyed fingerprint of one value, bound to the Secret's namespace/name and key name."""
    return fingerprint("%s/%s\0%s\0%s" % (namespace, name, key, value), fp_key, FINGERPRINT_LENGTH)


def fingerprint_key_id(fp_key):
    """A short public id of a fingerprint key, to notice when the key was changed."""
    return fingerprint("echo.platform fingerprint key id", fp_key, 12)


def scope_of(manifest):
    """Read the scope from a manifest's annotations."""
    ann = ((manifest or {}).get("metadata") or {}).get("annotations") or {}
    if str(ann.get(ANN_CLUSTER_WIDE, "")).lower() == "true":
        return "cluster-wide"
    if str(ann.get(ANN_NAMESPACE_WIDE, "")).lower() == "true":
        return "namespace-wide"
    return "strict"


def validate_manifest(manifest, namespace, name, source="manifest"):
    """Check an existing manifest is a SealedSecret for namespace/name; returns it normalized."""
    if not isinstance(manifest, dict):
        raise ValidationError("Failed to read %s: it is not a YAML/JSON mapping" % source)
    if manifest.get("kind") != KIND or manifest.get("apiVersion") != API_VERSION:
        raise ValidationError("Failed to read %s: expected apiVersion %s kind %s, found %s %s"
                              % (source, API_VERSION, KIND, manifest.get("apiVersion"), manifest.get("kind")))
    meta = manifest.get("metadata") or {}
    if meta.get("name") != name or (meta.get("namespace") or None) != (namespace or None):
        raise ValidationError("Failed to read %s: it seals %s/%s, not %s/%s; fix name/namespace or the path"
                              % (source, meta.get("namespace"), meta.get("name"), namespace, name))
    enc = (manifest.get("spec") or {}).get("encryptedData") or {}
    if not isinstance(enc, dict) or not all(isinstance(v, str) for v in enc.values()):
        raise ValidationError("Failed to read %s: spec.encryptedData must map key names to base64 strings" % source)
    return manifest


def read_fingerprints(manifest, fp_key):
    """Recorded fingerprints usable with ``fp_key`` ({} when none or recorded under another key)."""
    if not manifest or not fp_key:
        return {}
    ann = (manifest.get("metadata") or {}).get("annotations") or {}
    if ann.get(ANN_FINGERPRINT_KEY_ID) != fingerprint_key_id(fp_key):
        return {}
    try:
        data = json.loads(ann.get(ANN_FINGERPRINTS) or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def plan_merge(existing_keys, desired, remove=(), reseal=False, only_new=False, recorded=None,
               fingerprint_for=None):
    """Decide per key what happens; pure.

    ``existing_keys``: key names already sealed. ``desired``: {key: value} supplied.
    ``recorded``: {key: fingerprint} from the manifest; ``fingerprint_for(key, value)`` computes one
    (None when there is no fingerprint key). Returns dict(added, updated, removed, unchanged,
    absent_removals, encrypt) with sorted name lists and ``encrypt`` the keys to (re)seal.
    """
    existing = set(existing_keys)
    remove = set(remove or ())
    recorded = recorded or {}
    bad = sorted(k for k in desired if not valid_key(k))
    if bad:
        raise ValidationError("Invalid key names %s: use letters, digits, '_', '-', '.'" % ", ".join(bad))
    both = sorted(remove & set(desired))
    if both:
        raise ValidationError("Keys %s are both supplied and listed in remove; choose one" % ", ".join(both))
    removed = sorted(remove & existing)
    absent = sorted(remove - existing)
    kept = existing - remove
    if reseal:
        missing = sorted(kept - set(desired))
        if missing:
            raise SealedSecretsError(
                "Refusing to reseal: no value supplied for %d existing key(s) %s; resealing without them would "
                "drop them. Supply every value (for example from the live Secret) or list them in remove"
                % (len(missing), ", ".join(missing)))
    added, updated, unchanged = [], [], []
    for key in sorted(desired):
        if key not in existing:
            added.append(key)
        elif reseal:
            updated.append(key)
        elif only_new:
            unchanged.append(key)
        elif fingerprint_for is not None and recorded.get(key) == fingerprint_for(key, desired[key]):
            unchanged.append(key)
        else:
            updated.append(key)
    unchanged.extend(sorted(kept - set(desired)))
    result_keys = kept | set(desired)
    if len(result_keys) < len(existing) - len(removed):
        raise SealedSecretsError("Refusing to write fewer keys than before (internal check failed)")
    return dict(added=added, updated=updated, removed=removed, unchanged=sorted(unchanged),
                absent_removals=absent, encrypt=sorted(added + updated), keys=sorted(result_keys))


def new_manifest(namespace, name, scope, secret_type="Opaque"):
    """An empty SealedSecret for namespace/name in ``scope``."""
    manifest = dict(
        apiVersion=API_VERSION,
        kind=KIND,
        metadata=dict(name=name, namespace=namespace),
        spec=dict(encryptedData={}, template=dict(metadata=dict(name=name, namespace=namespace), type=secret_type)),
    )
    set_scope(manifest, scope)
    return manifest


def set_scope(manifest, scope):
    """Write the scope annotations on the SealedSecret and its template."""
    for meta in (manifest["metadata"], manifest["spec"]["template"].setdefault("metadata", {})):
        ann = meta.get("annotations") or {}
        ann.pop(ANN_NAMESPACE_WIDE, None)
        ann.pop(ANN_CLUSTER_WIDE, None)
        if scope == "namespace-wide":
            ann[ANN_NAMESPACE_WIDE] = "true"
        elif scope == "cluster-wide":
            ann[ANN_CLUSTER_WIDE] = "true"
        if ann:
            meta["annotations"] = ann
        else:
            meta.pop("annotations", None)


def merge(existing, namespace, name, desired, seal, scope="strict", remove=(), reseal=False, only_new=False,
          fp_key=None, secret_type=None, template_labels=None, template_annotations=None):
    """Return (new_manifest, plan). ``seal(label_bytes, value) -> base64`` does the encryption.

    ``existing`` may be None (new file). Template metadata and type of an existing manifest are kept
    unless new ones are given.
    """
    if existing is not None:
        validate_manifest(existing, namespace, name)
        manifest = copy.deepcopy(existing)
        manifest.setdefault("spec", {}).setdefault("encryptedData", {})
        manifest["spec"]["encryptedData"] = manifest["spec"]["encryptedData"] or {}
        manifest["spec"].setdefault("template", {}).setdefault("metadata", {})
        manifest["spec"]["template"]["metadata"] = manifest["spec"]["template"]["metadata"] or {}
    else:
        manifest = new_manifest(namespace, name, scope, secret_type or "Opaque")
    enc = manifest["spec"]["encryptedData"]
    old_scope = scope_of(existing) if existing is not None else scope
    fp_for = None
    if fp_key:
        def fp_for(key, value):
            return value_fingerprint(fp_key, namespace, name, key, value)
    recorded = read_fingerprints(existing, fp_key)
    if old_scope != scope:
        # every kept ciphertext is bound to the old scope: all of them must be resealed
        reseal = True
    try:
        plan = plan_merge(list(enc), desired, remove, reseal, only_new, recorded, fp_for)
    except SealedSecretsError as exc:
        if old_scope != scope:
            raise SealedSecretsError("Changing the scope from %s to %s re-encrypts every key. %s"
                                     % (old_scope, scope, exc.message))
        raise
    label = crypto.scope_label(scope, namespace, name)
    for key in plan["removed"]:
        del enc[key]
    for key in plan["encrypt"]:
        enc[key] = seal(label, desired[key])
    manifest["spec"]["encryptedData"] = dict(sorted(enc.items()))
    set_scope(manifest, scope)
    template = manifest["spec"]["template"]
    template["metadata"]["name"] = name
    template["metadata"]["namespace"] = namespace
    template["metadata"].pop("creationTimestamp", None)
    if secret_type:
        template["type"] = secret_type
    template.setdefault("type", "Opaque")
    for field, extra in (("labels", template_labels), ("annotations", template_annotations)):
        if extra:
            merged = dict(template["metadata"].get(field) or {})
            merged.update(extra)
            template["metadata"][field] = merged
    _update_fingerprints(manifest, plan, desired, fp_key, fp_for, recorded)
    return manifest, plan


def _update_fingerprints(manifest, plan, desired, fp_key, fp_for, recorded):
    ann = manifest["metadata"].get("annotations") or {}
    if fp_key:
        fps = dict(recorded)
        for key in plan["removed"]:
            fps.pop(key, None)
        for key in plan["encrypt"]:
            fps[key] = fp_for(key, desired[key])
        fps = dict((k, v) for k, v in fps.items() if k in plan["keys"])
        key_id = fingerprint_key_id(fp_key)
    else:
        try:
            fps = json.loads(ann.get(ANN_FINGERPRINTS) or "{}")
        except ValueError:
            fps = {}
        # a re-encrypted or removed key's old fingerprint no longer describes it
        for key in plan["removed"] + plan["encrypt"]:
            fps.pop(key, None)
        key_id = ann.get(ANN_FINGERPRINT_KEY_ID)
    if fps:
        ann[ANN_FINGERPRINTS] = json.dumps(dict(sorted(fps.items())), separators=(",", ":"), sort_keys=True)
        ann[ANN_FINGERPRINT_KEY_ID] = key_id
    else:
        ann.pop(ANN_FINGERPRINTS, None)
        ann.pop(ANN_FINGERPRINT_KEY_ID, None)
    if ann:
        manifest["metadata"]["annotations"] = dict(sorted(ann.items()))
    else:
        manifest["metadata"].pop("annotations", None)


def render(manifest, dump):
    """Stable text: ``dump`` is a YAML dumper taking (data) and returning text with sorted keys."""
    return dump(manifest)


def key_diff_lines(plan, before_keys):
    """(before_text, after_text) listing key names only; re-encrypted keys are marked."""
    before = "".join("%s\n" % k for k in sorted(before_keys))
    updated = set(plan["updated"])
    after = "".join("%s%s\n" % (k, "  # re-encrypted" if k in updated else "") for k in plan["keys"])
    return before, after

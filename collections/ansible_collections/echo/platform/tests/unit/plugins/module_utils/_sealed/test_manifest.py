from __future__ import annotations

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.echo.platform.plugins.module_utils._common.errors import SealedSecretsError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._sealed import crypto, manifest as mf
from ansible_collections.echo.platform.plugins.module_utils._sealed.yamlio import dump_yaml

NS, NAME = "echo-dev", "echo-backend-secrets"
FP_KEY = "vaulted-fingerprint-key"


@pytest.fixture(scope="module")
def sealer(keypair):
    priv, pem = keypair
    pub, unused_ = crypto.load_certificate(pem)

    def seal(label, value):
        return crypto.encrypt_value(pub, label, value)

    def open_all(manifest):
        label = crypto.scope_label(mf.scope_of(manifest), NS, NAME)
        return dict((k, crypto.decrypt_value(priv, label, v).decode("utf-8"))
                    for k, v in manifest["spec"]["encryptedData"].items())
    return seal, open_all


def test_new_manifest_shape_for_each_scope(sealer):
    seal, open_all = sealer
    for scope in crypto.SCOPES:
        m, plan = mf.merge(None, NS, NAME, {"B": "2", "A": "1"}, seal, scope=scope)
        assert m["apiVersion"] == "bitnami.com/v1alpha1" and m["kind"] == "SealedSecret"
        assert list(m["spec"]["encryptedData"]) == ["A", "B"]
        template_meta = dict(name=NAME, namespace=NS)
        if scope != "strict":
            template_meta["annotations"] = m["metadata"]["annotations"]
        assert m["spec"]["template"] == dict(metadata=template_meta, type="Opaque")
        assert mf.scope_of(m) == scope
        assert open_all(m) == {"A": "1", "B": "2"}
        assert plan["added"] == ["A", "B"]


def test_untouched_ciphertexts_stay_byte_identical_and_removal_needs_listing(sealer):
    seal, open_all = sealer
    m1, unused_ = mf.merge(None, NS, NAME, {"A": "1", "B": "2", "C": "3"}, seal)
    m2, plan = mf.merge(m1, NS, NAME, {"B": "new"}, seal)
    assert plan["updated"] == ["B"] and plan["unchanged"] == ["A", "C"]
    assert m2["spec"]["encryptedData"]["A"] == m1["spec"]["encryptedData"]["A"]
    assert m2["spec"]["encryptedData"]["C"] == m1["spec"]["encryptedData"]["C"]
    assert open_all(m2) == {"A": "1", "B": "new", "C": "3"}
    m3, plan = mf.merge(m2, NS, NAME, {}, seal, remove=["C", "ZZ"])
    assert plan["removed"] == ["C"] and plan["absent_removals"] == ["ZZ"]
    assert open_all(m3) == {"A": "1", "B": "new"}


def test_fingerprints_make_same_value_a_noop(sealer):
    seal, unused_ = sealer
    m1, unused_ = mf.merge(None, NS, NAME, {"A": "1", "B": "2"}, seal, fp_key=FP_KEY)
    m2, plan = mf.merge(m1, NS, NAME, {"A": "1", "B": "2"}, seal, fp_key=FP_KEY)
    assert plan["encrypt"] == [] and m2 == m1
    m3, plan = mf.merge(m1, NS, NAME, {"A": "1", "B": "changed"}, seal, fp_key=FP_KEY)
    assert plan["updated"] == ["B"]
    fps = json.loads(m3["metadata"]["annotations"][mf.ANN_FINGERPRINTS])
    assert set(fps) == {"A", "B"} and "changed" not in json.dumps(m3["metadata"])
    # another key: recorded fingerprints are ignored, values re-encrypted
    unused_, plan = mf.merge(m1, NS, NAME, {"A": "1"}, seal, fp_key="other-key")
    assert plan["updated"] == ["A"]
    # no key: supplying re-encrypts, only_new skips
    unused_, plan = mf.merge(m1, NS, NAME, {"A": "1"}, seal)
    assert plan["updated"] == ["A"]
    m4, plan = mf.merge(m1, NS, NAME, {"A": "x", "N": "n"}, seal, only_new=True)
    assert plan["added"] == ["N"] and plan["unchanged"] == ["A", "B"]
    assert m4["spec"]["encryptedData"]["A"] == m1["spec"]["encryptedData"]["A"]


def test_fingerprint_is_bound_to_secret_and_key():
    a = mf.value_fingerprint(FP_KEY, "echo-dev", NAME, "K", "v")
    assert a != mf.value_fingerprint(FP_KEY, "echo-prod", NAME, "K", "v")
    assert a != mf.value_fingerprint(FP_KEY, "echo-dev", NAME, "J", "v")
    assert a != mf.value_fingerprint("k2", "echo-dev", NAME, "K", "v")


def test_reseal_refuses_to_drop_keys(sealer):
    seal, open_all = sealer
    m1, unused_ = mf.merge(None, NS, NAME, {"A": "1", "B": "2"}, seal)
    with pytest.raises(SealedSecretsError, match="Refusing to reseal.*B"):
        mf.merge(m1, NS, NAME, {"A": "1"}, seal, reseal=True)
    m2, plan = mf.merge(m1, NS, NAME, {"A": "1", "B": "2"}, seal, reseal=True)
    assert plan["updated"] == ["A", "B"] and open_all(m2) == {"A": "1", "B": "2"}


def test_scope_change_needs_every_value(sealer):
    seal, open_all = sealer
    m1, unused_ = mf.merge(None, NS, NAME, {"A": "1", "B": "2"}, seal)
    with pytest.raises(SealedSecretsError, match="scope from strict to cluster-wide"):
        mf.merge(m1, NS, NAME, {"A": "1"}, seal, scope="cluster-wide")
    m2, unused_ = mf.merge(m1, NS, NAME, {"A": "1", "B": "2"}, seal, scope="cluster-wide")
    assert mf.scope_of(m2) == "cluster-wide" and open_all(m2) == {"A": "1", "B": "2"}


def test_template_metadata_and_type_preserved(sealer):
    seal, unused_ = sealer
    m1, unused_ = mf.merge(None, NS, NAME, {"A": "1"}, seal, secret_type="kubernetes.io/dockerconfigjson",
                           template_labels={"app": "echo"})
    m1["spec"]["template"]["metadata"]["annotations"] = {"note": "kept"}
    m2, unused_ = mf.merge(m1, NS, NAME, {"B": "2"}, seal)
    assert m2["spec"]["template"]["type"] == "kubernetes.io/dockerconfigjson"
    assert m2["spec"]["template"]["metadata"]["labels"] == {"app": "echo"}
    assert m2["spec"]["template"]["metadata"]["annotations"] == {"note": "kept"}


def test_bad_inputs(sealer):
    seal, unused_ = sealer
    m1, unused_ = mf.merge(None, NS, NAME, {"A": "1"}, seal)
    with pytest.raises(ValidationError, match="seals echo-dev/echo-backend-secrets, not echo-prod"):
        mf.merge(m1, "echo-prod", NAME, {}, seal)
    with pytest.raises(ValidationError, match="both supplied and listed in remove"):
        mf.merge(m1, NS, NAME, {"A": "2"}, seal, remove=["A"])
    with pytest.raises(ValidationError, match="Invalid key names"):
        mf.merge(m1, NS, NAME, {"bad key": "2"}, seal)
    with pytest.raises(ValidationError, match="expected apiVersion"):
        mf.merge({"kind": "Secret"}, NS, NAME, {}, seal)


def test_render_is_stable_and_unwrapped(sealer):
    seal, unused_ = sealer
    m1, unused_ = mf.merge(None, NS, NAME, {"Z": "1" * 5000, "A": "2"}, seal)
    text = dump_yaml(m1)
    assert dump_yaml(copy.deepcopy(m1)) == text
    lines = text.splitlines()
    assert any(len(line) > 6000 for line in lines)
    assert text.index("  A: ") < text.index("  Z: ")


KEYS = st.sampled_from(["A", "B", "C", "D", "E", "F"])
VALUES = st.text(max_size=20)
OPS = st.lists(st.one_of(
    st.tuples(st.just("set"), st.dictionaries(KEYS, VALUES, max_size=3)),
    st.tuples(st.just("remove"), st.lists(KEYS, max_size=2, unique=True)),
), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, use_fp=st.booleans())
def test_random_sequences_decrypt_to_expected_and_keep_untouched_ciphertexts(sealer, ops, use_fp):
    seal, open_all = sealer
    fp_key = FP_KEY if use_fp else None
    expected = {}
    current = None
    for op, arg in ops:
        before = dict(((current or {}).get("spec") or {}).get("encryptedData") or {})
        if op == "set":
            current, plan = mf.merge(current, NS, NAME, arg, seal, fp_key=fp_key)
            touched = set(arg)
            for k, v in arg.items():
                if use_fp and k in expected and expected[k] == v:
                    assert k in plan["unchanged"]
            expected.update(arg)
        else:
            current, plan = mf.merge(current, NS, NAME, {}, seal, remove=arg, fp_key=fp_key)
            touched = set(arg)
            for k in arg:
                expected.pop(k, None)
        after = current["spec"]["encryptedData"]
        for k, ct in before.items():
            if k not in touched:
                assert after[k] == ct
        assert list(after) == sorted(after)
        assert len(after) >= len(before) - len(set(arg) & set(before)) if op == "remove" else len(after) >= len(before)
        assert open_all(current) == expected

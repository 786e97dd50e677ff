"""playbooks/teardown.yml against the DigitalOcean emulator and the Spaces stand-in (testenv up).

Protected resources (Postgres, bucket, registry) survive a teardown that does not name them in
echo_allow_destroy; a second run that names them removes everything, in dependency order.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import subprocess
import sys
import tempfile
import time

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from test_do_spec import call, do_env  # noqa: E402  pylint: disable=wrong-import-position
from _testenv import REPO  # pylint: disable=import-error


def spaces_endpoint():
    state = pathlib.Path(os.environ.get("ECHO_TESTENV_STATE") or REPO / ".testenv")
    path = state / "env.d" / "spaces.env"
    if not path.is_file():
        pytest.fail("the Spaces stand-in is not up (%s missing)" % path)
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)["SPACES_ENDPOINT"]


def names(base, kind):
    """Names that exist; a cluster DigitalOcean is still deleting (status deleting) counts as gone."""
    state = call(base + "/_emulator/state")[1]
    return set(item["name"] for item in state[kind]
               if not (isinstance(item.get("status"), dict) and item["status"].get("state") == "deleting"))


@pytest.fixture()
def cluster_delay():
    """Set the emulator's cluster provisioning delay for one test, then put the previous one back."""
    base = do_env()["DO_API_URL"]
    before = call(base + "/_emulator/config", "POST", {"delays": {}})[1]["delays"]

    def set_delay(seconds):
        assert call(base + "/_emulator/config", "POST", {"delays": {"cluster": seconds}})[0] == 200

    yield set_delay
    call(base + "/_emulator/config", "POST", {"delays": {"cluster": before["cluster"]}})


def cluster_state(base, name):
    clusters = call(base + "/v2/kubernetes/clusters")[1]["kubernetes_clusters"]
    return next(c["status"]["state"] for c in clusters if c["name"] == name)


# A cluster that is running has its sealing keys gated (allowed here); one that DigitalOcean is still creating (a create
# that failed half-way, the usual reason for a teardown) has no kubeconfig to fetch and no keys, and is deleted too.
@pytest.mark.parametrize("state", ["running", "provisioning"])
def test_teardown_keeps_protected_until_named(state, cluster_delay):
    import boto3  # pylint: disable=import-outside-toplevel

    cluster_delay(0 if state == "running" else 3600)
    base = do_env()["DO_API_URL"]
    sfx = secrets.token_hex(3)
    n = {"vpc": "td-vpc-" + sfx, "cluster": "td-k8s-" + sfx, "pg": "td-pg-" + sfx, "vk": "td-vk-" + sfx,
         "bucket": "td-bucket-" + sfx, "registry": "td-cr-" + sfx}
    status, vpc = call(base + "/v2/vpcs", "POST", {"name": n["vpc"], "region": "ams3"})
    assert status == 201
    vid = vpc["vpc"]["id"]
    assert call(base + "/v2/kubernetes/clusters", "POST", {
        "name": n["cluster"], "region": "ams3", "version": "1.34.4-do.0", "vpc_uuid": vid,
        "node_pools": [{"name": "p", "size": "s-1vcpu-2gb", "count": 1}]})[0] == 201
    for name, engine in ((n["pg"], "pg"), (n["vk"], "valkey")):
        assert call(base + "/v2/databases", "POST", {"name": name, "engine": engine, "size": "db-s-1vcpu-1gb",
                                                     "num_nodes": 1, "region": "ams3",
                                                     "private_network_uuid": vid})[0] == 201
    assert call(base + "/v2/registries", "POST", {"name": n["registry"], "subscription_tier_slug": "basic",
                                                  "region": "ams3"})[0] == 201
    s3 = boto3.client("s3", endpoint_url=spaces_endpoint(), aws_access_key_id="rehearsal",
                      aws_secret_access_key="rehearsal-secret", region_name="ams3")
    s3.create_bucket(Bucket=n["bucket"], CreateBucketConfiguration={"LocationConstraint": "ams3"})

    tmp = tempfile.mkdtemp(prefix="td-")
    extra = {"echo_vpc_name": n["vpc"], "echo_cluster_name": n["cluster"],
             "echo_postgres": {"name": n["pg"]}, "echo_postgres_pool": {"name": n["pg"] + "-pool"},
             "echo_valkey": {"name": n["vk"]}, "echo_uploads_bucket": n["bucket"],
             "echo_registry": {"name": n["registry"]}, "echo_state_dir": tmp, "teardown_confirm": True,
             # the emulated cluster hands out the rehearsal's kubeconfig, whose sealing keys this scratch state has no
             # backup of (the gate itself: test_secrets_operations.py)
             "teardown_allow_unbacked_sealing_keys": True}

    def teardown(allow):
        path = os.path.join(tmp, "vars.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(dict(extra, echo_allow_destroy=allow), handle)
        env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
                   PATH=str(REPO / ".venv" / "bin") + os.pathsep + os.environ.get("PATH", ""))
        proc = subprocess.run([str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", "inventories/local",
                               "playbooks/teardown.yml", "-e", "@" + path], cwd=str(REPO), env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        return proc.stdout

    deadline = time.time() + 30
    while cluster_state(base, n["cluster"]) != state and time.time() < deadline:
        time.sleep(0.5)
    assert cluster_state(base, n["cluster"]) == state

    def buckets():
        return set(b["Name"] for b in s3.list_buckets()["Buckets"])

    out = " ".join(teardown([]).split())  # the callback wraps long messages
    assert ("is still provisioning: it has never run the sealed-secrets controller" in out) is (state == "provisioning")
    # the gate ran: the scratch state has no kubeconfig, so the running cluster's is fetched for it
    assert ("fetching a new one through the DigitalOcean API" in out) is (state == "running")
    assert n["cluster"] not in names(base, "kubernetes_clusters")
    dbs = names(base, "databases")
    assert n["vk"] not in dbs and n["pg"] in dbs
    assert n["vpc"] in names(base, "vpcs")  # Postgres still lives in it
    assert n["registry"] in names(base, "registries")
    assert n["bucket"] in buckets()

    teardown(["postgres", "bucket", "registry"])
    assert n["pg"] not in names(base, "databases")
    assert n["vpc"] not in names(base, "vpcs")
    assert n["registry"] not in names(base, "registries")
    assert n["bucket"] not in buckets()

"""The operations of the original secret-manager.sh through playbooks/rotate_secrets.yml, the required-key gate of a
rotation, the kubeconfig refresh of the ad-hoc playbooks and the sealing-key gate of teardown (rehearsal environment).

get KEY: one value to a 0600 file, or to the terminal (a pseudo-terminal here) and never to ANSIBLE_LOG_PATH.
batch: KEY=VALUE lines from standard input through scripts/secrets-batch. update: one value typed at the terminal.
Canaries are planted in every value; none may appear in any output other than the terminal of an explicit `get -`.
Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import json
import os
import pathlib
import pty
import re
import secrets
import select
import signal
import stat
import subprocess
import sys
import termios
import time

import pytest
import yaml

from _secrets_support import REPO, VENV_BIN, Kube, canary, require_testenv, run, tree_digest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from test_do_spec import call, do_env  # noqa: E402  pylint: disable=wrong-import-position

NAME = "echo-backend-secrets"
FP_KEY = "e2e-operations-fingerprint-key"


@pytest.fixture(scope="module")
def kube():
    env = require_testenv()
    k = Kube(env["KUBECONFIG"])
    k.env = env
    yield k
    k.api_client.close()


@pytest.fixture(scope="module")
def ctx(kube, tmp_path_factory):
    ns = kube.create_namespace("e2e-ops")
    tmp = tmp_path_factory.mktemp("ops")
    c = dict(ns=ns, tmp=tmp, secrets=tmp / "secrets", log=tmp / "ansible.log", canary=canary())
    c["secrets"].mkdir()
    yield c
    kube.delete_namespace(ns)


def base_args(ctx, *extra):
    args = ["-i", "inventories/local", "-e", "echo_kube_context=", "-e", "echo_deploy_method=helm",
            "-e", "sealed_secrets_rotate_namespace=%s" % ctx["ns"], "-e", "sealed_secrets_rotate_secrets_dir=%s" % ctx["secrets"],
            "-e", "echo_sealed_fingerprint_key=%s" % FP_KEY]
    for item in extra:
        args += ["-e", item]
    return args


def rotate(ctx, *extra, extra_vars=None, check=False):
    cmd = ["ansible-playbook", "playbooks/rotate_secrets.yml"] + base_args(ctx, *extra)
    if extra_vars is not None:
        path = ctx["tmp"] / "extra.json"
        path.write_text(json.dumps(extra_vars))
        cmd += ["-e", "@%s" % path]
    if check:
        cmd += ["--check", "--diff"]
    rc, out = run(cmd, env_extra={"ANSIBLE_LOG_PATH": str(ctx["log"])})
    assert ctx["canary"] not in out, "canary leaked into the output"
    assert ctx["canary"] not in ctx["log"].read_text(), "canary leaked into the Ansible log"
    return rc, out


def on_a_terminal(cmd, answer=None, prompt=None, timeout=300, banner="Ask for the value"):
    """Run ``cmd`` on a pseudo-terminal; type ``answer`` once the pause of ``prompt`` (or of the task ``banner``, as a
    no_log pause may not echo its prompt) reads the terminal. Ansible prints the prompt, then puts the terminal in raw
    mode and flushes what was typed before, so the answer is typed only after raw mode has been seen on the terminal
    (a pty's master reads the same settings as its slave) and has held for a moment. Returns (rc, terminal text); a
    command still running at ``timeout`` is killed, so a missed prompt fails the test instead of hanging the suite."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH="%s:%s" % (VENV_BIN, os.environ.get("PATH", "")))
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(str(REPO))
        os.execvpe(cmd[0], cmd, env)
    out, typed, deadline, raw_at = b"", False, time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        if answer is None or typed or not (prompt.encode() in out or banner.encode() in out):
            continue
        try:
            raw = not termios.tcgetattr(fd)[3] & termios.ICANON
        except termios.error:
            break
        raw_at = (raw_at or time.monotonic()) if raw else None
        if raw_at is not None and time.monotonic() - raw_at > 0.5:
            os.write(fd, answer.encode() + b"\r")
            typed = True
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        # pty.fork made the child a session (and group) leader: kill the group, or ansible-playbook's forked
        # worker outlives it
        os.killpg(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        out += b"\n[killed after %ds]" % timeout
    os.close(fd)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def test_1_batch_from_standard_input(kube, ctx):
    c = ctx["canary"]
    long_b64 = ("QUJD" * 400) + c.encode().hex()  # 1,600+ characters: sealed whole, never wrapped
    text = ("# a comment\nDATABASE_URL=postgres://u:%s@h:25060/db?sslmode=require\nQUOTED=\"say \\\"%s\\\"\"\n"
            "GCP_SA_JSON=%s\nDIRECTUS_SECRET=%s-s\nREDIS_URL=rediss://%s@r:25061\n" % (c, c, long_b64, c, c))
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOG_PATH=str(ctx["log"]), PATH="%s:%s" % (VENV_BIN, os.environ.get("PATH", "")))
    proc = subprocess.run(["scripts/secrets-batch", "inventories/local", "-"] + base_args(ctx)[2:], input=text,
                          cwd=str(REPO), env=env, capture_output=True, text=True, timeout=600, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert c not in out and c not in ctx["log"].read_text()
    assert kube.secret_values(ctx["ns"], NAME) == {
        "DATABASE_URL": "postgres://u:%s@h:25060/db?sslmode=require" % c, "QUOTED": 'say "%s"' % c,
        "GCP_SA_JSON": long_b64, "DIRECTUS_SECRET": c + "-s", "REDIS_URL": "rediss://%s@r:25061" % c}
    leftovers = [p for p in pathlib.Path(os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("TMPDIR") or "/tmp")
                 .glob("echo-secrets-batch.*")]
    assert leftovers == [], "the standard-input copy must be deleted"


def test_2_get_one_key_to_a_private_file(kube, ctx):
    dest = ctx["tmp"] / "value"
    rc, out = rotate(ctx, "sealed_secrets_rotate_action=get", "sealed_secrets_rotate_get_key=DATABASE_URL",
                     "sealed_secrets_rotate_get_file=%s" % dest)
    assert rc == 0, out[-3000:]
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert dest.read_text() == "postgres://u:%s@h:25060/db?sslmode=require" % ctx["canary"]
    dest.unlink()
    rc, out = rotate(ctx, "sealed_secrets_rotate_action=get", "sealed_secrets_rotate_get_key=NO_SUCH_KEY",
                     "sealed_secrets_rotate_get_file=%s" % dest)
    assert rc != 0 and "has no key NO_SUCH_KEY" in out and not dest.exists()


def test_3_get_to_the_terminal_never_to_the_log(kube, ctx):
    log = ctx["tmp"] / "tty.log"
    cmd = ["env", "ANSIBLE_LOG_PATH=%s" % log, str(VENV_BIN / "ansible-playbook"), "playbooks/rotate_secrets.yml"] + \
        base_args(ctx, "sealed_secrets_rotate_action=get", "sealed_secrets_rotate_get_key=QUOTED",
                  "sealed_secrets_rotate_get_file=-")
    rc, terminal = on_a_terminal(cmd)
    assert rc == 0, terminal[-3000:]
    assert ('say "%s"' % ctx["canary"]) in terminal
    assert ctx["canary"] not in log.read_text()
    # without a terminal it refuses instead of printing through Ansible's output
    rc, out = rotate(ctx, "sealed_secrets_rotate_action=get", "sealed_secrets_rotate_get_key=QUOTED",
                     "sealed_secrets_rotate_get_file=-")
    assert rc != 0 and "is not a terminal" in out


def test_4_update_one_key_typed_at_the_terminal(kube, ctx):
    log = ctx["tmp"] / "update.log"
    value = "typed-%s" % ctx["canary"]
    cmd = ["env", "ANSIBLE_LOG_PATH=%s" % log, str(VENV_BIN / "ansible-playbook"), "playbooks/rotate_secrets.yml"] + \
        base_args(ctx, "sealed_secrets_rotate_action=update", "sealed_secrets_rotate_update_key=SENDGRID_API_KEY")
    rc, terminal = on_a_terminal(cmd, answer=value, prompt="New value of SENDGRID_API_KEY")
    assert rc == 0, terminal[-3000:]
    assert value not in terminal and ctx["canary"] not in log.read_text()
    assert kube.secret_values(ctx["ns"], NAME)["SENDGRID_API_KEY"] == value


def test_5_removing_a_required_key_is_refused_unless_allowed(kube, ctx):
    before_files, before_live = tree_digest(ctx["secrets"]), kube.secret_values(ctx["ns"], NAME)
    rc, out = rotate(ctx, "sealed_secrets_rotate_action=rotate", extra_vars={"sealed_secrets_rotate_remove": ["REDIS_URL"]})
    assert rc != 0
    assert "Refusing to remove REDIS_URL" in out and "api, worker, worker-cpu, worker-scheduler, directus" in out
    assert "echo_allow_missing_secrets" in out and "playbooks/rotate_secrets.yml -i inventories/local" in out
    assert tree_digest(ctx["secrets"]) == before_files and kube.secret_values(ctx["ns"], NAME) == before_live
    rc, out = rotate(ctx, "sealed_secrets_rotate_action=rotate",
                     extra_vars={"sealed_secrets_rotate_remove": ["REDIS_URL"], "echo_allow_missing_secrets": ["REDIS_URL"]})
    assert rc == 0, out[-3000:]
    assert "REDIS_URL" not in kube.secret_values(ctx["ns"], NAME)
    # a key no component requires leaves without any allowance
    rc, out = rotate(ctx, "sealed_secrets_rotate_action=rotate", extra_vars={"sealed_secrets_rotate_remove": ["QUOTED"]})
    assert rc == 0, out[-3000:]


def test_6_compare_key_presence_of_committed_manifests(kube, ctx):
    # the local inventory commits its manifests in the checkout Argo CD tracks (echo_secrets_dir)
    other = REPO / ".testenv" / "git" / "checkout" / "secrets" / "local" / ("%s.yaml" % NAME)
    rc, out = rotate(ctx, "sealed_secrets_rotate_action=compare", "sealed_secrets_compare_envs=local",
                     "sealed_secrets_rotate_env=testing")
    assert rc == 0, out[-3000:]
    assert "differing" in out and "hmac-sha256:" in out
    if other.exists():  # the rehearsal's own local manifest, when site.yml ran: key presence against ours
        summary = out[out.find("manifests_"):][:1500]
        # (the yaml result format of ansible.cfg or JSON, whichever the callback prints)
        assert "manifests_missing" in out and re.search(r'"?manifests_absent"?: \[\]', out), summary
    else:
        assert '"manifests_absent": [\n            "local"' in out.replace("\r", "") or "'local'" in out


def emulator_cluster(name):
    base = do_env()["DO_API_URL"]
    status, body = call(base + "/v2/kubernetes/clusters", "POST", {
        "name": name, "region": "ams3", "version": "1.34.4-do.0",
        "node_pools": [{"name": "p", "size": "s-1vcpu-2gb", "count": 1}]})
    assert status == 201, body
    cid = body["kubernetes_cluster"]["id"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if call(base + "/v2/kubernetes/clusters/%s" % cid)[1]["kubernetes_cluster"]["status"]["state"] == "running":
            return base, cid
        time.sleep(1)
    pytest.fail("emulated cluster %s never ran" % name)


def test_7_a_missing_or_expired_kubeconfig_is_fetched_again(kube, ctx):
    cluster = "e2e-kc-" + secrets.token_hex(3)
    base, cid = emulator_cluster(cluster)
    kc = ctx["tmp"] / "state" / "kubeconfig"
    try:
        rc, out = rotate(ctx, "echo_kubeconfig=%s" % kc, "echo_cluster_name=%s" % cluster)
        assert rc == 0, out[-3000:]
        assert "fetching a new one through the DigitalOcean API" in out
        assert stat.S_IMODE(kc.stat().st_mode) == 0o600 and "DATABASE_URL" in out
        # an expired credential: same file, token or client certificate no longer accepted
        doc = yaml.safe_load(kc.read_text())
        for user in doc["users"]:
            user["user"] = {"token": "expired-" + secrets.token_hex(8)}
        kc.write_text(yaml.safe_dump(doc))
        rc, out = rotate(ctx, "echo_kubeconfig=%s" % kc, "echo_cluster_name=%s" % cluster)
        assert rc == 0, out[-3000:]
        assert "fetching a new one" in out and "expired-" not in kc.read_text()
        rc, out = rotate(ctx, "echo_kubeconfig=%s" % (ctx["tmp"] / "none" / "kubeconfig"), "echo_cluster_name=no-such-cluster")
        assert rc != 0 and "no cluster named no-such-cluster" in out
    finally:
        call(base + "/v2/kubernetes/clusters/%s" % cid, "DELETE")


def teardown(ctx, state, cluster, *extra):
    cmd = ["ansible-playbook", "playbooks/teardown.yml", "-i", "inventories/local", "--check", "-e", "teardown_confirm=true",
           "-e", "echo_state_dir=%s" % state, "-e", "echo_cluster_name=%s" % cluster, "-e", "echo_kube_context="]
    for item in extra:
        cmd += ["-e", item]
    return run(cmd)


def test_8_teardown_refuses_sealing_keys_without_a_newer_backup(kube, ctx):
    cluster = "e2e-td-" + secrets.token_hex(3)
    base, cid = emulator_cluster(cluster)
    state = ctx["tmp"] / "td-state"
    state.mkdir()
    try:
        rc, out = teardown(ctx, state, cluster)
        assert rc != 0
        assert "Refusing to delete cluster %s" % cluster in out and "does not exist" in out
        assert "teardown_allow_unbacked_sealing_keys=true" in out and "sealing_key_backup.yml" in out
        backup = state / "sealing-keys.vault"
        backup.write_text("stand-in backup file: only its age is checked here\n")
        old = time.time() - 10 * 365 * 86400
        os.utime(backup, (old, old))
        rc, out = teardown(ctx, state, cluster)
        assert rc != 0 and "has no newer backup" in out
        os.utime(backup, None)
        rc, out = teardown(ctx, state, cluster)
        assert rc == 0 and "is newer than the newest key" in out, out[-3000:]
        backup.unlink()
        rc, out = teardown(ctx, state, cluster, "teardown_allow_unbacked_sealing_keys=true")
        assert rc == 0, out[-3000:]
        assert cluster in [c["name"] for c in call(base + "/v2/kubernetes/clusters")[1]["kubernetes_clusters"]]
    finally:
        call(base + "/v2/kubernetes/clusters/%s" % cid, "DELETE")

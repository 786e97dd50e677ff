"""Direct helm deploy: an image tag the registry does not hold stops the deploy before any change.

The original's prod agent sat in ImagePullBackOff for ~29 days (reference 9.2 G6): nothing checked
that an image existed before its tag was rolled out, and the manifest had 0 bytes of layers.
playbooks/deploy.yml (echo_deploy_method=helm, the local default) looks every tag up in the
DigitalOcean registry (the emulator answers locally) and fails with a message naming the image.

Needs `testenv/bin/testenv up`.
"""

from __future__ import annotations

import json
import uuid

import pytest

from _deploy_support import fact, helm_releases, require_testenv, run_playbook, seed_registry, task_results

NAMESPACES = ("echo-local", "monitoring")


@pytest.fixture(scope="module")
def do_url():
    env = require_testenv()
    seed_registry(env["DO_API_URL"], {"dbr-echo-%s" % i: ("rehearsal", 4096) for i in ("server", "directus", "agent")})
    return env["DO_API_URL"]


def releases():
    return {ns: helm_releases(ns) for ns in NAMESPACES}


def deploy_with(tags: dict[str, str]):
    return run_playbook("deploy.yml", "echo_deploy_method=helm", json.dumps({"echo_image_tags": tags}))


def test_missing_tag_fails_before_anything_changes(do_url):
    before = releases()
    missing = "missing-" + uuid.uuid4().hex[:8]
    rc, out, raw = deploy_with({"server": missing})
    assert rc != 0
    assert "Refusing to deploy: image registry.digitalocean.com/dbr-cr/dbr-echo-server:%s" % missing in raw
    assert "is not in the registry" in raw and "echo_image_tags.server" in raw
    assert task_results(out, "Install or upgrade the releases") == []
    assert releases() == before


def test_missing_repository_fails_with_its_name(do_url):
    before = releases()
    repo = "dbr-echo-nope-" + uuid.uuid4().hex[:6]
    rc, _, raw = run_playbook("deploy.yml", "echo_deploy_method=helm",
                              json.dumps({"chart_deploy_values": {"echo": {"images": {"server": {"repository": repo}}}}}))
    assert rc != 0
    assert "dbr-cr/%s:rehearsal" % repo in raw and "is not in the registry" in raw
    assert releases() == before


def test_empty_manifest_counts_as_missing(do_url):
    empty = "empty-" + uuid.uuid4().hex[:8]
    seed_registry(do_url, {"dbr-echo-directus": (empty, 0)})
    before = releases()
    rc, _, raw = deploy_with({"directus": empty})
    assert rc != 0
    assert "dbr-echo-directus:%s" % empty in raw and "0 bytes of layers" in raw
    assert releases() == before


def test_existing_tags_deploy_and_second_run_changes_nothing(do_url):
    rc, out, raw = deploy_with({"server": "rehearsal", "directus": "rehearsal", "agent": "rehearsal"})
    assert rc == 0, raw[-4000:]
    images = {i["name"]: i["tag"] for i in fact(out, "chart_deploy_result")["images"]}
    assert images == {"server": "rehearsal", "directus": "rehearsal", "agent": "rehearsal"}
    rc, out, raw = deploy_with({"server": "rehearsal", "directus": "rehearsal", "agent": "rehearsal"})
    assert rc == 0, raw[-4000:]
    assert out["stats"]["localhost"]["changed"] == 0

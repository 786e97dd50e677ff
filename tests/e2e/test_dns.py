"""DNS layer (playbooks/dns.yml): the public hosts get A records at the ingress load balancer's address.

The original set these records by hand (reference 9, "left manual"). Here the layer reads the address the
ingress-nginx Service got (the rehearsal's DOKS stand-in gives LoadBalancer Services 198.51.100.x, as
DigitalOcean's cloud controller would), writes the records through the DigitalOcean domains API (emulated,
spec-validated), changes nothing on the second run, and treats a record pointing elsewhere as a cut-over:
shown by the plan, refused by a real run unless echo_dns_takeover=true.

Needs `testenv/bin/testenv up`; runs playbooks/bootstrap.yml first when ingress-nginx is not installed.
"""

from __future__ import annotations

import json

import pytest
import requests

from _deploy_support import DO_TOKEN, kubectl, require_testenv, run_playbook, seed_registry, task_results

ZONE = "localtest.me"
NAMES = ["api.echo", "directus.echo", "grafana.echo", "prometheus.echo"]
HEADERS = {"Authorization": "Bearer " + DO_TOKEN}


def records(do_url: str) -> dict[str, list[dict]]:
    r = requests.get("%s/v2/domains/%s/records?per_page=200" % (do_url, ZONE), headers=HEADERS, timeout=10)
    assert r.status_code == 200, r.text
    found: dict[str, list[dict]] = {}
    for rec in r.json()["domain_records"]:
        if rec["type"] == "A":
            found.setdefault(rec["name"], []).append(rec)
    return found


def violations(do_url: str) -> list:
    return requests.get(do_url + "/_emulator/violations", timeout=10).json()["violations"]


@pytest.fixture(scope="module")
def dns_env():
    env = require_testenv()
    if kubectl("-n", "ingress-nginx", "get", "service", "ingress-nginx-controller", check=False).returncode != 0:
        seed_registry(env["DO_API_URL"], {})
        rc, _, raw = run_playbook("bootstrap.yml", json_output=False)
        assert rc == 0, raw[-4000:]
    svc = json.loads(kubectl("-n", "ingress-nginx", "get", "service", "ingress-nginx-controller", "-o", "json").stdout)
    env["LB_IP"] = svc["status"]["loadBalancer"]["ingress"][0]["ip"]
    env["VIOLATIONS_BEFORE"] = len(violations(env["DO_API_URL"]))
    return env


def test_records_point_at_the_load_balancer_and_a_rerun_changes_nothing(dns_env):
    rc, out, raw = run_playbook("dns.yml")
    assert rc == 0, raw[-4000:]
    live = records(dns_env["DO_API_URL"])
    for name in NAMES:
        assert [r["data"] for r in live[name]] == [dns_env["LB_IP"]], (name, live.get(name))
        assert live[name][0]["ttl"] == 300
    rc, out, raw = run_playbook("dns.yml")
    assert rc == 0, raw[-4000:]
    assert out["stats"]["localhost"]["changed"] == 0
    assert len(violations(dns_env["DO_API_URL"])) == dns_env["VIOLATIONS_BEFORE"]


def test_a_record_pointing_elsewhere_is_a_cut_over(dns_env):
    do_url = dns_env["DO_API_URL"]
    api = records(do_url)["api.echo"][0]
    r = requests.patch("%s/v2/domains/%s/records/%s" % (do_url, ZONE, api["id"]), headers=HEADERS, timeout=10,
                       json={"type": "A", "data": "203.0.113.9"})
    assert r.status_code == 200, r.text

    # the plan shows it and changes nothing
    rc, out, raw = run_playbook("dns.yml", check=True, diff=True)
    assert rc == 0, raw[-4000:]
    result = task_results(out, "Ensure the A records")[0]
    assert result["changed"] is True
    assert any(c["name"] == "api.echo" and c.get("previous_data") == "203.0.113.9" for c in result["changes"]), result
    assert records(do_url)["api.echo"][0]["data"] == "203.0.113.9"

    # a real run refuses without consent, naming the record and the switch
    rc, out, raw = run_playbook("dns.yml")
    assert rc != 0
    msg = task_results(out, "Stop on a DNS failure")[0]["msg"]
    assert "api.echo" in msg and "203.0.113.9" in msg and dns_env["LB_IP"] in msg
    assert "-e echo_dns_takeover=true" in msg
    assert records(do_url)["api.echo"][0]["data"] == "203.0.113.9"

    rc, out, raw = run_playbook("dns.yml", "echo_dns_takeover=true")
    assert rc == 0, raw[-4000:]
    assert records(do_url)["api.echo"][0]["data"] == dns_env["LB_IP"]
    assert len(violations(do_url)) == dns_env["VIOLATIONS_BEFORE"]

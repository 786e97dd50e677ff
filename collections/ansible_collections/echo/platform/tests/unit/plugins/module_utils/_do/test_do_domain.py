# -*- coding: utf-8 -*-
"""DNS records of a domain: the pure planner, input validation, and the service with an in-memory API."""

from __future__ import annotations

import pytest

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._do import domain as dom
from ansible_collections.echo.platform.plugins.module_utils._do.client import DoClient

LB = "203.0.113.20"
OLD_LB = "198.51.100.7"


class FakeDomainsApi:
    """An in-memory /v2/domains: pages like DigitalOcean, records every request and every write.

    ``list_all`` is the real DoClient paginator running over ``request``.
    """

    list_all = DoClient.list_all

    def __init__(self, domains=None):
        self.domains = {name: [dict(r) for r in recs] for name, recs in (domains or {}).items()}
        self.next_id = 1000
        self.calls = []
        self.writes = []

    def _records(self, path):
        return self.domains[path.split("/")[3]]

    def request(self, method, path, body=None, params=None, **_kw):
        self.calls.append((method, path, dict(params or {})))
        parts = path.split("/")
        if method == "GET" and path.endswith("/records"):
            recs = [r for r in self._records(path) if params.get("type") in (None, r["type"])
                    and params.get("name") in (None, dom.fqdn(r["name"], parts[3]))]
            per_page, page = int(params.get("per_page", 20)), int(params.get("page", 1))
            chunk = recs[(page - 1) * per_page:page * per_page]
            links = {"pages": {"next": "https://api.digitalocean.com%s?page=%d" % (path, page + 1)}} \
                if page * per_page < len(recs) else {}
            return {"domain_records": [dict(r) for r in chunk], "links": links, "meta": {"total": len(recs)}}
        if method == "GET":
            return {"domain": {"name": parts[3], "ttl": 1800, "zone_file": None}} if parts[3] in self.domains else None
        self.writes.append((method, path, body))
        if path == dom.DOMAINS_PATH:
            self.domains[body["name"]] = [{"id": 1, "type": "SOA", "name": "@", "data": "1800", "ttl": 1800},
                                          {"id": 2, "type": "NS", "name": "@", "data": "ns1.digitalocean.com",
                                           "ttl": 1800}]
            return {"domain": {"name": body["name"], "ttl": 1800, "zone_file": None}}
        recs = self._records(path)
        if method == "POST":
            self.next_id += 1
            rec = dict(body, id=self.next_id)
            recs.append(rec)
            return {"domain_record": dict(rec)}
        rec = next(r for r in recs if r["id"] == int(parts[5]))
        rec.update(body)
        return {"domain_record": dict(rec)}

    def get(self, path, kind, name=None, params=None):  # pylint: disable=unused-argument
        return self.request("GET", path, params=params)

    def delete(self, path, kind, name=None):  # pylint: disable=unused-argument
        self.writes.append(("DELETE", path, None))
        recs = self._records(path)
        recs[:] = [r for r in recs if r["id"] != int(path.split("/")[5])]


def rec(rid, name, data, rtype="A", ttl=1800):
    return {"id": rid, "type": rtype, "name": name, "data": data, "ttl": ttl, "priority": None, "port": None,
            "weight": None, "flags": None, "tag": None}


def want(name, data, rtype="A", ttl=1800):
    return {"name": name, "type": rtype, "data": data, "ttl": ttl}


def params(records, **kw):
    p = {"domain": "dembrane.com", "create_domain": False, "records": records, "takeover": False, "purge": False}
    p.update(kw)
    return p


HOSTS = [want(h, LB) for h in ("api.echo", "directus.echo", "grafana.echo", "prometheus.echo")]


# ---- planner (pure) ----------------------------------------------------------------------------
def test_plan_creates_missing_and_leaves_other_names_alone():
    existing = [rec(1, "@", "ns1.digitalocean.com", "NS"), rec(2, "www", "192.0.2.1"), rec(3, "api.echo", LB, "TXT")]
    plan = dom.plan_records(existing, HOSTS)
    assert [(c["action"], c["name"], c["data"]) for c in plan["changes"]] == [("create", h["name"], LB) for h in HOSTS]
    assert plan["before"] == [] and len(plan["after"]) == 4 and all(r["id"] is None for r in plan["after"])
    assert not plan["takeovers"] and not plan["conflicts"] and not plan["warnings"]


def test_plan_equal_data_is_a_noop_compared_as_the_dns_does():
    existing = [rec(1, "API.echo", LB), rec(2, "v6", "2001:DB8:0:0::10", "AAAA"),
                rec(3, "www", "api.echo.dembrane.com", "CNAME")]
    desired = [want("api.echo", LB), want("v6", "2001:db8::10", "AAAA"), want("www", "api.echo.dembrane.com.", "CNAME")]
    plan = dom.plan_records(existing, desired)
    assert plan["changes"] == [] and plan["after"] == plan["before"]


def test_plan_ttl_only_is_an_update_without_takeover():
    plan = dom.plan_records([rec(7, "api.echo", LB, ttl=1800)], [want("api.echo", LB, ttl=300)])
    assert plan["changes"] == [{"action": "update", "id": 7, "name": "api.echo", "type": "A", "data": LB, "ttl": 300,
                                "previous_data": LB, "previous_ttl": 1800}]
    assert plan["takeovers"] == [] and plan["refused"] == []


def test_plan_other_data_is_a_takeover_refused_unless_allowed():
    existing = [rec(7, "api.echo", OLD_LB)]
    plan = dom.plan_records(existing, [want("api.echo", LB)])
    assert plan["refused"] == plan["takeovers"] == plan["changes"]
    assert plan["changes"][0]["previous_data"] == OLD_LB and plan["changes"][0]["data"] == LB
    allowed = dom.plan_records(existing, [want("api.echo", LB)], takeover=True)
    assert allowed["refused"] == [] and allowed["takeovers"] == allowed["changes"]
    assert allowed["after"] == [{"id": 7, "name": "api.echo", "type": "A", "data": LB, "ttl": 1800}]


def test_plan_duplicates_kept_with_a_warning_or_purged():
    existing = [rec(5, "api.echo", LB), rec(6, "api.echo", LB), rec(8, "api.echo", OLD_LB), rec(9, "www", OLD_LB)]
    plan = dom.plan_records(existing, [want("api.echo", LB)])
    assert plan["changes"] == [] and len(plan["warnings"]) == 2 and "purge: true" in plan["warnings"][0]
    purged = dom.plan_records(existing, [want("api.echo", LB)], purge=True)
    assert [(c["action"], c["id"]) for c in purged["changes"]] == [("delete", 6), ("delete", 8)]
    assert purged["after"] == [{"id": 5, "name": "api.echo", "type": "A", "data": LB, "ttl": 1800}]


def test_plan_two_addresses_pair_up_in_id_order():
    existing = [rec(3, "api.echo", "192.0.2.3"), rec(2, "api.echo", "192.0.2.2")]
    plan = dom.plan_records(existing, [want("api.echo", "192.0.2.2"), want("api.echo", LB)], takeover=True)
    assert [(c["action"], c["id"], c["data"]) for c in plan["changes"]] == [("update", 3, LB)]


def test_plan_txt_values_are_added_beside_others_never_taken_over():
    existing = [rec(4, "@", "google-site-verification=abc", "TXT")]
    plan = dom.plan_records(existing, [want("@", "v=spf1 -all", "TXT")], takeover=True)
    assert [(c["action"], c["data"]) for c in plan["changes"]] == [("create", "v=spf1 -all")]
    assert plan["takeovers"] == [] and "purge: true" in plan["warnings"][0]
    purged = dom.plan_records(existing, [want("@", "v=spf1 -all", "TXT")], purge=True)
    assert [(c["action"], c["data"]) for c in purged["changes"]] == [("create", "v=spf1 -all"),
                                                                     ("delete", "google-site-verification=abc")]


def test_plan_cname_next_to_other_records_is_a_conflict():
    plan = dom.plan_records([rec(1, "www", OLD_LB)], [want("www", "api.echo.dembrane.com.", "CNAME")], takeover=True)
    assert plan["conflicts"] and "www CNAME" in plan["conflicts"][0] and "A record" in plan["conflicts"][0]
    plan = dom.plan_records([rec(1, "www", "x.example.com", "CNAME")], [want("www", LB)])
    assert plan["conflicts"]


# ---- validation (before any request) -----------------------------------------------------------
@pytest.mark.parametrize("records, fragment", [
    ([want("api.echo.dembrane.com", LB)], "fully qualified name: use the name relative to dembrane.com, 'api.echo'"),
    ([want("api.echo.", LB)], "ends with a dot"),
    ([want("dembrane.com", LB)], "use '@'"),
    ([want("api echo", LB)], "not a DNS name"),
    ([want("api.echo", "2001:db8::1")], "records[0] (api.echo A) data '2001:db8::1' is not an IPv4 address"),
    ([want("api.echo", "lb.example.com")], "is not an IPv4 address"),
    ([want("api.echo", LB, "AAAA")], "is not an IPv6 address"),
    ([want("www", "lb.example.com", "CNAME")], "ending with a dot, for example 'lb.example.com.'"),
    ([want("api.echo", LB, "MX")], "records[0].type 'MX' is not supported: use one of A, AAAA, CNAME, TXT"),
    ([want("api.echo", LB, ttl=10)], "ttl 10 is out of range: set ttl to at least 30"),
    ([want("api.echo", LB), want("API.echo", LB)], "records[1] (api.echo A) is listed twice"),
    ([want("www", "a.example.com.", "CNAME"), want("www", LB)], "a CNAME cannot share its name"),
    ([want("api.echo", " ")], "data is empty"),
])
def test_bad_records_fail_before_any_request(records, fragment):
    api = FakeDomainsApi({"dembrane.com": []})
    with pytest.raises(ValidationError) as err:
        dom.ensure_domain_records(api, params(records), check_mode=False)
    assert fragment in str(err.value)
    assert api.calls == []


@pytest.mark.parametrize("domain", ["dembrane.com.", "dembrane", "-x.com"])
def test_bad_domain_fails_before_any_request(domain):
    api = FakeDomainsApi()
    with pytest.raises(ValidationError, match="domain"):
        dom.ensure_domain_records(api, params(HOSTS, domain=domain), check_mode=False)
    assert api.calls == []


def test_valid_names_and_data():
    out = dom.validate_records("dembrane.com", [want("@", "v=spf1 -all", "TXT"), want("*.echo", LB),
                                                want("_acme-challenge.api", "token", "TXT"),
                                                want("alias", "@", "CNAME")])
    assert [r["name"] for r in out] == ["@", "*.echo", "_acme-challenge.api", "alias"]


# ---- service -----------------------------------------------------------------------------------
def test_create_then_noop():
    api = FakeDomainsApi({"dembrane.com": [rec(1, "@", "ns1.digitalocean.com", "NS")]})
    out = dom.ensure_domain_records(api, params(HOSTS), check_mode=False)
    assert out["changed"] and [c["action"] for c in out["changes"]] == ["create"] * 4
    assert [w[0] for w in api.writes] == ["POST"] * 4
    body = api.writes[0][2]
    assert body == {"type": "A", "name": "api.echo", "data": LB, "ttl": 1800, "priority": None, "port": None,
                    "weight": None, "flags": None, "tag": None}
    assert out["records"][0] == {"id": 1001, "name": "api.echo", "type": "A", "data": LB, "ttl": 1800,
                                 "fqdn": "api.echo.dembrane.com"}
    assert out["diff"]["before"] == {"records": []} and len(out["diff"]["after"]["records"]) == 4
    assert "id" not in out["diff"]["after"]["records"][0]
    api.writes.clear()
    again = dom.ensure_domain_records(api, params(HOSTS), check_mode=False)
    assert not again["changed"] and again["changes"] == [] and api.writes == []
    assert again["diff"]["before"] == again["diff"]["after"] == out["diff"]["after"]


def test_check_mode_writes_nothing_and_predicts():
    api = FakeDomainsApi({"dembrane.com": [rec(7, "api.echo", OLD_LB), rec(8, "grafana.echo", LB, ttl=60)]})
    out = dom.ensure_domain_records(api, params(HOSTS, takeover=True), check_mode=True)
    assert api.writes == [] and out["changed"]
    assert sorted((c["action"], c["name"]) for c in out["changes"]) == [
        ("create", "directus.echo"), ("create", "prometheus.echo"), ("update", "api.echo"), ("update", "grafana.echo")]
    assert {r["name"]: r["data"] for r in out["records"]} == {h["name"]: LB for h in HOSTS}
    assert out["diff"]["before"]["records"] == [{"name": "api.echo", "type": "A", "data": OLD_LB, "ttl": 1800},
                                                {"name": "grafana.echo", "type": "A", "data": LB, "ttl": 60}]


def test_ttl_update_uses_patch_and_needs_no_takeover():
    api = FakeDomainsApi({"dembrane.com": [rec(7, "www", "api.echo.dembrane.com", "CNAME", ttl=3600)]})
    out = dom.ensure_domain_records(api, params([want("www", "api.echo.dembrane.com.", "CNAME", ttl=300)]),
                                    check_mode=False)
    assert out["changed"] and api.writes == [("PATCH", "/v2/domains/dembrane.com/records/7",
                                              {"type": "CNAME", "name": "www", "data": "api.echo.dembrane.com.",
                                               "ttl": 300})]
    assert out["changes"][0]["previous_ttl"] == 3600 and "id" not in out["changes"][0]


def test_takeover_refused_names_each_record_and_the_option():
    api = FakeDomainsApi({"dembrane.com": [rec(7, "api.echo", OLD_LB), rec(8, "grafana.echo", "192.0.2.9")]})
    with pytest.raises(DoError) as err:
        dom.ensure_domain_records(api, params(HOSTS), check_mode=False)
    msg = str(err.value)
    assert msg.startswith("Failed to update DNS records of domain dembrane.com: 2 record(s) point elsewhere")
    assert "api.echo A is %s, desired %s" % (OLD_LB, LB) in msg
    assert "grafana.echo A is 192.0.2.9, desired %s" % LB in msg
    assert "Set takeover: true" in msg and "Nothing was changed" in msg
    assert api.writes == []  # not even the creates of the other hosts
    assert len(err.value.result["changes"]) == 4


def test_takeover_refusal_in_check_mode_reports_and_warns():
    api = FakeDomainsApi({"dembrane.com": [rec(7, "api.echo", OLD_LB)]})
    out = dom.ensure_domain_records(api, params([want("api.echo", LB)]), check_mode=True)
    assert out["changed"] and api.writes == []
    assert out["changes"][0]["previous_data"] == OLD_LB
    assert any("a real run would refuse" in w and "takeover: true" in w for w in out["warnings"])


def test_takeover_allowed_updates_in_place():
    api = FakeDomainsApi({"dembrane.com": [rec(7, "api.echo", OLD_LB)]})
    out = dom.ensure_domain_records(api, params([want("api.echo", LB)], takeover=True), check_mode=False)
    assert api.writes == [("PATCH", "/v2/domains/dembrane.com/records/7",
                           {"type": "A", "name": "api.echo", "data": LB, "ttl": 1800})]
    assert out["changes"] == [{"action": "update", "name": "api.echo", "type": "A", "data": LB, "ttl": 1800,
                               "previous_data": OLD_LB, "previous_ttl": 1800}]
    assert out["records"][0]["id"] == 7 and out["records"][0]["data"] == LB


def test_purge_deletes_a_duplicate_only():
    api = FakeDomainsApi({"dembrane.com": [rec(5, "api.echo", LB), rec(6, "api.echo", LB), rec(9, "www", OLD_LB)]})
    out = dom.ensure_domain_records(api, params([want("api.echo", LB)]), check_mode=False)
    assert not out["changed"] and out["warnings"] and len(out["records"]) == 2
    out = dom.ensure_domain_records(api, params([want("api.echo", LB)], purge=True), check_mode=False)
    assert api.writes == [("DELETE", "/v2/domains/dembrane.com/records/6", None)]
    assert out["changes"] == [{"action": "delete", "name": "api.echo", "type": "A", "data": LB, "ttl": 1800}]
    assert [r["id"] for r in api.domains["dembrane.com"]] == [5, 9]
    assert [r["id"] for r in out["records"]] == [5]


def test_missing_domain_fails_naming_it_and_the_option():
    api = FakeDomainsApi()
    with pytest.raises(DoError) as err:
        dom.ensure_domain_records(api, params(HOSTS), check_mode=True)
    assert "domain dembrane.com" in str(err.value) and "create_domain: true" in str(err.value)
    assert api.writes == []


def test_create_domain_with_name_only():
    api = FakeDomainsApi()
    out = dom.ensure_domain_records(api, params(HOSTS[:1], create_domain=True), check_mode=True)
    assert out["changed"] and out["domain_created"] and api.writes == [] and out["records"][0]["id"] is None
    out = dom.ensure_domain_records(api, params(HOSTS[:1], create_domain=True), check_mode=False)
    assert out["domain_created"] and api.writes[0] == ("POST", "/v2/domains", {"name": "dembrane.com"})
    assert [w[0] for w in api.writes] == ["POST", "POST"]
    again = dom.ensure_domain_records(api, params(HOSTS[:1], create_domain=True), check_mode=False)
    assert not again["changed"] and not again["domain_created"]


def test_records_are_read_from_every_page():
    filler = [rec(i, "t%d" % i, "filler", "TXT") for i in range(1, 451)]
    api = FakeDomainsApi({"dembrane.com": filler + [rec(999, "api.echo", LB)]})
    out = dom.ensure_domain_records(api, params([want("api.echo", LB)]), check_mode=False)
    assert not out["changed"] and api.writes == [] and out["records"][0]["id"] == 999
    pages = [c[2]["page"] for c in api.calls if c[0] == "GET" and c[1].endswith("/records")]
    assert pages == [1, 2, 3]


def test_a_failed_write_names_what_was_applied_before_it():
    class Failing(FakeDomainsApi):
        def request(self, method, path, body=None, params=None, **kw):
            if method == "POST" and body and body.get("name") == "grafana.echo":
                raise DoError("Failed to create DNS record grafana.echo A %s: boom (HTTP 500)" % LB, status=500)
            return super().request(method, path, body=body, params=params, **kw)

    api = Failing({"dembrane.com": []})
    with pytest.raises(DoError) as err:
        dom.ensure_domain_records(api, params(HOSTS), check_mode=False)
    assert "applied before this failure: create api.echo A; create directus.echo A" in str(err.value)
    assert err.value.status == 500 and len(err.value.result["changes"]) == 2


def test_lost_create_response_is_found_by_the_probe():
    api = FakeDomainsApi({"dembrane.com": [rec(5, "api.echo", OLD_LB)]})
    api.domains["dembrane.com"].append(rec(77, "api.echo", LB))  # "created" by a POST whose answer was lost
    found = dom._find_created(api, "dembrane.com", {"name": "api.echo", "type": "A", "data": LB}, known_ids={5})
    assert found == {"domain_record": rec(77, "api.echo", LB)}
    assert api.calls[-1][2]["name"] == "api.echo.dembrane.com" and api.calls[-1][2]["type"] == "A"
    assert dom._find_created(api, "dembrane.com", {"name": "api.echo", "type": "A", "data": LB},
                             known_ids={5, 77}) is None

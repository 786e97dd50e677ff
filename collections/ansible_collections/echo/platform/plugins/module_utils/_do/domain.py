# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DNS records of one DigitalOcean domain: validate, plan (pure), apply.

Private to the echo.platform collection. ``ensure_domain_records`` reads top-down: validate the
input (before any request), find the domain (create it on request), read its records (every page),
plan, refuse a cut-over that was not allowed, apply. ``plan_records`` is pure and unit-tested.

Matching: a desired record belongs to the existing records of the same (name, type). Same data
(compared as the DNS would: IP addresses canonically, host names without case or the final dot)
and ttl: nothing to do; only the ttl differs: an update; no existing record left: a create; an
existing A/AAAA/CNAME record with other data left: a cut-over (it points elsewhere: another
system or an earlier load balancer manages it), which needs ``takeover``; a TXT value is added
beside the others instead. Leftover records of a listed (name,
type) are deleted only with ``purge``; names and types not listed are never touched.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, ValidationError, failed_to

# The DigitalOcean API paths of this resource, named once.
DOMAINS_PATH = "/v2/domains"
DOMAIN_PATH = "/v2/domains/%s"
RECORDS_PATH = "/v2/domains/%s/records"
RECORD_PATH = "/v2/domains/%s/records/%s"

RECORD_TYPES = ("A", "AAAA", "CNAME", "TXT")
# Types whose other data means "points elsewhere" (a cut-over). TXT values at one name are independent
# of each other (SPF, site verifications, ACME challenges): a new one is added, never written over another.
POINTING_TYPES = ("A", "AAAA", "CNAME")
MIN_TTL = 30  # DigitalOcean refuses shorter ones
MAX_TTL = 2147483647  # int32, the spec's integer range

_LABEL = r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)"
_RELATIVE_NAME_RE = re.compile(r"^(?:\*\.)?%s(?:\.%s)*$|^\*$" % (_LABEL, _LABEL))
_DOMAIN_RE = re.compile(r"^%s(?:\.%s)+$" % (_LABEL, _LABEL))
_HOST_RE = re.compile(r"^%s(?:\.%s)*\.$" % (_LABEL, _LABEL))
# The record fields DigitalOcean accepts; the ones this module does not manage are sent as null
# (the spec's TXT schema requires flags and tag to be present).
_UNMANAGED_FIELDS = ("priority", "port", "weight", "flags", "tag")


# ---- validation (pure) -----------------------------------------------------------------------
def validate_domain(domain):
    """The domain name as DigitalOcean stores it (lower case), or ValidationError."""
    value = (domain or "").strip()
    if value.endswith("."):
        raise ValidationError("domain %r ends with a dot: give the zone name without it, for example %r"
                              % (domain, value.rstrip(".")))
    if not _DOMAIN_RE.match(value.lower()):
        raise ValidationError("domain %r is not a domain name: give the zone as it is registered in DigitalOcean, "
                              "for example 'dembrane.com'" % (domain,))
    return value.lower()


def _where(index, rec):
    return "records[%d] (%s %s)" % (index, rec.get("name"), rec.get("type"))


def _validate_name(index, name, domain):
    where = "records[%d].name" % index
    if not isinstance(name, str) or not name:
        raise ValidationError("%s is empty: give the name relative to the domain, for example 'api.echo', or '@' "
                              "for %s itself" % (where, domain))
    lowered = name.lower()
    if lowered.endswith("."):
        raise ValidationError("%s %r ends with a dot: give the name relative to %s without the dot, for example %r"
                              % (where, name, domain, _relative(lowered.rstrip("."), domain)))
    if lowered == domain:
        raise ValidationError("%s %r is the domain itself: use '@' for the apex record" % (where, name))
    if lowered.endswith("." + domain):
        raise ValidationError("%s %r is the fully qualified name: use the name relative to %s, %r"
                              % (where, name, domain, lowered[:-len(domain) - 1]))
    if lowered != "@" and not _RELATIVE_NAME_RE.match(lowered):
        raise ValidationError("%s %r is not a DNS name: use labels of letters, digits, '-' and '_' separated by "
                              "dots (a leading '*.' for a wildcard), or '@' for the apex" % (where, name))
    return lowered


def _relative(name, domain):
    if name == domain:
        return "@"
    if name.endswith("." + domain):
        return name[:-len(domain) - 1]
    return name


def _validate_data(index, rec):
    where = "%s data" % _where(index, rec)
    rtype, data = rec["type"], rec.get("data")
    if not isinstance(data, str) or not data.strip():
        raise ValidationError("%s is empty: set data to what the record points at" % where)
    data = data.strip()
    if rtype == "A":
        try:
            ipaddress.IPv4Address(data)
        except ValueError:
            raise ValidationError("%s %r is not an IPv4 address: an A record needs one like 203.0.113.10 "
                                  "(use type AAAA for IPv6, CNAME for a host name)" % (where, data)) from None
    elif rtype == "AAAA":
        try:
            ipaddress.IPv6Address(data)
        except ValueError:
            raise ValidationError("%s %r is not an IPv6 address: an AAAA record needs one like 2001:db8::10 "
                                  "(use type A for IPv4)" % (where, data)) from None
    elif rtype == "CNAME":
        if data != "@" and not _HOST_RE.match(data.lower()):
            hint = data.lower() + "." if _DOMAIN_RE.match(data.lower()) else "lb.example.com."
            raise ValidationError("%s %r must be a fully qualified host name ending with a dot, for example %r, "
                                  "or '@' for the domain itself (DigitalOcean refuses others)" % (where, data, hint))
    return data


def validate_records(domain, records):
    """The desired records as ``{name, type, data, ttl}`` (names lower case), or ValidationError.

    ``domain`` is the validated domain name. Nothing here makes a request.
    """
    if not isinstance(records, list):
        raise ValidationError("records must be a list of {name, type, data, ttl}")
    out = []
    seen = set()
    for index, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise ValidationError("records[%d] must be a dict with name, type, data and ttl" % index)
        rtype = rec.get("type") or "A"
        if rtype not in RECORD_TYPES:
            raise ValidationError("records[%d].type %r is not supported: use one of %s"
                                  % (index, rtype, ", ".join(RECORD_TYPES)))
        rec = dict(rec, type=rtype)
        name = _validate_name(index, rec.get("name"), domain)
        rec["name"] = name
        data = _validate_data(index, rec)
        ttl = rec.get("ttl")
        ttl = 1800 if ttl is None else ttl
        if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < MIN_TTL or ttl > MAX_TTL:
            raise ValidationError("%s ttl %r is out of range: set ttl to at least %d seconds (DigitalOcean's minimum)"
                                  % (_where(index, rec), ttl, MIN_TTL))
        key = (name, rtype, data_key(rtype, data))
        if key in seen:
            raise ValidationError("%s is listed twice with data %r: list each record once" % (_where(index, rec), data))
        seen.add(key)
        out.append({"name": name, "type": rtype, "data": data, "ttl": ttl})
    by_name = {}
    for rec in out:
        by_name.setdefault(rec["name"], []).append(rec["type"])
    for name, types in sorted(by_name.items()):
        if "CNAME" in types and len(types) > 1:
            raise ValidationError("records: %s has a CNAME and %s; a CNAME cannot share its name with any other "
                                  "record (not even a second CNAME): keep one of them"
                                  % (name, ", ".join(t for t in types if t != "CNAME") or "another CNAME"))
    return out


# ---- planning (pure) -------------------------------------------------------------------------
def data_key(rtype, data):
    """Data as the DNS compares it: IP addresses canonically, host names without case or the final dot."""
    data = (data or "").strip()
    if rtype in ("A", "AAAA"):
        try:
            return str(ipaddress.ip_address(data))
        except ValueError:
            return data
    if rtype == "CNAME":
        return data.lower().rstrip(".") or "@"
    return data


def normalize_record(rec):
    """``{id, name, type, data, ttl}`` of a DigitalOcean domain_record."""
    return {"id": rec.get("id"), "name": (rec.get("name") or "@").lower(), "type": rec.get("type"),
            "data": rec.get("data") or "", "ttl": rec.get("ttl")}


def record_view(rec):
    """The diff shape of a record (no id)."""
    return {"name": rec["name"], "type": rec["type"], "data": rec["data"], "ttl": rec["ttl"]}


def sorted_views(records):
    return sorted((record_view(r) for r in records),
                  key=lambda r: (r["name"], r["type"], data_key(r["type"], r["data"]), r["ttl"] or 0))


def _pairs(desired):
    out = []
    for rec in desired:
        pair = (rec["name"], rec["type"])
        if pair not in out:
            out.append(pair)
    return out


def _step(action, desired=None, current=None):
    rec = desired or current
    step = {"action": action, "name": rec["name"], "type": rec["type"], "data": rec["data"], "ttl": rec["ttl"]}
    if current is not None:
        step["id"] = current["id"]
    if action == "update":
        step["previous_data"] = current["data"]
        step["previous_ttl"] = current["ttl"]
    return step


def _take_match(candidates, rec):
    """Remove and return the existing record with ``rec``'s data (same ttl first, then lowest id)."""
    key = data_key(rec["type"], rec["data"])
    same = [c for c in candidates if data_key(c["type"], c["data"]) == key]
    if not same:
        return None
    same.sort(key=lambda c: (c["ttl"] != rec["ttl"], _id_order(c)))
    candidates.remove(same[0])
    return same[0]


def _id_order(rec):
    rid = rec.get("id")
    return (0, rid) if isinstance(rid, int) else (1, str(rid))


def plan_records(existing, desired, takeover=False, purge=False):
    """What to change so the listed (name, type) pairs hold exactly ``desired`` (pure, no I/O).

    ``existing``: the domain's records as the API returns them; ``desired``: validated records.
    Returns a dict:

    * ``changes``: steps ``{action: create|update|delete, name, type, data, ttl, id?, previous_data?,
      previous_ttl?}`` in the order to apply them (updates, creates, then deletes);
    * ``takeovers``: the updates that change data (cut-overs); ``refused``: the same when not ``takeover``;
    * ``conflicts``: messages for CNAMEs that would share a name with other records (never applied);
    * ``warnings``: leftover records kept because ``purge`` is off;
    * ``before`` / ``after``: the records of the listed pairs now and after the changes (``id`` None
      for records still to be created).
    """
    current = [normalize_record(r) for r in existing or []]
    pairs = _pairs(desired)
    listed = set(pairs)
    conflicts = []
    for name, rtype in pairs:
        clash = sorted({c["type"] for c in current if c["name"] == name and c["type"] != rtype
                        and "CNAME" in (rtype, c["type"])})
        if clash:
            conflicts.append("%s %s cannot be added next to the existing %s record(s) of that name (a CNAME shares "
                             "its name with no other record); delete them first or choose another name"
                             % (name, rtype, "/".join(clash)))
    updates, creates, deletes, warnings = [], [], [], []
    for pair in pairs:
        want = [d for d in desired if (d["name"], d["type"]) == pair]
        have = sorted((c for c in current if (c["name"], c["type"]) == pair), key=_id_order)
        unmatched = []
        for rec in want:
            match = _take_match(have, rec)
            if match is None:
                unmatched.append(rec)
            elif match["ttl"] != rec["ttl"]:
                updates.append(_step("update", rec, match))  # ttl only: same data, sent as desired
        for rec in unmatched:
            if have and rec["type"] in POINTING_TYPES:
                updates.append(_step("update", rec, have.pop(0)))
            else:
                creates.append(_step("create", rec))
        for old in have:
            if purge:
                deletes.append(_step("delete", current=old))
            else:
                warnings.append("%s %s also holds %s (not in records); it was kept: set purge: true to delete it"
                                % (old["name"], old["type"], old["data"]))
    takeovers = [u for u in updates if data_key(u["type"], u["data"]) != data_key(u["type"], u["previous_data"])]
    changes = updates + creates + deletes
    before = [c for c in current if (c["name"], c["type"]) in listed]
    return {"changes": changes, "takeovers": takeovers, "refused": [] if takeover else takeovers,
            "conflicts": conflicts, "warnings": warnings, "before": before,
            "after": apply_steps(before, changes)}


def apply_steps(records, changes, results=None):
    """``records`` after ``changes``; ``results`` maps a step index to the API's record for it (else predicted)."""
    out = {}
    order = []
    for rec in records:
        out[rec["id"]] = dict(rec)
        order.append(rec["id"])
    new = []
    for index, step in enumerate(changes):
        got = (results or {}).get(index)
        if step["action"] == "delete":
            out.pop(step["id"], None)
        elif step["action"] == "update":
            out[step["id"]] = normalize_record(got) if got else dict(out[step["id"]], data=step["data"], ttl=step["ttl"])
        else:
            new.append(normalize_record(got) if got else {"id": None, "name": step["name"], "type": step["type"],
                                                          "data": step["data"], "ttl": step["ttl"]})
    return [out[rid] for rid in order if rid in out] + new


def public_change(step):
    """A step as the module returns it (no internal record id)."""
    return dict((k, v) for k, v in step.items() if k != "id")


def takeover_message(domain, refused):
    """Why a cut-over is refused, naming every record, its current and desired data, and the option."""
    items = "; ".join("%s %s is %s, desired %s" % (s["name"], s["type"], s["previous_data"], s["data"]) for s in refused)
    return failed_to("update", "DNS records of domain", domain,
                     "%d record(s) point elsewhere (another system or an earlier load balancer may manage them): %s. "
                     "Nothing was changed. Set takeover: true to point them at the desired data"
                     % (len(refused), items))


def fqdn(name, domain):
    return domain if name == "@" else "%s.%s" % (name, domain)


# ---- I/O (the client does HTTP, retries and pagination) -------------------------------------
def find_domain(client, domain):
    """The domain object, or None when this account has no such domain."""
    return (client.get(DOMAIN_PATH % domain, "domain", domain) or {}).get("domain")


def create_domain(client, domain):
    """POST /v2/domains with the name only (no apex A record)."""
    return client.request("POST", DOMAINS_PATH, body={"name": domain}, verb="create", kind="domain", name=domain,
                          probe=lambda: client.get(DOMAIN_PATH % domain, "domain", domain))


def read_records(client, domain):
    """Every record of the domain (all pages)."""
    return client.list_all(RECORDS_PATH % domain, "domain_records", "DNS records of domain %s" % domain)


def _record_body(step):
    body = {"type": step["type"], "name": step["name"], "data": step["data"], "ttl": step["ttl"]}
    if step["action"] == "create":
        body.update(dict.fromkeys(_UNMANAGED_FIELDS))
    return body


def _find_created(client, domain, step, known_ids):
    """probe() for a record POST: the record with this data that was not there before, or None."""
    params = {"type": step["type"], "name": fqdn(step["name"], domain)}
    key = data_key(step["type"], step["data"])
    for rec in client.list_all(RECORDS_PATH % domain, "domain_records", "DNS records of domain %s" % domain,
                               params=params):
        if rec.get("id") not in known_ids and (rec.get("name") or "@").lower() == step["name"] \
                and data_key(rec.get("type"), rec.get("data")) == key:
            return {"domain_record": rec}
    return None


def apply_changes(client, domain, changes, known_ids):
    """Run the steps in order; returns {step index: API record}. A failure names what was applied before it."""
    results = {}
    for index, step in enumerate(changes):
        what = "%s %s %s" % (step["name"], step["type"], step["data"])
        try:
            if step["action"] == "create":
                out = client.request("POST", RECORDS_PATH % domain, body=_record_body(step), verb="create",
                                     kind="DNS record", name=what,
                                     probe=lambda s=step: _find_created(client, domain, s, known_ids))
                results[index] = (out or {}).get("domain_record")
            elif step["action"] == "update":
                out = client.request("PATCH", RECORD_PATH % (domain, step["id"]), body=_record_body(step),
                                     verb="update", kind="DNS record", name=what)
                results[index] = (out or {}).get("domain_record")
            else:
                client.delete(RECORD_PATH % (domain, step["id"]), "DNS record", what)
        except DoError as exc:
            done = [public_change(s) for s in changes[:index]]
            raise DoError("%s (applied before this failure: %s)" % (exc, "; ".join(
                "%s %s %s" % (s["action"], s["name"], s["type"]) for s in done) or "nothing"),
                status=exc.status, result={"changes": done}) from None
    return results


# ---- the service -----------------------------------------------------------------------------
def ensure_domain_records(client, params, check_mode):
    """Ensure ``params["records"]`` in ``params["domain"]``; returns the module result."""
    domain = validate_domain(params["domain"])
    desired = validate_records(domain, params["records"])
    takeover, purge = bool(params.get("takeover")), bool(params.get("purge"))

    found = find_domain(client, domain)
    created = False
    if found is None:
        if not params.get("create_domain"):
            raise DoError(failed_to("manage DNS records of", "domain", domain,
                                    "this DigitalOcean account has no such domain; add it (set create_domain: true "
                                    "to let this module create it) or fix the domain option"))
        created = True
        if not check_mode:
            create_domain(client, domain)
    existing = [] if created and check_mode else read_records(client, domain)

    plan = plan_records(existing, desired, takeover=takeover, purge=purge)
    if plan["conflicts"]:
        raise ValidationError(failed_to("plan DNS records of", "domain", domain, "; ".join(plan["conflicts"])))
    warnings = list(plan["warnings"])
    if plan["refused"]:
        if not check_mode:
            raise DoError(takeover_message(domain, plan["refused"]),
                          result={"changes": [public_change(s) for s in plan["changes"]]})
        warnings.append("a real run would refuse: %s" % takeover_message(domain, plan["refused"]))

    after = plan["after"]
    if plan["changes"] and not check_mode:
        results = apply_changes(client, domain, plan["changes"], {r["id"] for r in plan["before"]})
        after = apply_steps(plan["before"], plan["changes"], results)

    records = [dict(r, fqdn=fqdn(r["name"], domain)) for r in sorted(after, key=lambda r: (
        r["name"], r["type"], data_key(r["type"], r["data"])))]
    return {
        "changed": created or bool(plan["changes"]),
        "domain": domain,
        "domain_created": created,
        "records": records,
        "changes": [public_change(s) for s in plan["changes"]],
        # a mapping, not a bare list: Ansible's diff callback renders only mappings and strings
        "diff": {"before": {"records": sorted_views(plan["before"])}, "after": {"records": sorted_views(after)},
                 "before_header": "DNS records of %s" % domain, "after_header": "DNS records of %s" % domain},
        "warnings": warnings,
    }

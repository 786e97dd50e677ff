#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: do_domain_records
short_description: Ensure DNS records in a DigitalOcean domain
version_added: 0.2.0
description:
  - Ensure A, AAAA, CNAME and TXT records in one DigitalOcean domain, for example the C(api), C(directus),
    C(grafana) and C(prometheus) hosts pointing at the ingress load balancer.
  - A listed record matches the existing records of the same O(records[].name) and O(records[].type).
    Equal data and ttl leave it alone; a missing one is created; a ttl-only difference is updated.
  - An existing A, AAAA or CNAME record of that name and type holding other data points elsewhere (another system
    or an earlier load balancer manages it). Changing it is a cut-over; the module fails before changing anything
    unless O(takeover=true). In check mode it reports the cut-over and warns that a real run would refuse.
  - TXT values of one name are independent of each other (SPF, site verifications), so a missing TXT value is
    added beside the existing ones, never written over one of them.
  - Records of names and types that are not listed are never touched. Extra records of a listed name and type
    are kept (with a warning) unless O(purge=true).
  - All input is validated before any request.
author:
  - echo.platform maintainers (@dembrane)
options:
  domain:
    description:
      - The domain (DNS zone) in DigitalOcean, for example V(dembrane.com), without a trailing dot.
    type: str
    required: true
  create_domain:
    description:
      - Create the domain (with its name only, so no apex A record) when the account does not have it.
      - When V(false) and the domain is absent, the module fails.
    type: bool
    default: false
  records:
    description:
      - The records to ensure. Each O(records[].name) and O(records[].type) pair may be listed with several
        O(records[].data) values (for example two A records of one name).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - The name relative to O(domain), for example V(api.echo) for C(api.echo.dembrane.com), or V(@) for
            the domain itself. Fully qualified names and names ending with a dot are refused.
        type: str
        required: true
      type:
        description:
          - The record type.
        type: str
        choices: [A, AAAA, CNAME, TXT]
        default: A
      data:
        description:
          - What the record holds. An IPv4 address for V(A), an IPv6 address for V(AAAA), a fully qualified host
            name ending with a dot (or V(@)) for V(CNAME), free text for V(TXT).
        type: str
        required: true
      ttl:
        description:
          - Time to live in seconds; at least V(30).
        type: int
        default: 1800
  takeover:
    description:
      - Allow updating A, AAAA and CNAME records of a listed name and type that hold other data (a cut-over from
        another system or an earlier load balancer). Without it such a difference fails the module before any change.
    type: bool
    default: false
  purge:
    description:
      - Delete records of the listed names and types that are not listed (for example a duplicate, or a second
        address left over from an earlier load balancer). Other names and types are never touched.
    type: bool
    default: false
extends_documentation_fragment:
  - echo.platform.do_auth
  - echo.platform.attributes
  - echo.platform.attributes.DO_ACTION_GROUP
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff lists the records of the listed names and types under C(records) as C({name, type, data, ttl}), sorted.
notes:
  - There is no C(state=absent) and no name is ever removed as a whole; O(purge=true) only deletes the extra
    records of the listed names and types.
"""

EXAMPLES = r"""
- name: Point the public hosts at the ingress load balancer
  echo.platform.do_domain_records:
    domain: dembrane.com
    records:
      - name: api.echo
        data: "{{ ingress_lb_ip }}"
      - name: directus.echo
        data: "{{ ingress_lb_ip }}"
      - name: grafana.echo
        data: "{{ ingress_lb_ip }}"
      - name: prometheus.echo
        data: "{{ ingress_lb_ip }}"
        ttl: 300
  register: dns

- name: Plan a cut-over from the previous load balancer (reports, changes nothing)
  echo.platform.do_domain_records:
    domain: dembrane.com
    records:
      - name: api.echo
        data: 203.0.113.20
  check_mode: true
  diff: true

- name: Take the records over from the previous load balancer, dropping its leftover addresses
  echo.platform.do_domain_records:
    domain: dembrane.com
    takeover: true
    purge: true
    records:
      - name: api.echo
        data: 203.0.113.20
      - name: www.echo
        type: CNAME
        data: api.echo.dembrane.com.
      - name: "@"
        type: TXT
        data: v=spf1 -all
"""

RETURN = r"""
domain:
  description: The domain name (lower case).
  returned: always
  type: str
  sample: dembrane.com
domain_created:
  description: Whether the domain was created (or would be, in check mode).
  returned: always
  type: bool
  sample: false
records:
  description:
    - The records of the listed names and types after the run (predicted in check mode, where records still
      to be created have no C(id)), sorted by name, type and data.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 28448433
      name: api.echo
      type: A
      data: 203.0.113.20
      ttl: 1800
      fqdn: api.echo.dembrane.com
changes:
  description:
    - What was changed (or would be, in check mode), in the order applied. C(previous_data) and C(previous_ttl)
      are set for updates only; an update whose data differs is a takeover.
  returned: always
  type: list
  elements: dict
  sample:
    - action: update
      name: api.echo
      type: A
      data: 203.0.113.20
      ttl: 1800
      previous_data: 198.51.100.7
      previous_ttl: 1800
    - action: create
      name: grafana.echo
      type: A
      data: 203.0.113.20
      ttl: 1800
"""

from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._do import argspec as do_connection
from ansible_collections.echo.platform.plugins.module_utils._do.domain import RECORD_TYPES, ensure_domain_records


def main():
    argument_spec = dict(
        domain=dict(type="str", required=True),
        create_domain=dict(type="bool", default=False),
        records=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", choices=list(RECORD_TYPES), default="A"),
            data=dict(type="str", required=True),
            ttl=dict(type="int", default=1800),
        )),
        takeover=dict(type="bool", default=False),
        purge=dict(type="bool", default=False),
    )
    module = EchoModule(argument_spec, shared_specs=[do_connection.ARG_SPEC], supports_check_mode=True)
    module.run(lambda: ensure_domain_records(do_connection.client_from_module(module), module.params, module.check_mode))


if __name__ == "__main__":
    main()

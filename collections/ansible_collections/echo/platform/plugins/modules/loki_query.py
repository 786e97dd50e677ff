#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: loki_query
short_description: Export Loki logs to a file, exactly and in time order
version_added: 0.1.0
description:
  - Runs a LogQL log query over a time range and streams every matching entry, in time order, to O(dest) as JSON
    lines, CSV or raw lines. Nothing is held in memory beyond one page per worker.
  - The query is built from filters (O(namespace), O(app), O(components), O(container), O(pod) and line filters);
    every user string is quoted and escaped, so quotes, backslashes and regular-expression characters are matched
    literally where a literal is meant. Alternatively pass a raw O(query).
  - The range is split into windows no longer than the server's O(max_query_length); windows are fetched by
    O(workers) threads in parallel and written in order.
  - Pagination is exact. Each page restarts at the last timestamp seen and drops entries already written, identified
    by timestamp, stream labels and line, so entries that share a timestamp across a page boundary are neither lost
    nor repeated. When more entries share one timestamp than one page holds, the module reads that timestamp alone,
    stream by stream.
  - The file is written as O(dest) plus C(.partial) and renamed to O(dest) only when the export is complete; on
    failure the partial file is removed.
  - Loki is reached by O(url) or, when O(url) is empty, through the Kubernetes API server's service proxy, so no
    port-forward is needed.
  - This module only reads. It never reports a change, and in check mode it still runs the query and writes
    O(dest), because reading logs changes nothing on the cluster.
author:
  - echo.platform maintainers (@dembrane)
requirements:
  - google-re2 (Python binding of RE2; only to check O(line_regex) and O(line_not_regex))
options:
  query:
    description:
      - A raw LogQL log query (a stream selector, optionally followed by line filters). Used as given.
      - Mutually exclusive with O(namespace), O(components), O(container) and O(pod); O(app) is ignored.
      - The line filter options are appended to it.
    type: str
  namespace:
    description:
      - Kubernetes namespace of the pods, for example V(echo-dev).
    type: str
  app:
    description:
      - Value of the C(app) label. Set to an empty string to drop the C(app) matcher.
    type: str
    default: echo
  components:
    description:
      - Values of the C(component) label, for example V(api) or V(worker-cpu). Several values select any of them.
      - An empty list selects every component.
    type: list
    elements: str
    default: []
  container:
    description:
      - Value of the C(container) label, for example V(api-server).
    type: str
  pod:
    description:
      - Pod name, or C(namespace/name) as in promtail's C(pod) label.
    type: str
  line_contains:
    description:
      - Keep only lines containing every one of these strings (LogQL C(|=), case-sensitive, literal).
    type: list
    elements: str
    default: []
  line_not_contains:
    description:
      - Drop lines containing any of these strings (LogQL C(!=), literal).
    type: list
    elements: str
    default: []
  line_regex:
    description:
      - Keep only lines matching every one of these RE2 regular expressions (LogQL C(|~)).
      - Each is checked with RE2 itself (C(google-re2)) before any request, so what Loki refuses (lookaround,
        back-references) fails early, and what Loki accepts (Unicode classes, flags in mid-pattern, quoted literals)
        passes.
    type: list
    elements: str
    default: []
  line_not_regex:
    description:
      - Drop lines matching any of these RE2 regular expressions (LogQL C(!~)).
    type: list
    elements: str
    default: []
  since:
    description:
      - A relative range ending at O(end) (or now), for example V(last 6 hours), V(2 days) or V(90m).
      - Mutually exclusive with O(start); one of them is required.
    type: str
  start:
    description:
      - Start of the range (inclusive), RFC 3339 (V(2026-05-01T12:00:00Z)) or V(YYYY-MM-DD HH:MM[:SS]).
      - A time without a timezone is UTC.
    type: str
  end:
    description:
      - End of the range (exclusive), same formats as O(start). Defaults to now.
    type: str
  max_query_length:
    description:
      - The server's C(max_query_length); no request spans more. The original deployment allowed V(13h).
    type: str
    default: 13h
  limit:
    description:
      - Entries per request (Loki's C(limit)). At most O(server_max_entries).
    type: int
    default: 1000
  server_max_entries:
    description:
      - The server's C(max_entries_limit_per_query) (Loki's default is 5000). Used when many entries share one
        timestamp.
    type: int
    default: 5000
  max_entries:
    description:
      - Stop after this many entries (the earliest ones). No cap when not set.
    type: int
  workers:
    description:
      - How many windows are fetched in parallel.
    type: int
    default: 2
  dest:
    description:
      - File to write. Its directory must exist. Written atomically (see the description).
    type: path
    required: true
  format:
    description:
      - V(jsonl) writes one JSON object per entry (C(timestamp), C(ts_ns), C(labels), C(line)).
      - V(csv) writes C(timestamp,component,pod,container,level,message) with a header; the level comes from a
        C(level) label or field, else from keywords in the line.
      - V(raw) writes the log lines only, one per entry.
    type: str
    default: jsonl
    choices: [jsonl, csv, raw]
  sample_size:
    description:
      - How many of the first entries to return in RV(sample).
    type: int
    default: 5
extends_documentation_fragment:
  - echo.platform.loki_connection
  - echo.platform.attributes
  - echo.platform.attributes.INFO_MODULE
attributes:
  action_group:
    description: Use C(group/echo.platform.loki) in C(module_defaults) to set the connection once.
    support: full
    membership:
      - echo.platform.loki
notes:
  - Loki drops an entry whose stream, timestamp and line equal an entry already stored, so such pushes appear once
    in the export too.
"""

EXAMPLES = r"""
- name: Last 6 hours of the API's errors in echo-dev, through the Kubernetes API (no port-forward)
  echo.platform.loki_query:
    kubeconfig: "{{ echo_kubeconfig }}"
    namespace: echo-dev
    components: [api]
    line_contains: ["ERROR"]
    since: last 6 hours
    dest: /tmp/echo-dev-api-errors.jsonl
  register: logs

- name: Two days of workers as CSV, directly against a Loki URL with basic auth
  echo.platform.loki_query:
    url: https://loki.example.org
    username: reader
    password: "{{ vault_loki_password }}"
    namespace: echo-prod
    components: [worker, worker-cpu]
    start: "2026-05-01 00:00"
    end: "2026-05-03 00:00"
    format: csv
    workers: 4
    dest: /tmp/workers.csv

- name: A raw query, connection set once for the loki action group
  module_defaults:
    group/echo.platform.loki:
      url: http://127.0.0.1:3100
  echo.platform.loki_query:
    query: '{namespace="echo-prod", container="api-server"} |~ "status=5\\d\\d"'
    since: 90m
    format: raw
    dest: /tmp/5xx.log
"""

RETURN = r"""
dest:
  description: Absolute path of the file written.
  returned: success
  type: str
  sample: /tmp/echo-dev-api-errors.jsonl
format:
  description: Output format.
  returned: success
  type: str
  sample: jsonl
query:
  description: The LogQL query that was run.
  returned: always
  type: str
  sample: '{namespace="echo-dev", app="echo", component="api"} |= "ERROR"'
start:
  description: Start of the range (inclusive), RFC 3339 with nanoseconds, UTC.
  returned: success
  type: str
  sample: "2026-05-01T06:00:00.000000000Z"
end:
  description: End of the range (exclusive), RFC 3339 with nanoseconds, UTC.
  returned: success
  type: str
  sample: "2026-05-01T12:00:00.000000000Z"
entries:
  description: Number of entries written.
  returned: success
  type: int
  sample: 1523
streams:
  description: Number of distinct streams among the entries written.
  returned: success
  type: int
  sample: 3
windows:
  description: Number of time windows the range was split into.
  returned: success
  type: int
  sample: 1
pages:
  description: Number of pages read (query_range requests of the normal page walk).
  returned: success
  type: int
  sample: 2
requests:
  description: Number of successful query requests, including those resolving crowded timestamps.
  returned: success
  type: int
  sample: 2
retries:
  description: Number of requests retried after 429, 5xx, a timeout or a connection error.
  returned: success
  type: int
  sample: 0
truncated:
  description: Whether O(max_entries) cut the export short.
  returned: success
  type: bool
  sample: false
first_timestamp:
  description: Timestamp of the first entry written (null when none).
  returned: success
  type: str
  sample: "2026-05-01T06:00:01.250000000Z"
last_timestamp:
  description: Timestamp of the last entry written (null when none or when truncated).
  returned: success
  type: str
  sample: "2026-05-01T11:59:58.000000000Z"
sample:
  description: The first O(sample_size) entries.
  returned: success
  type: list
  elements: dict
  sample: [{"timestamp": "2026-05-01T06:00:01.250000000Z", "labels": {"component": "api"}, "line": "GET /health 200"}]
"""

import time

from ansible_collections.echo.platform.plugins.module_utils._common.errors import EchoError, ValidationError
from ansible_collections.echo.platform.plugins.module_utils._common.module import EchoModule
from ansible_collections.echo.platform.plugins.module_utils._loki import argspec as loki_connection
from ansible_collections.echo.platform.plugins.module_utils._loki import query as q
from ansible_collections.echo.platform.plugins.module_utils._loki.export import export


def build_query(params):
    filters = q.build_line_filters(params["line_contains"], params["line_not_contains"],
                                   params["line_regex"], params["line_not_regex"])
    if params["query"]:
        clash = [k for k in ("namespace", "container", "pod") if params[k]] + (
            ["components"] if params["components"] else [])
        if clash:
            raise ValidationError("query is a raw LogQL query: remove %s, or drop query to build one from filters"
                                  % ", ".join(clash))
        q.split_query(params["query"])
        return q.build_query(params["query"].strip(), filters)
    selector = q.build_selector(namespace=params["namespace"], app=params["app"], components=params["components"],
                                container=params["container"], pod=params["pod"])
    return q.build_query(selector, filters)


def query_logs(module):
    params = module.params
    result = dict(changed=False, query=None)
    try:
        result["query"] = build_query(params)
        start_ns, end_ns = q.resolve_range(time.time_ns(), params["since"], params["start"], params["end"])
        window_ns = q.parse_duration(params["max_query_length"])
        if params["workers"] < 1 or params["workers"] > 32:
            raise ValidationError("workers must be between 1 and 32, got %d" % params["workers"])
        client = loki_connection.client_from_module(module)
        summary = export(client, result["query"], start_ns, end_ns, params["dest"], fmt=params["format"],
                         limit=params["limit"], max_entries=params["max_entries"], workers=params["workers"],
                         window_ns=window_ns, server_max_entries=params["server_max_entries"],
                         sample_size=params["sample_size"])
    except EchoError as exc:
        exc.result = dict(exc.result, **result)  # a failure still tells the query it ran
        raise
    result.update(
        dest=summary["path"], format=params["format"], start=q.format_ns(start_ns), end=q.format_ns(end_ns),
        entries=summary["entries"], streams=summary["streams"], windows=summary["windows"], pages=summary["pages"],
        requests=summary["requests"], retries=summary["retries"], truncated=summary["truncated"],
        first_timestamp=summary["first_timestamp"], last_timestamp=summary["last_timestamp"], sample=summary["sample"],
    )
    return result


def main():
    module = EchoModule(
        argument_spec=dict(
            query=dict(type="str"),
            namespace=dict(type="str"),
            app=dict(type="str", default="echo"),
            components=dict(type="list", elements="str", default=[]),
            container=dict(type="str"),
            pod=dict(type="str"),
            line_contains=dict(type="list", elements="str", default=[]),
            line_not_contains=dict(type="list", elements="str", default=[]),
            line_regex=dict(type="list", elements="str", default=[]),
            line_not_regex=dict(type="list", elements="str", default=[]),
            since=dict(type="str"),
            start=dict(type="str"),
            end=dict(type="str"),
            max_query_length=dict(type="str", default="13h"),
            limit=dict(type="int", default=1000),
            server_max_entries=dict(type="int", default=5000),
            max_entries=dict(type="int"),
            workers=dict(type="int", default=2),
            dest=dict(type="path", required=True),
            format=dict(type="str", default="jsonl", choices=["jsonl", "csv", "raw"]),
            sample_size=dict(type="int", default=5),
        ),
        shared_specs=(loki_connection.ARG_SPEC,),
        mutually_exclusive=[("since", "start")],
        required_one_of=[("since", "start")],
        supports_check_mode=True,
    )
    module.run(query_logs, module)


if __name__ == "__main__":
    main()

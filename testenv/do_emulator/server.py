"""A stateful DigitalOcean API emulator for the local rehearsal environment.

Every request is checked against DigitalOcean's OpenAPI spec before it is handled, and every
response (errors, injected faults, 401s and non-JSON bodies included) is checked before it is sent,
formats and ``additionalProperties: false`` included; a violation is recorded and answered with
HTTP 422 (id ``spec_violation``), so the client under test fails visibly. An operation of the spec
the emulator does not implement answers 501 (id ``not_implemented``) and is recorded too: never a
404, which a client reads as "absent".

What is asynchronous at DigitalOcean takes time here as well: clusters are ``provisioning`` then
``running``, and ``deleting`` (still listed, still holding their VPC) after a DELETE; a deleted
database is gone from the API at once but holds its VPC for a while; node-pool resizes add nodes
that are ``provisioning`` and drain (``draining``, ``deleting``) the removed ones before they leave
the pool's ``nodes`` list; database resizes show ``resizing``. Clusters and databases join the
default project (``project_id`` is its uuid) unless assigned elsewhere, and resources without a VPC
join their region's default VPC. Links are absolute (https://api.digitalocean.com/...). Covered: VPCs, Kubernetes clusters and
node pools (+ kubeconfig), database clusters (resize, firewall, eviction policy, connection pools),
Spaces keys, container registries (+ docker credentials, repositories, tags), domains and their
DNS records, and projects.

Control endpoints (no auth, not part of DigitalOcean's API):
  POST /_emulator/reset                       forget all state, faults and counters
  GET  /_emulator/state                       dump the state (JSON)
  GET  /_emulator/stats                       request counters; ?reset=true zeroes them
  GET  /_emulator/violations                  spec violations seen so far
  POST /_emulator/config  {"delays": {...}}   lifecycle delays in seconds: cluster, pg, valkey, database,
                                              node_pool, node_delete, cluster_delete, database_delete,
                                              database_resize
  POST /_emulator/faults  {"faults": [...], "seed": 1}
        each fault: {"status": 429|500|503, "retry_after": 1, "reset_in": 1, "latency": 0.5,
                     "method": "POST", "path": "regex", "token": "only requests with this bearer token",
                     "count": 2, "rate": 0.1, "phase": "before"|"after"}
        phase "after" runs the request, then answers with the fault (the change happened anyway).
        "unchecked_body": {...} answers with that body unvalidated (to test a validator in front of this one).
  DELETE /_emulator/faults                    clear faults
  POST /_emulator/registry_tags {"registry", "repository", "tag", "size_bytes"}   "push" an image tag
                                              ("when_created": true queues it until the registry exists)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
import uuid
from urllib.parse import parse_qsl, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import standin_http  # noqa: E402  pylint: disable=wrong-import-position,import-error
from resources import Emulator  # noqa: E402  pylint: disable=wrong-import-position,import-error
from spec import Spec, SpecViolation  # noqa: E402  pylint: disable=wrong-import-position,import-error
from state import RATE_LIMIT, ApiError, NotImplementedOperation, State, now_iso  # noqa: E402  pylint: disable=wrong-import-position,import-error

# seconds the asynchronous changes take by default (DO_EMULATOR_<NAME>_DELAY or POST /_emulator/config)
LIFECYCLE_DEFAULTS = {"node_pool": 1.0, "node_delete": 2.0, "cluster_delete": 3.0, "database_delete": 2.0,
                      "database_resize": 2.0}


class Handler(standin_http.Handler):
    """Every answer goes out through ``_reply``: validated against the operation's responses when the
    request is one of DigitalOcean's operations, sent as is for the control endpoints (not part of the API)."""

    server_version = "do-emulator/1"

    def _write(self, status, body=None, content_type="application/json", headers=None):
        """Write the answer with DigitalOcean's rate-limit headers (only ``_reply`` calls this)."""
        state = self.server.emulator.state
        data = b""
        if body is not None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        with state.lock:
            state.rate_remaining = max(0, state.rate_remaining - 1)
            remaining = state.rate_remaining
        headers = dict(headers or {})
        out = {"ratelimit-limit": str(RATE_LIMIT), "ratelimit-remaining": str(remaining),
               "ratelimit-reset": str(int(time.time()) + 60)}
        out.update(headers)
        self.write(status, data, content_type if body is not None else None, out)

    def _error(self, status, ident, message, headers=None):
        """An error of a control endpoint, in DigitalOcean's envelope."""
        self._reply(None, status, {"id": ident, "message": message, "request_id": str(uuid.uuid4())}, headers=headers)

    def _record(self, exc):
        state = self.server.emulator.state
        entry = {"at": now_iso(), "where": exc.where, "errors": exc.errors}
        with state.lock:
            state.violations.append(entry)
        sys.stderr.write("SPEC VIOLATION %s\n" % json.dumps(entry))
        sys.stderr.flush()

    def _violation(self, exc, op=None, status=422, ident="spec_violation"):
        """Record a violation and answer it (422, or 501 for an unimplemented operation)."""
        self._record(exc)
        self._reply(op, status, {"id": ident, "message": str(exc)[:2000], "request_id": str(uuid.uuid4())},
                    check_violation=False)

    def _reply(self, op, status, body, content_type="application/json", headers=None, check_violation=True):
        """Validate the response against the operation's spec (when ``op`` is one), then send it.

        A response the spec does not allow is recorded and replaced by a 422 spec_violation. ``op`` None is a
        control endpoint's answer, or a test's deliberately unchecked body: sent without validation."""
        if op is not None:
            try:
                self.server.emulator.spec.validate_response(op, status, body, content_type)
            except SpecViolation as exc:
                if not check_violation:
                    # the emulator's own violation answer breaks the spec: record it, still send it
                    self._record(exc)
                else:
                    return self._violation(exc, op)
        return self._write(status, body, content_type=content_type, headers=headers)

    # -- control --
    def _control(self, method, path, query, raw):
        emu = self.server.emulator
        state = emu.state
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return self._error(400, "bad_request", "invalid JSON")
        if path == "/_emulator/reset" and method == "POST":
            state.reset()
            return self._reply(None, 200, {"ok": True})
        if path == "/_emulator/state" and method == "GET":
            return self._reply(None, 200, state.dump())
        if path == "/_emulator/stats" and method == "GET":
            with state.lock:
                out = json.loads(json.dumps(state.stats))
                if query.get("reset") == "true":
                    state.stats = {"total": 0, "by_method": {}, "by_operation": {}, "faults_injected": 0}
            return self._reply(None, 200, out)
        if path == "/_emulator/violations" and method == "GET":
            return self._reply(None, 200, {"violations": state.violations})
        if path == "/_emulator/config" and method == "POST":
            with state.lock:
                state.delays.update({k: float(v) for k, v in (body.get("delays") or {}).items()})
            return self._reply(None, 200, {"delays": state.delays})
        if path == "/_emulator/faults":
            with state.lock:
                if method == "DELETE":
                    state.faults = []
                elif method == "POST":
                    state.faults = [dict(f, _hits=0) for f in body.get("faults") or []]
                    if "seed" in body:
                        state.rng = random.Random(body["seed"])
                return self._reply(None, 200, {"faults": [{k: v for k, v in f.items() if k != "_hits"} for f in state.faults]})
        if path == "/_emulator/registry_tags" and method == "POST":
            try:
                emu.push_tag(body)
            except ApiError as exc:
                return self._error(exc.status, exc.ident, exc.message)
            return self._reply(None, 201, {"ok": True})
        return self._error(404, "not_found", "unknown control endpoint")

    def _pick_fault(self, method, path, token=None):
        state = self.server.emulator.state
        with state.lock:
            for fault in state.faults:
                if fault.get("token") and fault["token"] != token:
                    continue
                if fault.get("method") and fault["method"].upper() != method:
                    continue
                if fault.get("path") and not re.search(fault["path"], path):
                    continue
                if "count" in fault and fault["_hits"] >= fault["count"]:
                    continue
                if "rate" in fault and state.rng.random() >= float(fault["rate"]):
                    continue
                fault["_hits"] += 1
                if fault.get("status"):
                    state.stats["faults_injected"] += 1
                return dict(fault)
        return None

    def _fault_response(self, op, fault):
        headers = {}
        if fault.get("retry_after") is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        status = int(fault["status"])
        if fault.get("unchecked_body") is not None:
            # test-only: a body sent WITHOUT validation, to prove that a validator in front (Prism) catches it
            return self._reply(None, status, fault["unchecked_body"])
        if fault.get("reset_in") is not None:
            with self.server.emulator.state.lock:
                self.server.emulator.state.rate_remaining = 0
            headers["ratelimit-reset"] = str(int(time.time() + float(fault["reset_in"])))
        ident = {429: "too_many_requests", 500: "server_error", 503: "service_unavailable"}.get(status, "error")
        msg = "API rate limit exceeded." if status == 429 else "Injected server error."
        self._reply(op, status, {"id": ident, "message": msg, "request_id": str(uuid.uuid4())}, headers=headers)

    # -- main entry --
    def dispatch(self):
        method = self.command
        emu = self.server.emulator
        state = emu.state
        parts = urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        raw = self.read_body()
        if path.startswith("/_emulator/"):
            return self._control(method, path, query, raw)
        with state.lock:
            state.stats["total"] += 1
            state.stats["by_method"][method] = state.stats["by_method"].get(method, 0) + 1
            state.reap()
        op, _params = emu.spec.find(method, path)
        auth = self.headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if not token:
            return self._reply(op, 401, {"id": "unauthorized", "message": "Unable to authenticate you."})
        has_body = bool(raw)
        body = None
        if has_body:
            try:
                body = json.loads(raw)
            except ValueError:
                return self._violation(SpecViolation("request %s %s" % (method, path), ["body is not JSON"]), op)
        try:
            op, _params = emu.spec.validate_request(method, path, query, body, has_body)
        except SpecViolation as exc:
            return self._violation(exc, op)
        with state.lock:
            byop = state.stats["by_operation"]
            byop[op.operation_id] = byop.get(op.operation_id, 0) + 1
            bytoken = state.stats.setdefault("by_token", {})
            bytoken[token] = bytoken.get(token, 0) + 1
        fault = self._pick_fault(method, path, token)
        if fault and fault.get("latency"):
            time.sleep(float(fault["latency"]))
        if fault and fault.get("status") and fault.get("phase", "before") == "before":
            return self._fault_response(op, fault)
        content_type = "application/json"
        try:
            result = emu.handle(method, path, query, body)
            status, out = result[0], result[1]
            if len(result) > 2:
                content_type = result[2]
        except NotImplementedOperation as exc:
            return self._violation(SpecViolation("%s %s (%s)" % (method, path, op.operation_id), [str(exc)]), op,
                                   status=501, ident="not_implemented")
        except ApiError as exc:
            status, out = exc.status, {"id": exc.ident, "message": exc.message, "request_id": str(uuid.uuid4())}
        if fault and fault.get("status") and fault.get("phase") == "after":
            return self._fault_response(op, fault)
        return self._reply(op, status, out, content_type=content_type)


class EmulatorServer(standin_http.Server):
    def __init__(self, addr, emulator, verbose=False):
        super().__init__(addr, Handler, verbose=verbose, emulator=emulator)


def build_server(host="127.0.0.1", port=0, kubeconfig=None, delays=None, spec_path=None, verbose=False):
    spec = Spec(spec_path) if spec_path else Spec()
    emulator = Emulator(State(kubeconfig, delays), spec)
    return EmulatorServer((host, port), emulator, verbose)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=28001)
    parser.add_argument("--spec", default=None, help="OpenAPI JSON (default: the bundled reference copy)")
    parser.add_argument("--kubeconfig", default=os.path.join(os.environ.get("ECHO_TESTENV_STATE", ".testenv"), "kubeconfig"))
    parser.add_argument("--cluster-delay", type=float, default=float(os.environ.get("DO_EMULATOR_CLUSTER_DELAY", 2)))
    parser.add_argument("--pg-delay", type=float, default=float(os.environ.get("DO_EMULATOR_PG_DELAY", 1)))
    parser.add_argument("--valkey-delay", type=float, default=float(os.environ.get("DO_EMULATOR_VALKEY_DELAY", 1)))
    for name, default in LIFECYCLE_DEFAULTS.items():
        parser.add_argument("--%s-delay" % name.replace("_", "-"), type=float,
                            default=float(os.environ.get("DO_EMULATOR_%s_DELAY" % name.upper(), default)))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    delays = {"cluster": args.cluster_delay, "pg": args.pg_delay, "valkey": args.valkey_delay,
              "database": args.pg_delay}
    delays.update((name, getattr(args, name + "_delay")) for name in LIFECYCLE_DEFAULTS)
    server = build_server(args.host, args.port, args.kubeconfig, delays, args.spec, args.verbose)
    sys.stderr.write("do-emulator listening on http://%s:%d\n" % server.server_address[:2])
    sys.stderr.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

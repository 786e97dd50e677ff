"""A small, stateful Google Cloud emulator for the echo.platform rehearsal environment.

Serves plain HTTP on 127.0.0.1 and routes by Host header, so the TLS proxy (proxy.py) can hand it
the decrypted traffic of the unmodified google.cloud modules, which call *.googleapis.com.
Implemented: storage v1 buckets, serviceusage v1 services + operations, iam v1 service accounts and
keys, cloudresourcemanager v1 get/setIamPolicy (etag semantics), aiplatform v1 endpoints with
long-running operations on regional hosts, and the OAuth2 token endpoint (JWT-bearer grants signed
by a key this emulator issued, or the bootstrap key). Every API request is validated against the
discovery documents (discovery.py); violations answer 400 and are listed at /_emulator/violations.
Every response is validated too (a response violation is recorded and answered 500). Conflicts
say ALREADY_EXISTS (create) or ABORTED (stale etag); setIamPolicy honours updateMask and policy
versions; long-running operations take polls, can fail, and take effect only when done (README.md).

Control endpoints (Host 127.0.0.1): GET /_emulator/health, GET /_emulator/violations,
POST /_emulator/reset, POST /_emulator/faults {"method": ID or "*", "status": 429|503|409, "count": N},
POST /_emulator/lro {"method", "polls", "seconds", "fail", "count"} (how the next operations go),
POST /_emulator/race {"project", "role", "member"} (add a foreign binding right after the next
getIamPolicy, so the caller's setIamPolicy meets a changed etag), GET /_emulator/state,
POST /_emulator/token {"email"} (mint an access token for auth_kind=accesstoken tests),
GET /_emulator/log (method ids served, in order).
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime
import hashlib
import itertools
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
import discovery  # noqa: E402  pylint: disable=wrong-import-position
import standin_http  # noqa: E402  pylint: disable=wrong-import-position,import-error

TOKEN_URI = "https://oauth2.googleapis.com/token"
PROJECT_NUMBER = "123456789012"
STANDARD_SERVICES = ("serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com")


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def b64url_decode(data):
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


# google.rpc.Code numbers (an Operation's error.code) by name
RPC_CODES = {"CANCELLED": 1, "UNKNOWN": 2, "INVALID_ARGUMENT": 3, "DEADLINE_EXCEEDED": 4, "NOT_FOUND": 5,
             "ALREADY_EXISTS": 6, "PERMISSION_DENIED": 7, "RESOURCE_EXHAUSTED": 8, "FAILED_PRECONDITION": 9,
             "ABORTED": 10, "OUT_OF_RANGE": 11, "UNIMPLEMENTED": 12, "INTERNAL": 13, "UNAVAILABLE": 14,
             "DATA_LOSS": 15, "UNAUTHENTICATED": 16}
# how many polls an operation takes by default, and how long it runs when nobody polls it
LRO_POLLS = {"aiplatform.projects.locations.endpoints.create": 2, "aiplatform.projects.locations.endpoints.delete": 1,
             "serviceusage.services.enable": 1, "serviceusage.services.disable": 1}
LRO_SECONDS = 10.0


class ApiError(Exception):
    """An error answer. 409 is ABORTED (a concurrency conflict: stale etag) unless the reason says
    ALREADY_EXISTS (a create that meets an existing resource), as Google distinguishes them."""

    def __init__(self, status, message, reason=None, storage_reason=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.storage_reason = storage_reason  # Cloud Storage's JSON API names its errors in error.errors[]
        self.reason = reason or {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
                                 404: "NOT_FOUND", 409: "ABORTED", 412: "FAILED_PRECONDITION",
                                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 501: "UNIMPLEMENTED",
                                 503: "UNAVAILABLE"}.get(status, "UNKNOWN")

    def body(self):
        error = {"code": self.status, "message": self.message, "status": self.reason}
        if self.storage_reason:
            error["errors"] = [{"message": self.message, "domain": "global", "reason": self.storage_reason}]
        return {"error": error}


class State:
    def __init__(self, state_dir):
        self.lock = threading.RLock()
        self.state_dir = state_dir
        self.bootstrap = None
        self.reset()

    def reset(self):
        with self.lock:
            self.buckets = {}
            self.services = {}          # (project, name) -> ENABLED/DISABLED
            self.accounts = {}          # email -> account
            self.keys = {}              # key id -> {"email", "key": ServiceAccountKey (no private data), "public"}
            self.policies = {}          # project -> policy
            self.endpoints = {}         # full name -> endpoint
            self.operations = {}        # name -> {"polls_left", "deadline", "op", "complete", "fail"}
            self.lro_rules = []         # [{"method", "polls", "seconds", "fail", "count"}] from /_emulator/lro
            self.tokens = {}            # access token -> email
            self.faults = []
            self.races = []
            self.violations = []
            self.log = []
            self.ids = itertools.count(1000)
            if self.bootstrap is not None:
                self._add_bootstrap()

    def _add_bootstrap(self):
        record = self.bootstrap["record"]
        self.keys[self.bootstrap["id"]] = record
        email = record["email"]
        project = email.split("@")[1].split(".")[0]
        self.accounts[email] = {"name": "projects/%s/serviceAccounts/%s" % (project, email), "projectId": project,
                                "uniqueId": "100000000000000000001", "email": email,
                                "oauth2ClientId": "100000000000000000001", "displayName": "testenv bootstrap",
                                "etag": "MDEwMjE5MjA="}

    # ---- keys ---------------------------------------------------------------------------
    def new_key(self, email, project):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        key_id = secrets.token_hex(20)
        info = {
            "type": "service_account", "project_id": project, "private_key_id": key_id, "private_key": pem,
            "client_email": email, "client_id": str(next(self.ids)) + "000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": TOKEN_URI,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
                                    + urllib.parse.quote(email),
            "universe_domain": "googleapis.com",
        }
        record = {
            "email": email,
            "public": private.public_key(),
            "key": {
                "name": "projects/%s/serviceAccounts/%s/keys/%s" % (project, email, key_id),
                "validAfterTime": now(), "validBeforeTime": "9999-12-31T23:59:59Z",
                "keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED", "keyType": "USER_MANAGED",
            },
        }
        return key_id, record, info

    def make_bootstrap(self, project):
        email = "bootstrap@%s.iam.gserviceaccount.com" % project
        key_id, record, info = self.new_key(email, project)
        self.bootstrap = {"id": key_id, "record": record}
        self._add_bootstrap()
        return info


class Handler(standin_http.Handler):
    server_version = "echo-gcp-emulator/1"

    @property
    def st(self):
        return self.server.state

    # ---- plumbing -----------------------------------------------------------------------
    def _send(self, status, body, headers=None):
        self.write(status, json.dumps(body) if body is not None else b"", "application/json; charset=UTF-8", headers)

    def _error(self, exc, api=None, method=None):
        headers = {"Retry-After": "1"} if exc.status in (429, 503) else None
        self._reply(api, method, exc.status, exc.body(), headers)

    def _reply(self, api, method, status, body, headers=None):
        """Check the answer against the method's response schema (or the error envelope), then send it.
        An answer outside the document is recorded and replaced by a 500, so it fails visibly."""
        if api is not None and method is not None:
            try:
                api.check_response(method, status, body)
            except discovery.Violation as exc:
                with self.st.lock:
                    self.st.violations.append({"method": method.id, "status": status, "reason": str(exc),
                                               "response": True})
                status, body, headers = 500, {"error": {"code": 500, "status": "INTERNAL", "message":
                                                        "emulator response outside the discovery document: %s" % exc}}, None
        self._send(status, body, headers)

    def dispatch(self):
        verb = self.command
        raw = self.read_body()
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        try:
            if parsed.path.startswith("/_emulator/"):
                return self._control(verb, parsed.path, raw)
            if host == "oauth2.googleapis.com" and parsed.path == "/token" and verb == "POST":
                return self._send(200, self._token(raw))
            if (host == "iamcredentials.googleapis.com" and verb == "GET"
                    and parsed.path.endswith("/allowedLocations")):
                # google-auth's regional access boundary lookup (not in the discovery document):
                # answer "no boundary", as Google does for accounts without one
                self._authenticate()
                return self._send(200, {"encodedLocations": "0x0", "locations": []})
            api = discovery.api_for_host(host)
            if api is None:
                raise discovery.Violation("no Google API is served at host %r" % host)
            method, params = api.match(verb, urllib.parse.unquote(parsed.path))
            api.check_query(method, query, params)
            body = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise discovery.Violation("%s: the body is not JSON" % method.id)
            api.check_body(method, body)
        except discovery.Violation as exc:
            with self.st.lock:
                self.st.violations.append({"host": host, "verb": verb, "path": parsed.path, "reason": str(exc)})
            return self._error(ApiError(400, "Request outside the discovery document: %s" % exc))
        except ApiError as exc:
            return self._error(exc)
        try:
            self._authenticate()
            self._fault(method.id)
            handler = getattr(self, "h_" + method.id.replace(".", "_"), None)
            if handler is None:
                raise ApiError(501, "%s is valid but not emulated" % method.id)
            with self.st.lock:
                self.st.log.append(method.id)
                self._settle()
                self._method_id = method.id
                status, out = handler(params, query, body or {})
            self._reply(api, method, status, out)
        except ApiError as exc:
            self._error(exc, api, method)

    def _authenticate(self):
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Bearer ") or header[7:] not in self.st.tokens:
            raise ApiError(401, "Request had invalid authentication credentials.")

    def _fault(self, method_id):
        with self.st.lock:
            for fault in self.st.faults:
                if fault["count"] > 0 and fault["method"] in ("*", method_id):
                    fault["count"] -= 1
                    raise ApiError(int(fault["status"]), "injected fault")

    # ---- OAuth2 -------------------------------------------------------------------------
    def _token(self, raw):
        form = dict(urllib.parse.parse_qsl(raw.decode()))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            raise ApiError(400, "unsupported_grant_type")
        try:
            head_b, claims_b, sig_b = form["assertion"].split(".")
            head = json.loads(b64url_decode(head_b))
            claims = json.loads(b64url_decode(claims_b))
        except (KeyError, ValueError):
            raise ApiError(400, "invalid_grant: malformed assertion")
        with self.st.lock:
            record = self.st.keys.get(head.get("kid"))
        if record is None or head.get("alg") != "RS256":
            raise ApiError(400, "invalid_grant: unknown key")
        try:
            record["public"].verify(b64url_decode(sig_b), (head_b + "." + claims_b).encode(),
                                    padding.PKCS1v15(), hashes.SHA256())
        except Exception:  # pylint: disable=broad-except
            raise ApiError(400, "invalid_grant: bad signature")
        if claims.get("iss") != record["email"] or claims.get("aud") != TOKEN_URI:
            raise ApiError(400, "invalid_grant: bad claims")
        token = "ya29.emu-" + secrets.token_urlsafe(24)
        with self.st.lock:
            self.st.tokens[token] = record["email"]
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    # ---- control ------------------------------------------------------------------------
    def _control(self, verb, path, raw):
        data = json.loads(raw) if raw else {}
        st = self.st
        with st.lock:
            if path == "/_emulator/health":
                return self._send(200, {"ok": True})
            if path == "/_emulator/violations":
                return self._send(200, {"violations": st.violations})
            if path == "/_emulator/log":
                return self._send(200, {"log": st.log})
            if path == "/_emulator/reset" and verb == "POST":
                st.reset()
                return self._send(200, {"ok": True})
            if path == "/_emulator/faults" and verb == "POST":
                st.faults.append({"method": data.get("method", "*"), "status": int(data["status"]),
                                  "count": int(data.get("count", 1))})
                return self._send(200, {"faults": st.faults})
            if path == "/_emulator/lro" and verb == "POST":
                # the next `count` operations of `method` take `polls` polls (or `seconds`), and fail with
                # `fail` ({"status": "RESOURCE_EXHAUSTED", "message": ...}) instead of succeeding when given
                st.lro_rules.append({"method": data.get("method", "*"), "polls": int(data.get("polls", 1)),
                                     "seconds": float(data.get("seconds", LRO_SECONDS)), "fail": data.get("fail"),
                                     "count": int(data.get("count", 1))})
                return self._send(200, {"lro": st.lro_rules})
            if path == "/_emulator/race" and verb == "POST":
                st.races.append(data)
                return self._send(200, {"races": st.races})
            if path == "/_emulator/token" and verb == "POST":
                token = "ya29.emu-" + secrets.token_urlsafe(24)
                st.tokens[token] = data.get("email", "tester@example.com")
                return self._send(200, {"access_token": token})
            if path == "/_emulator/state":
                return self._send(200, {
                    "buckets": st.buckets, "services": ["%s/%s=%s" % (k[0], k[1], v) for k, v in st.services.items()],
                    "accounts": st.accounts, "keys": [r["key"]["name"] for r in st.keys.values()],
                    "policies": st.policies, "endpoints": st.endpoints})
        raise ApiError(404, "unknown control path %s" % path)

    # ---- storage v1 ---------------------------------------------------------------------
    def _bucket_out(self, bucket):
        return copy.deepcopy(bucket)

    def h_storage_buckets_insert(self, params, query, body):
        name = body.get("name")
        if not name or "project" not in query:
            raise ApiError(400, "bucket name and project are required")
        if name in self.st.buckets:
            raise ApiError(409, "Your previous request to create the named bucket succeeded and you already own it.",
                           reason="ALREADY_EXISTS", storage_reason="conflict")
        bucket = copy.deepcopy(body)
        bucket.pop("project", None)
        bucket.update({
            "kind": "storage#bucket", "id": name, "name": name, "projectNumber": PROJECT_NUMBER,
            "selfLink": "https://www.googleapis.com/storage/v1/b/" + name, "metageneration": "1",
            "location": (body.get("location") or "US").upper(), "locationType": "region",
            "storageClass": body.get("storageClass") or "STANDARD", "timeCreated": now(), "updated": now(),
            "etag": "CAE=", "rpo": "DEFAULT",
        })
        iam = bucket.setdefault("iamConfiguration", {})
        ubla = iam.setdefault("uniformBucketLevelAccess", {"enabled": False})
        iam["bucketPolicyOnly"] = copy.deepcopy(ubla)
        iam.setdefault("publicAccessPrevention", "inherited")
        self.st.buckets[name] = bucket
        return 200, self._bucket_out(bucket)

    def _bucket(self, params):
        bucket = self.st.buckets.get(params["bucket"])
        if bucket is None:
            raise ApiError(404, "The specified bucket does not exist.", storage_reason="notFound")
        return bucket

    def h_storage_buckets_get(self, params, query, body):
        return 200, self._bucket_out(self._bucket(params))

    def _bucket_write(self, params, body, replace):
        bucket = self._bucket(params)
        keep = dict((k, bucket[k]) for k in ("kind", "id", "name", "projectNumber", "selfLink", "location",
                                            "locationType", "timeCreated", "rpo"))
        new = copy.deepcopy(body) if replace else dict(bucket, **copy.deepcopy(body))
        new.pop("project", None)
        new.update(keep)
        new["metageneration"] = str(int(bucket["metageneration"]) + 1)
        new["updated"] = now()
        new.setdefault("storageClass", bucket["storageClass"])
        self.st.buckets[params["bucket"]] = new
        return 200, self._bucket_out(new)

    def h_storage_buckets_update(self, params, query, body):
        return self._bucket_write(params, body, True)

    def h_storage_buckets_patch(self, params, query, body):
        return self._bucket_write(params, body, False)

    def h_storage_buckets_delete(self, params, query, body):
        self._bucket(params)
        del self.st.buckets[params["bucket"]]
        return 204, None

    # ---- serviceusage v1 ----------------------------------------------------------------
    def _service(self, project, name):
        state = self.st.services.get((project, name))
        if state is None:
            state = "ENABLED" if name in STANDARD_SERVICES else "DISABLED"
        return {"name": "projects/%s/services/%s" % (PROJECT_NUMBER, name), "parent": "projects/" + PROJECT_NUMBER,
                "state": state, "config": {"name": name, "title": name.split(".")[0]}}

    def _split_service(self, params):
        # v1/{+name}: name = projects/P/services/S
        parts = [params.get("v1Id"), params.get("v1Id1"), "services", params.get("servicesId")]
        return parts[1], parts[3]

    def _start_op(self, prefix, complete, metadata=None):
        """A long-running operation whose effect (``complete()``, returning the response) happens when
        it finishes: after its polls, or its seconds when nobody polls. A rule from /_emulator/lro can
        make it take more polls or fail; a failed operation changes nothing."""
        method_id = getattr(self, "_method_id", "")
        polls, seconds, fail = LRO_POLLS.get(method_id, 1), LRO_SECONDS, None
        for rule in self.st.lro_rules:
            if rule["count"] > 0 and rule["method"] in ("*", method_id):
                rule["count"] -= 1
                polls, seconds, fail = rule["polls"], rule["seconds"], rule["fail"]
                break
        name = "%s/operations/op-%d" % (prefix, next(self.st.ids)) if prefix else "operations/op-%d" % next(self.st.ids)
        op = {"name": name, "done": False}
        if metadata:
            op["metadata"] = metadata
        entry = {"polls_left": polls, "deadline": time.time() + seconds, "op": op, "complete": complete,
                 "fail": fail}
        self.st.operations[name] = entry
        if polls <= 0:
            self._finish(entry)
        return copy.deepcopy(op)

    def _finish(self, entry):
        op = entry["op"]
        if op["done"]:
            return
        op["done"] = True
        if entry["fail"]:
            status = entry["fail"].get("status", "INTERNAL")
            op["error"] = {"code": RPC_CODES.get(status, 13), "message": entry["fail"].get("message", "operation failed")}
        else:
            op["response"] = entry["complete"]()

    def _settle(self):
        """Finish the operations whose time is up (called before every request, under the lock)."""
        current = time.time()
        for entry in self.st.operations.values():
            if not entry["op"]["done"] and current >= entry["deadline"]:
                self._finish(entry)

    def _pending(self, prefix):
        """True while an operation on the resource ``prefix`` is still running."""
        return any(not e["op"]["done"] and e["op"]["name"].startswith(prefix + "/operations/")
                   for e in self.st.operations.values())

    def _poll(self, name):
        entry = self.st.operations.get(name)
        if entry is None:
            raise ApiError(404, "operation %s not found" % name)
        if not entry["op"]["done"]:
            entry["polls_left"] -= 1
            if entry["polls_left"] <= 0:
                self._finish(entry)
        return 200, copy.deepcopy(entry["op"])

    def h_serviceusage_services_get(self, params, query, body):
        project, name = self._split_service(params)
        return 200, self._service(project, name)

    def h_serviceusage_services_enable(self, params, query, body):
        project, name = self._split_service(params)

        def complete():  # the service is ENABLED once the operation is done
            self.st.services[(project, name)] = "ENABLED"
            out = dict(self._service(project, name), **{"@type": "type.googleapis.com/google.api.serviceusage.v1.Service"})
            return {"@type": "type.googleapis.com/google.api.serviceusage.v1.EnableServiceResponse", "service": out}
        return 200, self._start_op("", complete)

    def h_serviceusage_services_disable(self, params, query, body):
        project, name = self._split_service(params)

        def complete():
            self.st.services[(project, name)] = "DISABLED"
            return {"@type": "type.googleapis.com/google.api.serviceusage.v1.DisableServiceResponse",
                    "service": self._service(project, name)}
        return 200, self._start_op("", complete)

    def h_serviceusage_operations_get(self, params, query, body):
        return self._poll("operations/" + params["operationsId"])

    # ---- iam v1 -------------------------------------------------------------------------
    def _account(self, params):
        ident = params["serviceAccountsId"]
        for account in self.st.accounts.values():
            if ident in (account["email"], account["uniqueId"]):
                return account
        raise ApiError(404, "Unknown service account")

    def h_iam_projects_serviceAccounts_create(self, params, query, body):
        project = params["projectsId"]
        account_id = body.get("accountId") or ""
        if not (6 <= len(account_id) <= 30):
            raise ApiError(400, "accountId must be 6-30 characters")
        email = "%s@%s.iam.gserviceaccount.com" % (account_id, project)
        if email in self.st.accounts:
            raise ApiError(409, "Service account %s already exists within project projects/%s." % (account_id, project),
                           reason="ALREADY_EXISTS")
        unique = str(next(self.st.ids)) + "1234567890123"
        account = {"name": "projects/%s/serviceAccounts/%s" % (project, email), "projectId": project,
                   "uniqueId": unique, "email": email, "oauth2ClientId": unique, "etag": "MDEwMjE5MjA="}
        account.update(dict((k, v) for k, v in (body.get("serviceAccount") or {}).items()
                            if k in ("displayName", "description")))
        self.st.accounts[email] = account
        return 200, copy.deepcopy(account)

    def h_iam_projects_serviceAccounts_get(self, params, query, body):
        return 200, copy.deepcopy(self._account(params))

    def h_iam_projects_serviceAccounts_update(self, params, query, body):
        account = self._account(params)
        for key in ("displayName", "description"):
            if key in body:
                account[key] = body[key]
        return 200, copy.deepcopy(account)

    def h_iam_projects_serviceAccounts_patch(self, params, query, body):
        account = self._account(params)
        for key, value in (body.get("serviceAccount") or {}).items():
            if key in ("displayName", "description"):
                account[key] = value
        return 200, copy.deepcopy(account)

    def h_iam_projects_serviceAccounts_delete(self, params, query, body):
        account = self._account(params)
        del self.st.accounts[account["email"]]
        for key_id in [k for k, r in self.st.keys.items() if r["email"] == account["email"]]:
            del self.st.keys[key_id]
        return 200, {}

    def h_iam_projects_serviceAccounts_list(self, params, query, body):
        project = params["projectsId"]
        return 200, {"accounts": [copy.deepcopy(a) for a in self.st.accounts.values() if a["projectId"] == project]}

    def h_iam_projects_serviceAccounts_keys_create(self, params, query, body):
        account = self._account(params)
        key_id, record, info = self.st.new_key(account["email"], account["projectId"])
        self.st.keys[key_id] = record
        out = dict(record["key"], privateKeyType=body.get("privateKeyType") or "TYPE_GOOGLE_CREDENTIALS_FILE",
                   privateKeyData=base64.b64encode(json.dumps(info, indent=2).encode()).decode())
        return 200, out

    def _key(self, params):
        account = self._account(params)
        record = self.st.keys.get(params["keysId"])
        if record is None or record["email"] != account["email"]:
            raise ApiError(404, "Unknown service account key")
        return record

    def h_iam_projects_serviceAccounts_keys_get(self, params, query, body):
        return 200, copy.deepcopy(self._key(params)["key"])

    def h_iam_projects_serviceAccounts_keys_delete(self, params, query, body):
        self._key(params)
        del self.st.keys[params["keysId"]]
        return 200, {}

    def h_iam_projects_serviceAccounts_keys_list(self, params, query, body):
        account = self._account(params)
        return 200, {"keys": [copy.deepcopy(r["key"]) for r in self.st.keys.values() if r["email"] == account["email"]]}

    # ---- cloudresourcemanager v1 -------------------------------------------------------
    def _policy(self, project):
        return self.st.policies.setdefault(project, {
            "version": 1, "etag": "BwAAAAE=",
            "bindings": [{"role": "roles/owner", "members": ["user:owner@example.com"]}]})

    def _bump(self, policy):
        number = int.from_bytes(base64.b64decode(policy["etag"]), "big") + 1
        policy["etag"] = base64.b64encode(number.to_bytes(5, "big")).decode()

    @staticmethod
    def _as_version(policy, requested):
        """The policy as a caller asking for ``requested`` sees it: conditional bindings need version 3;
        asked for less, Google answers version 1 with each conditional role renamed
        ``<role>_withcond_<hash>`` and its condition left out."""
        out = copy.deepcopy(policy)
        conditional = any(b.get("condition") for b in out.get("bindings") or [])
        out["version"] = 3 if conditional else 1
        if conditional and requested < 3:
            out["version"] = 1
            for binding in out["bindings"]:
                cond = binding.pop("condition", None)
                if cond:
                    digest = hashlib.sha256(json.dumps(cond, sort_keys=True).encode()).hexdigest()[:20]
                    binding["role"] = "%s_withcond_%s" % (binding["role"], digest)
        return out

    def h_cloudresourcemanager_projects_getIamPolicy(self, params, query, body):
        project = params["resource"]
        requested = ((body or {}).get("options") or {}).get("requestedPolicyVersion", 0)
        if requested not in (0, 1, 3):
            raise ApiError(400, "Invalid requested policy version %r: use 1 or 3." % requested)
        out = self._as_version(self._policy(project), requested)
        races = [r for r in self.st.races if r.get("project") in (None, project)]
        if races:
            race = races[0]
            self.st.races.remove(race)
            policy = self._policy(project)
            for binding in policy["bindings"]:
                if binding["role"] == race["role"] and not binding.get("condition"):
                    binding["members"].append(race["member"])
                    break
            else:
                policy["bindings"].append({"role": race["role"], "members": [race["member"]]})
            self._bump(policy)
        return 200, out

    def h_cloudresourcemanager_projects_setIamPolicy(self, params, query, body):
        project = params["resource"]
        current = self._policy(project)
        given = copy.deepcopy(body.get("policy") or {})
        # updateMask: only the named policy fields change; Google's default mask is "bindings,etag"
        mask = [f.strip() for f in (body.get("updateMask") or "bindings,etag").split(",") if f.strip()]
        for field in mask:
            if field not in ("bindings", "etag", "auditConfigs", "version"):
                raise ApiError(400, "Invalid updateMask path %r: a Policy has bindings, etag, auditConfigs, version."
                               % field)
        if given.get("etag") and given["etag"] != current["etag"]:
            raise ApiError(409, "There were concurrent policy changes. Please retry the whole read-modify-write "
                                "with exponential backoff.", reason="ABORTED")
        new = copy.deepcopy(current)
        for field in ("bindings", "auditConfigs"):
            if field in mask:
                if field in given:
                    new[field] = given[field]
                else:
                    new.pop(field, None)
        version = given.get("version", 0)
        if version not in (0, 1, 3):
            raise ApiError(400, "Invalid policy version %r: use 1 or 3." % version)
        conditional_now = any(b.get("condition") for b in current.get("bindings") or [])
        for binding in new.get("bindings") or []:
            if not binding.get("members"):
                raise ApiError(400, "A binding must have at least one member.")
            if binding.get("condition") and version != 3:
                raise ApiError(400, "Conditional bindings need policy version 3.")
            if "_withcond_" in binding.get("role", ""):
                raise ApiError(400, "Role %s is a version 1 view of a conditional binding: read the policy with "
                                    "requestedPolicyVersion 3 and write version 3." % binding["role"])
        if conditional_now and version != 3 and "bindings" in mask:
            raise ApiError(400, "The policy has conditional role bindings: setIamPolicy must send version 3.")
        new["version"] = 3 if any(b.get("condition") for b in new.get("bindings") or []) else 1
        self._bump(new)
        self.st.policies[project] = new
        return 200, self._as_version(new, version or 1)

    # ---- aiplatform v1 ------------------------------------------------------------------
    def h_aiplatform_projects_locations_endpoints_create(self, params, query, body):
        project, location = params["projectsId"], params["locationsId"]
        endpoint_id = query.get("endpointId") or str(next(self.st.ids))
        if not body.get("displayName"):
            raise ApiError(400, "displayName is required")
        name = "projects/%s/locations/%s/endpoints/%s" % (PROJECT_NUMBER, location, endpoint_id)
        key = "%s/%s/%s" % (project, location, endpoint_id)
        if key in self.st.endpoints or self._pending(name):
            raise ApiError(409, "Endpoint %s already exists" % endpoint_id, reason="ALREADY_EXISTS")
        endpoint = copy.deepcopy(body)
        endpoint.update({"name": name, "createTime": now(), "updateTime": now(),
                         "etag": "AMEw9yP" + secrets.token_hex(4)})

        def complete():  # readable (endpoints.get) only once the operation is done
            self.st.endpoints[key] = endpoint
            return dict(copy.deepcopy(endpoint), **{"@type": "type.googleapis.com/google.cloud.aiplatform.v1.Endpoint"})
        meta = {"@type": "type.googleapis.com/google.cloud.aiplatform.v1.CreateEndpointOperationMetadata",
                "genericMetadata": {"createTime": now(), "updateTime": now()}}
        return 200, self._start_op(name, complete, meta)

    def _endpoint_key(self, params):
        return "%s/%s/%s" % (params["projectsId"], params["locationsId"], params["endpointsId"])

    def h_aiplatform_projects_locations_endpoints_get(self, params, query, body):
        endpoint = self.st.endpoints.get(self._endpoint_key(params))
        if endpoint is None:
            raise ApiError(404, "Endpoint not found")
        return 200, copy.deepcopy(endpoint)

    def h_aiplatform_projects_locations_endpoints_patch(self, params, query, body):
        endpoint = self.st.endpoints.get(self._endpoint_key(params))
        if endpoint is None:
            raise ApiError(404, "Endpoint not found")
        for key, value in body.items():
            if key not in ("name", "createTime", "updateTime", "etag"):
                endpoint[key] = value
        endpoint["updateTime"] = now()
        return 200, copy.deepcopy(endpoint)

    def h_aiplatform_projects_locations_endpoints_delete(self, params, query, body):
        key = self._endpoint_key(params)
        if key not in self.st.endpoints:
            raise ApiError(404, "Endpoint not found")

        def complete():
            self.st.endpoints.pop(key, None)
            return {"@type": "type.googleapis.com/google.protobuf.Empty"}
        meta = {"@type": "type.googleapis.com/google.cloud.aiplatform.v1.DeleteOperationMetadata",
                "genericMetadata": {"createTime": now(), "updateTime": now()}}
        return 200, self._start_op("projects/%s/locations/%s/endpoints/%s" % (
            PROJECT_NUMBER, params["locationsId"], params["endpointsId"]), complete, meta)

    def h_aiplatform_projects_locations_endpoints_operations_get(self, params, query, body):
        name = "projects/%s/locations/%s/endpoints/%s/operations/%s" % (
            params["projectsId"], params["locationsId"], params["endpointsId"], params["operationsId"])
        name = name.replace("projects/%s/" % params["projectsId"], "projects/%s/" % PROJECT_NUMBER, 1)
        return self._poll(name)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=28003)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--project", default="dembrane-echo")
    args = parser.parse_args()
    os.makedirs(args.state_dir, exist_ok=True)
    state = State(args.state_dir)
    info = state.make_bootstrap(args.project)
    path = os.path.join(args.state_dir, "bootstrap-sa.json")
    fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(info, handle, indent=2)
    os.replace(path + ".tmp", path)
    server = standin_http.Server((args.listen, args.port), Handler, verbose=bool(os.environ.get("GCP_EMULATOR_VERBOSE")),
                                 state=state)
    print("gcp emulator on http://%s:%d, bootstrap key %s" % (args.listen, args.port,
                                                             hashlib.sha256(path.encode()).hexdigest()[:8]), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

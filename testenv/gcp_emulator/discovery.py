"""Route and validate requests and responses against Google's discovery documents.

The documents ship with google-api-python-client (googleapiclient/discovery_cache/documents).
A request whose method/path is not in the document, whose query parameters or JSON body fields
are not in the method's schema, or that lacks a required parameter or field, is a violation: the
emulator answers 400 and records it. Every response the emulator sends is checked the same way
against the method's response schema (unknown fields, types, enums, and the fields a resource
always carries), and error bodies against Google's error envelope; a response violation is
recorded and answered 500, so a wrong emulator fails the test that met it.

Required, as the documents mark it: a parameter with ``"required": true``; a body field whose
description starts with "Required." / "REQUIRED:" (IAM, Resource Manager, Vertex AI), or whose
``annotations.required`` lists the method (Cloud Storage). Partial updates (patch, update with a
mask) may leave required fields out, as Google's services allow.
"""

from __future__ import annotations

import json
import os
import re

import googleapiclient

DOC_DIR = os.path.join(os.path.dirname(googleapiclient.__file__), "discovery_cache", "documents")

# host -> discovery document (file stem); regional Vertex AI hosts map to aiplatform
APIS = {
    "storage.googleapis.com": "storage.v1",
    "serviceusage.googleapis.com": "serviceusage.v1",
    "iam.googleapis.com": "iam.v1",
    "cloudresourcemanager.googleapis.com": "cloudresourcemanager.v1",
    "aiplatform.googleapis.com": "aiplatform.v1",
}
REGIONAL_AIPLATFORM = re.compile(r"^[a-z]+-[a-z]+[0-9]+-aiplatform\.googleapis\.com$")


# Body fields outside the schema that Google's service is known to ignore and the unmodified
# google.cloud modules send: gcp_storage_bucket puts ``project`` in the Bucket body (the storage
# JSON API ignores unknown fields; the project is taken from the query). Kept as narrow as possible.
TOLERATED_FIELDS = {
    "storage.buckets.insert": {"project"},
    "storage.buckets.update": {"project"},
    "storage.buckets.patch": {"project"},
}

# Query parameters likewise: gcp_storage_bucket deletes through its self link, which carries
# ``projection=full`` (a parameter of get/insert/update, which the storage API ignores on delete).
TOLERATED_QUERY = {
    "storage.buckets.delete": {"projection"},
}


# Google's canonical error codes (google.rpc.Code), as error bodies carry them in error.status
CANONICAL = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
             "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
             "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}


class Violation(Exception):
    """The request (or the emulator's response) is outside the discovery document."""


class Method:
    def __init__(self, doc, method):
        self.doc = doc
        self.id = method["id"]
        self.http_method = method["httpMethod"]
        self.parameters = method.get("parameters", {})
        self.request_ref = (method.get("request") or {}).get("$ref")
        self.response_ref = (method.get("response") or {}).get("$ref")
        self.partial = self.id.rsplit(".", 1)[-1] in ("patch", "update")
        template = doc["servicePath"] + method.get("flatPath", method["path"])
        self.literal = len(re.sub(r"\{[^}]*\}", "", template))
        pattern = ""
        for part in re.split(r"(\{[^}]*\})", template):
            if part.startswith("{"):
                name = part.strip("{}")
                pattern += "(?P<%s>.+)" % re.sub(r"\W", "_", name[1:]) if name.startswith("+") else \
                    "(?P<%s>[^/:]+)" % re.sub(r"\W", "_", name)
            else:
                pattern += re.escape(part)
        self.regex = re.compile("^/" + pattern + "$")


class Api:
    def __init__(self, stem):
        with open(os.path.join(DOC_DIR, stem + ".json")) as handle:
            self.doc = json.load(handle)
        self.schemas = self.doc.get("schemas", {})
        self.global_params = set(self.doc.get("parameters", {}))
        self.methods = []
        self._collect(self.doc)

    def _collect(self, node):
        for method in (node.get("methods") or {}).values():
            self.methods.append(Method(self.doc, method))
        for child in (node.get("resources") or {}).values():
            self._collect(child)

    def match(self, http_method, path):
        best = None
        for method in self.methods:
            if method.http_method != http_method:
                continue
            found = method.regex.match(path)
            if found and (best is None or method.literal > best[0].literal):
                best = (method, found.groupdict())
        if best is None:
            raise Violation("no method %s %s in %s" % (http_method, path, self.doc["id"]))
        return best

    def check_query(self, method, query, path_params=None):
        for name, param in method.parameters.items():
            if param.get("required") and param.get("location") == "query" and name not in query:
                raise Violation("%s: required query parameter %r is missing" % (method.id, name))
        tolerated = TOLERATED_QUERY.get(method.id, ())
        for name in query:
            if name in tolerated:
                continue
            if name not in method.parameters and name not in self.global_params:
                raise Violation("%s: unknown query parameter %r" % (method.id, name))

    def check_body(self, method, body):
        if method.request_ref is None:
            if body not in (None, {}, b"", ""):
                raise Violation("%s takes no request body" % method.id)
            return
        if body is None:
            return
        tolerated = TOLERATED_FIELDS.get(method.id)
        if tolerated and isinstance(body, dict):
            body = dict((k, v) for k, v in body.items() if k not in tolerated)
        self._check_value(body, {"$ref": method.request_ref}, method.id,
                          required=None if method.partial else method.id)

    def check_response(self, method, status, body):
        """Raise Violation unless the emulator's answer fits the method (or Google's error envelope)."""
        where = "response %d of %s" % (status, method.id)
        if status >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            if not isinstance(error, dict) or set(body) != {"error"}:
                raise Violation("%s: an error body is {\"error\": {...}}" % where)
            if error.get("code") != status or not isinstance(error.get("message"), str):
                raise Violation("%s: error.code must be the HTTP status and error.message a string" % where)
            if error.get("status") is not None and error["status"] not in CANONICAL:
                raise Violation("%s: error.status %r is not a canonical code" % (where, error["status"]))
            return
        if method.response_ref is None:
            if body not in (None, {}):
                raise Violation("%s: the method returns no body" % where)
            return
        if status == 204 and body is None:
            return
        self._check_value(body, {"$ref": method.response_ref}, where, required="response")

    @staticmethod
    def _required(prop, required):
        if required is None:
            return False
        if required == "response":
            # what a resource always carries: the fields its description calls required
            text = prop.get("description", "")
            return text.startswith(("Required.", "REQUIRED:")) and not prop.get("readOnly")
        text = prop.get("description", "")
        return (text.startswith(("Required.", "REQUIRED:")) and not prop.get("readOnly")) or \
            required in (prop.get("annotations") or {}).get("required", ())

    def _check_value(self, value, schema, where, required=None):
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        kind = schema.get("type")
        if kind == "object":
            if not isinstance(value, dict):
                raise Violation("%s: expected an object" % where)
            props = schema.get("properties")
            extra = schema.get("additionalProperties")
            if props is None and extra is None:
                return  # free-form object (for example google.protobuf.Struct)
            for name, prop in (props or {}).items():
                if name not in value and self._required(prop, required):
                    raise Violation("%s: required field %r is missing" % (where, name))
            for key, item in value.items():
                if props and key in props:
                    self._check_value(item, props[key], where + "." + key, required)
                elif extra:
                    self._check_value(item, extra, where + "." + key, required)
                else:
                    raise Violation("%s: unknown field %r" % (where, key))
        elif kind == "array":
            if not isinstance(value, list):
                raise Violation("%s: expected a list" % where)
            for index, item in enumerate(value):
                self._check_value(item, schema.get("items", {}), "%s[%d]" % (where, index), required)
        elif kind == "string":
            if not isinstance(value, str):
                raise Violation("%s: expected a string, got %r" % (where, type(value).__name__))
            if schema.get("enum") and value not in schema["enum"]:
                raise Violation("%s: %r is not one of %s" % (where, value, schema["enum"]))
        elif kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise Violation("%s: expected an integer" % where)
        elif kind == "boolean":
            if not isinstance(value, bool):
                raise Violation("%s: expected a boolean" % where)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise Violation("%s: expected a number" % where)


_CACHE = {}


def api_for_host(host):
    host = host.split(":")[0].lower()
    stem = APIS.get(host)
    if stem is None and REGIONAL_AIPLATFORM.match(host):
        stem = "aiplatform.v1"
    if stem is None:
        return None
    if stem not in _CACHE:
        _CACHE[stem] = Api(stem)
    return _CACHE[stem]

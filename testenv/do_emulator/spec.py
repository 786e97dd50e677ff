"""DigitalOcean OpenAPI spec: operation lookup and request/response validation.

The bundled spec (OpenAPI 3.0) is loaded once. Schemas keep their internal ``$ref``s and are
validated with jsonschema (Draft 4 rules, which OpenAPI 3.0 follows) against the whole document,
after two OpenAPI-only keywords are translated: ``nullable`` (adds "null" to the type) and
``readOnly``/``writeOnly`` (a read-only property is not required in a request, a write-only one
not in a response). ``additionalProperties: false`` is enforced as written, and the ``format``
keywords the spec uses are checked (see FORMATS) the way a validating proxy such as Prism checks
them: a string that is not a uuid, an absolute uri, an RFC 3339 date-time, ... is a violation.

Every response is checked against the schema of its status, else the ``NXX`` range, else the
operation's ``default`` response, including its media type: errors, 401s and non-JSON bodies too.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
import os
import re
import uuid
from urllib.parse import urlsplit

import jsonschema
from jsonschema import validators

DEFAULT_SPEC = os.environ.get("DO_OPENAPI_SPEC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "reference", "digitalocean-openapi.json")

METHODS = ("get", "put", "post", "delete", "patch")


_DATE_TIME = re.compile(r"^\d{4}-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-(\d{2})-(\d{2})$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _is_uuid(value):
    # RFC 4122 text form: 8-4-4-4-12 hex digits (uuid.UUID alone would also take braces and urn: prefixes)
    if not re.match(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", value):
        return False
    uuid.UUID(value)
    return True


def _is_uri(value):
    # an absolute URI: a scheme and, for http(s), a host ("/v2/x" and "" are not URIs)
    parts = urlsplit(value)
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*$", parts.scheme or ""):
        return False
    if parts.scheme in ("http", "https") and not parts.netloc:
        return False
    return not re.search(r"\s", value)


def _is_date_time(value):
    match = _DATE_TIME.match(value)
    return bool(match) and 1 <= int(match.group(1)) <= 12 and 1 <= int(match.group(2)) <= 31 \
        and int(match.group(3)) < 24 and int(match.group(4)) < 60 and int(match.group(5)) < 61


def _is_date(value):
    match = _DATE.match(value)
    return bool(match) and 1 <= int(match.group(1)) <= 12 and 1 <= int(match.group(2)) <= 31


def _is_byte(value):
    base64.b64decode(value, validate=True)
    return True


def _int_range(bits):
    def check(value):
        return isinstance(value, bool) or not isinstance(value, int) or -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
    return check


# format name -> check(value) for strings (or numbers for int32/int64); other formats are annotations
FORMATS = {
    "uuid": _is_uuid,
    "uri": _is_uri,
    "url": _is_uri,
    "date-time": _is_date_time,
    "date": _is_date,
    "email": lambda v: bool(_EMAIL.match(v)),
    "hostname": lambda v: bool(_HOSTNAME.match(v)),
    "ipv4": lambda v: bool(ipaddress.IPv4Address(v)),
    "ipv6": lambda v: bool(ipaddress.IPv6Address(v)),
    "byte": _is_byte,
}
NUMBER_FORMATS = {"int32": _int_range(32), "int64": _int_range(64)}


def format_checker():
    checker = jsonschema.FormatChecker(formats=())
    for name, check in FORMATS.items():
        checker.checks(name, raises=(ValueError, TypeError))(
            lambda value, _check=check: not isinstance(value, str) or _check(value))
    for name, check in NUMBER_FORMATS.items():
        checker.checks(name)(check)
    return checker


def _nullable(node):
    """Translate OpenAPI ``nullable: true`` into JSON-schema types, in place, everywhere."""
    if isinstance(node, dict):
        if node.get("nullable") is True:
            typ = node.get("type")
            if isinstance(typ, str):
                node["type"] = [typ, "null"]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = list(node["enum"]) + [None]
        for value in node.values():
            _nullable(value)
    elif isinstance(node, list):
        for value in node:
            _nullable(value)


class SpecViolation(Exception):
    """A request or response does not match the spec."""

    def __init__(self, where, errors):
        self.where = where
        self.errors = errors
        super().__init__("%s violates the DigitalOcean OpenAPI spec: %s" % (where, "; ".join(errors[:5])))


class Operation:
    def __init__(self, method, template, op, path_params):
        self.method = method
        self.template = template
        self.op = op
        self.operation_id = op.get("operationId")
        self.params = path_params + op.get("parameters", [])
        names = re.findall(r"{([^}]+)}", template)
        pattern = re.escape(template)
        for name in names:
            pattern = pattern.replace(re.escape("{%s}" % name), "(?P<%s>[^/]+)" % name)
        self.regex = re.compile("^%s$" % pattern)
        self.literal_len = len(re.sub(r"{[^}]+}", "", template))


class Spec:
    """The loaded spec with one validator per mode (request, response)."""

    def __init__(self, path=DEFAULT_SPEC):
        with open(path, encoding="utf-8") as handle:
            self.doc = json.load(handle)
        _nullable(self.doc)
        self.ops = []
        for template, item in self.doc["paths"].items():
            shared = item.get("parameters", [])
            for method in METHODS:
                if method in item:
                    self.ops.append(Operation(method.upper(), template, item[method], shared))
        # most specific template first (more literal characters win: /v2/projects/default over {id})
        self.ops.sort(key=lambda o: -o.literal_len)
        self._formats = format_checker()
        self._validators = {"request": self._make_validator("readOnly"), "response": self._make_validator("writeOnly")}

    # ---- refs ---------------------------------------------------------------------------------
    def deref(self, node, depth=0):
        """Follow a top-level $ref chain (not nested ones)."""
        while isinstance(node, dict) and "$ref" in node and depth < 50:
            ref = node["$ref"]
            if not ref.startswith("#/"):
                raise ValueError("external $ref %s" % ref)
            target = self.doc
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            depth += 1
        return node

    def _make_validator(self, skip_flag):
        spec = self

        def required(validator, req, instance, schema):
            if not validator.is_type(instance, "object"):
                return
            props = schema.get("properties", {})
            for name in req:
                prop = spec.deref(props.get(name, {}))
                if isinstance(prop, dict) and prop.get(skip_flag):
                    continue
                if name not in instance:
                    yield jsonschema.ValidationError("%r is a required property" % name)

        return validators.extend(jsonschema.Draft4Validator, {"required": required})

    def validate(self, schema, instance, mode):
        """List of error strings (empty when valid)."""
        root = {"components": self.doc["components"]}
        root.update(copy.copy(schema))
        cls = self._validators[mode]
        validator = cls(root, format_checker=self._formats)
        out = []
        for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))[:20]:
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            out.append("%s: %s" % (where, err.message[:300]))
        return out

    # ---- operations ---------------------------------------------------------------------------
    def find(self, method, path):
        """(Operation, path params) for a concrete request path, or (None, None)."""
        for op in self.ops:
            if op.method != method:
                continue
            match = op.regex.match(path)
            if match:
                return op, match.groupdict()
        return None, None

    def request_schema(self, op):
        body = self.deref(op.op.get("requestBody"))
        if not body:
            return None, False
        content = body.get("content", {}).get("application/json")
        if not content:
            return None, body.get("required", False)
        return content.get("schema"), body.get("required", False)

    def response_for(self, op, status):
        """The response object that applies to ``status`` (exact, NXX, then default), or None."""
        responses = op.op.get("responses", {})
        resp = responses.get(str(status))
        if resp is None:
            resp = responses.get("%dXX" % (status // 100))
        if resp is None:
            resp = responses.get("default")
        return None if resp is None else self.deref(resp)

    def response_schema(self, op, status):
        """(JSON schema or None, declared): declared is False when no response applies to the status."""
        resp = self.response_for(op, status)
        if resp is None:
            return None, False
        media = (resp.get("content") or {}).get("application/json")
        return (media or {}).get("schema"), True

    def _check_param(self, param, raw):
        schema = self.deref(param.get("schema", {}))
        typ = schema.get("type")
        value = raw
        try:
            if typ == "integer":
                value = int(raw)
            elif typ == "number":
                value = float(raw)
            elif typ == "boolean":
                if raw not in ("true", "false"):
                    return ["parameter %s: %r is not a boolean" % (param["name"], raw)]
                value = raw == "true"
        except ValueError:
            return ["parameter %s: %r is not of type %s" % (param["name"], raw, typ)]
        return ["parameter %s: %s" % (param["name"], e) for e in self.validate(param.get("schema", {}), value, "request")]

    def validate_request(self, method, path, query, body, has_body):
        """Raise SpecViolation for an unknown operation or a request that breaks the spec."""
        op, path_params = self.find(method, path)
        if op is None:
            raise SpecViolation("%s %s" % (method, path), ["no such operation in the spec"])
        errors = []
        for param in op.params:
            param = self.deref(param)
            where, name = param.get("in"), param.get("name")
            if where == "path":
                errors += self._check_param(param, path_params.get(name, ""))
            elif where == "query":
                if name in query:
                    errors += self._check_param(param, query[name])
                elif param.get("required"):
                    errors.append("query parameter %s is required" % name)
        known = set(self.deref(p).get("name") for p in op.params if self.deref(p).get("in") == "query")
        for name in query:
            if name not in known:
                errors.append("unknown query parameter %s" % name)
        schema, required = self.request_schema(op)
        if schema is None and has_body and body not in (None, {}, ""):
            errors.append("this operation takes no JSON body")
        elif schema is not None:
            if not has_body:
                if required:
                    errors.append("a JSON body is required")
            else:
                errors += ["body " + e for e in self.validate(schema, body, "request")]
        if errors:
            raise SpecViolation("request %s %s (%s)" % (method, path, op.operation_id), errors)
        return op, path_params

    def validate_response(self, op, status, body, content_type="application/json"):
        """Raise SpecViolation unless status, media type and body match the operation's response.

        ``body`` is the decoded JSON for application/json, else the raw text (or None for no body).
        """
        where = "response %d of %s" % (status, op.operation_id)
        resp = self.response_for(op, status)
        if resp is None:
            raise SpecViolation(where, ["status %d is not declared and the operation has no default response" % status])
        content = resp.get("content") or {}
        media_type = (content_type or "").split(";")[0].strip().lower()
        if body is None or body == "":
            if content and str(status) != "204":
                raise SpecViolation(where, ["empty body, the spec declares %s" % ", ".join(sorted(content))])
            return
        if not content:
            raise SpecViolation(where, ["a %s body where the spec declares none" % (media_type or "typeless")])
        if media_type not in content:
            raise SpecViolation(where, ["media type %s is not declared (the spec has %s)" % (media_type, ", ".join(sorted(content)))])
        schema = content[media_type].get("schema")
        if media_type != "application/json" or schema is None:
            return
        errors = self.validate(schema, body, "response")
        if errors:
            raise SpecViolation(where, errors)

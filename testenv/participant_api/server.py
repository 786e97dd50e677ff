#!/usr/bin/env python3
"""Stand-in for ECHO's anonymous participant API, for load-test rehearsals.

It speaks the three calls a participant's recorder makes:

  POST /api/participant/projects/{project}/conversations/initiate   JSON body
  POST /api/participant/conversations/{id}/upload-chunk             multipart/form-data
  POST /api/participant/conversations/{id}/finish                   no body

validates them the way the load test is expected to send them, and records every call (valid or
not) so tests can assert on what arrived. Control endpoints (never part of the real API):

  GET  /_health                 liveness
  GET  /_calls[?kind=K]         recorded calls (kind: initiate | upload_chunk | finish | unknown)
  GET  /_conversations          per-conversation view (chunks, finish-hook flags, finished)
  GET  /_config                 current faults and id shape
  POST /_reset                  forget calls, conversations and faults (optional JSON {"id_shape"})
  POST /_faults                 {"error_rate": 0..1, "status": 503, "latency_ms": 0,
                                 "kinds": ["upload_chunk", ...]}   (omitted keys reset to defaults)
  POST /_config                 {"id_shape": "conversation_id" | "conversation.id" | "id" | "none"}

Error injection is deterministic: with error_rate r, the n-th eligible call fails exactly when
floor(n*r) > floor((n-1)*r), so a run of N calls sees round-down(N*r) failures.

Only the standard library is used. The logic (ParticipantApi.handle) is free of sockets so unit
tests can drive it directly; the HTTP layer below it is thin.
"""

import argparse
import datetime
import hashlib
import json
import math
import os
import re
import sys
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import standin_http  # noqa: E402  pylint: disable=wrong-import-position,import-error

SOURCE = "PORTAL_AUDIO"
# "none" answers without any id, to prove the load test notices a changed response shape
ID_SHAPES = ("conversation_id", "conversation.id", "id", "none")
KINDS = ("initiate", "upload_chunk", "finish")
EBML_MAGIC = b"\x1a\x45\xdf\xa3"
MAX_BODY = 32 * 1024 * 1024

_INITIATE = re.compile(r"^/api/participant/projects/(?P<project>[^/]+)/conversations/initiate/?$")
_UPLOAD = re.compile(r"^/api/participant/conversations/(?P<conversation_id>[^/]+)/upload-chunk/?$")
_FINISH = re.compile(r"^/api/participant/conversations/(?P<conversation_id>[^/]+)/finish/?$")


class MultipartError(ValueError):
    """The body is not a well-formed multipart/form-data document."""


def parse_content_type(value):
    """Split a Content-Type header into (lower-cased media type, {param: value})."""
    parts = (value or "").split(";")
    media = parts[0].strip().lower()
    params = {}
    for item in parts[1:]:
        if "=" not in item:
            continue
        key, _, val = item.partition("=")
        val = val.strip()
        if len(val) >= 2 and val[0] == val[-1] == '"':
            val = val[1:-1]
        params[key.strip().lower()] = val
    return media, params


def _parse_part_headers(raw):
    headers = {}
    for line in raw.split(b"\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise MultipartError("malformed part header line %r" % line[:80])
        headers[name.decode("latin-1").strip().lower()] = value.decode("utf-8", "replace").strip()
    return headers


def parse_multipart(body, content_type):
    """Parse a multipart/form-data body into a list of part dicts.

    Each part: {"name", "filename" (or None), "content_type" (or None), "data" (bytes)}.
    """
    media, params = parse_content_type(content_type)
    if media != "multipart/form-data":
        raise MultipartError("content type is %r, expected multipart/form-data" % (media or "missing"))
    boundary = params.get("boundary")
    if not boundary:
        raise MultipartError("multipart content type has no boundary")
    delim = b"--" + boundary.encode("latin-1")
    if not body.startswith(delim):
        # a preamble is allowed before the first delimiter line
        idx = body.find(b"\r\n" + delim)
        if idx < 0:
            raise MultipartError("boundary not found in body")
        body = body[idx + 2:]
    parts = []
    pos = len(delim)
    while True:
        if body[pos:pos + 2] == b"--":
            return parts
        if body[pos:pos + 2] != b"\r\n":
            raise MultipartError("malformed delimiter line")
        pos += 2
        end = body.find(b"\r\n" + delim, pos)
        if end < 0:
            raise MultipartError("missing closing boundary")
        chunk = body[pos:end]
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise MultipartError("part without header/body separator")
        headers = _parse_part_headers(head)
        disp, dparams = parse_content_type(headers.get("content-disposition", ""))
        if disp != "form-data" or "name" not in dparams:
            raise MultipartError("part without form-data content disposition and name")
        ctype = headers.get("content-type")
        parts.append({
            "name": dparams["name"],
            "filename": dparams.get("filename"),
            "content_type": parse_content_type(ctype)[0] if ctype else None,
            "data": data,
        })
        pos = end + 2 + len(delim)


def parse_iso_timestamp(value):
    """Return an aware datetime for an ISO 8601 timestamp with a zone, or raise ValueError."""
    text = value.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
        raise ValueError("not an ISO 8601 date-time: %r" % value[:60])
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = datetime.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("timestamp has no time zone: %r" % value[:60])
    return parsed


def validate_initiate(payload):
    """Return a list of problems with an initiate JSON payload (empty when valid)."""
    if not isinstance(payload, dict):
        return ["body must be a JSON object"]
    errors = []
    for key, kind in (("name", str), ("pin", str), ("user_agent", str), ("tag_id_list", list)):
        if key not in payload:
            errors.append("missing field %s" % key)
        elif not isinstance(payload[key], kind):
            errors.append("field %s must be a %s" % (key, "list" if kind is list else "string"))
    if payload.get("source") != SOURCE:
        errors.append("field source must be %s" % SOURCE)
    return errors


def validate_chunk_fields(parts):
    """Check upload-chunk multipart parts; return (fields summary dict, list of problems)."""
    errors = []
    by_name = {}
    for part in parts:
        if part["name"] in by_name:
            errors.append("field %s sent more than once" % part["name"])
        by_name[part["name"]] = part
    fields = {"field_names": sorted(by_name)}
    chunk = by_name.get("chunk")
    if chunk is None:
        errors.append("missing file field chunk")
    else:
        data = chunk["data"]
        fields.update({
            "chunk_filename": chunk["filename"],
            "chunk_content_type": chunk["content_type"],
            "chunk_size": len(data),
            "chunk_sha256": hashlib.sha256(data).hexdigest(),
            "chunk_is_webm": data[:4] == EBML_MAGIC,
        })
        if not chunk["filename"]:
            errors.append("field chunk must be a file (filename missing)")
        if chunk["content_type"] != "audio/webm":
            errors.append("field chunk content type is %r, expected audio/webm" % chunk["content_type"])
        if not data:
            errors.append("field chunk is empty")
        elif data[:4] != EBML_MAGIC:
            errors.append("field chunk is not a WebM/EBML document")
    text = {}
    for name in ("timestamp", "source", "run_finish_hook"):
        part = by_name.get(name)
        if part is None:
            errors.append("missing field %s" % name)
            continue
        if part["filename"] is not None:
            errors.append("field %s must be a plain form field, not a file" % name)
        text[name] = part["data"].decode("utf-8", "replace")
    if "timestamp" in text:
        fields["timestamp"] = text["timestamp"]
        try:
            parse_iso_timestamp(text["timestamp"])
        except ValueError as exc:
            errors.append("field timestamp: %s" % exc)
    if "source" in text:
        fields["source"] = text["source"]
        if text["source"] != SOURCE:
            errors.append("field source is %r, expected %s" % (text["source"], SOURCE))
    if "run_finish_hook" in text:
        fields["run_finish_hook_raw"] = text["run_finish_hook"]
        flag = text["run_finish_hook"].strip().lower()
        if flag not in ("true", "false"):
            errors.append("field run_finish_hook must be true or false")
        fields["run_finish_hook"] = flag == "true"
    return fields, errors


def should_fail(n, rate):
    """Deterministic injection: does the n-th (1-based) eligible call fail at this rate?"""
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    return math.floor(n * rate + 1e-9) > math.floor((n - 1) * rate + 1e-9)


def conversation_response(cid, shape):
    if shape == "conversation.id":
        return {"conversation": {"id": cid}}
    if shape == "id":
        return {"id": cid}
    if shape == "none":
        return {"status": "created"}
    return {"conversation_id": cid}


def _default_faults():
    return {"error_rate": 0.0, "status": 503, "latency_ms": 0, "kinds": list(KINDS)}


class ParticipantApi:
    """State and request handling, independent of the socket layer."""

    def __init__(self, log_path=None, clock=time.time, sleep=time.sleep, new_id=None):
        self._lock = threading.Lock()
        self._log_path = log_path
        self._clock = clock
        self._sleep = sleep
        self._new_id = new_id or (lambda: str(uuid.uuid4()))
        self.reset()

    # -- state ---------------------------------------------------------------------------------
    def reset(self, id_shape="conversation_id"):
        with self._lock:
            self.calls = []
            self.conversations = {}
            self.faults = _default_faults()
            self.id_shape = id_shape
            self._eligible = 0
        if self._log_path:
            with open(self._log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"event": "reset", "time": self._clock()}) + "\n")

    def _record(self, call):
        with self._lock:
            call["seq"] = len(self.calls) + 1
            self.calls.append(call)
        if self._log_path:
            with open(self._log_path, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(call, sort_keys=True) + "\n")

    def _injected(self, kind):
        """Return (status or None, latency seconds) for this call, per the fault settings."""
        with self._lock:
            faults = dict(self.faults)
            if kind not in faults["kinds"]:
                return None, 0.0
            self._eligible += 1
            n = self._eligible
        status = faults["status"] if should_fail(n, faults["error_rate"]) else None
        return status, faults["latency_ms"] / 1000.0

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, method, target, headers, body):
        """Handle one request. headers: dict with lower-case keys. Returns (status, dict)."""
        split = urlsplit(target)
        path = split.path
        query = parse_qs(split.query)
        if path.startswith("/_"):
            return self._control(method, path, query, body)
        for pattern, kind, func in (
            (_INITIATE, "initiate", self._initiate),
            (_UPLOAD, "upload_chunk", self._upload_chunk),
            (_FINISH, "finish", self._finish),
        ):
            match = pattern.match(path)
            if not match:
                continue
            call = {"kind": kind, "method": method, "path": path, "time": self._clock(),
                    "content_type": headers.get("content-type"), "body_size": len(body),
                    "user_agent": headers.get("user-agent")}
            call.update(match.groupdict())
            if method != "POST":
                call.update(status=405, errors=["method %s not allowed" % method])
                self._record(call)
                return 405, {"detail": "Method Not Allowed"}
            injected, latency = self._injected(kind)
            if latency:
                self._sleep(latency)
            status, response = func(call, headers, body, injected)
            call["status"] = status
            call["injected"] = injected is not None
            self._record(call)
            return status, response
        self._record({"kind": "unknown", "method": method, "path": path, "time": self._clock(),
                      "status": 404})
        return 404, {"detail": "Not Found"}

    def _initiate(self, call, headers, body, injected):
        try:
            payload = json.loads(body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            payload = None
            errors = ["body is not JSON"]
        else:
            errors = validate_initiate(payload)
        media = parse_content_type(headers.get("content-type", ""))[0]
        if media != "application/json":
            errors.append("content type is %r, expected application/json" % (media or "missing"))
        call["errors"] = errors
        call["json"] = payload if isinstance(payload, dict) else None
        if injected:
            return injected, {"detail": "injected failure"}
        if errors:
            return 422, {"detail": errors}
        cid = self._new_id()
        with self._lock:
            self.conversations[cid] = {"id": cid, "project": call["project"], "chunks": [],
                                       "finished": False, "finish_calls": 0}
            shape = self.id_shape
        call["conversation_id"] = cid
        return 200, conversation_response(cid, shape)

    def _upload_chunk(self, call, headers, body, injected):
        cid = call["conversation_id"]
        try:
            parts = parse_multipart(body, headers.get("content-type", ""))
        except MultipartError as exc:
            fields, errors = {}, ["multipart: %s" % exc]
        else:
            fields, errors = validate_chunk_fields(parts)
        call.update(fields)
        with self._lock:
            conv = self.conversations.get(cid)
        if conv is None:
            errors.append("unknown conversation %s" % cid)
        elif conv["finished"]:
            errors.append("conversation %s is already finished" % cid)
        call["errors"] = errors
        if injected:
            return injected, {"detail": "injected failure"}
        if conv is None:
            return 404, {"detail": "conversation not found"}
        if errors:
            return 422 if not conv["finished"] else 409, {"detail": errors}
        chunk_id = self._new_id()
        with self._lock:
            conv["chunks"].append({"chunk_id": chunk_id, "run_finish_hook": fields["run_finish_hook"],
                                   "size": fields["chunk_size"], "filename": fields["chunk_filename"],
                                   "timestamp": fields["timestamp"]})
        call["chunk_id"] = chunk_id
        return 200, {"chunk_id": chunk_id, "conversation_id": cid}

    def _finish(self, call, headers, body, injected):
        cid = call["conversation_id"]
        with self._lock:
            conv = self.conversations.get(cid)
        call["errors"] = [] if conv else ["unknown conversation %s" % cid]
        if injected:
            return injected, {"detail": "injected failure"}
        if conv is None:
            return 404, {"detail": "conversation not found"}
        with self._lock:
            conv["finished"] = True
            conv["finish_calls"] += 1
        return 200, {"conversation_id": cid, "status": "finished"}

    # -- control -------------------------------------------------------------------------------
    def conversation_view(self):
        with self._lock:
            out = []
            for conv in self.conversations.values():
                hooks = [c["run_finish_hook"] for c in conv["chunks"]]
                out.append({
                    "id": conv["id"], "project": conv["project"], "chunks": len(hooks),
                    "finish_hooks": hooks, "finished": conv["finished"],
                    "finish_calls": conv["finish_calls"],
                    # the recorder sets the hook on the last chunk only
                    "finish_hook_ok": bool(hooks) and hooks[-1] and not any(hooks[:-1]),
                })
            return out

    def _control(self, method, path, query, body):
        try:
            payload = json.loads(body.decode("utf-8") or "{}") if body else {}
        except (UnicodeDecodeError, ValueError):
            return 400, {"detail": "control body must be JSON"}
        if not isinstance(payload, dict):
            return 400, {"detail": "control body must be a JSON object"}
        if path == "/_health" and method == "GET":
            return 200, {"status": "ok"}
        if path == "/_calls" and method == "GET":
            kinds = query.get("kind")
            with self._lock:
                calls = [c for c in self.calls if not kinds or c["kind"] in kinds]
            return 200, {"calls": calls, "count": len(calls)}
        if path == "/_conversations" and method == "GET":
            view = self.conversation_view()
            return 200, {"conversations": view, "count": len(view)}
        if path == "/_reset" and method == "POST":
            shape = payload.get("id_shape", "conversation_id")
            if shape not in ID_SHAPES:
                return 400, {"detail": "id_shape must be one of %s" % ", ".join(ID_SHAPES)}
            self.reset(shape)
            return 200, self._config()
        if path == "/_faults" and method == "POST":
            faults, error = _parse_faults(payload)
            if error:
                return 400, {"detail": error}
            with self._lock:
                self.faults = faults
                self._eligible = 0
            return 200, self._config()
        if path == "/_config" and method == "GET":
            return 200, self._config()
        if path == "/_config" and method == "POST":
            shape = payload.get("id_shape", self.id_shape)
            if shape not in ID_SHAPES:
                return 400, {"detail": "id_shape must be one of %s" % ", ".join(ID_SHAPES)}
            with self._lock:
                self.id_shape = shape
            return 200, self._config()
        return 404, {"detail": "unknown control endpoint %s %s" % (method, path)}

    def _config(self):
        with self._lock:
            return {"faults": dict(self.faults), "id_shape": self.id_shape}


def _parse_faults(payload):
    faults = _default_faults()
    unknown = set(payload) - set(faults)
    if unknown:
        return None, "unknown fault keys: %s" % ", ".join(sorted(unknown))
    rate = payload.get("error_rate", 0.0)
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate <= 1:
        return None, "error_rate must be a number between 0 and 1"
    status = payload.get("status", 503)
    if not isinstance(status, int) or isinstance(status, bool) or not 400 <= status <= 599:
        return None, "status must be an HTTP error status (400-599)"
    latency = payload.get("latency_ms", 0)
    if not isinstance(latency, (int, float)) or isinstance(latency, bool) or not 0 <= latency <= 60000:
        return None, "latency_ms must be between 0 and 60000"
    kinds = payload.get("kinds", list(KINDS))
    if not isinstance(kinds, list) or not kinds or any(k not in KINDS for k in kinds):
        return None, "kinds must be a non-empty list of %s" % ", ".join(KINDS)
    faults.update(error_rate=float(rate), status=status, latency_ms=latency, kinds=kinds)
    return faults, None


def make_handler(api):
    class Handler(standin_http.Handler):
        server_version = "echo-participant-standin/1"
        methods = ("GET", "POST", "PUT", "DELETE")

        def dispatch(self):
            length = self.headers.get("Content-Length")
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._send(411, {"detail": "chunked bodies are not supported; send Content-Length"})
                return
            try:
                size = int(length or 0)
            except ValueError:
                self._send(400, {"detail": "bad Content-Length"})
                return
            if size > MAX_BODY:
                self._send(413, {"detail": "body larger than %d bytes" % MAX_BODY})
                return
            body = self.rfile.read(size) if size else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, payload = api.handle(self.command, self.path, headers, body)
            self._send(status, payload)

        def _send(self, status, payload):
            self.write_json(status, payload)

    return Handler


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=28005)
    parser.add_argument("--log", help="append every recorded call to this JSON-lines file")
    args = parser.parse_args(argv)
    api = ParticipantApi(log_path=args.log)
    # one line per request on stderr: the load test's calls are part of what a rehearsal shows
    server = standin_http.Server((args.host, args.port), make_handler(api), verbose=True)
    sys.stderr.write("participant API stand-in listening on http://%s:%d\n" % (args.host, args.port))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

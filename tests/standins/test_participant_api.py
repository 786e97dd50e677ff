"""Unit tests for the participant API stand-in (testenv/participant_api/server.py).

The stand-in's logic is driven directly through ParticipantApi.handle: no sockets, no sleeping.
"""

import importlib.util
import json
import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "participant_api_standin", REPO_ROOT / "testenv" / "participant_api" / "server.py")
standin = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(standin)

WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 64
BOUNDARY = "----unit-test-boundary-7d1"
CT_MULTIPART = "multipart/form-data; boundary=%s" % BOUNDARY


def encode_multipart(fields, boundary=BOUNDARY):
    """fields: list of (name, value) or (name, (filename, content_type, bytes))."""
    out = []
    for name, value in fields:
        out.append(b"--" + boundary.encode())
        if isinstance(value, tuple):
            filename, ctype, data = value
            out.append(('Content-Disposition: form-data; name="%s"; filename="%s"' % (name, filename)).encode())
            out.append(("Content-Type: %s" % ctype).encode())
            out.append(b"")
            out.append(data)
        else:
            out.append(('Content-Disposition: form-data; name="%s"' % name).encode())
            out.append(b"")
            out.append(value.encode())
    out.append(b"--" + boundary.encode() + b"--")
    out.append(b"")
    return b"\r\n".join(out)


def chunk_fields(hook="false", **override):
    fields = {
        "chunk": ("chunk_000.webm", "audio/webm", WEBM),
        "timestamp": "2026-11-27T17:31:58.123Z",
        "source": "PORTAL_AUDIO",
        "run_finish_hook": hook,
    }
    fields.update(override)
    return [(k, v) for k, v in fields.items() if v is not None]


INITIATE_BODY = {"name": "k6 load test", "pin": "", "tag_id_list": [], "user_agent": "unit",
                 "source": "PORTAL_AUDIO"}


class Api:
    """Thin test driver around ParticipantApi with sequential ids and a recorded sleep."""

    def __init__(self):
        self.slept = []
        counter = iter(range(1, 10_000))
        self.api = standin.ParticipantApi(clock=lambda: 1000.0, sleep=self.slept.append,
                                          new_id=lambda: "id-%d" % next(counter))

    def post_json(self, path, payload):
        return self.api.handle("POST", path, {"content-type": "application/json"},
                               json.dumps(payload).encode())

    def initiate(self, project="p1", payload=None):
        return self.post_json("/api/participant/projects/%s/conversations/initiate" % project,
                              INITIATE_BODY if payload is None else payload)

    def upload(self, cid, fields, content_type=CT_MULTIPART):
        return self.api.handle("POST", "/api/participant/conversations/%s/upload-chunk" % cid,
                               {"content-type": content_type}, encode_multipart(fields))

    def finish(self, cid):
        return self.api.handle("POST", "/api/participant/conversations/%s/finish" % cid, {}, b"")

    def control(self, method, path, payload=None):
        body = json.dumps(payload).encode() if payload is not None else b""
        return self.api.handle(method, path, {}, body)


@pytest.fixture
def api():
    return Api()


# -- pure helpers --------------------------------------------------------------------------------

def test_parse_multipart_reads_files_and_fields():
    parts = standin.parse_multipart(encode_multipart(chunk_fields()), CT_MULTIPART)
    by_name = {p["name"]: p for p in parts}
    assert by_name["chunk"]["filename"] == "chunk_000.webm"
    assert by_name["chunk"]["content_type"] == "audio/webm"
    assert by_name["chunk"]["data"] == WEBM
    assert by_name["timestamp"]["filename"] is None
    assert by_name["source"]["data"] == b"PORTAL_AUDIO"


def test_parse_multipart_keeps_binary_data_with_crlf_inside():
    data = b"\x1a\x45\xdf\xa3\r\n--not-the-boundary\r\n\x00\xff"
    parts = standin.parse_multipart(encode_multipart([("chunk", ("a.webm", "audio/webm", data))]), CT_MULTIPART)
    assert parts[0]["data"] == data


def test_parse_multipart_skips_a_preamble():
    body = b"preamble text\r\n" + encode_multipart([("source", "PORTAL_AUDIO")])
    assert standin.parse_multipart(body, CT_MULTIPART)[0]["data"] == b"PORTAL_AUDIO"


@pytest.mark.parametrize("body,ctype,message", [
    (b"{}", "application/json", "expected multipart/form-data"),
    (b"x", "multipart/form-data", "no boundary"),
    (b"nothing here", CT_MULTIPART, "boundary not found"),
    (("--%s\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue" % BOUNDARY).encode(), CT_MULTIPART,
     "missing closing boundary"),
])
def test_parse_multipart_rejects_malformed_bodies(body, ctype, message):
    with pytest.raises(standin.MultipartError, match=message):
        standin.parse_multipart(body, ctype)


@pytest.mark.parametrize("value", ["2026-11-27T17:31:58.123Z", "2026-11-27T17:31:58+01:00", "2026-11-27T17:31:58.5z"])
def test_parse_iso_timestamp_accepts_zoned_times(value):
    assert standin.parse_iso_timestamp(value).tzinfo is not None


@pytest.mark.parametrize("value", ["2026-11-27T17:31:58", "yesterday", "1795800000", "2026-13-01T00:00:00Z"])
def test_parse_iso_timestamp_rejects_others(value):
    with pytest.raises(ValueError):
        standin.parse_iso_timestamp(value)


def test_validate_chunk_fields_accepts_the_recorder_shape():
    fields, errors = standin.validate_chunk_fields(
        standin.parse_multipart(encode_multipart(chunk_fields("true")), CT_MULTIPART))
    assert errors == []
    assert fields["run_finish_hook"] is True
    assert fields["field_names"] == ["chunk", "run_finish_hook", "source", "timestamp"]
    assert fields["chunk_is_webm"] and fields["chunk_size"] == len(WEBM)


@pytest.mark.parametrize("override,message", [
    ({"chunk": None}, "missing file field chunk"),
    ({"chunk": ("a.webm", "application/octet-stream", WEBM)}, "expected audio/webm"),
    ({"chunk": ("a.webm", "audio/webm", b"RIFF....WAVE")}, "not a WebM"),
    ({"chunk": ("a.webm", "audio/webm", b"")}, "chunk is empty"),
    ({"chunk": "not a file"}, "must be a file"),
    ({"timestamp": "now"}, "field timestamp"),
    ({"timestamp": None}, "missing field timestamp"),
    ({"source": "PORTAL_TEXT"}, "expected PORTAL_AUDIO"),
    ({"run_finish_hook": "maybe"}, "true or false"),
    ({"run_finish_hook": None}, "missing field run_finish_hook"),
])
def test_validate_chunk_fields_names_each_problem(override, message):
    _, errors = standin.validate_chunk_fields(
        standin.parse_multipart(encode_multipart(chunk_fields(**override)), CT_MULTIPART))
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize("payload,message", [
    ([], "JSON object"),
    ({**INITIATE_BODY, "source": "PORTAL_TEXT"}, "source must be PORTAL_AUDIO"),
    ({k: v for k, v in INITIATE_BODY.items() if k != "pin"}, "missing field pin"),
    ({**INITIATE_BODY, "tag_id_list": "a,b"}, "tag_id_list must be a list"),
])
def test_validate_initiate(payload, message):
    assert any(message in e for e in standin.validate_initiate(payload))
    assert standin.validate_initiate(INITIATE_BODY) == []


@pytest.mark.parametrize("rate,calls,expected", [(0, 50, 0), (1, 7, 7), (0.5, 10, 5), (0.3, 100, 30), (0.01, 99, 0),
                                                 (0.25, 8, 2)])
def test_should_fail_is_exact_and_deterministic(rate, calls, expected):
    assert sum(standin.should_fail(n, rate) for n in range(1, calls + 1)) == expected


@pytest.mark.parametrize("shape,body", [
    ("conversation_id", {"conversation_id": "c1"}),
    ("conversation.id", {"conversation": {"id": "c1"}}),
    ("id", {"id": "c1"}),
    ("none", {"status": "created"}),
])
def test_conversation_response_shapes(shape, body):
    assert standin.conversation_response("c1", shape) == body


# -- request handling ----------------------------------------------------------------------------

def test_full_conversation_is_recorded(api):
    status, body = api.initiate()
    assert (status, body) == (200, {"conversation_id": "id-1"})
    assert api.upload("id-1", chunk_fields("false"))[0] == 200
    assert api.upload("id-1", chunk_fields("true"))[0] == 200
    assert api.finish("id-1") == (200, {"conversation_id": "id-1", "status": "finished"})

    _, calls = api.control("GET", "/_calls")
    assert [c["kind"] for c in calls["calls"]] == ["initiate", "upload_chunk", "upload_chunk", "finish"]
    assert all(c["status"] == 200 and c["errors"] == [] for c in calls["calls"])
    assert calls["calls"][0]["project"] == "p1"
    assert calls["calls"][2]["run_finish_hook"] is True
    _, uploads = api.control("GET", "/_calls?kind=upload_chunk")
    assert uploads["count"] == 2
    _, view = api.control("GET", "/_conversations")
    assert view["conversations"] == [{"id": "id-1", "project": "p1", "chunks": 2, "finish_hooks": [False, True],
                                      "finished": True, "finish_calls": 1, "finish_hook_ok": True}]


def test_finish_hook_on_an_early_chunk_is_flagged(api):
    api.initiate()
    api.upload("id-1", chunk_fields("true"))
    api.upload("id-1", chunk_fields("true"))
    _, view = api.control("GET", "/_conversations")
    assert view["conversations"][0]["finish_hook_ok"] is False


@pytest.mark.parametrize("shape,expected", [("conversation.id", {"conversation": {"id": "id-1"}}),
                                            ("id", {"id": "id-1"})])
def test_reset_selects_the_id_shape(api, shape, expected):
    assert api.control("POST", "/_reset", {"id_shape": shape})[0] == 200
    assert api.initiate() == (200, expected)


def test_config_changes_the_id_shape_and_rejects_unknown_ones(api):
    assert api.control("POST", "/_config", {"id_shape": "id"})[1]["id_shape"] == "id"
    assert api.control("POST", "/_config", {"id_shape": "uuid"})[0] == 400
    assert api.control("POST", "/_reset", {"id_shape": "uuid"})[0] == 400


def test_invalid_initiate_is_recorded_and_refused(api):
    status, body = api.initiate(payload={**INITIATE_BODY, "source": "WEB"})
    assert status == 422 and "field source must be PORTAL_AUDIO" in body["detail"]
    status, _ = api.api.handle("POST", "/api/participant/projects/p1/conversations/initiate",
                               {"content-type": "text/plain"}, b"not json")
    assert status == 422
    _, calls = api.control("GET", "/_calls")
    assert [c["status"] for c in calls["calls"]] == [422, 422]
    assert "body is not JSON" in calls["calls"][1]["errors"]


def test_upload_problems(api):
    assert api.upload("nope", chunk_fields())[0] == 404
    api.initiate()
    status, body = api.upload("id-1", chunk_fields(source="OTHER"))
    assert status == 422 and any("PORTAL_AUDIO" in d for d in body["detail"])
    assert api.upload("id-1", chunk_fields(), content_type="application/json")[0] == 422
    api.finish("id-1")
    assert api.upload("id-1", chunk_fields())[0] == 409
    assert api.finish("nope")[0] == 404


def test_unknown_paths_and_methods(api):
    assert api.api.handle("POST", "/api/participant/elsewhere", {}, b"")[0] == 404
    assert api.api.handle("GET", "/api/participant/conversations/x/finish", {}, b"")[0] == 405
    _, calls = api.control("GET", "/_calls")
    assert [c["kind"] for c in calls["calls"]] == ["unknown", "finish"]
    assert api.control("GET", "/_nothing")[0] == 404
    assert api.control("GET", "/_health") == (200, {"status": "ok"})


def test_faults_inject_status_and_latency_on_selected_kinds(api):
    status, config = api.control("POST", "/_faults", {"error_rate": 0.5, "status": 500, "latency_ms": 250,
                                                      "kinds": ["upload_chunk"]})
    assert status == 200 and config["faults"]["error_rate"] == 0.5
    assert api.initiate()[0] == 200          # initiate is not selected: no fault, no delay
    assert api.slept == []
    statuses = [api.upload("id-1", chunk_fields())[0] for _ in range(4)]
    assert statuses == [200, 500, 200, 500]
    assert api.slept == [0.25] * 4
    _, calls = api.control("GET", "/_calls?kind=upload_chunk")
    assert [c["injected"] for c in calls["calls"]] == [False, True, False, True]
    _, view = api.control("GET", "/_conversations")
    assert view["conversations"][0]["chunks"] == 2   # injected failures store nothing


def test_reset_clears_calls_conversations_and_faults(api):
    api.control("POST", "/_faults", {"error_rate": 1})
    api.initiate()
    api.control("POST", "/_reset")
    assert api.control("GET", "/_calls")[1]["count"] == 0
    assert api.control("GET", "/_conversations")[1]["count"] == 0
    assert api.control("GET", "/_config")[1]["faults"]["error_rate"] == 0
    assert api.initiate()[0] == 200


@pytest.mark.parametrize("payload,message", [
    ({"error_rate": 2}, "error_rate"),
    ({"error_rate": True}, "error_rate"),
    ({"status": 200}, "status"),
    ({"latency_ms": -1}, "latency_ms"),
    ({"kinds": ["upload"]}, "kinds"),
    ({"kinds": []}, "kinds"),
    ({"errors": 0.1}, "unknown fault keys"),
])
def test_faults_are_validated(api, payload, message):
    status, body = api.control("POST", "/_faults", payload)
    assert status == 400 and message in body["detail"]


def test_control_body_must_be_a_json_object(api):
    assert api.api.handle("POST", "/_faults", {}, b"nope")[0] == 400
    assert api.control("POST", "/_faults", [1])[0] == 400


def test_calls_are_appended_to_the_json_log(tmp_path):
    log = tmp_path / "calls.jsonl"
    api = standin.ParticipantApi(log_path=str(log), new_id=lambda: "c1")
    api.handle("POST", "/api/participant/projects/p/conversations/initiate", {"content-type": "application/json"},
               json.dumps(INITIATE_BODY).encode())
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0]["event"] == "reset"
    assert lines[1]["kind"] == "initiate" and lines[1]["conversation_id"] == "c1"

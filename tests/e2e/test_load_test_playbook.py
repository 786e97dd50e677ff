"""playbooks/load_test.yml end to end: k6 against the participant API stand-in.

Needs the rehearsal environment's participant-api component (`testenv/bin/testenv up`, or just
`testenv/bin/testenv up participant-api`). Each test resets the stand-in, runs the playbook with
short settings and asserts on the calls the stand-in recorded, on the k6 summary and on k6's HTML
report (opened in headless Chromium, tests/_browser.py).
"""

import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import urllib.request

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "tests"))
import _browser  # noqa: E402
STATE = pathlib.Path(os.environ.get("ECHO_TESTENV_STATE", REPO_ROOT / ".testenv"))
ENV_FILE = STATE / "env.d" / "participant-api.env"
PLAYBOOK_TIMEOUT = 300
UPLOAD_FIELDS = ["chunk", "run_finish_hook", "source", "timestamp"]
LOCAL_INVENTORY_URL = "http://127.0.0.1:28005"   # echo_participant_api_url in inventories/local


def _read_env(path):
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
    return values


@pytest.fixture(scope="module")
def standin_url():
    if not ENV_FILE.is_file():
        pytest.fail("participant API stand-in is not running (%s missing): run "
                    "'testenv/bin/testenv up' (or 'testenv/bin/testenv up participant-api') first" % ENV_FILE)
    url = _read_env(ENV_FILE)["ECHO_PARTICIPANT_API_URL"]
    try:
        with urllib.request.urlopen(url + "/_health", timeout=5) as resp:
            assert resp.status == 200
    except OSError as exc:
        pytest.fail("participant API stand-in at %s does not answer (%s): run 'testenv/bin/testenv up participant-api'"
                    % (url, exc))
    return url


class StandIn:
    def __init__(self, url):
        self.url = url

    def _call(self, method, path, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def reset(self, id_shape="conversation_id"):
        return self._call("POST", "/_reset", {"id_shape": id_shape})

    def faults(self, **faults):
        return self._call("POST", "/_faults", faults)

    def calls(self, kind=None):
        return self._call("GET", "/_calls" + ("?kind=%s" % kind if kind else ""))["calls"]

    def conversations(self):
        return self._call("GET", "/_conversations")["conversations"]


@pytest.fixture
def api(standin_url):
    standin = StandIn(standin_url)
    standin.reset()
    yield standin
    standin.reset()


def run_playbook(api, tmp_path, *args, inventory="inventories/local"):
    cmd = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/load_test.yml", "-i", inventory,
           "-e", "load_test_output_dir=%s" % (tmp_path / "out"),
           "-e", "load_test_chunk_pause=0", *args]
    if inventory != "inventories/local" or api.url != LOCAL_INVENTORY_URL:
        # other inventories are aimed at the stand-in too; so is the local one when the stand-in runs on
        # another port (ECHO_PARTICIPANT_API_PORT). The default local run needs no override.
        cmd += ["-e", "echo_participant_api_url=%s" % api.url]
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT)
    proc.output = proc.stdout + proc.stderr
    return proc


def summaries(tmp_path):
    return sorted((tmp_path / "out").glob("participant-upload-*.json"))


def load_summary(tmp_path):
    files = summaries(tmp_path)
    assert len(files) == 1, files
    return json.loads(files[0].read_text())


def test_local_run_records_conversations_chunks_and_finish_calls(api, tmp_path):
    started = datetime.datetime.now(datetime.timezone.utc)
    proc = run_playbook(api, tmp_path, "-e", "load_test_conversations=3", "-e", "load_test_vus=2",
                        "-e", "load_test_chunks_min=2", "-e", "load_test_chunks_max=3", "-e", "load_test_random_seed=11")
    assert proc.returncode == 0, proc.output

    initiates = api.calls("initiate")
    assert len(initiates) == 3
    for call in initiates:
        assert call["status"] == 200 and call["errors"] == []
        assert call["project"] == "echo-load-test"
        assert call["json"]["source"] == "PORTAL_AUDIO" and call["json"]["tag_id_list"] == []

    conversations = api.conversations()
    assert len(conversations) == 3
    for conv in conversations:
        assert 2 <= conv["chunks"] <= 3, conv
        assert conv["finish_hook_ok"], conv            # run_finish_hook true on the last chunk only
        assert conv["finished"] and conv["finish_calls"] == 1

    uploads = api.calls("upload_chunk")
    assert len(uploads) == sum(c["chunks"] for c in conversations)
    ids = {c["id"] for c in conversations}
    for call in uploads:
        assert call["status"] == 200 and call["errors"] == [], call
        assert call["conversation_id"] in ids
        assert call["content_type"].startswith("multipart/form-data; boundary=")
        assert call["field_names"] == UPLOAD_FIELDS
        assert call["chunk_content_type"] == "audio/webm" and call["chunk_is_webm"]
        assert re.fullmatch(r"chunk_\d{3}\.webm", call["chunk_filename"])
        assert call["chunk_size"] > 10_000          # a real ~30 s Opus chunk, not a placeholder
        assert call["source"] == "PORTAL_AUDIO"
        assert call["run_finish_hook_raw"] in ("true", "false")
        sent = datetime.datetime.fromisoformat(call["timestamp"].replace("Z", "+00:00"))
        assert started - datetime.timedelta(seconds=5) <= sent <= datetime.datetime.now(datetime.timezone.utc)

    finishes = api.calls("finish")
    assert sorted(c["conversation_id"] for c in finishes) == sorted(ids)
    assert all(c["status"] == 200 for c in finishes)
    # finish comes after the conversation's last chunk
    last_upload = {}
    for call in uploads:
        last_upload[call["conversation_id"]] = call["seq"]
    assert all(c["seq"] > last_upload[c["conversation_id"]] for c in finishes)

    summary = load_summary(tmp_path)
    assert summary["conversations"] == {"requested": 3, "started": 3, "failed_to_start": 0, "finished": 3}
    assert summary["chunks"] == {"uploaded": len(uploads), "failed": 0}
    assert summary["http"]["requests"] == len(initiates) + len(uploads) + len(finishes)
    assert summary["http"]["failed_rate"] == 0
    assert summary["thresholds_ok"] is True
    assert {t["metric"] for t in summary["thresholds"]} == {"http_req_failed", "http_req_duration{name:upload_chunk}",
                                                          "initiate_without_id"}
    assert summary["target"]["base_url"] == api.url

    assert "conversations: 3/3 started, 3 finished" in proc.output
    assert "chunks: %d uploaded, 0 failed" % len(uploads) in proc.output
    assert "error rate 0.00%" in proc.output
    assert re.search(r"upload-chunk latency ms: p50 [\d.]+, p90 [\d.]+, p95 [\d.]+, max [\d.]+", proc.output)
    assert "k6 thresholds passed" in proc.output
    # no pauses: the run is over before k6's web dashboard has recorded enough for a report, and it says so
    assert "HTML report: none, the run" in proc.output and "too short for k6" in proc.output
    assert list((tmp_path / "out").glob("*.html")) == []


def test_html_report_is_saved_beside_the_summary_and_renders_its_charts(api, tmp_path):
    # pauses between chunks make the run last a few seconds: long enough for the dashboard's points
    proc = run_playbook(api, tmp_path, "-e", "load_test_conversations=2", "-e", "load_test_vus=1",
                        "-e", "load_test_chunks_min=3", "-e", "load_test_chunks_max=3", "-e", "load_test_chunk_pause=0.5")
    assert proc.returncode == 0, proc.output
    (summary,) = summaries(tmp_path)
    report = summary.with_suffix(".html")
    assert report.is_file(), proc.output
    assert "HTML report: %s" % report in proc.output
    assert len(api.calls("upload_chunk")) == 6

    # the report is one self-contained file: the charts are drawn from the data inside it, offline
    dom = _browser.dump_dom(report)
    assert dom.count("<canvas") >= 6, "no charts in the rendered report"
    assert "uplot" in dom                              # the dashboard's chart library drew them
    for metric in ("http_reqs", "http_req_duration", "http_req_failed", "chunks_uploaded", "conversations_started"):
        assert metric in dom, "metric %s is not in the rendered report" % metric
    png = _browser.screenshot(report, _browser.screenshot_dir() / "k6-html-report.png", height=1400)
    _browser.assert_rendered(png)


def test_html_report_can_be_turned_off(api, tmp_path):
    proc = run_playbook(api, tmp_path, "-e", "load_test_conversations=1", "-e", "load_test_chunks_min=2",
                        "-e", "load_test_chunks_max=2", "-e", "load_test_chunk_pause=0.5", "-e", "load_test_html_report=false")
    assert proc.returncode == 0, proc.output
    assert "HTML report: off (load_test_html_report)" in proc.output
    assert list((tmp_path / "out").glob("*.html")) == []


@pytest.mark.parametrize("shape", ["conversation.id", "id"])
def test_conversation_id_is_read_from_each_response_shape(api, tmp_path, shape):
    api.reset(id_shape=shape)
    proc = run_playbook(api, tmp_path, "-e", "load_test_conversations=1", "-e", "load_test_vus=1",
                        "-e", "load_test_chunks_min=2", "-e", "load_test_chunks_max=2")
    assert proc.returncode == 0, proc.output
    (conv,) = api.conversations()
    assert conv["chunks"] == 2 and conv["finish_hooks"] == [False, True] and conv["finished"]
    assert all(c["status"] == 200 for c in api.calls())


def test_initiate_answer_without_an_id_fails_the_run(api, tmp_path):
    api.reset(id_shape="none")       # 200 OK, but no conversation id in any known place
    proc = run_playbook(api, tmp_path, "-e", "load_test_conversations=2", "-e", "load_test_vus=1")
    assert proc.returncode != 0, proc.output
    assert "k6 thresholds failed: initiate_without_id rate==0" in proc.output
    assert len(api.calls("initiate")) == 2 and api.calls("upload_chunk") == []
    summary = load_summary(tmp_path)
    assert summary["conversations"]["failed_to_start"] == 2 and summary["http"]["failed_rate"] == 0


def test_injected_error_rate_fails_the_failed_request_threshold(api, tmp_path):
    api.faults(error_rate=0.5, status=503, kinds=["upload_chunk"])
    proc = run_playbook(api, tmp_path, "-e", "load_test_conversations=2", "-e", "load_test_vus=2",
                        "-e", "load_test_chunks_min=2", "-e", "load_test_chunks_max=2")
    assert proc.returncode != 0, proc.output
    assert "k6 thresholds failed: http_req_failed rate<0.01" in proc.output

    uploads = api.calls("upload_chunk")
    assert len(uploads) == 4
    injected = [c for c in uploads if c["injected"]]
    assert len(injected) == 2 and all(c["status"] == 503 for c in injected)

    summary = load_summary(tmp_path)          # saved even though the run failed
    assert summary["thresholds_ok"] is False
    assert summary["chunks"] == {"uploaded": 2, "failed": 2}
    assert summary["http"]["failed"] == 2
    failed = [t for t in summary["thresholds"] if not t["ok"]]
    assert [t["metric"] for t in failed] == ["http_req_failed"]


def test_error_rate_under_the_configured_threshold_passes(api, tmp_path):
    api.faults(error_rate=0.25, status=500, kinds=["upload_chunk"])
    proc = run_playbook(api, tmp_path, "-e", "load_test_conversations=2", "-e", "load_test_vus=1",
                        "-e", "load_test_chunks_min=2", "-e", "load_test_chunks_max=2",
                        "-e", "load_test_threshold_failed_rate=0.5")
    assert proc.returncode == 0, proc.output
    assert load_summary(tmp_path)["chunks"] == {"uploaded": 3, "failed": 1}


def test_injected_latency_fails_the_upload_p95_threshold(api, tmp_path):
    api.faults(latency_ms=300, kinds=["upload_chunk"])
    proc = run_playbook(api, tmp_path, "-e", "load_test_conversations=1", "-e", "load_test_vus=1",
                        "-e", "load_test_chunks_min=2", "-e", "load_test_chunks_max=2",
                        "-e", "load_test_threshold_upload_p95_ms=100")
    assert proc.returncode != 0, proc.output
    assert "k6 thresholds failed: http_req_duration{name:upload_chunk} p(95)<100" in proc.output
    summary = load_summary(tmp_path)
    assert summary["latency_ms"]["upload_chunk"]["p95"] >= 300
    assert summary["http"]["failed_rate"] == 0


def test_prod_inventory_is_refused_before_any_request(api, tmp_path):
    # aim prod at the stand-in: if the guard let anything through, the stand-in would see it
    proc = run_playbook(api, tmp_path, inventory="inventories/prod")
    assert proc.returncode != 0, proc.output
    assert "Refusing to load-test prod" in proc.output
    assert "-e load_test_allow_prod=true" in proc.output
    assert api.calls() == []
    assert not (tmp_path / "out").exists()


def test_prod_inventory_runs_with_the_explicit_flag(api, tmp_path):
    proc = run_playbook(api, tmp_path, "-e", "load_test_allow_prod=true",
                        "-e", "load_test_conversations=1", "-e", "load_test_chunks_min=1", "-e", "load_test_chunks_max=1",
                        inventory="inventories/prod")
    assert proc.returncode == 0, proc.output
    assert len(api.calls("initiate")) == 1 and len(api.calls("finish")) == 1
    assert summaries(tmp_path)[0].name.startswith("participant-upload-prod-")


@pytest.mark.parametrize("args,message", [
    (["-e", "load_test_chunks_min=3", "-e", "load_test_chunks_max=2"], "load_test_chunks_max at least load_test_chunks_min"),
    (["-e", "load_test_base_url=ftp://example.invalid"], "load_test_base_url must be the participant API"),
    (["-e", "load_test_threshold_failed_rate=5"], "load_test_threshold_failed_rate must be a fraction"),
    (["-e", "load_test_vus=many"], "load_test_vus"),
    # the role's own guard, for callers that use the role without the playbook's first task
    (["-e", "load_test_environment=prod"], "allow it for this run only with -e load_test_allow_prod=true"),
])
def test_bad_input_fails_before_any_request(api, tmp_path, args, message):
    proc = run_playbook(api, tmp_path, *args)
    assert proc.returncode != 0, proc.output
    assert message in proc.output
    assert api.calls() == []


def test_check_mode_sends_nothing(api, tmp_path):
    proc = run_playbook(api, tmp_path, "--check")
    assert proc.returncode == 0, proc.output
    assert api.calls() == []
    assert not (tmp_path / "out").exists()

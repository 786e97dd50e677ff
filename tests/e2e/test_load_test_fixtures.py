"""scripts/make_audio_fixtures: synthesised WebM/Opus chunks like the browser recorder's.

Needs the Debian packages espeak-ng and ffmpeg (scripts/apt-packages.txt); no running services.
"""

import hashlib
import json
import pathlib
import shutil
import subprocess

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "make_audio_fixtures"

pytestmark = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("ffmpeg") and shutil.which("ffprobe")),
    reason="espeak-ng/ffmpeg missing: run make setup (scripts/apt-packages.txt)")


def make(*args):
    proc = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120)
    return proc


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "format=format_name,duration:stream=codec_name,sample_rate,channels",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_chunks_are_30_second_webm_opus_48k(tmp_path):
    proc = make("--out", str(tmp_path), "--count", "2")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["generated"] == 2 and result["cached"] == 0
    files = [pathlib.Path(f) for f in result["files"]]
    assert [f.name for f in files] == ["chunk_000.webm", "chunk_001.webm"]
    assert all(f.parent == tmp_path / "v1-30s-2ch-32k" for f in files)
    for f in files:
        assert f.read_bytes()[:4] == b"\x1a\x45\xdf\xa3"          # a self-contained EBML/WebM document
        info = probe(f)
        assert "webm" in info["format"]["format_name"]
        assert abs(float(info["format"]["duration"]) - 30) < 0.5
        (stream,) = info["streams"]
        assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) == ("opus", "48000", 2)
        assert 50_000 < f.stat().st_size < 400_000
    assert sha(files[0]) != sha(files[1])                          # different speech per chunk


def test_second_run_reuses_the_cache_and_output_is_reproducible(tmp_path):
    first = json.loads(make("--out", str(tmp_path / "a"), "--count", "1", "--seconds", "5").stdout)
    again = json.loads(make("--out", str(tmp_path / "a"), "--count", "1", "--seconds", "5").stdout)
    other = json.loads(make("--out", str(tmp_path / "b"), "--count", "1", "--seconds", "5").stdout)
    assert (first["generated"], again["generated"], again["cached"]) == (1, 0, 1)
    assert sha(pathlib.Path(first["files"][0])) == sha(pathlib.Path(other["files"][0]))


def test_mono_and_bitrate_options(tmp_path):
    result = json.loads(make("--out", str(tmp_path), "--count", "1", "--seconds", "3",
                             "--channels", "1", "--bitrate", "16k").stdout)
    (stream,) = probe(result["files"][0])["streams"]
    assert stream["channels"] == 1 and result["dir"].endswith("v1-3s-1ch-16k")


@pytest.mark.parametrize("args,message", [
    (["--count", "0"], "--count must be 1..200"),
    (["--seconds", "x"], "--seconds must be 1..600"),
    (["--bitrate", "fast"], "--bitrate must look like 32k"),
    (["--channels", "6"], "--channels must be 1 or 2"),
    (["--frobnicate"], "unknown argument"),
])
def test_bad_arguments_are_refused(tmp_path, args, message):
    proc = make("--out", str(tmp_path), *args)
    assert proc.returncode != 0 and message in proc.stderr
    assert not any(tmp_path.rglob("*.webm"))

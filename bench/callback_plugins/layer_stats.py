# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bench/site's callback: wall time, task count and API requests per play (layer).

At each play start it reads the request counters of the rehearsal environment (DigitalOcean
emulator, GCP emulator, the API server's apiserver_request_total) and, at the end, prints one
line per play with the differences. Only for bench/site; never used by product runs.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: layer_stats
type: aggregate
short_description: Per-play wall time, tasks and rehearsal API requests (bench only)
description:
  - Prints one line per play with its wall time, task count and API requests to the rehearsal emulators and API server.
requirements:
  - the local rehearsal environment (testenv) running
"""

import json
import os
import subprocess
import time
import urllib.request

from ansible.plugins.callback import CallbackBase


def _get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except Exception:  # pylint: disable=broad-except
        return {}


def _apiserver_requests(kubeconfig):
    try:
        out = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/metrics"],
                             capture_output=True, text=True, timeout=20, check=True).stdout
    except Exception:  # pylint: disable=broad-except
        return 0
    total = 0.0
    for line in out.splitlines():
        if line.startswith("apiserver_request_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "layer_stats"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.kubeconfig = os.environ.get("ECHO_BENCH_KUBECONFIG", "")
        self.rows = []
        self.current = None

    def _counters(self):
        return {
            "do": _get_json("http://127.0.0.1:28001/_emulator/stats").get("total", 0),
            "gcp": len(_get_json("http://127.0.0.1:28003/_emulator/log").get("log", [])),
            "k8s": _apiserver_requests(self.kubeconfig) if self.kubeconfig else 0,
        }

    def _close(self):
        if self.current is None:
            return
        end = self._counters()
        row = self.current
        row["seconds"] = time.monotonic() - row.pop("t0")
        start = row.pop("start")
        for key in ("do", "gcp", "k8s"):
            row[key] = end[key] - start[key]
        self.rows.append(row)
        self.current = None

    def v2_playbook_on_play_start(self, play):
        self._close()
        self.current = {"play": play.get_name(), "tasks": 0, "t0": time.monotonic(), "start": self._counters()}

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self.current is not None:
            self.current["tasks"] += 1

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("ECHO_BENCH_STATS_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as handle:
                json.dump(self.rows, handle)

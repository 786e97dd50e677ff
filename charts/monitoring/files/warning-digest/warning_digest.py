#!/usr/bin/env python3
"""Weekly digest of warning alerts: how long each fired and how often, posted to Slack.

Stdlib only. Mounted from a ConfigMap built with .Files.Get, so the braces below never meet Helm.
Env: PROMETHEUS_URL, SLACK_WEBHOOK_PATH, LOOKBACK (e.g. 7d), EVAL_INTERVAL_SECONDS, ENVIRONMENT,
APP_NAMESPACE. Exit codes: 0 posted, 1 Prometheus or Slack failed.
"""

import json
import os
import sys
import urllib.parse
import urllib.request

PROMETHEUS_URL = os.environ.get("PROMETHEUS_URL", "http://prometheus:9090").rstrip("/")
SLACK_WEBHOOK_PATH = os.environ.get("SLACK_WEBHOOK_PATH", "/etc/secrets/slack-webhook-url")
LOOKBACK = os.environ.get("LOOKBACK", "7d")
EVAL_INTERVAL_SECONDS = float(os.environ.get("EVAL_INTERVAL_SECONDS", "15"))
ENVIRONMENT = os.environ.get("ENVIRONMENT", "")


def query(expr):
    url = f"{PROMETHEUS_URL}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=60) as resp:
        body = json.load(resp)
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus query failed: {body.get('error', 'unknown error')}")
    return body["data"]["result"]


def collect():
    """Return {alertname: {"minutes": float, "events": int}}."""
    firing = query(
        f'sum by (alertname) (count_over_time(ALERTS{{severity="warning",alertstate="firing"}}[{LOOKBACK}]))'
    )
    changes = query(f'sum by (alertname) (changes(ALERTS_FOR_STATE{{severity="warning"}}[{LOOKBACK}]))')
    out = {}
    for sample in firing:
        name = sample["metric"].get("alertname", "?")
        out.setdefault(name, {"minutes": 0.0, "events": 0})["minutes"] = float(sample["value"][1]) * EVAL_INTERVAL_SECONDS / 60
    for sample in changes:
        name = sample["metric"].get("alertname", "?")
        out.setdefault(name, {"minutes": 0.0, "events": 0})["events"] = max(1, round(float(sample["value"][1]) / 2))
    return out


def format_digest(stats):
    title = f"Weekly warning digest ({ENVIRONMENT}, last {LOOKBACK})" if ENVIRONMENT else f"Weekly warning digest (last {LOOKBACK})"
    if not stats:
        return f"*{title}*\nNo warnings fired."
    lines = [f"*{title}*"]
    for name, s in sorted(stats.items(), key=lambda kv: kv[1]["minutes"], reverse=True):
        lines.append(f"- {name}: {s['minutes']:.0f} min firing, ~{s['events']} event(s)")
    return "\n".join(lines)


def post(text):
    with open(SLACK_WEBHOOK_PATH, encoding="utf-8") as fh:
        webhook = fh.read().strip()
    data = json.dumps({"text": text}).encode()
    req = urllib.request.Request(webhook, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        if resp.status >= 300:
            raise RuntimeError(f"Slack answered HTTP {resp.status}")


def main():
    try:
        text = format_digest(collect())
        post(text)
    except Exception as exc:  # report the reason, never the webhook URL
        print(f"warning digest failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

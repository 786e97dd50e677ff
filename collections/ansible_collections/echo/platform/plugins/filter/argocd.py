# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argo CD Application state, read from the Application object the controller writes."""

from __future__ import annotations

REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
FAILED_PHASES = ("Failed", "Error")


def _operation_revision(op_state):
    """The revision an operation ran for (its sync result, else what it was asked to sync)."""
    result = (op_state.get("syncResult") or {}).get("revision")
    if result:
        return result
    return ((op_state.get("operation") or {}).get("sync") or {}).get("revision") or ""


def argocd_app_state(app, expected_revision=""):
    """Classify one Application: ``ready``, ``failed`` or ``waiting``, with the controller's messages.

    ready: the controller has no refresh pending, the comparison has no error, the Application is
    Synced and Healthy at the revision it resolved (``expected_revision`` too, when given), and no
    sync operation is running. failed: an error condition (type ending in ``Error``: ComparisonError,
    SyncError, InvalidSpecError...), or the last sync operation Failed/Error for the revision the
    Application tracks now (a failure of an older revision that a later sync replaced does not count).
    """
    app = app or {}
    meta = app.get("metadata") or {}
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    op_state = status.get("operationState") or {}
    revision = sync.get("revision") or ""
    state = {
        "name": meta.get("name", ""),
        "sync": sync.get("status") or "Unknown",
        "health": health.get("status") or "Unknown",
        "revision": revision,
        "operation": op_state.get("phase") or "",
        "refresh_pending": REFRESH_ANNOTATION in (meta.get("annotations") or {}),
        "errors": [],
        "unhealthy": [],
    }
    for cond in status.get("conditions") or []:
        if str(cond.get("type", "")).endswith("Error"):
            state["errors"].append("%s: %s" % (cond.get("type"), cond.get("message", "")))
    if state["operation"] in FAILED_PHASES and (not revision or _operation_revision(op_state) in ("", revision)):
        state["errors"].append("sync %s: %s" % (state["operation"], op_state.get("message", "")))
        for res in (op_state.get("syncResult") or {}).get("resources") or []:
            if res.get("status") in ("SyncFailed",) or res.get("hookPhase") in FAILED_PHASES:
                state["errors"].append(
                    "%s %s/%s: %s" % (res.get("kind"), res.get("namespace", ""), res.get("name"), res.get("message", ""))
                )
    for res in status.get("resources") or []:
        res_health = (res.get("health") or {}).get("status")
        if res_health and res_health != "Healthy":
            state["unhealthy"].append("%s %s/%s %s" % (res.get("kind"), res.get("namespace", ""), res.get("name"), res_health))

    waiting = []
    if state["refresh_pending"]:
        waiting.append("the requested refresh")
    if state["sync"] != "Synced":
        waiting.append("sync (%s)" % state["sync"])
    if state["health"] != "Healthy":
        waiting.append("health (%s%s)" % (state["health"], ": " + ", ".join(state["unhealthy"][:5]) if state["unhealthy"] else ""))
    if expected_revision and revision != expected_revision:
        waiting.append("revision %s (at %s)" % (expected_revision, revision or "none"))
    if app.get("operation"):
        waiting.append("the requested sync operation")
    elif state["operation"] in ("Running", "Terminating"):
        waiting.append("the running sync operation")
    state["waiting_for"] = waiting
    if state["errors"] and not state["refresh_pending"]:
        state["state"] = "failed"
    elif waiting:
        state["state"] = "waiting"
    else:
        state["state"] = "ready"
    return state


def argocd_apps_states(apps, names, expected_revision=""):
    """States of the named Applications, in the order of ``names``; a missing one is ``waiting``."""
    by_name = {(a.get("metadata") or {}).get("name"): a for a in apps or []}
    out = []
    for name in names:
        if name in by_name:
            out.append(argocd_app_state(by_name[name], expected_revision))
        else:
            out.append(
                {
                    "name": name,
                    "state": "waiting",
                    "sync": "Unknown",
                    "health": "Unknown",
                    "revision": "",
                    "operation": "",
                    "refresh_pending": False,
                    "errors": [],
                    "unhealthy": [],
                    "waiting_for": ["the Application to exist"],
                }
            )
    return out


def _first_source(app):
    spec = app.get("spec") or {}
    if spec.get("source"):
        return spec["source"]
    return (spec.get("sources") or [{}])[0] or {}


def argocd_apps_compare(live, desired, managed_by):
    """Compare live Applications with the desired ones, reading each live Application once.

    Returns ``drift`` (per field of a desired Application that exists live and differs: targetRevision, repoURL,
    path), ``unmanaged`` (names of live Applications this run does not define) and ``foreign`` (desired
    Applications that exist live without the ``app.kubernetes.io/managed-by`` label value ``managed_by``: the
    adoption plan, with what the live one points at and what it would point at).
    """
    by_name = {(a.get("metadata") or {}).get("name"): a for a in live or []}
    desired_names = [(d.get("metadata") or {}).get("name") for d in desired or []]
    drift, foreign = [], []
    for want in desired or []:
        name = want["metadata"]["name"]
        have = by_name.get(name)
        if have is None:
            continue
        src = _first_source(have)
        want_src = want["spec"]["source"]
        live_fields = {"targetRevision": src.get("targetRevision") or "HEAD", "repoURL": src.get("repoURL") or "",
                       "path": src.get("path") or ""}
        for field in ("targetRevision", "repoURL", "path"):
            if live_fields[field] != want_src.get(field):
                drift.append({"application": name, "field": field, "live": live_fields[field],
                              "desired": want_src.get(field), "equal": False})
        labels = (have.get("metadata") or {}).get("labels") or {}
        owner = labels.get("app.kubernetes.io/managed-by") or ""
        if owner != managed_by:
            foreign.append({
                "application": name,
                "managed_by": owner or "nothing (no app.kubernetes.io/managed-by label)",
                "repoURL": live_fields["repoURL"], "path": live_fields["path"],
                "targetRevision": live_fields["targetRevision"],
                "valueFiles": (src.get("helm") or {}).get("valueFiles") or [],
                "desired": {"repoURL": want_src.get("repoURL"), "path": want_src.get("path"),
                            "targetRevision": want_src.get("targetRevision"),
                            "valueFiles": (want_src.get("helm") or {}).get("valueFiles") or []},
            })
    unmanaged = [n for n in by_name if n not in desired_names]
    return {"drift": drift, "unmanaged": unmanaged, "foreign": foreign}


class FilterModule:
    """echo.platform Argo CD filters."""

    def filters(self):
        return {
            "argocd_app_state": argocd_app_state,
            "argocd_apps_states": argocd_apps_states,
            "argocd_apps_compare": argocd_apps_compare,
        }

"""argocd_app_state / argocd_apps_states: how the deploy layer reads an Application's status."""

from ansible_collections.echo.platform.plugins.filter.argocd import FilterModule, argocd_app_state, argocd_apps_states

REV = "a" * 40
OLD = "b" * 40


def app(sync="Synced", health="Healthy", revision=REV, conditions=None, op=None, annotations=None, operation=None, resources=None):
    obj = {
        "metadata": {"name": "echo-local", "annotations": annotations or {}},
        "status": {
            "sync": {"status": sync, "revision": revision},
            "health": {"status": health},
            "conditions": conditions or [],
            "resources": resources or [],
        },
    }
    if op is not None:
        obj["status"]["operationState"] = op
    if operation is not None:
        obj["operation"] = operation
    return obj


def test_synced_and_healthy_is_ready():
    state = argocd_app_state(app())
    assert state["state"] == "ready"
    assert state["waiting_for"] == []
    assert state["revision"] == REV


def test_pending_refresh_waits_even_when_synced():
    state = argocd_app_state(app(annotations={"argocd.argoproj.io/refresh": "normal"}))
    assert state["state"] == "waiting"
    assert state["waiting_for"] == ["the requested refresh"]


def test_stale_error_is_not_reported_while_refresh_is_pending():
    cond = [{"type": "ComparisonError", "message": "old failure"}]
    state = argocd_app_state(app(conditions=cond, annotations={"argocd.argoproj.io/refresh": "normal"}))
    assert state["state"] == "waiting"


def test_comparison_error_fails_with_the_controller_message():
    msg = "Failed to load target state: helm template failed: values don't meet the specifications of the schema"
    state = argocd_app_state(app(sync="Unknown", conditions=[{"type": "ComparisonError", "message": msg}]))
    assert state["state"] == "failed"
    assert state["errors"] == ["ComparisonError: " + msg]


def test_warning_conditions_do_not_fail():
    state = argocd_app_state(app(conditions=[{"type": "OrphanedResourceWarning", "message": "x"}]))
    assert state["state"] == "ready"


def test_failed_operation_for_the_tracked_revision_fails_with_resource_messages():
    op = {
        "phase": "Failed",
        "message": "one or more objects failed to apply",
        "syncResult": {
            "revision": REV,
            "resources": [
                {"kind": "Deployment", "namespace": "echo-local", "name": "api", "status": "SyncFailed", "message": "invalid quantity"},
                {"kind": "Service", "namespace": "echo-local", "name": "api", "status": "Synced", "message": "ok"},
            ],
        },
    }
    state = argocd_app_state(app(sync="OutOfSync", op=op))
    assert state["state"] == "failed"
    assert state["errors"] == ["sync Failed: one or more objects failed to apply", "Deployment echo-local/api: invalid quantity"]


def test_failed_operation_of_an_older_revision_does_not_count():
    op = {"phase": "Failed", "message": "old", "syncResult": {"revision": OLD}}
    assert argocd_app_state(app(op=op))["state"] == "ready"


def test_running_or_requested_operation_waits():
    assert argocd_app_state(app(op={"phase": "Running"}))["waiting_for"] == ["the running sync operation"]
    assert argocd_app_state(app(operation={"sync": {}}))["waiting_for"] == ["the requested sync operation"]


def test_progressing_lists_unhealthy_resources():
    res = [
        {"kind": "Deployment", "namespace": "echo-local", "name": "api", "health": {"status": "Progressing"}},
        {"kind": "Service", "namespace": "echo-local", "name": "api", "health": {"status": "Healthy"}},
        {"kind": "ConfigMap", "namespace": "echo-local", "name": "cfg"},
    ]
    state = argocd_app_state(app(health="Progressing", resources=res))
    assert state["state"] == "waiting"
    assert state["unhealthy"] == ["Deployment echo-local/api Progressing"]
    assert state["waiting_for"] == ["health (Progressing: Deployment echo-local/api Progressing)"]


def test_expected_revision_must_match():
    state = argocd_app_state(app(revision=OLD), REV)
    assert state["state"] == "waiting"
    assert state["waiting_for"] == ["revision %s (at %s)" % (REV, OLD)]
    assert argocd_app_state(app(), REV)["state"] == "ready"


def test_empty_object_waits():
    state = argocd_app_state({})
    assert state["state"] == "waiting"
    assert state["sync"] == "Unknown" and state["health"] == "Unknown"


def test_states_keep_name_order_and_report_missing_applications():
    other = app()
    other["metadata"]["name"] = "echo-monitoring-local"
    states = argocd_apps_states([other, app()], ["echo-local", "echo-secrets-local", "echo-monitoring-local"])
    assert [s["name"] for s in states] == ["echo-local", "echo-secrets-local", "echo-monitoring-local"]
    assert [s["state"] for s in states] == ["ready", "waiting", "ready"]
    assert states[1]["waiting_for"] == ["the Application to exist"]


def test_filters_are_registered():
    assert set(FilterModule().filters()) == {"argocd_app_state", "argocd_apps_states", "argocd_apps_compare"}

"""argocd_apps_compare: the deploy layer's preflight reads each live Application once."""

from ansible_collections.echo.platform.plugins.filter.argocd import FilterModule, argocd_apps_compare

OURS = "echo.platform"
REPO = "https://git.example.test/echo/platform.git"


def desired(name="echo-prod", revision="main", path="charts/echo", values=("values.yaml",)):
    return {"metadata": {"name": name},
            "spec": {"source": {"repoURL": REPO, "path": path, "targetRevision": revision,
                                "helm": {"valueFiles": list(values)}}}}


def live(name="echo-prod", revision="main", repo=REPO, path="charts/echo", managed_by=OURS, multi=False, values=()):
    source = {"repoURL": repo, "path": path, "helm": {"valueFiles": list(values)}}
    if revision is not None:
        source["targetRevision"] = revision
    labels = {"app.kubernetes.io/managed-by": managed_by} if managed_by else {}
    spec = {"sources": [source, {"repoURL": "other"}]} if multi else {"source": source}
    return {"metadata": {"name": name, "labels": labels}, "spec": spec}


def test_equal_applications_show_no_drift_and_nothing_foreign():
    assert argocd_apps_compare([live()], [desired()], OURS) == {"drift": [], "unmanaged": [], "foreign": []}


def test_a_missing_application_is_neither_drift_nor_foreign():
    assert argocd_apps_compare([], [desired()], OURS) == {"drift": [], "unmanaged": [], "foreign": []}


def test_each_differing_field_is_one_drift_entry():
    out = argocd_apps_compare([live(revision="hotfix", path="charts/old")], [desired()], OURS)
    assert out["drift"] == [
        {"application": "echo-prod", "field": "targetRevision", "live": "hotfix", "desired": "main", "equal": False},
        {"application": "echo-prod", "field": "path", "live": "charts/old", "desired": "charts/echo", "equal": False},
    ]


def test_no_target_revision_means_head_and_the_first_of_several_sources_counts():
    out = argocd_apps_compare([live(revision=None, multi=True)], [desired(revision="HEAD")], OURS)
    assert out["drift"] == []


def test_live_applications_not_defined_here_are_unmanaged():
    out = argocd_apps_compare([live(), live(name="hand-made")], [desired()], OURS)
    assert out["unmanaged"] == ["hand-made"]


def test_an_application_without_our_label_is_foreign_with_the_adoption_plan():
    out = argocd_apps_compare([live(repo="https://old.example.test/gitops.git", managed_by="", values=("prod.yaml",))],
                              [desired()], OURS)
    assert out["foreign"] == [{
        "application": "echo-prod",
        "managed_by": "nothing (no app.kubernetes.io/managed-by label)",
        "repoURL": "https://old.example.test/gitops.git", "path": "charts/echo", "targetRevision": "main",
        "valueFiles": ["prod.yaml"],
        "desired": {"repoURL": REPO, "path": "charts/echo", "targetRevision": "main", "valueFiles": ["values.yaml"]},
    }]
    assert [d["field"] for d in out["drift"]] == ["repoURL"]


def test_another_tools_label_is_named():
    out = argocd_apps_compare([live(managed_by="Helm")], [desired()], OURS)
    assert out["foreign"][0]["managed_by"] == "Helm"


def test_the_filter_is_registered():
    assert FilterModule().filters()["argocd_apps_compare"] is argocd_apps_compare

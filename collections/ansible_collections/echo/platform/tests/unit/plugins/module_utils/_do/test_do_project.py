# -*- coding: utf-8 -*-
"""Project resources with an in-memory client: only the missing URNs are assigned."""

from __future__ import annotations

from ansible_collections.echo.platform.plugins.module_utils._do import project
from ansible_collections.echo.platform.tests.unit.plugins.module_utils._do.fakes import FakeClient


def test_project_assigns_only_missing():
    c = FakeClient(lists={"/v2/projects": [{"id": "p1", "name": "ECHO"}],
                          "/v2/projects/p1/resources": [{"urn": "do:vpc:1"}]},
                   posts={("POST", "/v2/projects/p1/resources"): {"resources": [{"urn": "do:space:b", "status": "assigned"}]}})
    out = project.ensure_project_resources(c, {"project": "ECHO", "state": "present", "resources": ["do:vpc:1", "do:space:b"],
                                               "purpose": "x", "environment": "Development", "description": None},
                                           check_mode=False)
    assert out["assigned"] == ["do:space:b"] and len(c.writes) == 1

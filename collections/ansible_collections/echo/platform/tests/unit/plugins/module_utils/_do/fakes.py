# -*- coding: utf-8 -*-
"""An in-memory DoClient for the tests of the DigitalOcean resource files."""

from __future__ import annotations


class FakeClient:
    """Answers from canned data and records every write."""

    def __init__(self, lists=None, gets=None, posts=None):
        self.lists = lists or {}
        self.gets = gets or {}
        self.posts = posts or {}
        self.writes = []

    def list_all(self, path, key, kind, params=None):  # pylint: disable=unused-argument
        return list(self.lists.get(path, []))

    def get(self, path, kind, name=None, params=None):  # pylint: disable=unused-argument
        return self.gets.get(path)

    def request(self, method, path, body=None, params=None, **_kw):  # pylint: disable=unused-argument
        if method == "GET":
            return self.gets.get(path)
        self.writes.append((method, path, body))
        return self.posts.get((method, path))

    def delete(self, path, kind, name=None):  # pylint: disable=unused-argument
        self.writes.append(("DELETE", path, None))

    def kubeconfig(self, cid, name=None):  # pylint: disable=unused-argument
        return "apiVersion: v1\nkind: Config\n"

# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Credentials for Google Cloud APIs, via google-auth.

Private to the echo.platform collection. Three kinds, as in the google.cloud collection:
``serviceaccount`` (a key file or its JSON content), ``application`` (application default
credentials) and ``accesstoken`` (a short-lived OAuth2 token). Requests go through ``requests``,
so the standard HTTPS_PROXY and REQUESTS_CA_BUNDLE environment variables apply.
"""

from __future__ import annotations

import json

from ansible_collections.echo.platform.plugins.module_utils._common.errors import GcpError

try:
    import google.auth
    import google.auth.exceptions
    from google.auth.transport.requests import AuthorizedSession
    from google.oauth2 import credentials as oauth2_credentials
    from google.oauth2 import service_account
    HAS_GOOGLE_AUTH = True
    GOOGLE_AUTH_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module
    HAS_GOOGLE_AUTH = False
    GOOGLE_AUTH_IMPORT_ERROR = exc

CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
AUTH_KINDS = ("serviceaccount", "application", "accesstoken")


def check_auth_params(auth_kind, service_account_file=None, service_account_contents=None, access_token=None):
    """None when the combination is usable, else a message naming the option and the fix."""
    if auth_kind not in AUTH_KINDS:
        return "auth_kind must be one of %s" % ", ".join(AUTH_KINDS)
    if auth_kind == "serviceaccount" and not (service_account_file or service_account_contents):
        return ("auth_kind=serviceaccount needs service_account_file (or GCP_SERVICE_ACCOUNT_FILE) "
                "or service_account_contents")
    if auth_kind == "accesstoken" and not access_token:
        return "auth_kind=accesstoken needs access_token (or GCP_ACCESS_TOKEN)"
    return None


def credentials(auth_kind, service_account_file=None, service_account_contents=None, access_token=None,
                scopes=None):
    """google-auth credentials for ``auth_kind``; raises GcpError with the reason."""
    if not HAS_GOOGLE_AUTH:
        raise GcpError("Failed to load credentials: the google-auth Python library is missing (%s)"
                       % GOOGLE_AUTH_IMPORT_ERROR)
    problem = check_auth_params(auth_kind, service_account_file, service_account_contents, access_token)
    if problem:
        raise GcpError(problem)
    scopes = list(scopes or [CLOUD_PLATFORM_SCOPE])
    try:
        if auth_kind == "serviceaccount":
            if service_account_contents:
                info = service_account_contents
                if not isinstance(info, dict):
                    info = json.loads(info)
                return service_account.Credentials.from_service_account_info(info, scopes=scopes)
            return service_account.Credentials.from_service_account_file(service_account_file, scopes=scopes)
        if auth_kind == "application":
            creds, _project = google.auth.default(scopes=scopes)
            return creds
        return oauth2_credentials.Credentials(access_token, scopes=scopes)
    except (ValueError, KeyError, OSError) as exc:
        # never echo the content: only the kind of problem
        raise GcpError("Failed to load %s credentials: %s" % (auth_kind, type(exc).__name__))
    except google.auth.exceptions.GoogleAuthError as exc:
        raise GcpError("Failed to load %s credentials: %s" % (auth_kind, exc))


def session(creds):
    """An authorized requests session (refreshes the token as needed)."""
    return AuthorizedSession(creds)

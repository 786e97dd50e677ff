# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Options of plugins/module_utils/_gcp/argspec.py ARG_SPEC
    DOCUMENTATION = r"""
options:
  project:
    description:
      - The Google Cloud project id.
      - If not set, the value of the E(GCP_PROJECT) environment variable is used.
    type: str
    required: true
  auth_kind:
    description:
      - How to authenticate.
      - V(serviceaccount) reads a service-account key from O(service_account_file) or O(service_account_contents).
      - V(application) uses application default credentials (E(GOOGLE_APPLICATION_CREDENTIALS), gcloud, metadata server).
      - V(accesstoken) uses the OAuth2 token in O(access_token).
      - If not set, the value of the E(GCP_AUTH_KIND) environment variable is used.
    type: str
    default: application
    choices: [serviceaccount, application, accesstoken]
  service_account_file:
    description:
      - Path of a service-account JSON key file, for O(auth_kind=serviceaccount).
      - If not set, the value of the E(GCP_SERVICE_ACCOUNT_FILE) environment variable is used.
    type: path
  service_account_contents:
    description:
      - Content of a service-account JSON key, for O(auth_kind=serviceaccount). Never logged.
      - If not set, the value of the E(GCP_SERVICE_ACCOUNT_CONTENTS) environment variable is used.
    type: jsonarg
  access_token:
    description:
      - An OAuth2 access token, for O(auth_kind=accesstoken). Never logged.
      - If not set, the value of the E(GCP_ACCESS_TOKEN) environment variable is used.
    type: str
  scopes:
    description:
      - OAuth2 scopes requested for the credentials.
    type: list
    elements: str
    default: ['https://www.googleapis.com/auth/cloud-platform']
notes:
  - HTTPS requests honour the E(HTTPS_PROXY) and E(REQUESTS_CA_BUNDLE) environment variables.
requirements:
  - google-auth
  - requests
"""

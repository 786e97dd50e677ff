# -*- coding: utf-8 -*-
# Copyright: echo.platform contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Spaces buckets through the S3 API (boto3), with the collection's retry and error family.

Private to the echo.platform collection.
"""

from __future__ import annotations

from ansible_collections.echo.platform.plugins.module_utils._common.errors import DoError, failed_to

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    HAS_BOTO3 = True
except ImportError:  # pragma: no cover
    HAS_BOTO3 = False


def s3_client(params):
    if not HAS_BOTO3:
        raise DoError("Failed to load the Spaces client: the boto3 Python package is required")
    if not params.get("spaces_access_key_id") or not params.get("spaces_secret_access_key"):
        raise DoError("Failed to authenticate to Spaces: set spaces_access_key_id and spaces_secret_access_key "
                      "(or SPACES_ACCESS_KEY_ID / SPACES_SECRET_ACCESS_KEY)")
    return boto3.client(
        "s3", endpoint_url=params["spaces_endpoint"], region_name=params["spaces_region"],
        aws_access_key_id=params["spaces_access_key_id"], aws_secret_access_key=params["spaces_secret_access_key"],
        config=Config(retries={"max_attempts": 8, "mode": "standard"}, s3={"addressing_style": "path"}))


def _code(exc):
    return str((exc.response or {}).get("Error", {}).get("Code", ""))


def bucket_exists(s3, name):
    try:
        s3.head_bucket(Bucket=name)
        return True
    except ClientError as exc:
        if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise DoError(failed_to("read", "Spaces bucket", name, _code(exc) or str(exc)))
    except BotoCoreError as exc:
        raise DoError(failed_to("read", "Spaces bucket", name, str(exc)))


def bucket_versioning(s3, name):
    try:
        return s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled"
    except (ClientError, BotoCoreError) as exc:
        raise DoError(failed_to("read versioning of", "Spaces bucket", name, str(exc)))


def ensure_bucket(s3, p, check_mode):
    name = p["name"]
    exists = bucket_exists(s3, name)
    before = {"name": name, "exists": exists}
    if exists and p.get("versioning") is not None:
        before["versioning"] = bucket_versioning(s3, name)
    if p["state"] == "absent":
        if not exists:
            return {"changed": False, "bucket": {}, "diff": {"before": {}, "after": {}}}
        if not check_mode:
            try:
                s3.delete_bucket(Bucket=name)
            except (ClientError, BotoCoreError) as exc:
                raise DoError(failed_to("delete", "Spaces bucket", name, str(exc)))
        return {"changed": True, "bucket": {}, "diff": {"before": before, "after": {}}}
    changed = False
    if not exists:
        changed = True
        if not check_mode:
            try:
                s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": p["spaces_region"]})
            except ClientError as exc:
                if _code(exc) not in ("BucketAlreadyOwnedByYou",):
                    raise DoError(failed_to("create", "Spaces bucket", name, str(exc)))
            except BotoCoreError as exc:
                raise DoError(failed_to("create", "Spaces bucket", name, str(exc)))
    after = {"name": name, "exists": True}
    if p.get("versioning") is not None:
        after["versioning"] = p["versioning"]
        if before.get("versioning", False) != p["versioning"]:
            changed = True
            if not check_mode:
                try:
                    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={
                        "Status": "Enabled" if p["versioning"] else "Suspended"})
                except (ClientError, BotoCoreError) as exc:
                    raise DoError(failed_to("set versioning of", "Spaces bucket", name, str(exc)))
    endpoint = p["spaces_endpoint"].rstrip("/")
    bucket = dict(after, region=p["spaces_region"], endpoint=endpoint, urn="do:space:%s" % name)
    return {"changed": changed, "bucket": bucket, "diff": {"before": before if exists else {}, "after": after}}

"""URI handling shared by the Glue jobs.

In AWS the jobs receive s3:// URIs and hand them to Spark unchanged. Locally the runtime maps object
storage onto a directory tree with one rule, `s3://bucket/key` <-> `$CLV_LOCAL_ROOT/bucket/key`;
`resolve_uri` applies that rule through the project's one resolver, clv_local.storage (local/py), which is
only imported when CLV_LOCAL_ROOT is set, i.e. never in AWS Glue, where the package is not shipped.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LOCAL_ROOT_ENV = "CLV_LOCAL_ROOT"


def resolve_uri(uri: str, env: Mapping[str, str] | None = None) -> str:
    """Map a job URI to what Spark should open.

    - `s3://bucket/key` becomes `$CLV_LOCAL_ROOT/bucket/key` when CLV_LOCAL_ROOT is set, and stays as
      is otherwise (in AWS Glue, where Spark reads s3:// itself);
    - `file://` URIs and plain paths become absolute local paths;
    - any other scheme (s3a://, hdfs://) is returned unchanged.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise ValueError(f"resolve_uri: expected a non-empty URI, got {uri!r}")
    uri = uri.strip()
    environ = os.environ if env is None else env
    if uri.startswith("s3://"):
        root = environ.get(LOCAL_ROOT_ENV, "").strip()
        if not root:
            return uri
        from clv_local.storage import resolve_s3_uri

        return str(resolve_s3_uri(uri, root))
    if uri.startswith("file://"):
        return os.path.abspath(uri[len("file://") :])
    if "://" in uri:
        return uri
    return os.path.abspath(uri)


def join_uri(base: str, *parts: str) -> str:
    """Join URI segments with single slashes (works for s3:// URIs and local paths alike)."""
    out = base.rstrip("/")
    for part in parts:
        piece = part.strip("/")
        if piece:
            out = f"{out}/{piece}"
    return out

"""Where the generator writes: local paths and s3:// URIs mapped onto the local object store."""

from __future__ import annotations

import os
from pathlib import Path


def resolve_uri(uri: str) -> Path:
    """Map an output URI to a local directory.

    ``s3://bucket/key`` resolves to ``$CLV_LOCAL_ROOT/bucket/key`` (CLV_LOCAL_ROOT defaults to
    ``.clv-local`` under the current directory); any other value is a local path.
    """
    if not uri or not uri.strip():
        raise ValueError("output URI is empty")
    if uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://") :].partition("/")
        key = key.strip("/")
        if not bucket:
            raise ValueError(f"s3 URI {uri!r} has no bucket (expected s3://bucket/prefix)")
        root = Path(os.environ.get("CLV_LOCAL_ROOT") or Path.cwd() / ".clv-local")
        return root / bucket / key if key else root / bucket
    if "://" in uri:
        raise ValueError(f"unsupported URI scheme in {uri!r} (allowed: a local path or s3://bucket/prefix)")
    return Path(uri)

"""The local object store: ``s3://bucket/key`` <-> ``<root>/bucket/key``.

The same rule as local/storage.ts (both are checked against test/local/fixtures/resolver-cases.json).
The root is ``$CLV_LOCAL_ROOT``, or ``.clv-local`` in the repository root when unset.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

LOCAL_ROOT_ENV = "CLV_LOCAL_ROOT"
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_LOCAL_ROOT = REPO_ROOT / ".clv-local"

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def local_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The local root: an explicit value, else $CLV_LOCAL_ROOT, else <repo>/.clv-local; always absolute."""
    chosen = str(explicit) if explicit is not None else os.environ.get(LOCAL_ROOT_ENV, "")
    return Path(chosen).resolve() if chosen.strip() else DEFAULT_LOCAL_ROOT


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into (bucket, key); the key has no leading slash ('' for the bucket)."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    rest = uri[len("s3://") :]
    bucket, _, key = rest.partition("/")
    key = key.lstrip("/")
    if not _BUCKET_NAME.match(bucket):
        raise ValueError(f"s3 URI {uri!r} has an invalid bucket name {bucket!r}")
    if any(part in (".", "..") for part in key.split("/")):
        raise ValueError(f"s3 URI {uri!r} has a '.' or '..' path segment, which the local store refuses")
    return bucket, key


def resolve_s3_uri(uri: str, root: str | os.PathLike[str] | None = None) -> Path:
    """The local path of an object or prefix; a trailing slash in the key is kept out of the path."""
    bucket, key = parse_s3_uri(uri)
    base = local_root(root)
    parts = [p for p in key.rstrip("/").split("/") if p]
    return base.joinpath(bucket, *parts)


def resolve(uri_or_path: str, root: str | os.PathLike[str] | None = None) -> Path:
    """An s3:// URI through the resolver; any other value without a scheme is a local path as given."""
    if uri_or_path.startswith("s3://"):
        return resolve_s3_uri(uri_or_path, root)
    if "://" in uri_or_path:
        raise ValueError(
            f"unsupported URI scheme in {uri_or_path!r} (allowed: a local path or s3://bucket/key)"
        )
    return Path(uri_or_path)


def to_s3_uri(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """The s3:// URI of a local path under the root (inverse of resolve_s3_uri)."""
    base = local_root(root)
    try:
        rel = Path(path).resolve().relative_to(base)
    except ValueError:
        rel = None
    if rel is None or not rel.parts:
        raise ValueError(f"{str(path)!r} is not inside the local object store {str(base)!r}")
    bucket, *rest = rel.parts
    return f"s3://{bucket}/{'/'.join(rest)}"

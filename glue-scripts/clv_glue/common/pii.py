"""PII hashing: HMAC-SHA256 with a secret salt, and the adapter that finds the salt.

The transforms only receive the salt as bytes. Where it comes from is decided here, from one job argument
(`--pii-salt-secret`):
  - `local:<value>`          the salt itself (local runs and tests only);
  - `env:<NAME>`             the salt is in environment variable NAME;
  - anything else            an AWS Secrets Manager secret id (name or ARN); the secret is either
                             the plain salt string, a JSON object with a "salt" key, or binary;
  - no argument              the CLV_PII_SALT environment variable.

Hashing runs in a pandas UDF with the key captured in its closure rather than as a SQL literal, so
the key never appears in query plans, the Spark UI or event logs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F  # noqa: N812
from pyspark.sql.types import StringType

SALT_ENV = "CLV_PII_SALT"
MIN_SALT_BYTES = 16


class SaltError(ValueError):
    """The PII salt could not be resolved or is too weak."""


def _check(salt: bytes, origin: str) -> bytes:
    if len(salt) < MIN_SALT_BYTES:
        raise SaltError(
            f"PII salt from {origin} is {len(salt)} bytes; at least {MIN_SALT_BYTES} are required"
        )
    return salt


def _from_secret_value(response: Mapping[str, Any], secret_id: str) -> bytes:
    if response.get("SecretBinary") is not None:
        value = response["SecretBinary"]
        return bytes(value)
    text = response.get("SecretString")
    if not isinstance(text, str):
        raise SaltError(f"secret {secret_id!r} has neither SecretString nor SecretBinary")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise SaltError(f"secret {secret_id!r} looks like JSON but does not parse: {exc.msg}") from exc
        if not isinstance(obj, dict) or not isinstance(obj.get("salt"), str):
            raise SaltError(f"secret {secret_id!r} is a JSON object without a string 'salt' key")
        return obj["salt"].encode("utf-8")
    return text.encode("utf-8")


def resolve_pii_salt(
    spec: str | None,
    env: Mapping[str, str] | None = None,
    secrets_client_factory: Callable[[], Any] | None = None,
) -> bytes:
    """Return the salt bytes named by `spec` (see the module docstring)."""
    environ = os.environ if env is None else env
    if spec is None or not spec.strip():
        value = environ.get(SALT_ENV)
        if not value:
            raise SaltError(f"no --pii-salt-secret given and {SALT_ENV} is not set")
        return _check(value.encode("utf-8"), f"environment variable {SALT_ENV}")
    spec = spec.strip()
    if spec.startswith("local:"):
        return _check(spec[len("local:") :].encode("utf-8"), "the local: argument")
    if spec.startswith("env:"):
        name = spec[len("env:") :]
        value = environ.get(name)
        if not value:
            raise SaltError(f"environment variable {name!r} named by --pii-salt-secret is not set")
        return _check(value.encode("utf-8"), f"environment variable {name}")
    if secrets_client_factory is None:

        def secrets_client_factory():
            import boto3  # available in AWS Glue; only needed when the salt lives in Secrets Manager

            return boto3.client("secretsmanager")

    response = secrets_client_factory().get_secret_value(SecretId=spec)
    return _check(_from_secret_value(response, spec), f"secret {spec!r}")


def hmac_sha256_hex(value: str | None, salt: bytes) -> str | None:
    """Reference implementation (plain Python) of what `hmac_column` computes."""
    if value is None:
        return None
    return hmac.new(salt, value.encode("utf-8"), hashlib.sha256).hexdigest()


def hmac_column(col: Column, salt: bytes) -> Column:
    """HMAC-SHA256 (lower-case hex) of a string column keyed by `salt`; null stays null."""
    key = bytes(salt)

    @F.pandas_udf(StringType())
    def _hmac(values: pd.Series) -> pd.Series:
        return values.map(
            lambda v: hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()
            if isinstance(v, str)
            else None
        )

    return _hmac(col)


def normalize_email(col: Column) -> Column:
    """Trim and lower-case; empty becomes null (so the same address hashes the same across sources)."""
    cleaned = F.lower(F.trim(col))
    return F.when(cleaned != "", cleaned)


def normalize_text(col: Column) -> Column:
    """Trim, collapse inner whitespace and lower-case (names, addresses); empty becomes null."""
    cleaned = F.lower(F.regexp_replace(F.trim(col), r"\s+", " "))
    return F.when(cleaned != "", cleaned)

"""Spark SQL HMAC-SHA256 of the PII columns: the values of Python's hmac module, the key kept out of plans."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from clv_glue.common.pii import IPAD_COL, OPAD_COL, hmac_column, hmac_pads, hmac_sha256_hex, with_hmac_key

VALUES = [
    "alice.smith@example.com",
    "",
    "ünïcödé — 名前 😀",
    "x" * 1000,
    " spaces  inside ",
    None,
]
SALTS = [
    b"test-salt-0123456789",  # shorter than the 64-byte block: zero-padded
    b"k" * 64,  # exactly one block
    b"long-salt-" * 10,  # longer than a block: hashed first
    bytes(range(256))[:40],  # non-UTF-8 bytes (a binary Secrets Manager secret)
]


def test_pads_follow_rfc_2104():
    ipad, opad = hmac_pads(b"key")
    assert len(ipad) == len(opad) == 64
    assert ipad[:3] == bytes(b ^ 0x36 for b in b"key") and ipad[3:] == b"\x36" * 61
    assert opad[:3] == bytes(b ^ 0x5C for b in b"key") and opad[3:] == b"\x5c" * 61
    long_key = b"z" * 65
    assert hmac_pads(long_key)[0][:32] == bytes(b ^ 0x36 for b in hashlib.sha256(long_key).digest())


@pytest.mark.parametrize("salt", SALTS)
def test_spark_hmac_equals_python_hmac(spark, salt):
    df = spark.createDataFrame([(i, v) for i, v in enumerate(VALUES)], "i int, v string")
    rows = with_hmac_key(df, salt).select("i", hmac_column(df["v"]).alias("h")).orderBy("i").collect()
    assert [r["h"] for r in rows] == [hmac_sha256_hex(v, salt) for v in VALUES]
    assert rows[0]["h"] == hmac.new(salt, VALUES[0].encode("utf-8"), hashlib.sha256).hexdigest()
    assert rows[-1]["h"] is None


def test_the_key_never_appears_in_the_plans(spark):
    salt = b"plan-secret-salt-7f3a9c"
    df = spark.createDataFrame([("a@b.com",)], "email string")
    hashed = with_hmac_key(df, salt).select(hmac_column(df["email"]).alias("h"))
    hashed.collect()
    plans = hashed._jdf.queryExecution().toString() + hashed._jdf.queryExecution().executedPlan().toString()
    ipad, opad = hmac_pads(salt)
    for secret in (salt, ipad, opad):
        for text in (secret.hex(), secret.hex().upper(), secret.decode("latin-1")):
            assert text not in plans
    assert IPAD_COL in plans and OPAD_COL in plans  # the plan does show the key columns, by name only
    assert "Scan ExistingRDD" in plans and "BroadcastNestedLoopJoin" in plans

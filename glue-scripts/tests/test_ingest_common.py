"""Plain-Python tests of the ingest helpers: URI mapping, salt adapter, job arguments, contracts, SKU rule."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import sys
import types

import pytest
from clv_glue.common.contracts import ContractError, load_layouts, load_reference_data, parse_layouts
from clv_glue.common.paths import join_uri, resolve_uri
from clv_glue.common.pii import SaltError, hmac_sha256_hex, resolve_pii_salt
from clv_glue.common.quality import ReconciliationError, check_balance
from clv_glue.common.runtime import parse_date, parse_job_args, run_id_from
from clv_glue.ingest.transactions import sku_is_allowed


def test_s3_uri_maps_under_local_root_and_stays_s3_without_it(tmp_path):
    env = {"CLV_LOCAL_ROOT": str(tmp_path)}
    assert resolve_uri("s3://raw-bucket/landing/transactions", env) == str(
        tmp_path / "raw-bucket/landing/transactions"
    )
    assert resolve_uri("s3://raw-bucket/", env) == str(tmp_path / "raw-bucket")
    assert resolve_uri("s3://raw-bucket/landing", {}) == "s3://raw-bucket/landing"
    assert resolve_uri("file:///data/x", {}) == "/data/x"
    assert resolve_uri("s3a://b/k", env) == "s3a://b/k"
    with pytest.raises(ValueError, match="invalid bucket name"):
        resolve_uri("s3:///key", env)
    assert join_uri("s3://b/root/", "silver", "/transactions/") == "s3://b/root/silver/transactions"


class FakeSecrets:
    def __init__(self, response):
        self.response = response
        self.asked = []

    def get_secret_value(self, SecretId):
        self.asked.append(SecretId)
        return self.response


def test_salt_adapter_sources():
    assert resolve_pii_salt("local:0123456789abcdef") == b"0123456789abcdef"
    assert resolve_pii_salt("env:MY_SALT", env={"MY_SALT": "s" * 20}) == b"s" * 20
    assert resolve_pii_salt(None, env={"CLV_PII_SALT": "x" * 16}) == b"x" * 16
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:clv/pii-salt-AbCdEf"
    plain = FakeSecrets({"SecretString": "plain-salt-value-123"})
    assert resolve_pii_salt(arn, env={}, secrets_client_factory=lambda: plain) == b"plain-salt-value-123"
    assert plain.asked == [arn]
    as_json = FakeSecrets({"SecretString": json.dumps({"salt": "json-salt-value-1234"})})
    assert (
        resolve_pii_salt("clv/pii", env={}, secrets_client_factory=lambda: as_json) == b"json-salt-value-1234"
    )
    binary = FakeSecrets({"SecretBinary": b"\x00\x01" * 10})
    assert resolve_pii_salt("clv/pii", env={}, secrets_client_factory=lambda: binary) == b"\x00\x01" * 10


def test_salt_adapter_rejects_missing_or_weak_salt():
    with pytest.raises(SaltError, match="CLV_PII_SALT is not set"):
        resolve_pii_salt(None, env={})
    with pytest.raises(SaltError, match="at least 16"):
        resolve_pii_salt("local:short")
    with pytest.raises(SaltError, match="'NOPE'"):
        resolve_pii_salt("env:NOPE", env={})
    no_key = FakeSecrets({"SecretString": '{"password": "x"}'})
    with pytest.raises(SaltError, match="without a string 'salt' key"):
        resolve_pii_salt("clv/pii", env={}, secrets_client_factory=lambda: no_key)


def test_hmac_reference_matches_the_standard_library():
    salt = b"test-salt-0123456789"
    assert hmac_sha256_hex("a@b.com", salt) == hmac.new(salt, b"a@b.com", hashlib.sha256).hexdigest()
    assert hmac_sha256_hex(None, salt) is None


def test_job_arguments_fallback_parses_glue_style_arguments():
    argv = [
        "ingest_transactions.py",
        "--JOB_NAME",
        "x",
        "--date",
        "2024-03-01",
        "--landing-uri",
        "s3://raw/landing",
        "--TempDir",
        "s3://tmp/",
        "--layout",
        "online-retail",
    ]
    args = parse_job_args(
        argv, ["date", "landing-uri"], {"layout": "generic", "run-id": None}, use_glue=False
    )
    assert args == {
        "JOB_NAME": "x",
        "date": "2024-03-01",
        "landing_uri": "s3://raw/landing",
        "layout": "online-retail",
        "run_id": None,
    }
    assert run_id_from(args).startswith("local-")
    assert run_id_from({"run_id": "exec-1", "JOB_RUN_ID": "jr_1"}) == "exec-1"
    assert run_id_from({"JOB_RUN_ID": "jr_1"}) == "jr_1"
    with pytest.raises(SystemExit):
        parse_job_args(["job", "--JOB_NAME", "x"], ["date"], {}, use_glue=False)


def test_parse_date():
    assert parse_date("2024-02-29") == dt.date(2024, 2, 29)
    for bad in ("2024-02-30", "2024-3-1", "20240301", ""):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            parse_date(bad)


def test_contracts_load_and_validate():
    layouts = load_layouts()
    assert set(layouts) == {"generic", "online-retail", "online-retail-ii"}
    assert layouts["online-retail-ii"].columns["customer_id"] == "Customer ID"
    assert layouts["online-retail"].timezone == "Europe/London"
    ref = load_reference_data()
    assert ref.fx_to_base["EUR"] == 0.86 and ref.base_currency == "GBP"
    with pytest.raises(ContractError, match="required fields not mapped: \\['sku'\\]"):
        parse_layouts(
            {
                "x": {
                    "columns": {
                        f: f for f in ("invoice_id", "customer_id", "invoice_ts", "quantity", "unit_price")
                    },
                    "timestamp_format": "yyyy-MM-dd HH:mm:ss",
                    "timezone": "UTC",
                    "default_currency": "GBP",
                }
            }
        )


def test_sku_rule_accepts_uci_and_generic_codes_and_rejects_garbage():
    ref = load_reference_data()
    for ok in ("85123A", "71053", "15056BL", "79323w", "POST", "m", "BANK CHARGES", "DCGS0066P", "DCGSSGIRL",
               "gift_0001_20", "GIFT50", "GIFT-100", " 22423 "):  # fmt: skip
        assert sku_is_allowed(ok, ref), ok
    for bad in (
        "X7#QZ9!",
        "ZQ9X7K2L",
        "85123A!",
        "1234567",
        "1234",
        "TEST001",
        "ADJUST",
        "",
        None,
        "post office",
    ):
        assert not sku_is_allowed(bad, ref), bad


def test_check_balance_raises_with_the_numbers():
    record = {
        "job": "j",
        "date": "2024-03-01",
        "landed_rows": 10,
        "silver_rows": 6,
        "quarantined_rows": 2,
        "dup": 1,
    }
    with pytest.raises(
        ReconciliationError, match="landed_rows=10 but silver_rows=6 \\+ quarantined_rows=2 \\+ dup=1 = 9"
    ):
        check_balance(record, total_key="landed_rows", part_keys=("silver_rows", "quarantined_rows", "dup"))
    check_balance(
        {**record, "dup": 2}, total_key="landed_rows", part_keys=("silver_rows", "quarantined_rows", "dup")
    )


def test_job_arguments_in_glue_go_through_get_resolved_options(monkeypatch):
    """In Glue, getResolvedOptions gets the required names plus only the optional ones present in argv."""
    calls = []

    def get_resolved_options(argv, names):
        calls.append(list(names))
        values = dict(zip(argv[1::2], argv[2::2], strict=False))
        return {n.replace("-", "_"): values[f"--{n}"] for n in names} | {"JOB_RUN_ID": "jr_42"}

    utils = types.ModuleType("awsglue.utils")
    utils.getResolvedOptions = get_resolved_options
    monkeypatch.setitem(sys.modules, "awsglue", types.ModuleType("awsglue"))
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)
    argv = ["script.py", "--JOB_NAME", "ingest", "--date", "2024-03-01", "--layout", "online-retail"]
    args = parse_job_args(argv, ["date"], {"layout": "generic", "reference-days": "30"}, use_glue=True)
    assert calls == [["JOB_NAME", "date", "layout"]]
    assert args == {
        "JOB_NAME": "ingest",
        "date": "2024-03-01",
        "layout": "online-retail",
        "reference_days": "30",
        "JOB_RUN_ID": "jr_42",
    }
    assert run_id_from(args) == "jr_42"


def test_local_spark_conf_is_tuned_for_many_small_files_and_takes_the_memory_from_the_environment():
    from clv_glue.common.runtime import SPARK_DRIVER_MEMORY_ENV, local_spark_conf

    conf = local_spark_conf({})
    assert conf["spark.driver.memory"] == "2g"
    assert int(conf["spark.sql.files.openCostInBytes"]) < 4 * 1024 * 1024  # below Spark's 4 MiB default
    assert conf["spark.sql.sources.parallelPartitionDiscovery.threshold"] == "100000"
    assert local_spark_conf({SPARK_DRIVER_MEMORY_ENV: "6g"})["spark.driver.memory"] == "6g"


def test_local_jvm_options_default_to_the_light_jit_and_gc_and_can_be_overridden():
    from clv_glue.common.runtime import LOCAL_JAVA_OPTIONS, SPARK_JAVA_OPTIONS_ENV, local_spark_conf

    assert local_spark_conf({})["spark.driver.extraJavaOptions"] == LOCAL_JAVA_OPTIONS
    assert "-XX:TieredStopAtLevel=1" in LOCAL_JAVA_OPTIONS
    override = local_spark_conf({SPARK_JAVA_OPTIONS_ENV: "-XX:+UseG1GC"})
    assert override["spark.driver.extraJavaOptions"] == "-XX:+UseG1GC"

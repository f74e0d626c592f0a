"""The balance check every Glue job runs before writing (clv_glue.common.quality), without Spark: a total
equal to the sum of its parts passes; one row more or less on either side raises ReconciliationError naming
every figure; the report text is stable JSON; the UTC-session guard accepts only the UTC spellings."""

import json
import re
from types import SimpleNamespace

import pytest
from clv_glue.common.quality import ReconciliationError, check_balance, require_utc_session, to_json

PARTS = ("silver_rows", "quarantined_rows", "duplicates_removed")


def _record(landed, silver=70, quarantined=20, duplicates=10):
    return {
        "job": "transactions",
        "date": "2024-03-01",
        "landed_rows": landed,
        "silver_rows": silver,
        "quarantined_rows": quarantined,
        "duplicates_removed": duplicates,
    }


@pytest.mark.parametrize(("landed", "balanced"), [(99, False), (100, True), (101, False)])
def test_landed_must_equal_the_sum_of_the_parts(landed, balanced):
    record = _record(landed)
    if balanced:
        check_balance(record, total_key="landed_rows", part_keys=PARTS)
        return
    with pytest.raises(ReconciliationError) as err:
        check_balance(record, total_key="landed_rows", part_keys=PARTS)
    assert str(err.value) == (
        f"reconciliation failed for transactions 2024-03-01: landed_rows={landed} but "
        "silver_rows=70 + quarantined_rows=20 + duplicates_removed=10 = 100"
    )


@pytest.mark.parametrize("part", PARTS)
def test_each_part_counts(part):
    record = _record(100)
    record[part] += 1
    with pytest.raises(ReconciliationError, match=f"{part}="):
        check_balance(record, total_key="landed_rows", part_keys=PARTS)
    record[part] -= 2
    with pytest.raises(ReconciliationError, match="= 99$"):
        check_balance(record, total_key="landed_rows", part_keys=PARTS)


def test_a_single_part_and_a_record_without_job_or_date():
    check_balance({"in": 5, "out": 5}, total_key="in", part_keys=("out",))
    with pytest.raises(
        ReconciliationError, match=r"^reconciliation failed for None None: in=5 but out=4 = 4$"
    ):
        check_balance({"in": 5, "out": 4}, total_key="in", part_keys=("out",))
    assert issubclass(ReconciliationError, RuntimeError)


def test_the_report_text_is_sorted_indented_json_with_a_newline():
    text = to_json({"b": 1, "a": {"d": 2, "c": None}, "when": __import__("datetime").date(2024, 3, 1)})
    assert text.endswith("}\n")
    assert json.loads(text) == {"a": {"c": None, "d": 2}, "b": 1, "when": "2024-03-01"}
    assert text.splitlines()[1] == '  "a": {'
    assert text.index('"a"') < text.index('"b"')


def _session(tz):
    return SimpleNamespace(
        conf=SimpleNamespace(get=lambda key: tz if key == "spark.sql.session.timeZone" else None)
    )


@pytest.mark.parametrize("tz", ["UTC", "Etc/UTC", "GMT", "Z", "+00:00"])
def test_the_utc_spellings_are_accepted(tz):
    require_utc_session(_session(tz))


@pytest.mark.parametrize("tz", ["Europe/London", "utc", "+01:00", None])
def test_any_other_session_zone_is_refused(tz):
    with pytest.raises(
        RuntimeError, match=re.escape(f"spark.sql.session.timeZone is {tz!r}; the Glue jobs need UTC")
    ):
        require_utc_session(_session(tz))

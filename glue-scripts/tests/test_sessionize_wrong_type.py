"""The wrong_type rule in Spark: the SQL pre-filter never hides a line that the exact Python check flags."""

from __future__ import annotations

import json
import random
from pathlib import Path

from clv_glue.sessionize.events import (
    FIELD_TYPES,
    json_type_error,
    may_have_wrong_type,
    wrong_type_field,
)
from pyspark.sql import functions as F  # noqa: N812

FIXTURES = Path(__file__).parent / "fixtures" / "clickstream"

BASE = {
    "schema_version": 1,
    "event_id": "27f23fde-e727-4435-a902-b87a9a690ebc",
    "event_type": "add_to_cart",
    "event_ts": "2023-03-01T00:00:24.385Z",
    "session_id": "d0743c85a3352086379875304970df9c",
    "customer_id": "10015163",
    "anonymous_id": "49d3900c9bf1657f",
    "device": "mobile",
    "country": "United Kingdom",
    "sku": "59067",
    "quantity": 2,
    "cart_value": 12.5,
    "revenue": 0,
}
# Values of every JSON type, including what Python's json accepts beyond the standard (NaN, Infinity).
ODD_VALUES = [
    '"7"',
    "7",
    "-7",
    "7.0",
    "1e3",
    "-0",
    "true",
    "false",
    "null",
    '{"a": 1}',
    "[1]",
    "NaN",
    "-Infinity",
]


def _lines() -> list[str]:
    lines = [line for f in sorted(FIXTURES.glob("*.jsonl")) for line in f.read_text().splitlines()]
    base = json.dumps(BASE)
    compact = json.dumps(BASE, separators=(",", ":"))
    for field in FIELD_TYPES:
        for value in ODD_VALUES:
            for template in (base, compact):
                obj_text = template.replace("}", f', "{field}": {value}}}', 1) if field not in BASE else None
                if obj_text is None:
                    # replace the field's value in place, with odd spacing around the colon
                    head, _, tail = template.partition(f'"{field}"')
                    rest = tail.split(",", 1)
                    obj_text = f'{head}"{field}" \t:\n {value}' + ("," + rest[1] if len(rest) > 1 else "}")
                lines.append(obj_text)
    lines += [
        '{"\\u0073ession_id": 42}',  # an escaped key: Python reads session_id
        '{"page": "a \\"session_id\\": 42"}',  # the key inside a string value
        '{"extra": {"session_id": 42}, "session_id": "ok"}',  # nested key, top level fine
        '{"session_id": 42, "session_id": "ok"}',  # repeated key: Python keeps the last
        '{"session_id": "ok", "session_id": 42}',
        '{"quantity": 3 }',
        '{"quantity":3}',
        '{"revenue":null}',
        "not json",
        "",
        "[1, 2]",
    ]
    rng = random.Random(7)
    for _ in range(300):
        obj = dict(BASE)
        field = rng.choice(list(FIELD_TYPES))
        obj[field] = json.loads(rng.choice([v for v in ODD_VALUES if v not in ("NaN", "-Infinity")]))
        lines.append(json.dumps(obj, separators=rng.choice([(",", ":"), (", ", ": ")])))
    return lines


def test_the_prefilter_never_hides_a_wrong_type_and_the_result_is_the_exact_check(spark):
    lines = _lines()
    expected = [json_type_error(line) for line in lines]
    assert sum(e is not None for e in expected) > 100  # the cases do exercise the rule
    df = spark.createDataFrame([(i, line) for i, line in enumerate(lines)], "i int, value string")
    rows = (
        df.select(
            "i",
            may_have_wrong_type(F.col("value")).alias("suspect"),
            wrong_type_field(F.col("value")).alias("w"),
        )
        .orderBy("i")
        .collect()
    )
    for row, line, want in zip(rows, lines, expected, strict=True):
        assert row["w"] == want, line
        if want is not None:
            assert row["suspect"], line


def test_ordinary_events_skip_the_python_check(spark):
    lines = [line for f in sorted(FIXTURES.glob("*.jsonl")) for line in f.read_text().splitlines()]
    df = spark.createDataFrame([(line,) for line in lines], "value string")
    flagged = df.where(may_have_wrong_type(F.col("value"))).collect()
    wrong = [line for line in lines if json_type_error(line) is not None]
    # Only the malformed fixture lines (wrong types, broken JSON) reach Python, not the valid events.
    assert len(flagged) < len(lines) / 4
    assert {r["value"] for r in flagged} >= set(wrong)

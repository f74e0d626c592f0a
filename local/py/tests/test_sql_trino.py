"""Every SQL file of sql/ parses as Trino (Athena engine version 3) with sqlglot.

The local runtime runs these files on DuckDB (local/athena/compat.ts), which accepts some syntax Trino does
not; this test catches that before a deployment does. It also checks a rule of the predictions table: a
scoring date may hold more than one model_version partition (a rerun after a promotion adds one), so every
SELECT that reads predictions must restrict model_version with an equality to a static value (a literal or a
? execution parameter) in its own WHERE clause; reading several versions would count customers twice.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

REPO = Path(__file__).resolve().parents[3]
SQL_DIR = REPO / "sql"
SQL_FILES = sorted(SQL_DIR.rglob("*.sql"))

# Tables whose reads must name these partition keys with a static equality: table -> keys.
PINNED_PARTITION_KEYS = {"predictions": ("model_version",)}


def parse_trino(path: Path, root: Path = REPO) -> list[exp.Expression]:
    """The statements of a SQL file parsed as Trino, failing with the file name on a parse error."""
    try:
        statements = sqlglot.parse(path.read_text(encoding="utf-8"), read="trino")
    except ParseError as e:
        raise AssertionError(f"{path.relative_to(root)} does not parse as Trino: {e}") from e
    return [s for s in statements if s is not None]


def test_there_are_sql_files():
    names = {p.relative_to(SQL_DIR).as_posix() for p in SQL_FILES}
    assert {"quality/aggregates.sql", "analytics/top_customers_by_clv.sql"} <= names


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.relative_to(SQL_DIR).as_posix())
def test_parses_as_trino(path: Path):
    statements = parse_trino(path)
    # Athena runs one statement per execution (named queries and the pipelines' StartQueryExecution alike)
    assert len(statements) == 1, f"{path.relative_to(REPO)}: {len(statements)} statements, expected 1"
    assert isinstance(statements[0], exp.Query), f"{path.relative_to(REPO)}: not a query"


def test_a_broken_statement_fails_and_names_the_file(tmp_path: Path):
    broken = tmp_path / "sql" / "broken.sql"
    broken.parent.mkdir()
    broken.write_text("SELECT a, FROM t WHERE (b = 1\n", encoding="utf-8")
    with pytest.raises(ParseError):
        sqlglot.parse(broken.read_text(encoding="utf-8"), read="trino")
    with pytest.raises(AssertionError, match="sql/broken.sql does not parse as Trino"):
        parse_trino(broken, root=tmp_path)


def _static(node: exp.Expression) -> bool:
    return isinstance(node, exp.Placeholder | exp.Literal)


def _has_static_equality(where: exp.Where | None, column: str) -> bool:
    if where is None:
        return False
    for eq in where.find_all(exp.EQ):
        left, right = eq.this, eq.expression
        for col, value in ((left, right), (right, left)):
            if isinstance(col, exp.Column) and col.name == column and _static(value):
                return True
    for in_ in where.find_all(exp.In):
        if (
            isinstance(in_.this, exp.Column)
            and in_.this.name == column
            and in_.expressions
            and all(_static(e) for e in in_.expressions)
        ):
            return True
    return False


def pinned_key_violations(statement: exp.Expression) -> list[str]:
    """Each read of a table with a pinned partition key whose SELECT has no static equality on it."""
    problems = []
    for table in statement.find_all(exp.Table):
        keys = PINNED_PARTITION_KEYS.get(table.name)
        if not keys:
            continue
        select = table.find_ancestor(exp.Select)
        where = select.args.get("where") if select is not None else None
        for key in keys:
            if not _has_static_equality(where, key):
                problems.append(f"{table.name} read without a static equality on {key}")
    return problems


# Files that choose the model version of each scoring date from the data (the production run: the
# batch-scoring run published last for its date) and join predictions ON both scoring_date and model_version
# of that run: one version per date by construction (test/sql/monitoring.test.ts reads a date holding two
# versions). Such a read must be an inner join on both keys.
JOINED_ON_PRODUCTION_RUN = {"monitoring/proxy_performance.sql", "monitoring/matured_cohort.sql"}


def _join_equalities(table: exp.Table) -> set[str]:
    """Column names compared with = in the ON condition of the join that reads `table` (empty when none)."""
    join = table.find_ancestor(exp.Join)
    if join is None or join.this is not table or join.args.get("on") is None:
        return set()
    if (join.side or "").upper() in {"LEFT", "RIGHT", "FULL"}:
        return set()
    names = set()
    for eq in join.args["on"].find_all(exp.EQ):
        for side in (eq.this, eq.expression):
            if isinstance(side, exp.Column) and side.table == (table.alias_or_name):
                names.add(side.name)
    return names


def joined_key_violations(statement: exp.Expression) -> list[str]:
    """Each read of predictions that is not an inner join on both scoring_date and model_version."""
    problems = []
    for table in statement.find_all(exp.Table):
        if table.name != "predictions":
            continue
        missing = {"scoring_date", "model_version"} - _join_equalities(table)
        if missing:
            problems.append(f"predictions not joined on {', '.join(sorted(missing))}")
    return problems


@pytest.mark.parametrize("path", SQL_FILES, ids=lambda p: p.relative_to(SQL_DIR).as_posix())
def test_pinned_partition_keys_are_restricted(path: Path):
    (statement,) = parse_trino(path)
    name = path.relative_to(SQL_DIR).as_posix()
    if name in JOINED_ON_PRODUCTION_RUN:
        assert joined_key_violations(statement) == [], path.relative_to(REPO).as_posix()
    else:
        assert pinned_key_violations(statement) == [], path.relative_to(REPO).as_posix()


@pytest.mark.parametrize(
    ("sql", "ok"),
    [
        ("SELECT * FROM r JOIN predictions AS p ON p.scoring_date = r.d AND p.model_version = r.v", True),
        ("SELECT * FROM r JOIN predictions AS p ON p.scoring_date = r.d", False),
        ("SELECT * FROM r LEFT JOIN predictions p ON p.scoring_date = r.d AND p.model_version = r.v", False),
        ("SELECT * FROM predictions", False),
    ],
)
def test_the_joined_key_check(sql: str, ok: bool):
    (statement,) = sqlglot.parse(sql, read="trino")
    assert (joined_key_violations(statement) == []) is ok


@pytest.mark.parametrize(
    ("sql", "ok"),
    [
        ("SELECT * FROM predictions WHERE model_version = ?", True),
        ("SELECT * FROM predictions WHERE ? = model_version AND scoring_date = '2024-01-07'", True),
        ("SELECT * FROM predictions WHERE model_version IN ('a', 'b')", True),
        ("SELECT * FROM predictions", False),
        ("SELECT * FROM predictions WHERE scoring_date = ?", False),
        # a value read from data is not static
        ("SELECT * FROM predictions WHERE model_version = (SELECT MAX(v) FROM t)", False),
        # the restriction must be on the SELECT that reads the table, not on an outer one
        ("SELECT * FROM (SELECT * FROM predictions) AS p WHERE p.model_version = ?", False),
        (
            "WITH v AS (SELECT * FROM predictions WHERE model_version = ?) "
            "SELECT * FROM v JOIN predictions AS p ON 1 = 1",
            False,
        ),
    ],
)
def test_the_pinned_key_check(sql: str, ok: bool):
    (statement,) = sqlglot.parse(sql, read="trino")
    assert (pinned_key_violations(statement) == []) is ok

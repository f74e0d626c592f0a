"""The Python resolver agrees with local/storage.ts on the shared cases.

The cases live in test/local/fixtures/resolver-cases.json; test/local/storage.test.ts reads the same file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clv_local.storage import DEFAULT_LOCAL_ROOT, local_root, resolve, resolve_s3_uri, to_s3_uri

CASES = json.loads(
    (Path(__file__).resolve().parents[3] / "test" / "local" / "fixtures" / "resolver-cases.json").read_text()
)
ROOT = Path(CASES["root"])


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["uri"])
def test_shared_resolver_cases(case: dict) -> None:
    if "error" in case:
        with pytest.raises(ValueError, match=case["error"].replace(".", r"\.")):
            resolve_s3_uri(case["uri"], ROOT)
    else:
        assert resolve_s3_uri(case["uri"], ROOT) == ROOT / case["path"]


def test_root_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CLV_LOCAL_ROOT", str(tmp_path))
    assert local_root() == tmp_path.resolve()
    expected = tmp_path.resolve() / "clv-local-gold/x/y.parquet"
    assert resolve_s3_uri("s3://clv-local-gold/x/y.parquet") == expected
    monkeypatch.delenv("CLV_LOCAL_ROOT")
    assert local_root() == DEFAULT_LOCAL_ROOT
    assert DEFAULT_LOCAL_ROOT.name == ".clv-local"
    assert (DEFAULT_LOCAL_ROOT.parent / "package.json").exists()


def test_round_trip_and_outside_root(tmp_path: Path) -> None:
    uri = "s3://clv-local-artifacts/models/job-1/output/model.tar.gz"
    assert to_s3_uri(resolve_s3_uri(uri, tmp_path), tmp_path) == uri
    with pytest.raises(ValueError, match="not inside the local object store"):
        to_s3_uri("/somewhere/else", tmp_path)


def test_resolve_accepts_local_paths_but_not_other_schemes() -> None:
    assert resolve("relative/dir") == Path("relative/dir")
    with pytest.raises(ValueError, match="unsupported URI scheme"):
        resolve("gs://bucket/key")

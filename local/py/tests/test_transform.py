"""Batch Transform stand-in: one request per input object, <name>.out written beside its relative path."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from clv_local.transform import load_program, transform


def _program(calls: list[tuple[str, str]]) -> SimpleNamespace:
    def model_fn(model_dir: str) -> dict:
        return {"factor": int((Path(model_dir) / "factor.txt").read_text())}

    def input_fn(body: str | bytes, content_type: str) -> list[int]:
        calls.append((type(body).__name__, content_type))
        return [int(x) for x in body.split()]

    def predict_fn(data: list[int], model: dict) -> list[int]:
        return [x * model["factor"] for x in data]

    def output_fn(prediction: list[int], accept: str) -> tuple[str, str]:
        return json.dumps(prediction), accept

    return SimpleNamespace(model_fn=model_fn, input_fn=input_fn, predict_fn=predict_fn, output_fn=output_fn)


def test_transform_every_object(tmp_path: Path) -> None:
    model_dir, inp, out = tmp_path / "model", tmp_path / "in", tmp_path / "out"
    model_dir.mkdir()
    (model_dir / "factor.txt").write_text("3")
    (inp / "part").mkdir(parents=True)
    (inp / "a.csv").write_text("1 2")
    (inp / "part" / "b.csv").write_text("5")
    calls: list[tuple[str, str]] = []
    outputs = transform(_program(calls), model_dir, inp, out, "text/csv", "application/json")
    assert outputs == ["a.csv.out", "part/b.csv.out"]
    assert json.loads((out / "a.csv.out").read_text()) == [3, 6]
    assert json.loads((out / "part" / "b.csv.out").read_text()) == [15]
    assert calls == [("str", "text/csv"), ("str", "text/csv")]


def test_load_program_requires_the_four_handlers() -> None:
    module = load_program("inference.py")
    assert all(callable(getattr(module, f)) for f in ("model_fn", "input_fn", "predict_fn", "output_fn"))
    with pytest.raises(FileNotFoundError, match="not found in sagemaker/"):
        load_program("no_such_program.py")


def test_split_line_packs_records_up_to_the_payload_limit() -> None:
    from clv_local.transform import MB, PayloadTooLargeError, requests

    body = b"".join(f"{i:09d}\n".encode() for i in range(5))  # 5 records of 10 bytes
    assert requests(body, "None", "MultiRecord", 6) == [body]
    assert requests(body, "Line", "SingleRecord", 6) == [body[i * 10 : (i + 1) * 10] for i in range(5)]
    assert requests(body, "Line", "MultiRecord", 6) == [body]
    big = b"x" * (MB - 1) + b"\n"  # exactly 1 MB per record
    assert len(requests(big * 3, "Line", "MultiRecord", 2)) == 2  # 2 MB fit, the third starts a new request
    assert requests(big, "None", "MultiRecord", 1) == [big]  # at the limit
    with pytest.raises(PayloadTooLargeError, match="exceeds MaxPayloadInMB=1"):
        requests(big + b"y", "None", "MultiRecord", 1)  # one byte above
    assert requests(big + b"y", "None", "MultiRecord", 0) == [big + b"y"]  # 0 = no limit


def test_program_loaded_from_the_model_code_folder(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "inference.py").write_text(
        "from packed_helper import factor\n"
        "def model_fn(d): return factor()\n"
        "def input_fn(b, ct): return [int(x) for x in b.split()]\n"
        "def predict_fn(data, m): return [x * m for x in data]\n"
        "def output_fn(p, accept): return ' '.join(map(str, p))\n"
    )
    (code / "packed_helper.py").write_text("def factor(): return 7\n")
    module = load_program("inference.py", code)
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    (inp / "a.csv").write_text("1 2")
    transform(module, tmp_path, inp, out, "text/csv", "text/csv")
    assert (out / "a.csv.out").read_text() == "7 14"
    with pytest.raises(FileNotFoundError, match="not found in the model's code folder"):
        load_program("other.py", code)

"""Batch Transform stand-in: the SageMaker inference handlers over every input object.

Called by local/integrations/sagemaker-transform.ts as
``python -m clv_local.transform --model-dir D --program inference.py --input-dir I --output-dir O
--content-type T --accept A [--split-type None|Line] [--batch-strategy MultiRecord|SingleRecord]
[--max-payload-mb M] [--code-dir C]``. For each file under the input directory (relative path kept) it calls
``input_fn(body, content_type)`` -> ``predict_fn(data, model)`` -> ``output_fn(prediction, accept)`` of the
program with ``model = model_fn(model_dir)`` loaded once, and writes ``<name>.out``, as Batch Transform does.

The program is a module of ``--code-dir`` when given (the ``code/`` folder packed into model.tar.gz, put first
on sys.path so its packages are the ones imported), else of sagemaker/. Requests: SplitType None sends each
object whole; Line splits it into records (lines), sent one per request (SingleRecord) or packed into requests
of at most MaxPayloadInMB (MultiRecord), the responses joined with newlines (AssembleWith Line). A request
over MaxPayloadInMB fails the job, as in SageMaker.
Prints one JSON summary line: {"objects": n, "outputs": [...], "program": "<file the handlers came from>"}.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

SAGEMAKER_DIR = Path(__file__).resolve().parents[3] / "sagemaker"


MB = 1024 * 1024


class PayloadTooLargeError(Exception):
    """A request is larger than MaxPayloadInMB."""


def load_program(program: str, code_dir: Path | None = None) -> ModuleType:
    base = code_dir if code_dir is not None else SAGEMAKER_DIR
    path = base / Path(program).name
    if not path.is_file():
        where = "sagemaker/" if code_dir is None else f"the model's code folder {code_dir}"
        raise FileNotFoundError(f"inference program {program!r} not found in {where} ({path})")
    if code_dir is not None:
        sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for fn in ("model_fn", "input_fn", "predict_fn", "output_fn"):
        if not callable(getattr(module, fn, None)):
            raise AttributeError(f"{path.name} does not define {fn}()")
    return module


def requests(body: bytes, split_type: str, batch_strategy: str, max_payload_mb: int) -> list[bytes]:
    """The request bodies Batch Transform sends for one object."""
    limit = max_payload_mb * MB if max_payload_mb > 0 else None  # 0 = no limit (streaming)
    if split_type == "None":
        parts = [body]
    elif split_type == "Line":
        records = [line for line in body.splitlines(keepends=True) if line.strip()]
        if batch_strategy == "SingleRecord":
            parts = records
        else:
            parts, current = [], b""
            for rec in records:
                if current and limit is not None and len(current) + len(rec) > limit:
                    parts.append(current)
                    current = b""
                current += rec
            if current:
                parts.append(current)
    else:
        raise ValueError(f"SplitType {split_type!r} is not supported (None, Line)")
    for part in parts:
        if limit is not None and len(part) > limit:
            raise PayloadTooLargeError(
                f"ClientError: a request of {len(part)} bytes exceeds MaxPayloadInMB={max_payload_mb}"
                + (" (SplitType None sends each object whole)" if split_type == "None" else "")
            )
    return parts


def transform(
    program: ModuleType,
    model_dir: Path,
    input_dir: Path,
    output_dir: Path,
    content_type: str,
    accept: str,
    *,
    split_type: str = "None",
    batch_strategy: str = "MultiRecord",
    max_payload_mb: int = 6,
) -> list[str]:
    model = program.model_fn(str(model_dir))
    outputs: list[str] = []
    for src in sorted(p for p in input_dir.rglob("*") if p.is_file()):
        rel = src.relative_to(input_dir)
        responses = []
        for body in requests(src.read_bytes(), split_type, batch_strategy, max_payload_mb):
            request = body.decode("utf-8") if content_type.startswith("text/") else body
            data = program.input_fn(request, content_type)
            result = program.output_fn(program.predict_fn(data, model), accept)
            if isinstance(result, tuple):  # (body, content_type) as some handlers return
                result = result[0]
            responses.append(result.encode("utf-8") if isinstance(result, str) else bytes(result))
        dest = output_dir / rel.parent / f"{rel.name}.out"
        dest.parent.mkdir(parents=True, exist_ok=True)
        joined = b"".join(r if r.endswith(b"\n") or len(responses) == 1 else r + b"\n" for r in responses)
        dest.write_bytes(joined)
        outputs.append(str(dest.relative_to(output_dir)))
    return outputs


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="clv_local.transform")
    for name in ("--model-dir", "--program", "--input-dir", "--output-dir", "--content-type", "--accept"):
        p.add_argument(name, required=True)
    p.add_argument("--split-type", default="None", choices=["None", "Line"])
    p.add_argument("--batch-strategy", default="MultiRecord", choices=["MultiRecord", "SingleRecord"])
    p.add_argument("--max-payload-mb", type=int, default=6)
    p.add_argument("--code-dir", type=Path)
    args = p.parse_args(list(argv))
    program = load_program(args.program, args.code_dir)
    outputs = transform(
        program,
        Path(args.model_dir),
        Path(args.input_dir),
        Path(args.output_dir),
        args.content_type,
        args.accept,
        split_type=args.split_type,
        batch_strategy=args.batch_strategy,
        max_payload_mb=args.max_payload_mb,
    )
    print(json.dumps({"objects": len(outputs), "outputs": outputs, "program": program.__file__}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

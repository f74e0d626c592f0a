"""Batch Transform stand-in: the SageMaker inference handlers over every input object.

Called by local/integrations/sagemaker-transform.ts as
``python -m clv_local.transform --model-dir D --program inference.py --input-dir I --output-dir O
--content-type T --accept A``. For each file under the input directory (relative path kept) it calls
``input_fn(body, content_type)`` -> ``predict_fn(data, model)`` -> ``output_fn(prediction, accept)`` of the
program (a module of sagemaker/) with ``model = model_fn(model_dir)`` loaded once, and writes ``<name>.out``,
as Batch Transform does. Prints one JSON summary line: {"objects": n, "outputs": [...]}.
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


def load_program(program: str) -> ModuleType:
    path = SAGEMAKER_DIR / Path(program).name
    if not path.is_file():
        raise FileNotFoundError(f"inference program {program!r} not found in sagemaker/ ({path})")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for fn in ("model_fn", "input_fn", "predict_fn", "output_fn"):
        if not callable(getattr(module, fn, None)):
            raise AttributeError(f"{path.name} does not define {fn}()")
    return module


def transform(
    program: ModuleType, model_dir: Path, input_dir: Path, output_dir: Path, content_type: str, accept: str
) -> list[str]:
    model = program.model_fn(str(model_dir))
    outputs: list[str] = []
    for src in sorted(p for p in input_dir.rglob("*") if p.is_file()):
        rel = src.relative_to(input_dir)
        body = src.read_bytes()
        request = body.decode("utf-8") if content_type.startswith("text/") else body
        data = program.input_fn(request, content_type)
        result = program.output_fn(program.predict_fn(data, model), accept)
        if isinstance(result, tuple):  # (body, content_type) as some handlers return
            result = result[0]
        dest = output_dir / rel.parent / f"{rel.name}.out"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(result.encode("utf-8") if isinstance(result, str) else bytes(result))
        outputs.append(str(dest.relative_to(output_dir)))
    return outputs


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="clv_local.transform")
    for name in ("--model-dir", "--program", "--input-dir", "--output-dir", "--content-type", "--accept"):
        p.add_argument(name, required=True)
    args = p.parse_args(list(argv))
    outputs = transform(
        load_program(args.program),
        Path(args.model_dir),
        Path(args.input_dir),
        Path(args.output_dir),
        args.content_type,
        args.accept,
    )
    print(json.dumps({"objects": len(outputs), "outputs": outputs}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

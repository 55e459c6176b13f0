"""Export time and fidelity of torch's two ONNX exporters, per generator.

For each hub generator (fcgan, lsgan, dcgan with the shipped Fashion-MNIST weights; dcgan64 fresh,
seed 0) and each exporter ("dynamo", the torch.export-based default, and "torchscript"): the wall
time of export_onnx (median of --repeats exports after one warm-up export, which pays the
exporter's one-off imports) and max |onnxruntime - PyTorch| from validate_onnx at batch sizes 1, 7
and 64. Prints a table (first export, median export, max |diff|, file size per model and exporter) and
writes it with the environment as JSON (--out). docs/benchmarks.md ("ONNX exporters") shows its table.

    python benchmarks/exporters.py [--out benchmarks/results/exporters.json] [--repeats 3]
"""
import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gan_models.choices import EXPORTERS
from gan_models.export import export_onnx, validate_onnx
from gan_models.sources import from_hub

SOURCES = (("fcgan", "fashion-mnist"), ("lsgan", "fashion-mnist"), ("dcgan", "fashion-mnist"), ("dcgan64", None))


def measure(name: str, dataset: str | None, exporter: str, folder: Path, repeats: int) -> dict:
    """One generator through one exporter: export seconds and validation differences."""
    source = from_hub(name, pretrained=dataset is not None, dataset=dataset)
    path = folder / f"{name}-{exporter}.onnx"
    seconds = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        export_onnx(source.generator, path, exporter=exporter, **source.export_kwargs())
        seconds.append(time.perf_counter() - start)
    report = validate_onnx(path, source.generator)
    batches = report.provider("cpu").batches
    return {"model": name, "dataset": dataset or "untrained", "exporter": exporter, "first_export_s": seconds[0],
            "export_s": statistics.median(seconds[1:]), "max_abs_diff": max(b.max_abs_diff for b in batches),
            "max_abs_diff_by_batch": {b.batch_size: b.max_abs_diff for b in batches},
            "file_mb": path.stat().st_size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/exporters.json"), help="JSON results file")
    parser.add_argument("--repeats", type=int, default=3, help="timed exports per generator and exporter")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, dataset in SOURCES:
            for exporter in EXPORTERS:
                rows.append(measure(name, dataset, exporter, Path(folder), args.repeats))
    print(f"{'model':<8} {'exporter':<12} {'first s':>8} {'export s':>9} {'max|diff|':>10} {'MB':>6}")
    for r in rows:
        print(f"{r['model']:<8} {r['exporter']:<12} {r['first_export_s']:>8.2f} {r['export_s']:>9.2f} "
              f"{r['max_abs_diff']:>10.2e} {r['file_mb']:>6.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    environment = {"torch": torch.__version__, "threads": torch.get_num_threads(), "repeats": args.repeats}
    args.out.write_text(json.dumps({"environment": environment, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

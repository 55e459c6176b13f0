"""int8 ONNX against float32 on the shipped generators: file size, fidelity to PyTorch and Frechet distance.

For each shipped generator (fcgan, lsgan, dcgan on MNIST and Fashion-MNIST) and each int8 method
of export.int8 ("dynamic", "static" QDQ): the float32 and int8 file sizes, max and mean
|int8 onnxruntime - PyTorch| over batch sizes 1, 7 and 64 (validate_onnx), and the Frechet
distance of the float32 and int8 files measured through onnxruntime on the same latents
(export.quality.evaluate_onnx: 10,000 samples for Fashion-MNIST, 2,000 for MNIST). Needs the
datasets under $GAN_MODELS_DATA. Prints a table (sizes, max and mean |diff|, FD float32 and int8, FD
change per generator and method) and writes it as JSON (--out). docs/benchmarks.md ("int8 ONNX: quality
and speed") shows its table.

    python benchmarks/int8_quality.py [--out benchmarks/results/int8_quality.json]
"""
import argparse
import json
import tempfile
from pathlib import Path

import torch

from gan_models.export import export_onnx, validate_onnx
from gan_models.export.int8 import quantize_onnx
from gan_models.export.quality import evaluate_onnx
from gan_models.sources import from_hub

SHIPPED = [(name, dataset) for dataset in ("mnist", "fashion-mnist") for name in ("fcgan", "lsgan", "dcgan")]


def measure(name: str, dataset: str, folder: Path) -> list[dict]:
    """One shipped generator: a row per int8 method."""
    source = from_hub(name, pretrained=True, dataset=dataset)
    fp32 = export_onnx(source.generator, folder / f"{name}-{dataset}.onnx", **source.export_kwargs())
    fp32_fd = evaluate_onnx(fp32, dataset).generated.frechet_distance
    rows = []
    for method in ("dynamic", "static"):  # "auto" picks dynamic for all of these
        int8 = quantize_onnx(fp32, folder / f"{name}-{dataset}.{method}.onnx", method=method)
        batches = validate_onnx(int8, source.generator).provider("cpu").batches
        int8_fd = evaluate_onnx(int8, dataset).generated.frechet_distance
        rows.append({"model": name, "dataset": dataset, "method": method, "fp32_mb": fp32.stat().st_size / 1e6,
                     "int8_mb": int8.stat().st_size / 1e6, "max_abs_diff": max(b.max_abs_diff for b in batches),
                     "mean_abs_diff": max(b.mean_abs_diff for b in batches), "fp32_frechet_distance": fp32_fd,
                     "int8_frechet_distance": int8_fd, "relative_change": (int8_fd - fp32_fd) / fp32_fd})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/int8_quality.json"), help="JSON file")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, dataset in SHIPPED:
            rows += measure(name, dataset, Path(folder))
    print(f"{'model':<6} {'dataset':<14} {'method':<8} {'fp32 MB':>8} {'int8 MB':>8} {'max|diff|':>9} "
          f"{'mean|diff|':>10} {'FD fp32':>8} {'FD int8':>8} {'change':>8}")
    for r in rows:
        print(f"{r['model']:<6} {r['dataset']:<14} {r['method']:<8} {r['fp32_mb']:>8.2f} {r['int8_mb']:>8.2f} "
              f"{r['max_abs_diff']:>9.3f} {r['mean_abs_diff']:>10.4f} {r['fp32_frechet_distance']:>8.2f} "
              f"{r['int8_frechet_distance']:>8.2f} {r['relative_change']:>+8.2%}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"environment": {"torch": torch.__version__}, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

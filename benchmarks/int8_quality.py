"""int8 ONNX against float32 on the shipped generators: file size, fidelity to PyTorch, Frechet distance and speed.

For each shipped generator (every record of gan_models/weights/generators.json, the conditional DCGAN-28s
and DCGAN-64 included) and each int8 method of export.int8 ("dynamic", "static" QDQ): the float32 and int8
file sizes, max and mean |int8 onnxruntime - PyTorch| over batch sizes 1, 7 and 64 (validate_onnx), the
Frechet distance of the float32 and int8 files measured through onnxruntime on the same latents
(export.quality.evaluate_onnx: --samples images, capped at the test split: 2,000 for MNIST), and the
milliseconds of a batch of 256 for each file. Needs the datasets under $GAN_MODELS_DATA.

Prints a row per generator and method (sizes, max and mean |diff|, FD float32 and int8, FD change, batch
milliseconds and the int8 speed-up) and writes them with the environment as JSON (--out).
docs/benchmarks.md ("int8 ONNX: quality and speed") shows its table.

    python benchmarks/int8_quality.py [--out benchmarks/results/int8_quality.json] [--samples 10000]
"""
import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gan_models.export import export_onnx, validate_onnx
from gan_models.export.int8 import quantize_onnx
from gan_models.export.quality import OnnxGenerator, evaluate_onnx
from gan_models.registry import WEIGHTS
from gan_models.sources import from_hub

SPEED_BATCH = 256


def shipped() -> list[tuple[str, str, bool]]:
    """(model, dataset, conditional) of every shipped generator, from the weight records."""
    return [(r.model, r.dataset, bool(r.conditional)) for r in WEIGHTS]


def batch_ms(path: Path, runs: int = 5) -> float:
    """Median milliseconds of onnxruntime drawing SPEED_BATCH images from the file at `path`."""
    generator = OnnxGenerator(path)
    z = torch.randn(SPEED_BATCH, generator.nz)
    labels = torch.arange(SPEED_BATCH) % generator.num_classes if generator.num_classes else None
    times = []
    for _ in range(runs + 1):  # the first run warms the session up
        start = time.perf_counter()
        generator(z) if labels is None else generator(z, labels)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times[1:])


def measure(name: str, dataset: str, conditional: bool, folder: Path, samples: int) -> list[dict]:
    """One shipped generator: a row per int8 method."""
    source = from_hub(name, pretrained=True, dataset=dataset, conditional=conditional)
    stem = f"{'c' if conditional else ''}{name}-{dataset}"
    fp32 = export_onnx(source.generator, folder / f"{stem}.onnx", **source.export_kwargs())
    fp32_fd = evaluate_onnx(fp32, dataset, n_samples=samples, distribution=False).generated.frechet_distance
    fp32_ms = batch_ms(fp32)
    rows = []
    for method in ("static",) if name == "dcgan64" else ("dynamic", "static"):
        int8 = quantize_onnx(fp32, folder / f"{stem}.{method}.onnx", method=method)
        batches = validate_onnx(int8, source.generator).provider("cpu").batches
        int8_fd = evaluate_onnx(int8, dataset, n_samples=samples, distribution=False).generated.frechet_distance
        int8_ms = batch_ms(int8)
        rows.append({"model": ("c" if conditional else "") + name, "dataset": dataset, "method": method,
                     "fp32_mb": fp32.stat().st_size / 1e6, "int8_mb": int8.stat().st_size / 1e6,
                     "max_abs_diff": max(b.max_abs_diff for b in batches),
                     "mean_abs_diff": max(b.mean_abs_diff for b in batches), "fp32_frechet_distance": fp32_fd,
                     "int8_frechet_distance": int8_fd, "relative_change": (int8_fd - fp32_fd) / fp32_fd,
                     "fp32_batch_ms": fp32_ms, "int8_batch_ms": int8_ms, "speedup": fp32_ms / int8_ms})
        r = rows[-1]
        print(f"{r['model']:<7} {dataset:<14} {method:<8} {r['fp32_mb']:>8.2f} {r['int8_mb']:>8.2f} "
              f"{r['max_abs_diff']:>9.3f} {r['mean_abs_diff']:>10.4f} {fp32_fd:>8.2f} {int8_fd:>8.2f} "
              f"{r['relative_change']:>+8.2%} {fp32_ms:>8.1f} {int8_ms:>8.1f} {fp32_ms / int8_ms:>7.2f}x", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/int8_quality.json"), help="JSON file")
    parser.add_argument("--samples", type=int, default=10_000, help="Images per FD (capped at the test split).")
    args = parser.parse_args()
    rows = []
    print(f"{'model':<7} {'dataset':<14} {'method':<8} {'fp32 MB':>8} {'int8 MB':>8} {'max|diff|':>9} "
          f"{'mean|diff|':>10} {'FD fp32':>8} {'FD int8':>8} {'change':>8} {'fp32 ms':>8} {'int8 ms':>8} {'speed':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for name, dataset, conditional in shipped():
            rows += measure(name, dataset, conditional, Path(folder), args.samples)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    environment = {"torch": torch.__version__, "machine": platform.processor() or platform.machine(),
                   "threads": torch.get_num_threads(), "samples": args.samples, "speed_batch": SPEED_BATCH}
    args.out.write_text(json.dumps({"environment": environment, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

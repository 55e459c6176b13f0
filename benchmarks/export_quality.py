"""The quality report of every shipped generator in PyTorch, as float32 ONNX and as int8 ONNX, and int8's speed.

For each shipped generator (every record of gan_models/weights/generators.json) the same report as
`gan-models evaluate` (seed 0, --samples images per set, capped at the test split: FD with its 95% interval,
KID, precision, recall, density and coverage, class numbers for conditional ones) is computed three ways on
the same latents: the PyTorch generator, its float32 ONNX file and its int8 ONNX file(s) under onnxruntime
(export.quality.evaluate_onnx), one per int8 method of export.int8 ("dynamic" U8U8 and "static" QDQ; DCGAN-64
static only, as export chooses). For float32 ONNX it gives the largest relative difference to PyTorch over
every number of the report; for int8 the FD change, the max and mean |int8 onnxruntime - PyTorch| over batch
sizes 1, 7 and 64 (validate_onnx; a file over its tolerances is reported as refused, as export refuses it) and
the speed-up: milliseconds of a batch of 256 for the float32 and the
int8 file, timed in alternating rounds so that a neighbour's load hits both alike (median per-round ratio).
Needs the datasets under $GAN_MODELS_DATA.

Prints a row per generator and form, and writes them with the environment as JSON (--out).
docs/benchmarks.md ("Quality of the exported files") shows its tables.

    python benchmarks/export_quality.py [--out benchmarks/results/export_quality.json] [--samples 10000]
    python benchmarks/export_quality.py --speed-only --out benchmarks/results/int8_speed.json   # idle machine
"""
import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gan_models.export import export_onnx, validate_onnx
from gan_models.export.errors import OnnxValueError
from gan_models.export.int8 import quantize_onnx
from gan_models.export.quality import OnnxGenerator, evaluate_onnx
from gan_models.machine import cpu_name
from gan_models.quality.metrics import EvaluationReport, evaluate_generator
from gan_models.registry import WEIGHTS
from gan_models.sources import from_hub

SPEED_BATCH = 256
SPEED_ROUNDS = 7


def headline(report: EvaluationReport) -> dict:
    """The numbers a table shows: FD, its interval, KID, precision ... (and class accuracy when conditional)."""
    d = report.generated_distribution
    row = {"frechet_distance": d.frechet_distance, "frechet_interval": d.frechet_interval, "kid": d.kid,
           "kid_std": d.kid_std, "precision": d.precision, "recall": d.recall, "density": d.density,
           "coverage": d.coverage}
    if report.generated_classes is not None:
        row |= {"class_accuracy": report.generated_classes.class_accuracy,
                "intra_class_frechet_distance": report.generated_classes.intra_class_frechet_distance}
    return row


def numbers(report: EvaluationReport) -> dict[str, float]:
    """Every number of the report's generated side, flattened: {dotted name: value}."""
    flat = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}", item)
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                walk(f"{prefix}[{i}]", item)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[prefix] = float(value)

    for part in ("generated", "generated_distribution", "generated_classes", "copy_check"):
        value = getattr(report, part)
        if value is not None:
            walk(part, dataclasses.asdict(value))
    return flat


def largest_relative_difference(a: EvaluationReport, b: EvaluationReport) -> tuple[float, str]:
    """max over the reports' numbers of |a - b| / max(|a|, 1e-12), and the number's name."""
    x, y = numbers(a), numbers(b)
    return max((abs(x[k] - y[k]) / max(abs(x[k]), 1e-12), k) for k in x)


def paired_batch_ms(fp32: Path, int8: Path) -> tuple[float, float, float]:
    """(median float32 ms, median int8 ms, median per-round float32 / int8 ratio) for a batch of SPEED_BATCH."""
    generators = OnnxGenerator(fp32), OnnxGenerator(int8)
    z = torch.randn(SPEED_BATCH, generators[0].nz)
    labels = torch.arange(SPEED_BATCH) % generators[0].num_classes if generators[0].num_classes else None

    def run(generator) -> float:
        start = time.perf_counter()
        generator(z) if labels is None else generator(z, labels)
        return (time.perf_counter() - start) * 1e3

    for generator in generators:  # warm-up
        run(generator)
    rounds = [(run(generators[0]), run(generators[1])) for _ in range(SPEED_ROUNDS)]
    return (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds),
            statistics.median(r[0] / r[1] for r in rounds))


def int8_methods(record) -> tuple[str, ...]:
    """The int8 methods measured for a record: DCGAN-64 has no Linear layer for dynamic quantization."""
    return ("static",) if record.model == "dcgan64" else ("dynamic", "static")


def measure_speed(record, folder: Path) -> list[dict]:
    """One shipped generator: the paired float32 / int8 batch timing of each int8 method, nothing else."""
    source = from_hub(record.model, pretrained=True, dataset=record.dataset, conditional=record.conditional)
    fp32 = export_onnx(source.generator, folder / f"{record.stem}.onnx", **source.export_kwargs())
    rows = []
    for method in int8_methods(record):
        int8 = quantize_onnx(fp32, folder / f"{record.stem}.{method}.onnx", method=method)
        fp32_ms, int8_ms, speedup = paired_batch_ms(fp32, int8)
        rows.append({"generator": record.stem, "form": f"onnx int8 {method}", "fp32_batch_ms": fp32_ms,
                     "int8_batch_ms": int8_ms, "speedup": speedup})
        print(f"{record.stem:<20} int8 {method:<8} float32 {fp32_ms:7.1f} ms, int8 {int8_ms:7.1f} ms, {speedup:.2f}x",
              flush=True)
    return rows


def measure(record, folder: Path, samples: int) -> list[dict]:
    """One shipped generator: a row for PyTorch, float32 ONNX and each int8 method."""
    source = from_hub(record.model, pretrained=True, dataset=record.dataset, conditional=record.conditional)
    stem, dataset = record.stem, record.dataset
    torch_report = evaluate_generator(source.generator, dataset, n_samples=samples)
    fp32 = export_onnx(source.generator, folder / f"{stem}.onnx", **source.export_kwargs())
    fp32_report = evaluate_onnx(fp32, dataset, n_samples=samples)
    difference, worst = largest_relative_difference(torch_report, fp32_report)
    rows = [{"generator": stem, "form": "pytorch", **headline(torch_report)},
            {"generator": stem, "form": "onnx float32", **headline(fp32_report), "file_mb": fp32.stat().st_size / 1e6,
             "max_relative_difference_to_pytorch": difference, "most_different_number": worst}]
    for method in int8_methods(record):
        int8 = quantize_onnx(fp32, folder / f"{stem}.{method}.onnx", method=method)
        try:
            batches = validate_onnx(int8, source.generator).provider("cpu").batches
        except OnnxValueError as err:  # `gan-models export` refuses this file and deletes it
            rows.append({"generator": stem, "form": f"onnx int8 {method}", "refused": str(err).split(": ", 1)[1]})
            continue
        int8_report = evaluate_onnx(int8, dataset, n_samples=samples)
        fp32_ms, int8_ms, speedup = paired_batch_ms(fp32, int8)
        fd, fp32_fd = int8_report.generated.frechet_distance, fp32_report.generated.frechet_distance
        rows.append({"generator": stem, "form": f"onnx int8 {method}", **headline(int8_report),
                     "file_mb": int8.stat().st_size / 1e6, "frechet_change": (fd - fp32_fd) / fp32_fd,
                     "max_abs_diff": max(b.max_abs_diff for b in batches),
                     "mean_abs_diff": max(b.mean_abs_diff for b in batches),
                     "fp32_batch_ms": fp32_ms, "int8_batch_ms": int8_ms, "speedup": speedup})
    for row in rows:
        if "refused" in row:
            print(f"{stem:<20} {row['form']:<17} refused by validation: {row['refused']}", flush=True)
            continue
        extra = (f"differs from PyTorch by <= {row['max_relative_difference_to_pytorch']:.1e} relative"
                 if "max_relative_difference_to_pytorch" in row else
                 f"FD {row['frechet_change']:+.2%}, mean|diff| {row['mean_abs_diff']:.4f}, {row['speedup']:.2f}x"
                 if "speedup" in row else "")
        print(f"{stem:<20} {row['form']:<17} FD {row['frechet_distance']:7.2f} KID {row['kid']:7.3g} "
              f"P {row['precision']:.3f} R {row['recall']:.3f} D {row['density']:.3f} C {row['coverage']:.3f}  "
              f"{extra}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/export_quality.json"), help="JSON file")
    parser.add_argument("--samples", type=int, default=10_000, help="Images per set (capped at the test split).")
    parser.add_argument("--only", nargs="*", default=None, help="Generator stems to measure [default: all].")
    parser.add_argument("--speed-only", action="store_true",
                        help="Only the paired float32 / int8 timings (for an idle machine), no quality report.")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for record in WEIGHTS:
            if args.only is None or record.stem in args.only:
                rows += (measure_speed(record, Path(folder)) if args.speed_only
                         else measure(record, Path(folder), args.samples))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    environment = {"torch": torch.__version__, "machine": cpu_name(),
                   "threads": torch.get_num_threads(), "samples": args.samples, "speed_batch": SPEED_BATCH,
                   "speed_rounds": SPEED_ROUNDS}
    args.out.write_text(json.dumps({"environment": environment, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

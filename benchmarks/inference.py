"""Generator inference speed on CPU: PyTorch eager vs onnxruntime (float32 and int8), same run, same threads.

For each generator at its default width (fcgan, dcgan, dcgan64) and batch size (1 and 256),
measures the latency of one call in PyTorch, in onnxruntime on the float32 export, and in
onnxruntime on its int8 quantization (export.int8, dynamic), prints a table with the file sizes
and writes JSON. onnxruntime sessions come from gan_models.export.session.make_session, the configuration
validation uses too; both runtimes get torch.get_num_threads() threads.

onnxruntime's idle threads spin between runs (--no-spin-wait to turn that off), as they would on a
dedicated inference host; on a busy machine spinning costs more than it saves (see make_session).

Paired rounds: each round times a block of PyTorch calls and a block of each onnxruntime session
back to back (which goes first rotates), after a pause that lets the other runtime's spinning
threads go to sleep. The speed-up is the median over rounds of the per-round ratio of the two
blocks' median latencies. On a shared machine the load changes from second to second; a ratio
within one round compares the runtimes under the same load, and the median over rounds ignores
the rounds a neighbour disturbed. The JSON keeps every round.

Prints a table per generator and batch size (PyTorch, onnxruntime float32 and int8 latencies, speed-ups,
file sizes) and writes it with the environment and every round as JSON (--out). docs/benchmarks.md
("Inference: PyTorch against onnxruntime" and the int8 speed table) shows its tables.

    python benchmarks/inference.py [--out benchmarks/results/inference.json] [--seconds 6] [--rounds 15]
"""
import argparse
import json
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime
import torch

from gan_models.export.int8 import quantize_onnx
from gan_models.export.onnx import INPUT_NAME, export_onnx
from gan_models.export.session import make_session
from gan_models.machine import cpu_name
from gan_models.registry import build_generator

MODELS = ("fcgan", "dcgan", "dcgan64")
BATCH_SIZES = (1, 256)
SETTLE_S = 0.02  # pause before each block: spinning threads of the other runtime give up their cores


def block_median_ms(call, seconds: float, min_calls: int = 3) -> float:
    """Median wall time of `call` in ms over about `seconds` of calls, after one warm-up call."""
    time.sleep(SETTLE_S)
    call()
    times, start = [], time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < seconds:
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1e3


def measure_cell(calls: dict, seconds: float, rounds: int) -> dict:
    """Paired rounds of one block per runtime in `calls` (name -> callable; the first is PyTorch, the reference).

    The order of the blocks rotates from round to round. Returns each runtime's median latency in ms
    and, for the others, the median over rounds of the per-round speed-up over the reference.
    """
    names = list(calls)
    times = {name: [] for name in names}
    block_s = seconds / (len(names) * rounds)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(block_median_ms(calls[name], block_s))
    reference = names[0]
    cell = {f"{name}_ms": statistics.median(times[name]) for name in names}
    for name in names[1:]:
        speedups = [r / t for r, t in zip(times[reference], times[name], strict=True)]
        cell[f"{name}_speedup"] = statistics.median(speedups)
        cell[f"{name}_speedup_range"] = [min(speedups), max(speedups)]
        cell[f"{name}_faster_rounds"] = sum(s > 1 for s in speedups)
    cell["rounds"] = {f"{name}_ms": times[name] for name in names}
    return cell


def measure(name: str, folder: Path, seconds: float, rounds: int, spin_wait: bool) -> list[dict]:
    """One generator: a cell per batch size in BATCH_SIZES, PyTorch vs float32 and int8 ONNX."""
    torch.manual_seed(0)
    generator = build_generator(name).eval()
    fp32 = export_onnx(generator, folder / f"{name}.onnx", model=name)
    int8 = quantize_onnx(fp32, folder / f"{name}.int8.onnx")
    sessions = {runtime: make_session(path, spin_wait=spin_wait) for runtime, path in (("onnxruntime", fp32),
                                                                                        ("int8", int8))}
    sizes = {"fp32_mb": fp32.stat().st_size / 1e6, "int8_mb": int8.stat().st_size / 1e6}
    cells = []
    for batch in BATCH_SIZES:
        z = torch.randn(batch, generator.nz)
        feed = {INPUT_NAME: z.numpy()}
        calls = {"pytorch": partial(generator, z), **{runtime: partial(session.run, None, feed)
                                                      for runtime, session in sessions.items()}}
        with torch.inference_mode():
            cell = measure_cell(calls, seconds, rounds)
        cells.append({"model": name, "batch": batch, **sizes, **cell})
    return cells  # the sessions are released here, before the next model's are built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/inference.json"), help="JSON results file")
    parser.add_argument("--seconds", type=float, default=6.0, help="time budget per model and batch, both runtimes")
    parser.add_argument("--rounds", type=int, default=15, help="paired rounds per model and batch")
    parser.add_argument("--spin-wait", action=argparse.BooleanOptionalAction, default=True,
                        help="let onnxruntime's idle threads spin, as on a dedicated inference host (see make_session)")
    args = parser.parse_args()

    cells = []
    with tempfile.TemporaryDirectory() as folder:
        for name in MODELS:
            cells += measure(name, Path(folder), args.seconds, args.rounds, args.spin_wait)

    print(f"{'model':<8} {'batch':>5} {'PyTorch ms':>11} {'ORT ms':>9} {'speed-up':>9} {'int8 ms':>9} {'speed-up':>9} "
          f"{'int8 img/s':>10} {'fp32 MB':>8} {'int8 MB':>8}")
    for c in cells:
        print(f"{c['model']:<8} {c['batch']:>5} {c['pytorch_ms']:>11.3f} {c['onnxruntime_ms']:>9.3f} "
              f"{c['onnxruntime_speedup']:>8.2f}x {c['int8_ms']:>9.3f} {c['int8_speedup']:>8.2f}x "
              f"{c['batch'] / c['int8_ms'] * 1e3:>10.0f} {c['fp32_mb']:>8.2f} {c['int8_mb']:>8.2f}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    environment = {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__,
                   "threads": torch.get_num_threads(), "seconds": args.seconds, "rounds": args.rounds,
                   "spin_wait": args.spin_wait, "machine": cpu_name()}
    args.out.write_text(json.dumps({"environment": environment, "results": cells}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Generator inference speed on CPU: PyTorch eager vs onnxruntime, same run, same threads.

For each generator at its default width (fcgan, dcgan, dcgan64) and batch size (1 and 256),
measures the latency of one call and the images per second it implies, prints a table and
writes JSON. onnxruntime sessions come from export.session.make_session, the configuration
validation uses too; both runtimes get torch.get_num_threads() threads.

onnxruntime's idle threads spin between runs (--no-spin-wait to turn that off), as they would on a
dedicated inference host; on a busy machine spinning costs more than it saves (see make_session).

Paired rounds: each round times a block of PyTorch calls and a block of onnxruntime calls back
to back (which goes first alternates), after a pause that lets the other runtime's spinning
threads go to sleep. The speed-up is the median over rounds of the per-round ratio of the two
blocks' median latencies. On a shared machine the load changes from second to second; a ratio
within one round compares the runtimes under the same load, and the median over rounds ignores
the rounds a neighbour disturbed. The JSON keeps every round.

    python benchmarks/inference.py [--out benchmarks/results/inference.json] [--seconds 6] [--rounds 15]
"""
import argparse
import json
import platform
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import onnxruntime
import torch

from export.onnx import INPUT_NAME, export_onnx
from export.session import make_session
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


def measure_cell(eager, ort, seconds: float, rounds: int) -> dict:
    """Paired rounds of `eager` and `ort` blocks; latencies in ms and the per-round speed-ups."""
    eager_ms, ort_ms = [], []
    block_s = seconds / (2 * rounds)
    for index in range(rounds):
        if index % 2:
            ort_ms.append(block_median_ms(ort, block_s))
            eager_ms.append(block_median_ms(eager, block_s))
        else:
            eager_ms.append(block_median_ms(eager, block_s))
            ort_ms.append(block_median_ms(ort, block_s))
    speedups = [e / o for e, o in zip(eager_ms, ort_ms, strict=True)]
    return {"pytorch_ms": statistics.median(eager_ms), "onnxruntime_ms": statistics.median(ort_ms),
            "speedup": statistics.median(speedups), "speedup_min": min(speedups), "speedup_max": max(speedups),
            "rounds_onnxruntime_faster": sum(s > 1 for s in speedups),
            "rounds": {"pytorch_ms": eager_ms, "onnxruntime_ms": ort_ms}}


def measure(name: str, folder: Path, seconds: float, rounds: int, spin_wait: bool) -> list[dict]:
    """One generator: a cell per batch size in BATCH_SIZES."""
    torch.manual_seed(0)
    generator = build_generator(name).eval()
    session = make_session(export_onnx(generator, folder / f"{name}.onnx", model=name), spin_wait=spin_wait)
    cells = []
    for batch in BATCH_SIZES:
        z = torch.randn(batch, generator.nz)
        feed = {INPUT_NAME: z.numpy()}
        with torch.inference_mode():
            cell = measure_cell(partial(generator, z), partial(session.run, None, feed), seconds, rounds)
        cells.append({"model": name, "batch": batch, **cell})
    return cells  # the session is released here, before the next model's is built


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

    print(f"{'model':<8} {'batch':>5} {'PyTorch ms':>11} {'ORT ms':>9} {'ORT img/s':>10} {'speed-up':>9} "
          f"{'range':>11} {'ORT faster':>11}")
    for c in cells:
        print(f"{c['model']:<8} {c['batch']:>5} {c['pytorch_ms']:>11.3f} {c['onnxruntime_ms']:>9.3f} "
              f"{c['batch'] / c['onnxruntime_ms'] * 1e3:>10.0f} {c['speedup']:>8.2f}x "
              f"{c['speedup_min']:>5.2f}-{c['speedup_max']:<5.2f} {c['rounds_onnxruntime_faster']:>5}/{args.rounds}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    environment = {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__,
                   "threads": torch.get_num_threads(), "seconds": args.seconds, "rounds": args.rounds,
                   "spin_wait": args.spin_wait, "machine": platform.machine(), "processor": platform.processor()}
    args.out.write_text(json.dumps({"environment": environment, "results": cells}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Generator inference speed on CPU: PyTorch eager vs onnxruntime, same run, same threads.

For each generator at its default width (fcgan, dcgan, dcgan64) and batch size (1 and 256),
measures the latency of one call and the images per second it implies, prints a table and
writes JSON. onnxruntime sessions come from export.session.make_session, the configuration
validation uses too; both runtimes get torch.get_num_threads() threads.

onnxruntime's idle threads spin between runs (--no-spin-wait to turn that off), as they would on a
dedicated inference host; on a busy machine spinning costs more than it saves (see make_session).

The two runtimes are timed in alternating rounds and each keeps its best round's median: on a
shared machine the load changes from second to second, and alternating gives both the same
chances instead of handing one of them a quiet minute.

    python benchmarks/inference.py [--out benchmarks/results/inference.json] [--seconds 3] [--rounds 5]
"""
import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime
import torch

from export.onnx import INPUT_NAME, export_onnx
from export.session import make_session
from gan_models.registry import build_generator

MODELS = ("fcgan", "dcgan", "dcgan64")
BATCH_SIZES = (1, 256)


def median_ms(call, seconds: float, min_runs: int = 5, max_runs: int = 1000) -> float:
    """Median wall time of `call` in ms, after two warm-up calls, over about `seconds` of runs."""
    call(), call()  # first calls allocate buffers and pick kernels
    times, start = [], time.perf_counter()
    while len(times) < min_runs or (time.perf_counter() - start < seconds and len(times) < max_runs):
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    return statistics.median(times) * 1e3


def measure(name: str, folder: Path, seconds: float, rounds: int, spin_wait: bool) -> list[dict]:
    torch.manual_seed(0)
    generator = build_generator(name).eval()
    session = make_session(export_onnx(generator, folder / f"{name}.onnx", model=name), spin_wait=spin_wait)
    rows = []
    for batch in BATCH_SIZES:
        z = torch.randn(batch, generator.nz)
        feed = {INPUT_NAME: z.numpy()}
        eager, ort = [], []
        for _ in range(rounds):
            with torch.inference_mode():
                eager.append(median_ms(lambda: generator(z), seconds / rounds))
            ort.append(median_ms(lambda: session.run(None, feed), seconds / rounds))
        for runtime, ms in (("pytorch", min(eager)), ("onnxruntime", min(ort))):
            rows.append({"model": name, "batch": batch, "runtime": runtime, "ms": ms, "images_per_s": batch / ms * 1e3})
    return rows  # the session is released here, before the next model's is built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/inference.json"), help="JSON results file")
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget per runtime, model and batch")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per runtime, model and batch")
    parser.add_argument("--spin-wait", action=argparse.BooleanOptionalAction, default=True,
                        help="let onnxruntime's idle threads spin, as on a dedicated inference host (see make_session)")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in MODELS:
            rows += measure(name, Path(folder), args.seconds, args.rounds, args.spin_wait)

    print(f"{'model':<8} {'batch':>5} {'runtime':<12} {'ms':>9} {'images/s':>10}")
    for row in rows:
        print(f"{row['model']:<8} {row['batch']:>5} {row['runtime']:<12} {row['ms']:>9.3f} {row['images_per_s']:>10.0f}")
    for name in MODELS:
        for batch in BATCH_SIZES:
            ms = {r["runtime"]: r["ms"] for r in rows if r["model"] == name and r["batch"] == batch}
            print(f"{name} batch {batch}: onnxruntime is {ms['pytorch'] / ms['onnxruntime']:.2f}x PyTorch")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    environment = {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__,
                   "threads": torch.get_num_threads(), "seconds": args.seconds, "rounds": args.rounds, "spin_wait": args.spin_wait, "machine": platform.machine(), "processor": platform.processor()}
    args.out.write_text(json.dumps({"environment": environment, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Where a trainer step's time goes on this CPU, against the machine's own matrix-multiply limit.

For each model (FC-GAN, DCGAN-28 at default widths, batch 128, float32, MNIST-shaped random images) it runs
the trainer's own `train_step` under torch.profiler for --steps steps after a warm-up, and reports:
- the step's wall time, its FLOPs (torch.utils.flop_counter: matmuls and convolutions, forward and backward,
  as benchmarks/train_throughput.py counts them) and so its fraction of the measured float32 GEMM peak
  (a 2048 x 2048 matmul on torch's thread count, best of 10);
- the share of the step spent in each kind of operator (self CPU time of the profiler's top-level operators):
  matrix products and convolutions (with their backward), elementwise and activation work, BatchNorm,
  the Adam update, losses and reductions, and the rest (Python, autograd bookkeeping, dispatch, as the wall
  time not covered by any operator);
- the rate inside the matrix products and convolutions alone (their FLOPs over their time), against the peak;
- for each distinct matrix-product shape the step runs (FC-GAN), that product timed alone at its own size:
  the best a kernel does at those sizes, which bounds the step whatever the rest costs.
Run it on an otherwise idle machine.

Prints the table per model and writes it as JSON (--json). docs/benchmarks.md ("Where the step's time goes")
shows it.

    python benchmarks/step_profile.py [--models fcgan dcgan] [--steps 30] [--json benchmarks/results/step_profile.json]
"""
import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils.flop_counter import FlopCounterMode

from gan_models.machine import cpu_name
from gan_models.training.trainer import TrainConfig, Trainer

BATCH = 128
# Operator name fragments of each kind (the first match wins); everything else is "other operators".
KINDS = {
    "matrix products and convolutions": ("addmm", "aten::mm", "aten::bmm", "matmul", "linear", "convolution",
                                         "conv2d", "conv_transpose", "mkldnn_convolution", "_convolution"),
    "BatchNorm": ("batch_norm", "native_batch_norm"),
    "Adam update": ("_fused_adam", "adam"),
    "losses and reductions": ("binary_cross_entropy", "mse_loss", "sum", "mean", "item", "_local_scalar_dense"),
    "elementwise and activations": ("relu", "leaky", "tanh", "sigmoid", "threshold", "add", "mul", "sub", "div",
                                    "copy_", "fill_", "zero_", "cat", "split", "where", "randn", "normal", "neg",
                                    "clone", "empty", "to", "contiguous", "t", "view", "reshape", "permute"),
}


def gemm_peak_flops(n: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of the fastest of `repeats` float32 (n x n) @ (n x n) matmuls on torch's thread count."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    return 2 * n ** 3 / min(_seconds(lambda: a @ b) for _ in range(repeats))


def _seconds(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def kind_of(name: str) -> str:
    """The KINDS entry an operator belongs to, by its name."""
    lowered = name.lower()
    return next((kind for kind, parts in KINDS.items() if any(p in lowered for p in parts)), "other operators")


def make_trainer(model: str, folder: str) -> Trainer:
    """A default-config trainer for `model` on 1,024 random MNIST-shaped uint8 images."""
    images = torch.randint(0, 256, (1024, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return Trainer(TrainConfig(model=model, dataset="mnist", batch_size=BATCH, progress=False), folder, images=images)


def step_flops(trainer: Trainer, real: torch.Tensor) -> float:
    """FLOPs of one train_step (matmuls and convolutions, forward and backward)."""
    with FlopCounterMode(display=False) as counter:
        trainer.train_step(real)
    return counter.get_total_flops()


def gemm_shapes(events) -> set[tuple]:
    """The distinct (M, K, N) of the addmm and mm calls among profiler `events` (recorded with shapes)."""
    shapes = set()
    for event in events:
        dims = [tuple(s) for s in event.input_shapes if s]
        if event.key == "aten::addmm" and len(dims) >= 3:
            (m, k), (_, n) = dims[1], dims[2]
            shapes.add((m, k, n))
        elif event.key == "aten::mm" and len(dims) >= 2:
            (m, k), (_, n) = dims[0], dims[1]
            shapes.add((m, k, n))
    return shapes


def alone_rate(m: int, k: int, n: int, repeats: int = 50) -> float:
    """FLOP/s of the best of `repeats` float32 (m x k) @ (k x n) products at that size alone."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    a @ b
    return 2 * m * k * n / min(_seconds(lambda: a @ b) for _ in range(repeats))


def profile_model(model: str, steps: int, peak: float) -> dict:
    """The step's time split by operator kind, its FLOPs and rates, for `model`."""
    with tempfile.TemporaryDirectory() as folder:
        trainer = make_trainer(model, folder)
        real = next(iter(trainer.batches.iterate()))  # (B, 1, 28, 28) in [-1, 1]
        flops = step_flops(trainer, real)
        for _ in range(10):  # warm-up: allocator, oneDNN primitive caches, thread pool
            trainer.train_step(real)
        walls = [_seconds(lambda: trainer.train_step(real)) for _ in range(steps)]
        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            for _ in range(steps):
                trainer.train_step(real)
    events = prof.key_averages(group_by_input_shape=True)
    self_us = defaultdict(float)
    for event in events:
        self_us[kind_of(event.key)] += event.self_cpu_time_total
    profiled_us = sum(self_us.values())
    wall = statistics.median(walls)
    # The profiler's own overhead inflates operator times; shares are of the operators' total, scaled to the wall.
    shares = {kind: us / profiled_us for kind, us in sorted(self_us.items(), key=lambda kv: -kv[1])}
    gemm_seconds = wall * shares.get("matrix products and convolutions", 0.0)
    row = {"model": model, "step_ms": wall * 1e3, "images_per_s": BATCH / wall, "step_gflop": flops / 1e9,
           "fraction_of_peak": flops / wall / peak, "shares": shares,
           "gemm_rate_fraction_of_peak": flops / gemm_seconds / peak if gemm_seconds else None}
    shapes = sorted(gemm_shapes(events))
    if shapes:
        row["matrix_product_shapes"] = [{"m": m, "k": k, "n": n, "alone_fraction_of_peak": alone_rate(m, k, n) / peak}
                                        for m, k, n in shapes]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["fcgan", "dcgan"], choices=["fcgan", "dcgan"])
    parser.add_argument("--steps", type=int, default=30, help="Timed and profiled steps per model.")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/step_profile.json"))
    args = parser.parse_args()
    peak = gemm_peak_flops()
    print(f"float32 GEMM peak: {peak / 1e9:.1f} GFLOP/s (2048 x 2048 matmul, {torch.get_num_threads()} threads)")
    rows = []
    for model in args.models:
        row = profile_model(model, args.steps, peak)
        rows.append(row)
        print(f"\n{model}: {row['step_ms']:.1f} ms a step ({row['images_per_s']:.0f} images/s), "
              f"{row['step_gflop']:.2f} GFLOP, {row['fraction_of_peak']:.0%} of peak; inside the matrix products "
              f"and convolutions {row['gemm_rate_fraction_of_peak']:.0%} of peak")
        for kind, share in row["shares"].items():
            print(f"  {kind:<36} {share:6.1%}")
        for shape in row.get("matrix_product_shapes", []):
            print(f"  ({shape['m']} x {shape['k']}) @ ({shape['k']} x {shape['n']}) alone: "
                  f"{shape['alone_fraction_of_peak']:.0%} of peak")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    environment = {"torch": torch.__version__, "machine": cpu_name(),
                   "threads": torch.get_num_threads(), "gemm_peak_gflops": peak / 1e9, "batch_size": BATCH}
    args.json.write_text(json.dumps({"environment": environment, "results": rows}, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

"""Training throughput (images/s) of the gan-models trainer against the plain tutorial loop.

The plain loop is the common tutorial pattern: torchvision's MNIST dataset with a per-item
ToTensor + Normalize transform behind a DataLoader, then a D step and a G step with
BCEWithLogits. Both train the same networks (FC-GAN, DCGAN-28) at batch 128 on the same MNIST
images, one full epoch each, in the same process, alternating over several rounds (the median
round is reported), so the ratio is a fair comparison on this machine. The trainer's figure
includes its per-epoch work (grid, checkpoint, diversity check). The trainer runs in its default float32
and again with `compute_dtype="bfloat16"` (bfloat16 autocast).

The whole-process figure is what a user waits for: wall-clock seconds from starting a fresh Python
process to its exit, imports, data loading, every file of the run folder and the final loss curve
included: `gan-models train --epochs E` (default options: float32; and again with --compute-dtype
bfloat16) against this script running the tutorial loop for the same E epochs on the same 8,000
images in a process of its own.

Beside images/s it prints the fraction of the machine's own limit the trainer reaches: the FLOPs of
one training step (D on a real and a fake batch, G through D, forward and backward), counted by
torch.utils.flop_counter (matmuls and convolutions; Adam's elementwise work is not counted), per
image, times images/s, over the measured float32 GEMM peak (a 2048 x 2048 matmul on torch's thread
count, best of 10).

Prints a row per model (images/s of the plain loop, the trainer and the trainer in bfloat16, their ratios,
the trainer's fraction of peak, and the whole-process seconds) and writes every round as JSON (--json).
docs/benchmarks.md ("Training throughput") shows its table.

Usage: python benchmarks/train_throughput.py [--data-root DIR] [--models fcgan dcgan] [--whole-epochs 15]
       [--rounds 3] [--json benchmarks/results/train_throughput.json]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torch.utils.flop_counter import FlopCounterMode
from torchvision import datasets, transforms

from gan_models.data import default_root
from gan_models.machine import cpu_name
from gan_models.registry import build_discriminator, build_generator
from gan_models.training.trainer import TrainConfig, Trainer

BATCH = 128


def plain_loop_epoch(model: str, root: str, epochs: int = 1) -> float:
    """`epochs` epochs of the tutorial pattern; returns images/s."""
    torch.manual_seed(0)
    to_tensor = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    loader = DataLoader(datasets.MNIST(root, train=True, transform=to_tensor), batch_size=BATCH, shuffle=True,
                        drop_last=True)
    netG, netD = build_generator(model), build_discriminator(model)
    optG = torch.optim.Adam(netG.parameters(), lr=1e-3, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    images = 0
    start = time.perf_counter()
    for real, _ in (batch for _ in range(epochs) for batch in loader):
        b = real.size(0)
        ones, zeros = torch.ones(b, 1), torch.zeros(b, 1)
        fake = netG(torch.randn(b, netG.nz))
        optD.zero_grad()
        errD = bce(netD(real), ones) + bce(netD(fake.detach()), zeros)
        errD.backward()
        optD.step()
        optG.zero_grad()
        errG = bce(netD(fake), ones)
        errG.backward()
        optG.step()
        images += b
    return images / (time.perf_counter() - start)


def gemm_peak_flops(n: int = 2048, repeats: int = 10) -> float:
    """The machine's measured float32 GEMM peak: FLOP/s of the fastest of `repeats` (n x n) @ (n x n) matmuls."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up: thread pool and caches
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best


def step_flops_per_image(model: str) -> float:
    """FLOPs of one vanilla GAN step (D on real and fake, G through D; forward and backward) per image."""
    netG, netD = build_generator(model), build_discriminator(model)
    bce = nn.BCEWithLogitsLoss()
    real = torch.rand(BATCH, *netG.image_shape) * 2 - 1
    ones, zeros = torch.ones(BATCH, 1), torch.zeros(BATCH, 1)
    with FlopCounterMode(display=False) as counter:
        fake = netG(torch.randn(BATCH, netG.nz))
        (bce(netD(real), ones) + bce(netD(fake.detach()), zeros)).backward()
        bce(netD(fake), ones).backward()
    return counter.get_total_flops() / BATCH


def trainer_epoch(model: str, root: str, compute_dtype: str = "float32") -> float:
    """One epoch of gan-models' Trainer (including its end-of-epoch work); returns images/s."""
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(TrainConfig(model=model, dataset="mnist", data_root=root, epochs=1, batch_size=BATCH,
                                      compute_dtype=compute_dtype, progress=False), out)
        start = time.perf_counter()
        result = trainer.fit()
        return result.step * BATCH / (time.perf_counter() - start)


def whole_process_seconds(command: list[str]) -> float:
    """Wall-clock seconds of a fresh process running `command`, from its start to its exit."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def whole_processes(model: str, root: str, epochs: int) -> tuple[float, float, float]:
    """(tutorial loop, `gan-models train`, the same in bfloat16) seconds for `epochs` epochs, each a fresh process."""
    tutorial = whole_process_seconds([sys.executable, __file__, "--tutorial-process", model, "--data-root", root,
                                      "--whole-epochs", str(epochs)])
    ours = []
    for dtype in ("float32", "bfloat16"):
        with tempfile.TemporaryDirectory() as out:
            ours.append(whole_process_seconds([
                sys.executable, "-m", "gan_models.cli", "train", "--model", model, "--dataset", "mnist", "--data-root",
                root, "--epochs", str(epochs), "--compute-dtype", dtype, "--no-progress", "--out", f"{out}/run"]))
    return tutorial, *ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(default_root()))
    parser.add_argument("--json", default="benchmarks/results/train_throughput.json")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per model; the median is reported.")
    parser.add_argument("--models", nargs="+", default=["fcgan", "dcgan"], choices=["fcgan", "dcgan"])
    parser.add_argument("--whole-epochs", type=int, default=15, help="Epochs of the whole-process comparison.")
    parser.add_argument("--tutorial-process", metavar="MODEL", help=argparse.SUPPRESS)  # the tutorial's own process
    args = parser.parse_args()
    if args.tutorial_process:
        plain_loop_epoch(args.tutorial_process, args.data_root, epochs=args.whole_epochs)
        return
    peak = gemm_peak_flops()
    results = {"machine": cpu_name(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "batch_size": BATCH, "whole_process_epochs": args.whole_epochs,
               "gemm_peak_gflops": round(peak / 1e9, 1), "models": {}}
    print(f"float32 GEMM peak: {peak / 1e9:.1f} GFLOP/s (2048 x 2048 matmul, {torch.get_num_threads()} threads)")
    print(f"{'model':8s} {'plain loop img/s':>17s} {'trainer img/s':>14s} {'speed-up':>9s} {'trainer bf16':>13s} "
          f"{'speed-up':>9s} {'of peak':>8s} | {f'whole process, {args.whole_epochs} epochs: tutorial s':>37s} "
          f"{'trainer s':>10s} "
          f"{'speed-up':>9s} {'bf16 s':>7s} {'speed-up':>9s}")
    for model in args.models:
        rounds = [(plain_loop_epoch(model, args.data_root), trainer_epoch(model, args.data_root),
                   trainer_epoch(model, args.data_root, "bfloat16"),
                   *whole_processes(model, args.data_root, args.whole_epochs)) for _ in range(args.rounds)]
        plain, ours, bf16, tutorial_s, ours_s, bf16_s = (statistics.median(r[i] for r in rounds) for i in range(6))
        flops = step_flops_per_image(model)
        fraction = ours * flops / peak  # the trainer's float32 epoch against the machine's own GEMM limit
        results["models"][model] = {"plain_loop_images_per_s": round(plain, 1), "trainer_images_per_s": round(ours, 1),
                                    "speedup": round(ours / plain, 2), "trainer_bf16_images_per_s": round(bf16, 1),
                                    "step_mflop_per_image": round(flops / 1e6, 2),
                                    "trainer_fraction_of_gemm_peak": round(fraction, 3),
                                    "speedup_bf16": round(bf16 / plain, 2),
                                    "whole_process_tutorial_s": round(tutorial_s, 2),
                                    "whole_process_trainer_s": round(ours_s, 2),
                                    "whole_process_speedup": round(tutorial_s / ours_s, 2),
                                    "whole_process_trainer_bf16_s": round(bf16_s, 2),
                                    "whole_process_speedup_bf16": round(tutorial_s / bf16_s, 2),
                                    "rounds": [{"plain": round(p, 1), "trainer": round(t, 1),
                                                "trainer_bf16": round(b, 1), "whole_tutorial_s": round(ts, 2),
                                                "whole_trainer_s": round(os_, 2), "whole_trainer_bf16_s": round(bs, 2)}
                                               for p, t, b, ts, os_, bs in rounds]}
        print(f"{model:8s} {plain:17.0f} {ours:14.0f} {ours / plain:8.2f}x {bf16:13.0f} {bf16 / plain:8.2f}x "
              f"{fraction:8.0%} | "
              f"{tutorial_s:37.1f} {ours_s:10.1f} {tutorial_s / ours_s:8.2f}x "
              f"{bf16_s:7.1f} {tutorial_s / bf16_s:8.2f}x")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

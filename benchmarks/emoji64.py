"""Emoji64 loading time and DCGAN-64 training throughput on it (images/s), per width and precision.

Loading decodes all 7,572 PNGs (train and test split) into uint8 tensors, compositing transparency
onto white; nothing is cached. Its wall-clock time and its CPU time are reported: on a shared
machine the wall clock mostly measures the neighbours. Training times `Trainer.train_step` (a D
step and a G step, batch 64, EMA on) over a few steps after one warm-up step, for DCGAN-64 at the
paper's width (ngf = ndf = 64) and at half width, in float32 and with bfloat16 autocast. On a
shared machine single figures vary; rounds alternate the configurations and the median round is reported.

Prints the loading times (wall and CPU), images/s per configuration and round, and the median per
configuration; writes them as JSON only when --json is given.

Usage: python benchmarks/emoji64.py [--data-root DIR] [--threads 1] [--json benchmarks/results/emoji64.json]
"""
import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gan_models.dataroot import default_root
from gan_models.emoji import load_emoji
from gan_models.machine import cpu_name
from gan_models.training.config import TrainConfig
from gan_models.training.trainer import Trainer

CONFIGS = [(64, 64, "float32"), (64, 64, "bfloat16"), (32, 32, "float32"), (32, 32, "bfloat16")]  # (ngf, ndf, dtype)


def images_per_second(trainer: Trainer, steps: int) -> float:
    """Images/s of `steps` training steps after one warm-up step."""
    batches = trainer.batches.iterate()
    trainer.train_step(next(batches))
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(next(batches))
    return steps * trainer.config.batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=None, help="Folder holding Emoji64 [default: $GAN_MODELS_DATA].")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    root = args.data_root or default_root()

    load_seconds, load_cpu_seconds = [], []  # wall clock, and this process's CPU time (robust to neighbours)
    for _ in range(args.rounds):
        start, cpu = time.perf_counter(), time.process_time()
        train, _ = load_emoji(root, split="train")
        test, _ = load_emoji(root, split="test")
        load_seconds.append(time.perf_counter() - start)
        load_cpu_seconds.append(time.process_time() - cpu)
    print(f"load {len(train) + len(test):,} images: median {statistics.median(load_seconds):.2f} s wall, "
          f"{statistics.median(load_cpu_seconds):.2f} s CPU", flush=True)

    rounds = {f"ngf{g}-ndf{d}-{p}": [] for g, d, p in CONFIGS}
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.rounds):
            for ngf, ndf, precision in CONFIGS:
                config = TrainConfig(model="dcgan64", dataset="emoji", ngf=ngf, ndf=ndf, compute_dtype=precision,
                                     batch_size=64, ema_decay=0.999, progress=False)
                rate = images_per_second(Trainer(config, out, images=train), args.steps)
                rounds[f"ngf{ngf}-ndf{ndf}-{precision}"].append(rate)
                print(f"ngf {ngf} ndf {ndf} {precision}: {rate:.1f} images/s", flush=True)
    medians = {name: statistics.median(rates) for name, rates in rounds.items()}
    for name, rate in medians.items():
        print(f"{name}: median {rate:.1f} images/s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "machine": cpu_name(), "threads": args.threads,
            "torch": torch.__version__, "images": len(train) + len(test), "load_seconds": load_seconds,
            "load_cpu_seconds": load_cpu_seconds,
            "train_images_per_s": rounds, "median_images_per_s": medians}, indent=2) + "\n")


if __name__ == "__main__":
    main()

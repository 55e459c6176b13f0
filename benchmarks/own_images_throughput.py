"""How fast README's own-images command trains at 32 x 32 against the 64 x 64 half-width one, on a folder of shapes.

    python benchmarks/own_images_throughput.py --work runs/own-images-throughput --epochs 40 --rounds 2

Each config trains from scratch on the same 300 coloured shapes (small_data.py's make_folder; batch 32 and
the options README gives) for --epochs epochs, as `gan-models train` in a process of its own, the configs taking
turns for --rounds rounds. Per run it reads two figures: the median images/s of the training steps after the
first epoch (log.csv's images_per_s), and the images a second of the whole epochs, the per-epoch checkpoint and
grid included (real images seen over the wall-clock time from the first epoch's end to the last's, from the
epoch lines the run prints). Prints the median of each over the rounds and writes every run as JSON (--out),
with the machine. Run nothing else meanwhile: two torch processes on two cores slow each other far more than half.
"""
import argparse
import csv
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from small_data import make_folder

from gan_models.machine import cpu_name

RECIPE = ["--upsample", "resize", "--diffaugment", "translation,cutout", "--ema-decay", "0.999"]
CONFIGS = {"dcgan-32": ["--model", "dcgan", "--image-size", "32"],
           "dcgan64-half": ["--model", "dcgan64", "--ngf", "32", "--ndf", "32"]}
EPOCH_LINE = re.compile(r"^epoch (\d+)/\d+: (\d+)/\d+ steps")


def run_once(name: str, folder: Path, out: Path, epochs: int) -> dict:
    """Train config `name` for `epochs` epochs in a fresh process; its step and whole-epoch images/s."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "gan_models.cli", "train", *CONFIGS[name], "--dataset", "folder",
               "--data-root", str(folder), *RECIPE, "--epochs", str(epochs), "--seed", "0", "--no-progress",
               "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    epoch_ends = []  # (time, steps in the epoch) as each epoch's line arrives
    for line in process.stdout:
        match = EPOCH_LINE.match(line)
        if match:
            epoch_ends.append((time.perf_counter(), int(match.group(2))))
    if process.wait() != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}")
    with open(out / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    steps_per_epoch = epoch_ends[0][1]
    step_rates = [float(row["images_per_s"]) for row in rows[steps_per_epoch:]]
    batch = json.loads((out / "config.json").read_text())["batch_size"]
    images = sum(steps for _, steps in epoch_ends[1:]) * batch
    return {"config": name, "epochs": epochs, "steps": len(rows),
            "step_images_per_s": statistics.median(step_rates),
            "epoch_images_per_s": images / (epoch_ends[-1][0] - epoch_ends[0][0])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("runs/own-images-throughput"), help="folder and runs go here")
    parser.add_argument("--epochs", type=int, default=40, help="epochs per run (9 steps each)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each config, taking turns")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/own_images_throughput.json"))
    args = parser.parse_args()
    folder = make_folder("shapes-300", args.work, data_root=None)
    runs = [run_once(name, folder, args.work / name, args.epochs) for _ in range(args.rounds) for name in CONFIGS]
    for name in CONFIGS:
        mine = [run for run in runs if run["config"] == name]
        print(f"{name:13s} training steps {statistics.median(r['step_images_per_s'] for r in mine):6.0f} images/s, "
              f"whole epochs {statistics.median(r['epoch_images_per_s'] for r in mine):6.0f} images/s "
              f"({len(mine)} runs of {args.epochs} epochs)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": cpu_name(), "torch": torch.__version__,
                                    "threads": torch.get_num_threads(), "runs": runs}, indent=2))


if __name__ == "__main__":
    main()

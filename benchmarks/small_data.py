"""Which batch size and augmentation train DCGAN-64 best on a small folder: the measurements behind the defaults.

    python benchmarks/small_data.py --work runs/small-data --data-root ../shared/data
    python benchmarks/small_data.py --folders shapes-300 --configs b32,b32+da --budget 24000

For each folder and each config, trains `dcgan64` (default widths, seed 0, no EMA) from scratch on the folder
for the same number of real images seen (--budget, rounded up to whole epochs), then measures the generator
with `evaluate_generator(G, "folder", folder)`: the general-feature FD and KID against the folder's held-out
fifth, beside the real floor (the folder's train part against that fifth). On emoji folders it also gives the
Emoji64 classifier's FD against Emoji64's test split, the figure the shipped weights are judged by.

Folders (made under --work if missing; never committed):
  shapes-N: N coloured shapes in three class subfolders (scripts/make_shapes.py, seed 0);
  emoji-N:  N images of Emoji64's train split (a seeded subset), as PNGs in their category subfolders.
Configs: `+`-joined tokens: bN (batch size N), da (DiffAugment color,translation,cutout), ada (adaptive
augmentation at the paper's target 0.6 and speed, 500 kimg from p = 0 to 1), adaN (the same at N kimg),
r1 (R1, gamma 0.1 every 16 steps).

A run already finished under --work is measured again, not retrained; an interrupted one resumes. Prints a
row per run as it finishes and writes all rows as JSON (--out), with the machine it ran on.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch

from gan_models.data import load_labelled_images
from gan_models.images import to_pil
from gan_models.machine import cpu_name
from gan_models.quality.metrics import evaluate_generator
from gan_models.sources import from_checkpoint
from gan_models.training.config import TrainConfig
from gan_models.training.trainer import train

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_shapes import make_shapes  # noqa: E402

FOLDERS = ("shapes-300", "shapes-1000", "shapes-7000", "emoji-300", "emoji-1000", "emoji-7000")
CONFIGS = ("b32", "b64", "b128", "b32+da", "b64+da", "b128+da")
TOKENS = {"da": {"diffaugment": "color,translation,cutout"}, "tc": {"diffaugment": "translation,cutout"},
          "ada": {"ada_target": 0.6},
          "r1": {"r1_gamma": 0.1}}


def config_overrides(config: str) -> dict:
    """TrainConfig fields that a config name such as "b32+da" sets."""
    overrides = {}
    for token in config.split("+"):
        if token.startswith("b") and token[1:].isdigit():
            overrides["batch_size"] = int(token[1:])
        elif token in TOKENS:
            overrides.update(TOKENS[token])
        elif token.startswith("ada") and token[3:].isdigit():  # ADA whose p can go from 0 to 1 in N kimg
            overrides.update(TOKENS["ada"], ada_kimg=int(token[3:]))
        else:
            raise ValueError(f"config {config!r}: unknown token {token!r} (bN, {', '.join(TOKENS)})")
    return overrides


def make_folder(name: str, work: Path, data_root: Path | None) -> Path:
    """The folder `name` ("shapes-300", "emoji-1000", ...) under `work`, written first if missing."""
    folder = work / "data" / name
    if folder.is_dir():
        return folder
    kind, count = name.rsplit("-", 1)
    partial = folder.with_name(folder.name + ".partial")
    if kind == "shapes":
        make_shapes(partial, int(count))
    elif kind == "emoji":
        images, labels, classes = load_labelled_images("emoji", data_root, split="train")
        picked = torch.randperm(len(images), generator=torch.Generator().manual_seed(0))[:int(count)]
        for i in picked.tolist():
            target = partial / classes[labels[i]]
            target.mkdir(parents=True, exist_ok=True)
            to_pil(images[i:i + 1])[0].save(target / f"{i:05d}.png")
    else:
        raise ValueError(f"folder {name!r}: give shapes-N or emoji-N")
    partial.rename(folder)
    return folder


def measure(folder_name: str, config: str, work: Path, data_root: Path | None, budget: int) -> dict:
    """Train (or resume, or reuse) one run and measure it; its row of the results."""
    folder = make_folder(folder_name, work, data_root)
    count = sum(1 for path in folder.rglob("*.png"))
    overrides = config_overrides(config)
    epochs = math.ceil(budget / count)
    cfg = TrainConfig(model="dcgan64", dataset="folder", data_root=str(folder), epochs=epochs, progress=False,
                      **overrides)
    out = work / "runs" / folder_name / config
    checkpoint = out / "checkpoint.pt"
    steps = epochs * (count // cfg.batch_size)
    trained = checkpoint.exists() and torch.load(checkpoint, weights_only=True, map_location="cpu")["step"] >= steps
    start = time.perf_counter()
    if not trained:
        train(cfg, out, resume=checkpoint.exists())
    train_seconds = time.perf_counter() - start
    generator = from_checkpoint(checkpoint).generator
    report = evaluate_generator(generator, "folder", folder, n_samples=2000, seed=0)
    row = {"folder": folder_name, "images": count, "config": config, "epochs": epochs, "steps": steps,
           "train_seconds": train_seconds if not trained else None,
           "general_fd": report.generated_distribution.frechet_distance,
           "general_fd_interval": list(report.generated_distribution.frechet_interval),
           "kid": report.generated_distribution.kid, "real_fd": report.real_distribution.frechet_distance,
           "real_kid": report.real_distribution.kid, "compared": report.samples,
           **{name: getattr(report.generated_distribution, name) for name in ("precision", "recall", "coverage")},
           **{f"real_{name}": getattr(report.real_distribution, name) for name in ("precision", "recall", "coverage")}}
    if folder_name.startswith("emoji"):
        emoji = evaluate_generator(generator, "emoji", data_root, n_samples=2000, seed=0, distribution=False)
        row["emoji_classifier_fd"] = emoji.generated.frechet_distance
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("runs/small-data"), help="folders and runs go here")
    parser.add_argument("--data-root", type=Path, default=None, help="holds Emoji64 (default $GAN_MODELS_DATA)")
    parser.add_argument("--folders", default=",".join(FOLDERS), help="comma-separated folder names")
    parser.add_argument("--configs", default=",".join(CONFIGS), help="comma-separated configs")
    parser.add_argument("--budget", type=int, default=24_000, help="real images each run sees (whole epochs)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/small_data.json"))
    args = parser.parse_args()
    rows = json.loads(args.out.read_text())["runs"] if args.out.exists() else []
    for folder_name in args.folders.split(","):
        for config in args.configs.split(","):
            row = measure(folder_name, config, args.work, args.data_root, args.budget)
            rows = [r for r in rows if (r["folder"], r["config"]) != (folder_name, config)] + [row]
            emoji = f", emoji classifier FD {row['emoji_classifier_fd']:.1f}" if "emoji_classifier_fd" in row else ""
            print(f"{folder_name:12s} {config:14s} {row['steps']:5d} steps: general FD {row['general_fd']:.3g} "
                  f"(real {row['real_fd']:.3g}), KID {row['kid']:.3g} (real {row['real_kid']:.3g}), recall "
                  f"{row['recall']:.2f} (real {row['real_recall']:.2f}), coverage {row['coverage']:.2f} "
                  f"(real {row['real_coverage']:.2f}){emoji}",
                  flush=True)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"machine": cpu_name(),
                                            "torch": torch.__version__, "threads": torch.get_num_threads(),
                                            "budget": args.budget, "runs": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

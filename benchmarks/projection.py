"""Projection error (issue 21 item 3): do the shipped 28 x 28 DCGANs reproduce held-out images as well as training ones?

For each shipped DCGAN-28, unconditional and conditional, on MNIST and Fashion-MNIST, `project`
finds z for n test images and n training images (the first n of each split), and the table gives
the reconstruction's pixel MSE (in [-1, 1] units) and its Euclidean distance to the image in the
dataset classifier's 128 features: mean (with its standard error over the images) and median. A
held-out error far above the training error would show a generator that memorised its training
set. Conditional generators are given each image's true class (searching all 10 classes would cost
10 times as much). Deterministic for a seed.

Prints one line per generator and split; writes the figures as JSON (--json).

Usage: python benchmarks/projection.py [--data-root DIR] [--images 100] [--steps 100] [--restarts 3]
       [--json docs/projection.json]
"""
import argparse
import json
from pathlib import Path

import torch

from gan_models.data import load_labelled_images, to_unit_range
from gan_models.machine import cpu_name
from gan_models.projection import DEFAULT_FEATURE_WEIGHT, DEFAULT_LR, feature_distance, project_all
from gan_models.quality.classifier import load_classifier
from gan_models.sources import from_hub

GENERATORS = (("mnist", False), ("fashion-mnist", False), ("mnist", True), ("fashion-mnist", True))


def measure(dataset: str, conditional: bool, split: str, images: int, steps: int, restarts: int, seed: int,
            data_root) -> dict:
    """Pixel MSE and feature distance of the projections of the first `images` images of `split`."""
    generator = from_hub("dcgan", pretrained=True, dataset=dataset, conditional=conditional).generator
    classifier = load_classifier(dataset)
    pixels, labels, _ = load_labelled_images(dataset, data_root, split=split)
    target = to_unit_range(pixels[:images])
    result = project_all(generator, target, labels=labels[:images] if conditional else None, classifier=classifier,
                         steps=steps, restarts=restarts, seed=seed)
    mse = (result.reconstruction - target).pow(2).flatten(1).mean(dim=1)
    distance = feature_distance(classifier, result.reconstruction, target)
    return {"model": f"{'c' * conditional}dcgan", "dataset": dataset, "split": split, "images": len(target),
            "pixel_mse_mean": mse.mean().item(), "pixel_mse_median": mse.median().item(),
            "pixel_mse_sem": (mse.std() / len(mse) ** 0.5).item(),  # the mean's standard error, over the images
            "feature_distance_mean": distance.mean().item(), "feature_distance_median": distance.median().item(),
            "feature_distance_sem": (distance.std() / len(distance) ** 0.5).item()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    settings = {"images": args.images, "steps": args.steps, "restarts": args.restarts, "seed": args.seed,
                "lr": DEFAULT_LR, "feature_weight": DEFAULT_FEATURE_WEIGHT, "torch": torch.__version__,
                "machine": cpu_name()}
    rows = []
    print(f"{'generator':28s} {'split':6s} {'pixel MSE mean +- s.e. / median':>32s} "
          f"{'feature dist. mean +- s.e. / median':>36s}")
    for dataset, conditional in GENERATORS:
        for split in ("train", "test"):
            row = measure(dataset, conditional, split, args.images, args.steps, args.restarts, args.seed,
                          args.data_root)
            rows.append(row)
            print(f"{row['model'] + ' ' + dataset:28s} {split:6s} "
                  f"{row['pixel_mse_mean']:>12.4f} +- {row['pixel_mse_sem']:.4f} / {row['pixel_mse_median']:<9.4f} "
                  f"{row['feature_distance_mean']:>14.3f} +- {row['feature_distance_sem']:.3f} / "
                  f"{row['feature_distance_median']:<9.3f}", flush=True)
            if args.json is not None:  # after every row, so an interrupted run keeps what it measured
                args.json.write_text(json.dumps({"settings": settings, "rows": rows}, indent=2) + "\n")
    if args.json is not None:
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

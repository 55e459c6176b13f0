"""How well the general extractor's FD ranks generators: Spearman's rho against the shipped classifier's FD.

    python benchmarks/extractor_ranking.py --checkpoints /work/train --data-root ../shared/data

For Fashion-MNIST and Emoji64, every checkpoint `<dataset-prefix>-e*.pt` under --checkpoints (per-epoch copies
of short trainings, see docs/benchmarks.md) plus the dataset's shipped generators is measured twice on the
same n generated images against the same n test images (seed 0): FD in the general features
(gan_models.quality.general) and FD in the dataset's classifier features (the project's reference figure).
Prints one row per generator and each dataset's Spearman rank correlation; writes all of it as JSON (--out).
"""
import argparse
import json
from pathlib import Path

import torch
from scipy.stats import spearmanr

from gan_models.data import load_images
from gan_models.quality.frechet import feature_statistics, frechet_distance
from gan_models.quality.general import general_features, load_general_features
from gan_models.quality.metrics import evaluate_generator
from gan_models.registry import WEIGHTS
from gan_models.sampling import generate
from gan_models.sources import from_checkpoint, from_hub

PREFIXES = {"fashion-mnist": "fmnist", "emoji": "emoji"}  # checkpoint file prefix per dataset


def generators(dataset: str, folder: Path) -> list[tuple[str, object]]:
    """(name, generator) for the per-epoch checkpoints of `dataset` in `folder` and its shipped unconditional
    generators."""
    found = [(path.name, from_checkpoint(path).generator)
             for path in sorted(folder.glob(f"{PREFIXES[dataset]}-e*.pt"))]
    return found + [(f"shipped {r.model}", from_hub(r.model, pretrained=True, dataset=dataset).generator)
                    for r in WEIGHTS if r.dataset == dataset and not r.conditional]


def rank(dataset: str, folder: Path, data_root: Path | None, samples: int) -> dict:
    """Both FDs of every generator of `dataset` and their Spearman correlation."""
    network = load_general_features()
    test = load_images(dataset, data_root, split="test")
    n = min(samples, len(test))
    held_out = test[torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:n]]
    reference = feature_statistics(general_features(network, held_out).numpy())
    rows = []
    for name, generator in generators(dataset, folder):
        fake = generate(generator, n, 0)
        general = frechet_distance(*feature_statistics(general_features(network, fake).numpy()), *reference)
        classifier = evaluate_generator(generator, dataset, data_root, n_samples=n,
                                        distribution=False).generated.frechet_distance
        rows.append({"generator": name, "general_fd": general, "classifier_fd": classifier})
        print(f"{dataset:14s} {name:24s} general FD {general:10.4g}   classifier FD {classifier:9.3f}", flush=True)
    rho = spearmanr([r["general_fd"] for r in rows], [r["classifier_fd"] for r in rows]).statistic
    print(f"{dataset}: Spearman rho {rho:.3f} over {len(rows)} generators, n = {n:,}", flush=True)
    return {"dataset": dataset, "samples": n, "generators": rows, "spearman": float(rho)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoints", type=Path, required=True, help="folder of fmnist-e*.pt and emoji-e*.pt")
    parser.add_argument("--data-root", type=Path, default=None, help="default: $GAN_MODELS_DATA")
    parser.add_argument("--samples", type=int, default=2000, help="images per set (capped at the test split)")
    parser.add_argument("--out", type=Path, default=Path("extractor_ranking.json"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = [rank(dataset, args.checkpoints, args.data_root, args.samples) for dataset in PREFIXES]
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

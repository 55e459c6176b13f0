"""Truncation's trade-off (issue 21 item 1): sample quality of two shipped generators against psi.

For the shipped DCGAN-28 (normal noise) and LSGAN (uniform noise) trained on MNIST, each psi draws
n images with `generate(G, n, seed, truncation=psi)` and measures them as `gan-models evaluate`
does (gan_models.quality.metrics.evaluate_samples, in the MNIST classifier's features, against
n test images): the Frechet distance, precision (fidelity) and recall (diversity), and the KL
divergence of the predicted class shares from uniform (how unevenly the classes come out). Then
the same without truncation, and the real-vs-real floor. Deterministic for a seed.

Prints one line per generator and psi; writes the figures as JSON (--json) and the plot as PNG (--plot).

Usage: python benchmarks/truncation.py [--data-root DIR] [--samples 2000] [--json docs/truncation.json]
       [--plot docs/truncation.png]
"""
import argparse
import json
from pathlib import Path

import torch

import gan_models
from gan_models.machine import cpu_name
from gan_models.quality.metrics import evaluate_samples
from gan_models.sampling import generate

GENERATORS = (("dcgan", "mnist"), ("lsgan", "mnist"))  # (entry point, dataset): normal and uniform noise
PSIS = (0.5, 0.75, 1.0, 1.5, 2.0, None)  # None: no truncation
RESAMPLES = 10  # FD's bootstrap interval is not reported here; the fewest resamples keep the run short


def measure(name: str, dataset: str, psi: float | None, samples: int, seed: int, data_root) -> dict:
    """FD, precision, recall and class-share KL of `samples` images of the shipped `name` at truncation `psi`."""
    generator = getattr(gan_models, name)(pretrained=True, dataset=dataset)
    report = evaluate_samples(lambda n: generate(generator, n, seed, truncation=psi), dataset, data_root,
                              n_samples=samples, seed=seed, resamples=RESAMPLES)
    distribution, real = report.generated_distribution, report.real_distribution
    return {"model": name, "dataset": dataset, "noise": generator.noise, "psi": psi, "samples": report.samples,
            "fd": report.generated.frechet_distance, "precision": distribution.precision,
            "recall": distribution.recall, "class_kl": report.generated.kl_from_uniform,
            "classes_covered": report.generated.classes_covered,
            "real": {"fd": report.real.frechet_distance, "precision": real.precision, "recall": real.recall,
                     "class_kl": report.real.kl_from_uniform}}


def plot(rows: list[dict], path: Path) -> None:
    """Three panels against psi (FD; precision and recall; class KL), one line per generator, no truncation dashed."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = [("fd", "Frechet distance (classifier features)"), ("precision", "precision (-) and recall (--)"),
              ("class_kl", "class shares: KL from uniform (nats)")]
    for (name, dataset), colour in zip(GENERATORS, ("tab:blue", "tab:orange"), strict=True):
        mine = [row for row in rows if row["model"] == name]
        truncated = [row for row in mine if row["psi"] is not None]
        plain = next(row for row in mine if row["psi"] is None)
        psis = [row["psi"] for row in truncated]
        label = f"{name} {dataset} ({plain['noise']} noise)"
        for ax, (key, title) in zip(axes, panels, strict=True):
            keys = ("precision", "recall") if key == "precision" else (key,)
            for style, field in zip(("-", "--"), keys, strict=False):
                ax.plot(psis, [row[field] for row in truncated], style, marker="o", color=colour,
                        label=label if field == keys[0] else None)
                ax.axhline(plain[field], color=colour, linestyle=":", linewidth=1)
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("truncation psi (standard deviations); dotted: none")
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default=None, help="Folder holding MNIST/raw [default: $GAN_MODELS_DATA].")
    parser.add_argument("--samples", type=int, default=2000, help="Images per set (MNIST's hold-out: at most 2,000).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="Write the figures here.")
    parser.add_argument("--plot", type=Path, default=None, help="Write the plot here (PNG).")
    args = parser.parse_args()
    rows = []
    for name, dataset in GENERATORS:
        for psi in PSIS:
            row = measure(name, dataset, psi, args.samples, args.seed, args.data_root)
            rows.append(row)
            print(f"{name:6} {dataset:6} psi {str(psi):4}  FD {row['fd']:8.2f}  precision {row['precision']:.3f}  "
                  f"recall {row['recall']:.3f}  class KL {row['class_kl']:.3f}  covered {row['classes_covered']}/10",
                  flush=True)
        real = rows[-1]["real"]
        print(f"{name:6} {dataset:6} real-vs-real FD {real['fd']:.2f}  precision {real['precision']:.3f}  "
              f"recall {real['recall']:.3f}  class KL {real['class_kl']:.3f}")
    if args.json is not None:
        args.json.write_text(json.dumps({"machine": cpu_name(),
                                         "torch": torch.__version__, "seed": args.seed, "rows": rows}, indent=1)
                             + "\n")
    if args.plot is not None:
        plot(rows, args.plot)


if __name__ == "__main__":
    main()

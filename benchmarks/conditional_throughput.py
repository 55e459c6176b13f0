"""Training throughput of a conditional DCGAN-28 step against the unconditional one.

Two Trainers on the same MNIST images, batch 128, one unconditional and one `conditional=True`
(label embedding joined to z in G, projection discriminator), run the same trainer step
(`Trainer.train_step`: a D step and a G step). They alternate in rounds of a fixed number of
steps, so a neighbour's load on this shared machine hits both alike; each round gives a ratio,
and the median round is reported. Warm-up steps run first.

Prints the images/s of both per round, then the medians and the median per-round ratio; writes the rounds
as JSON (--json). docs/benchmarks.md ("Conditional training throughput") shows a run of it.

Usage: python benchmarks/conditional_throughput.py [--data-root DIR] [--rounds 7] [--steps 10]
       [--json benchmarks/results/conditional_throughput.json]
"""
import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from gan_models.dataroot import default_root
from gan_models.machine import cpu_name
from gan_models.training.trainer import TrainConfig, Trainer

BATCH = 128


def images_per_second(trainer: Trainer, batches: list, steps: int) -> float:
    """Images per second over `steps` trainer steps on the given (cycled) batches."""
    start = time.perf_counter()
    for i in range(steps):
        trainer.train_step(*batches[i % len(batches)])
    return steps * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(default_root()))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=10, help="Trainer steps per model per round.")
    parser.add_argument("--ngf", type=int, default=None, help="Generator width [default: the model's, 64].")
    parser.add_argument("--ndf", type=int, default=None, help="Discriminator width [default: the model's, 32].")
    parser.add_argument("--json", default="benchmarks/results/conditional_throughput.json")
    args = parser.parse_args()
    trainers, batches = {}, {}
    with tempfile.TemporaryDirectory() as out:
        for mode in ("unconditional", "conditional"):
            config = TrainConfig(model="dcgan", dataset="mnist", data_root=args.data_root, batch_size=BATCH,
                                 ngf=args.ngf, ndf=args.ndf, max_images=8 * BATCH, progress=False,
                                 conditional=mode == "conditional")
            trainer = trainers[mode] = Trainer(config, Path(out) / mode)
            batches[mode] = [b if config.conditional else (b,) for b in trainer.batches.iterate()]
            images_per_second(trainer, batches[mode], 3)  # warm-up: allocator pools, oneDNN kernel choice
        rounds = []
        for _ in range(args.rounds):
            speeds = {mode: images_per_second(trainers[mode], batches[mode], args.steps) for mode in trainers}
            rounds.append(speeds)
            print(f"unconditional {speeds['unconditional']:7.0f} img/s   conditional {speeds['conditional']:7.0f} "
                  f"img/s   ratio {speeds['conditional'] / speeds['unconditional']:.3f}", flush=True)
    ratio = statistics.median(r["conditional"] / r["unconditional"] for r in rounds)
    medians = {mode: statistics.median(r[mode] for r in rounds) for mode in trainers}
    print(f"median: unconditional {medians['unconditional']:.0f} img/s, conditional {medians['conditional']:.0f} "
          f"img/s; conditional / unconditional {ratio:.3f} (median of per-round ratios)")
    results = {"machine": cpu_name(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "batch_size": BATCH, "steps_per_round": args.steps,
               "ngf": trainers["conditional"].config.ngf, "ndf": trainers["conditional"].config.ndf,
               "rounds": rounds, "median_images_per_s": medians, "median_ratio": ratio}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

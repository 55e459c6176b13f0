"""Projection discriminator against an auxiliary classifier (AC-GAN), at equal budgets, on MNIST.

Both runs train the same class-conditional DCGAN-28 generator (gan_models.nets.conditional,
Mirza & Osindero 2014) from the same seed on the same batches, with the same optimiser, steps,
loss (non-saturating, vanilla) and warmed-up EMA of G; only the discriminator differs:

- projection (Miyato & Koyama 2018, arXiv 1802.05637): D(x, y) = psi(phi(x)) + <V[y], phi(x)>,
  gan_models.nets.conditional.ProjectionDiscriminator, the one the package ships;
- acgan (Odena et al. 2017, arXiv 1610.09585): D(x) = psi(phi(x)) plus a class head Linear(F, K)
  on the same phi; D minimises the adversarial loss plus the cross-entropy of the class head on
  real and fake images, G the adversarial loss plus the cross-entropy on its fakes (L_S, L_C of
  the paper). The class head exists only here, to be measured.

Each EMA generator is measured with gan_models.quality.metrics.evaluate_generator: class accuracy,
intra-class Frechet distance and the unconditional Frechet distance (on MNIST's 2,000-image
hold-out). Prints a row per discriminator and seed (class accuracy, intra-class FD, FD, classes covered,
training seconds) and the real floor; writes every run's report as JSON (--json). docs/benchmarks.md
("Projection discriminator against AC-GAN") shows its table for --epochs 8 --seeds 0 1.

Usage: python benchmarks/conditional_discriminators.py [--data-root DIR] [--epochs 10] [--seeds 0 1]
       [--json benchmarks/results/conditional_discriminators.json]
"""
import argparse
import copy
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gan_models.batches import ImageBatches
from gan_models.data import load_digits
from gan_models.dataroot import default_root
from gan_models.losses import get_loss
from gan_models.machine import cpu_name
from gan_models.nets import dcgan
from gan_models.nets.base import check_input
from gan_models.nets.conditional import ConditionalGenerator, ProjectionDiscriminator
from gan_models.quality.metrics import evaluate_generator
from gan_models.training.trainer import ema_update

K = 10


class ACGANDiscriminator(nn.Module):
    """AC-GAN discriminator around DCGAN-28's: (N, 1, 28, 28) -> adversarial logits (N, 1), class logits (N, K)."""

    def __init__(self, ndf: int) -> None:
        super().__init__()
        layers = dcgan.Discriminator28(ndf=ndf).net
        self.features, self.head = layers[:-1], layers[-1:]  # phi and psi, as ProjectionDiscriminator splits them
        self.classify = nn.Linear(layers[-1].in_features, K)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        check_input(x, ("N", 1, 28, 28), "images", self)
        phi = self.features(x)
        return self.head(phi), self.classify(phi)


def train(variant: str, images: torch.Tensor, labels: torch.Tensor, epochs: int, seed: int,
          ngf: int, ndf: int, batch_size: int) -> tuple[ConditionalGenerator, float]:
    """Train one variant; returns the EMA generator and the training seconds."""
    torch.manual_seed(seed)
    netG = ConditionalGenerator(dcgan.Generator28, ngf=ngf)
    if variant == "projection":
        netD = ProjectionDiscriminator(dcgan.Discriminator28, ndf=ndf)
    else:
        netD = ACGANDiscriminator(ndf)
    netG_ema = copy.deepcopy(netG).eval()
    optG = torch.optim.Adam(netG.parameters(), lr=1e-3, betas=(0.5, 0.999))
    optD = torch.optim.Adam(netD.parameters(), lr=1e-3, betas=(0.5, 0.999))
    loss = get_loss("vanilla")
    batches = ImageBatches(images, batch_size, labels=labels, seed=seed)
    rng = torch.Generator().manual_seed(seed)
    step, start = 0, time.perf_counter()
    for epoch in range(epochs):
        batches.set_epoch(epoch)
        for real, y_real in batches:
            y_fake = torch.randint(K, (batch_size,), generator=rng)
            fake = netG(torch.randn(batch_size, netG.nz, generator=rng), y_fake)
            if variant == "projection":
                errD = loss.d_loss(netD(real, y_real), netD(fake.detach(), y_fake))
            else:
                (real_logits, real_classes), (fake_logits, fake_classes) = netD(real), netD(fake.detach())
                errD = (loss.d_loss(real_logits, fake_logits) + F.cross_entropy(real_classes, y_real)
                        + F.cross_entropy(fake_classes, y_fake))
            optD.zero_grad(set_to_none=True)
            errD.backward()
            optD.step()
            netD.requires_grad_(False)
            if variant == "projection":
                errG = loss.g_loss(netD(fake, y_fake))
            else:
                fake_logits, fake_classes = netD(fake)
                errG = loss.g_loss(fake_logits) + F.cross_entropy(fake_classes, y_fake)
            netD.requires_grad_(True)
            optG.zero_grad(set_to_none=True)
            errG.backward()
            optG.step()
            step += 1
            ema_update(netG_ema, netG, min(0.999, (1 + step) / (10 + step)))
    return netG_ema, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(default_root()))
    parser.add_argument("--epochs", type=int, default=10, help="Epochs over MNIST's 8,000 train images per run.")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--variants", nargs="+", default=["projection", "acgan"], choices=["projection", "acgan"])
    parser.add_argument("--ngf", type=int, default=32, help="Generator width (the shipped DCGAN's half width).")
    parser.add_argument("--ndf", type=int, default=16, help="Discriminator width (the shipped DCGAN's).")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--json", default="benchmarks/results/conditional_discriminators.json")
    args = parser.parse_args()
    images, labels = load_digits("mnist", args.data_root, split="train")
    results = {"machine": cpu_name(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "dataset": "mnist", "train_images": len(images),
               "epochs": args.epochs, "batch_size": args.batch_size, "ngf": args.ngf, "ndf": args.ndf, "runs": []}
    print(f"{'variant':11s} {'seed':>4s} {'class acc':>9s} {'intra FD':>9s} {'FD':>7s} {'covered':>7s} {'train s':>7s}")
    for seed in args.seeds:
        for variant in args.variants:
            generator, seconds = train(variant, images, labels, args.epochs, seed, args.ngf, args.ndf, args.batch_size)
            report = evaluate_generator(generator, "mnist", args.data_root, seed=0)
            run = {"variant": variant, "seed": seed, "train_seconds": round(seconds, 1),
                   "class_accuracy": report.generated_classes.class_accuracy,
                   "intra_class_frechet_distance": report.generated_classes.intra_class_frechet_distance,
                   "frechet_distance": report.generated.frechet_distance,
                   "classes_covered": report.generated.classes_covered,
                   "per_class_accuracy": report.generated_classes.per_class_accuracy,
                   "real_class_accuracy": report.real_classes.class_accuracy,
                   "real_intra_class_frechet_distance": report.real_classes.intra_class_frechet_distance,
                   "real_frechet_distance": report.real.frechet_distance}
            results["runs"].append(run)
            print(f"{variant:11s} {seed:4d} {run['class_accuracy']:9.3f} {run['intra_class_frechet_distance']:9.2f} "
                  f"{run['frechet_distance']:7.2f} {run['classes_covered']:7d} {seconds:7.0f}", flush=True)
    print(f"real floor: class accuracy {run['real_class_accuracy']:.3f}, intra-class FD "
          f"{run['real_intra_class_frechet_distance']:.2f}, FD {run['real_frechet_distance']:.2f}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

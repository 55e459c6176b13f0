"""Training throughput (images/s) of the gan-models trainer against the plain tutorial loop.

The plain loop is the common tutorial pattern: torchvision's MNIST dataset with a per-item
ToTensor + Normalize transform behind a DataLoader, then a D step and a G step with
BCEWithLogits. Both train the same networks (FC-GAN, DCGAN-28) at batch 128 on the same MNIST
images, one full epoch each, in the same process, alternating over several rounds (the median
round is reported), so the ratio is a fair comparison on this machine. The trainer's figure
includes its per-epoch work (grid, overview sheet, checkpoint, loss curve). The trainer runs in
its default float32 and again with `compute_dtype="bfloat16"` (bfloat16 autocast).

Usage: python benchmarks/train_throughput.py [--data-root DIR] [--json benchmarks/results/train_throughput.json]
"""
import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from gan_models.data import default_root
from gan_models.registry import build_discriminator, build_generator
from gan_models.training.trainer import TrainConfig, Trainer

BATCH = 128


def plain_loop_epoch(model: str, root: str) -> float:
    """One epoch of the tutorial pattern; returns images/s."""
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
    for real, _ in loader:
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


def trainer_epoch(model: str, root: str, compute_dtype: str = "float32") -> float:
    """One epoch of gan-models' Trainer (including its end-of-epoch work); returns images/s."""
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(TrainConfig(model=model, dataset="mnist", data_root=root, epochs=1, batch_size=BATCH,
                                      compute_dtype=compute_dtype, progress=False), out)
        start = time.perf_counter()
        result = trainer.fit()
        return result.step * BATCH / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(default_root()))
    parser.add_argument("--json", default="benchmarks/results/train_throughput.json")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per model; the median is reported.")
    args = parser.parse_args()
    results = {"machine": platform.processor() or platform.machine(), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "batch_size": BATCH, "models": {}}
    print(f"{'model':8s} {'plain loop img/s':>17s} {'trainer img/s':>14s} {'speed-up':>9s} "
          f"{'trainer bf16':>13s} {'speed-up':>9s}")
    for model in ("fcgan", "dcgan"):
        rounds = [(plain_loop_epoch(model, args.data_root), trainer_epoch(model, args.data_root),
                   trainer_epoch(model, args.data_root, "bfloat16")) for _ in range(args.rounds)]
        plain, ours, bf16 = (statistics.median(r[i] for r in rounds) for i in range(3))
        results["models"][model] = {"plain_loop_images_per_s": round(plain, 1), "trainer_images_per_s": round(ours, 1),
                                    "speedup": round(ours / plain, 2), "trainer_bf16_images_per_s": round(bf16, 1),
                                    "speedup_bf16": round(bf16 / plain, 2),
                                    "rounds": [{"plain": round(p, 1), "trainer": round(t, 1),
                                                "trainer_bf16": round(b, 1)} for p, t, b in rounds]}
        print(f"{model:8s} {plain:17.0f} {ours:14.0f} {ours / plain:8.2f}x {bf16:13.0f} {bf16 / plain:8.2f}x")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

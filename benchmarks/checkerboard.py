"""Checkerboard energy (issue 23) of real Emoji64 images and of DCGAN-64 generators, transposed and resize-conv.

`gan_models.quality.checkerboard.checkerboard_energy`: the share of each image's spectral power (per channel,
mean removed) at the 2-D DFT's Nyquist frequencies (pi, 0), (0, pi), (pi, pi), averaged over images, where the
period-2 pattern of a stride-2 transposed conv lives. Measured on:
- real: the first --samples images of Emoji64's train split;
- shipped: the shipped dcgan64 emoji generator (torch.hub, local), --samples images from seed 0;
- fresh transpose and fresh resize: untrained DCGAN-64 generators (nz 100, ngf 64, 3 channels; torch seed 0 before
  each is built, so the same BatchNorm and first-layer initialisation), --samples images from seed 0, in eval mode
  as `G.sample` draws them (BatchNorm on its initial running statistics).

With --checkpoint RUN/checkpoint.pt (repeatable), also each trained run's (EMA) generator, --samples images from
seed 0; with --folder DIR, also the first --samples images of an image folder (e.g. the one those runs trained on).

Prints one line per set; writes the figures as JSON (--json).

Usage: OMP_NUM_THREADS=1 python benchmarks/checkerboard.py [--data-root DIR] [--samples 512]
       [--checkpoint CKPT ...] [--folder DIR] [--json benchmarks/results/checkerboard.json]
"""
import argparse
import json
from pathlib import Path

import torch

from gan_models.data import load_images, to_unit_range
from gan_models.machine import cpu_name
from gan_models.nets.dcgan import Generator
from gan_models.quality.checkerboard import checkerboard_energy
from gan_models.sources import from_checkpoint

REPO = Path(__file__).resolve().parent.parent  # holds hubconf.py


def image_sets(data_root, samples: int, checkpoints: list[Path], folder: Path | None) -> dict[str, torch.Tensor]:
    """The four sets of `samples` images (N, 3, 64, 64) in [-1, 1], then the folder's and each checkpoint's, by name."""
    real = to_unit_range(load_images("emoji", data_root, split="train")[:samples])
    shipped = torch.hub.load(str(REPO), "dcgan64", source="local", pretrained=True, dataset="emoji")
    sets = {"real emoji64 (train)": real, "shipped dcgan64 emoji": shipped.sample(samples, seed=0)}
    for upsample in ("transpose", "resize"):
        torch.manual_seed(0)
        sets[f"fresh {upsample}"] = Generator(upsample=upsample).sample(samples, seed=0)
    if folder is not None:
        sets[f"folder {folder}"] = to_unit_range(load_images("folder", folder, image_size=64)[:samples])
    for checkpoint in checkpoints:
        sets[f"checkpoint {checkpoint}"] = from_checkpoint(checkpoint).generator.sample(samples, seed=0)
    return sets


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default=None, help="Folder holding Emoji64 [default: $GAN_MODELS_DATA].")
    parser.add_argument("--samples", type=int, default=512, help="Images per set.")
    parser.add_argument("--checkpoint", type=Path, action="append", default=[], help="A trained run's checkpoint.")
    parser.add_argument("--folder", type=Path, default=None, help="An image folder, measured as real images.")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/checkerboard.json"))
    args = parser.parse_args()
    rows = []
    for name, images in image_sets(args.data_root, args.samples, args.checkpoint, args.folder).items():
        rows.append({"images": name, "count": len(images), "checkerboard_energy": checkerboard_energy(images)})
        print(f"{name:24} {len(images):4} images  checkerboard energy {rows[-1]['checkerboard_energy']:.6f}",
              flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"machine": cpu_name(), "threads": torch.get_num_threads(),
                                     "torch": torch.__version__, "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

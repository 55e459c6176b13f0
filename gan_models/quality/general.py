"""A general feature extractor for image sets no shipped classifier knows: a fixed random-weights CNN.

A folder of the user's own images has no classifier, and Inception needs weights no wheel ships. Naeem et al.
2020 (Reliable Fidelity and Diversity Metrics, arXiv 2002.09797, section 4) show that the features of a
randomly initialised CNN give meaningful FD and precision/recall on domains far from ImageNet. So the project
ships one: `GeneralFeatures`, four 3 x 3 conv blocks (ReLU, 2 x 2 average pool) at 64 x 64 whose weights are
Kaiming-normal draws from seed 0, never trained, saved once as a hash-checked state dict
(`gan_models/weights/extractor-random-cnn-<hash>.pt`, its record in `extractors.json` there) so every machine
measures in the same features. Its 256 features are the global means of every block's activations:
colour and edge statistics from the first block, larger structures from the last (receptive field 46 pixels).

Limits (`LIMITS`, printed with every figure in these features): nothing was learnt, so it sees image
statistics, not objects; its FD ranks generators of one image set (docs/benchmarks.md, "Ranking generators
in general features", measures how well against the shipped classifiers), but its values are comparable only
with the same extractor at the same image size, never with Inception FID or another feature space.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gan_models.nets.base import check_input
from gan_models.registry import WEIGHTS_DIR, load_checked_state_dict, read_records, save_weights, write_record

NAME = "random-cnn"
INPUT_SIZE = 64  # every image is resized to INPUT_SIZE x INPUT_SIZE before the network
WIDTHS = (16, 48, 64, 128)  # channels of the four blocks; their sum is the feature count
FEATURE_DIMS = sum(WIDTHS)  # 256
INIT_SEED = 0  # seeds the Kaiming draws of the shipped weights
LIMITS = ("general features: a fixed random-weights CNN (nothing learnt, no download) that ranks generators of "
          "one image set; not comparable with Inception FID, other features or other image sizes")


class GeneralFeatures(nn.Module):
    """Images (N, C, H, W) in [-1, 1], C = 1 or 3, H and W >= 4 -> (N, 256) float32 features, each >= 0.

    Grey images are repeated to three channels, then every image is resized to 64 x 64 (bilinear, antialiased
    when shrinking). Blocks: Conv(3, 16) - Conv(16, 48) - Conv(48, 64) - Conv(64, 128), each 3 x 3 with
    padding 1, ReLU and AvgPool(2) (64 -> 32 -> 16 -> 8 -> 4); the features are each block's channel means
    (16 + 48 + 64 + 128), 108,976 parameters.
    """

    def __init__(self) -> None:
        super().__init__()
        widths = (3, *WIDTHS)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2))
            for c_in, c_out in zip(widths[:-1], widths[1:], strict=True))

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
            raise ValueError(f"images must be a tensor (N, 1 or 3, H, W), got {getattr(images, 'shape', images)}")
        check_input(images, ("N", *images.shape[1:]), "images")  # floating point
        x = images.float()
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False,
                              antialias=x.shape[-1] > INPUT_SIZE)
        means = []
        for block in self.blocks:
            x = block(x)
            means.append(x.mean(dim=(2, 3)))  # (N, C_block)
        return torch.cat(means, dim=1)


def random_general_features(seed: int = INIT_SEED) -> GeneralFeatures:
    """A GeneralFeatures with Kaiming-normal conv weights (fan-in, ReLU gain) and zero biases drawn from `seed`:
    the shipped file holds these for seed 0. The gain keeps every block's activations at a similar scale, so
    no block's features dominate the distance."""
    network = GeneralFeatures()
    rng = torch.Generator().manual_seed(seed)
    for module in network.modules():
        if isinstance(module, nn.Conv2d):
            fan_in = module.in_channels * module.kernel_size[0] * module.kernel_size[1]
            with torch.no_grad():
                module.weight.copy_(torch.randn(module.weight.shape, generator=rng) * (2 / fan_in) ** 0.5)
                module.bias.zero_()
    return network.eval()


@dataclass(frozen=True)
class ExtractorRecord:
    """A shipped feature extractor's state dict and what it is."""

    KEY: ClassVar[tuple[str, ...]] = ("name",)

    name: str  # "random-cnn"
    file: str  # "extractor-<name>-<first 12 hex digits of sha256>.pt" in WEIGHTS_DIR
    sha256: str  # full hex digest of the file
    num_params: int
    input_size: int  # images are resized to input_size x input_size
    feature_dims: int
    command: str  # the exact command that wrote the file

    @property
    def stem(self) -> str:
        """The weight file's name before its hash: "extractor-<name>"."""
        return f"extractor-{self.name}"


MANIFEST = WEIGHTS_DIR / "extractors.json"
SHIP_COMMAND = 'python -c "from gan_models.quality.general import ship_general_features; ship_general_features()"'


def ship_general_features(folder: str | os.PathLike = WEIGHTS_DIR) -> ExtractorRecord:
    """Write the seed-0 GeneralFeatures state dict to `folder` under its hash name and its record into
    `folder`/extractors.json; byte-identical on every run with the same torch version."""
    network = random_general_features()
    path, sha256 = save_weights(network.state_dict(), Path(folder), f"extractor-{NAME}")
    record = ExtractorRecord(name=NAME, file=path.name, sha256=sha256,
                             num_params=sum(p.numel() for p in network.parameters()), input_size=INPUT_SIZE,
                             feature_dims=FEATURE_DIMS, command=SHIP_COMMAND)
    write_record(Path(folder) / MANIFEST.name, record)
    return record


def general_record() -> ExtractorRecord:
    """The shipped record of the general extractor."""
    return next(r for r in read_records(MANIFEST, ExtractorRecord) if r.name == NAME)


def load_general_features() -> GeneralFeatures:
    """The shipped GeneralFeatures in eval mode on the CPU, its file's SHA-256 checked first.

    Raises WeightsIntegrityError when the file is missing or its hash differs from the record.
    """
    record = general_record()
    network = GeneralFeatures()
    network.load_state_dict(load_checked_state_dict(WEIGHTS_DIR / record.file, record.sha256))
    return network.eval()


@torch.no_grad()
def general_features(network: GeneralFeatures, images: torch.Tensor, batch_size: int = 250) -> torch.Tensor:
    """(N, 256) float64 features of uint8 images (N, C, H, W), in batches."""
    return torch.cat([network(images[start:start + batch_size].float().div(127.5).sub(1)).double()
                      for start in range(0, len(images), batch_size)])

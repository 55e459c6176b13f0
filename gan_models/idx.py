"""MNIST-format raw files (IDX: big-endian sizes, then the bytes) read straight into tensors.

torchvision's MNIST and FashionMNIST classes read the same files, but importing torchvision adds
more to a short training run's start-up than importing torch itself; they remain the way to
download the files (gan_models.data.load_digits).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

UBYTE = 0x08  # the IDX type code of unsigned bytes, the only type these datasets use


def split_files(raw: Path, split: str) -> list[tuple[Path, Path]]:
    """The (images, labels) file pairs of a split ("train", "test" or "all") in a torchvision `raw` folder."""
    prefixes = {"train": ["train"], "test": ["t10k"], "all": ["train", "t10k"]}[split]
    return [(raw / f"{p}-images-idx3-ubyte", raw / f"{p}-labels-idx1-ubyte") for p in prefixes]


def read_idx(path: Path) -> torch.Tensor:
    """An IDX file of unsigned bytes as a uint8 tensor of the shape its header gives; ValueError if it is not one."""
    import torch

    data = Path(path).read_bytes()
    ndim = data[3] if len(data) >= 4 else 0
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = len(data) - 4 - 4 * ndim
    if data[:3] != bytes([0, 0, UBYTE]) or ndim == 0 or body != torch.Size(shape).numel():
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (truncated or damaged?)")
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(shape)

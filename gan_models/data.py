"""Training images: datasets by name, held in memory as uint8, batched and scaled to [-1, 1].

MNIST-family data is small, so it is read once into a uint8 tensor (N, C, H, W) and batched by
indexing: no per-item PIL transform, no DataLoader workers. Image folders and CelebA are decoded
once the same way (centre-cropped to a square, then resized). Scaling to [-1, 1] happens per
batch, so memory holds one byte per pixel.

The data root is the `root` argument, else the environment variable GAN_MODELS_DATA, else
`./data`. Layouts are torchvision's: `<root>/MNIST/raw`, `<root>/FashionMNIST/raw`, `<root>/celeba`;
Emoji64 is `<root>/Emoji64/<design>/<category>/<codepoints>.png` (see gan_models.emoji).

Images are decoded by gan_models.image_decoding, which composites transparency onto white.

What is known about each dataset (`DATASETS`) is data, readable without torch: the command line
builds its help from it before torch is loaded, which is why torch is imported in the functions here.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import ImageFile

from gan_models import idx
from gan_models.image_decoding import center_crop_resize, decode_image, pil_to_uint8
from gan_models.noise import as_seed

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class DatasetInfo:
    """What is known about a dataset before loading it."""

    name: str
    channels: int  # native image channels, the default when none are asked for
    image_size: int  # native (or default) height and width
    classes: tuple[str, ...] = ()  # names of its labels' classes, in label order; () for unlabelled data

    @property
    def labelled(self) -> bool:
        """Whether each image comes with a class label."""
        return bool(self.classes)


DATASETS = {
    info.name: info
    for info in (
        DatasetInfo("mnist", 1, 28, tuple("0123456789")),
        DatasetInfo("fashion-mnist", 1, 28, ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                             "Shirt", "Sneaker", "Bag", "Ankle boot")),
        DatasetInfo("celeba", 3, 64),  # centre-cropped and resized faces; its attributes are not classes
        DatasetInfo("folder", 3, 64),  # any image folder, centre-cropped and resized
        DatasetInfo("emoji", 3, 64, ("activities", "animals-nature", "component", "flags", "food-drink", "objects",
                                     "people-body", "smileys-emotion", "symbols", "travel-places")),  # Emoji64
    )
}
DATA_ROOT_ENV = "GAN_MODELS_DATA"
SPLITS = ("train", "test", "all")
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


class DatasetNotFoundError(FileNotFoundError):
    """The requested images are not where we looked; the message says where and how to fix it."""


def get_dataset(name: str) -> DatasetInfo:
    """The DatasetInfo called `name`; raises ValueError naming the choices for an unknown one."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASETS)}")
    return DATASETS[name]


def default_root() -> Path:
    """The data root: $GAN_MODELS_DATA if set, else ./data."""
    return Path(os.environ.get(DATA_ROOT_ENV) or "data")


def _resolve_root(root: str | os.PathLike | None) -> Path:
    return Path(root) if root is not None else default_root()


def _fix_hint(download_possible: bool) -> str:
    hint = f"pass --data-root (or set {DATA_ROOT_ENV}) to the folder that holds it"
    return f"{hint}, or pass --download to fetch it" if download_possible else hint


def load_digits(name: str, root: str | os.PathLike | None = None, *, split: str = "train",
                download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST or Fashion-MNIST images, uint8 (N, 1, 28, 28), and their labels, int64 (N,), in the same order.

    Read once from torchvision's raw files under `root` (default `default_root()`); `split` is
    "train", "test" or "all". Raises DatasetNotFoundError naming the folder it looked in.
    """
    import torch

    root = _resolve_root(root)
    files = idx.split_files(root / ("MNIST" if name == "mnist" else "FashionMNIST") / "raw", split)
    if all(path.is_file() for pair in files for path in pair):  # read without torchvision (see gan_models.idx)
        return (torch.cat([idx.read_idx(images) for images, _ in files]).unsqueeze(1),
                torch.cat([idx.read_idx(labels) for _, labels in files]).long())
    from torchvision import datasets

    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    images, labels = [], []
    for train in ([True, False] if split == "all" else [split == "train"]):
        try:
            digits = cls(str(root), train=train, download=download)
        except RuntimeError as err:
            if "not found" not in str(err):
                raise
            where = root / cls.__name__ / "raw"
            raise DatasetNotFoundError(f"{name} not found: looked in {where}; {_fix_hint(True)}") from None
        images.append(digits.data)
        labels.append(digits.targets)
    return torch.cat(images).unsqueeze(1), torch.cat(labels).long()


def _load_folder(root: Path, image_size: int, channels: int) -> torch.Tensor:
    """Every image below `root` (flat or ImageFolder-style) as uint8 (N, C, size, size); unreadable ones are skipped."""
    import torch

    if not root.is_dir():
        raise DatasetNotFoundError(f"image folder not found: {root} is not a directory; {_fix_hint(False)}")
    paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)
    images, skipped = [], []
    # PIL pads a truncated file with grey when this global is set (some libraries set it); a half
    # image would then train silently, so decoding here is always strict.
    tolerant, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        for path in paths:
            try:
                images.append(decode_image(path, image_size, channels))
            except Exception as err:  # decoders raise OSError, SyntaxError, ValueError, ...: all mean "unusable"
                skipped.append(f"{path} ({type(err).__name__}: {err})")
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = tolerant
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable image(s): " + "; ".join(skipped), stacklevel=3)
    if not images:
        raise DatasetNotFoundError(
            f"no usable images in {root} (looked for {', '.join(IMAGE_EXTENSIONS)} files, recursively)")
    return torch.stack(images)


def _load_celeba(root: Path, split: str, download: bool, image_size: int, channels: int) -> torch.Tensor:
    """CelebA (torchvision layout), centre-cropped and resized, as uint8 (N, C, size, size)."""
    import torch
    from torchvision import datasets

    try:
        celeba = datasets.CelebA(str(root), split=split, download=download)
    except RuntimeError as err:
        if "not found" not in str(err).lower() and "corrupted" not in str(err).lower():
            raise
        raise DatasetNotFoundError(f"celeba not found: looked in {root / 'celeba'}; {_fix_hint(True)}") from None
    images = []
    for index in range(len(celeba)):
        image, _ = celeba[index]
        images.append(pil_to_uint8(center_crop_resize(image, image_size), channels))
    return torch.stack(images)


def _resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a uint8 batch (N, C, H, W) to (N, C, size, size) with antialiased bilinear filtering."""
    import torch
    import torch.nn.functional as F

    resized = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return resized.round_().clamp_(0, 255).to(torch.uint8)


def load_images(name: str, root: str | os.PathLike | None = None, *, split: str = "train", download: bool = False,
                image_size: int | None = None, channels: int | None = None,
                emoji_design: str = "both") -> torch.Tensor:
    """Load a dataset's images into memory as a uint8 tensor (N, C, H, W) in [0, 255].

    Args:
        name: "mnist", "fashion-mnist", "celeba", "folder" or "emoji" (Emoji64, see gan_models.emoji).
        root: data root (for "folder": the image folder itself); default `default_root()`.
        split: "train", "test", or "all" (both merged; GANs use no labels). Ignored for "folder".
        download: fetch the dataset with torchvision if it is missing (needs internet).
        image_size: output height and width; default the dataset's (DATASETS).
        channels: 1 or 3; default the dataset's (DATASETS). Grayscale data is repeated to 3.
        emoji_design: for "emoji": "both", "google" or "twitter".

    Raises:
        ValueError: unknown name, split, channels or size.
        DatasetNotFoundError: the data is missing or a folder holds no usable image.
    """
    info = get_dataset(name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
    image_size = image_size or info.image_size
    channels = channels or info.channels
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if image_size < 4:
        raise ValueError(f"image_size must be >= 4, got {image_size}")
    root = _resolve_root(root)
    if name == "folder":
        return _load_folder(root, image_size, channels)
    if name == "emoji":
        from gan_models.emoji import load_emoji  # it decodes with this module's helpers

        return load_emoji(root, split=split, design=emoji_design, image_size=image_size, channels=channels)[0]
    if name == "celeba":
        return _load_celeba(root, split, download, image_size, channels)
    images = load_digits(name, root, split=split, download=download)[0]
    if image_size != images.shape[-1]:
        images = _resize_uint8(images, image_size)
    return images.expand(-1, channels, -1, -1).contiguous() if channels == 3 else images


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 images in [0, 255] -> float32 in [-1, 1] (x / 127.5 - 1), same shape."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Float images in [-1, 1] -> uint8 in [0, 255] (values outside are clipped), same shape."""
    import torch

    return images.detach().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)


class ImageBatches:
    """Shuffled minibatches of in-memory uint8 images, yielded as float (B, C, H, W) in [-1, 1].

    The order depends only on (seed, epoch), like torch's DistributedSampler, so a resumed run sees
    exactly the batches an uninterrupted one would. With world_size > 1 each rank takes every
    world_size-th index of the shuffled order (all ranks yield the same number of batches).

    Args:
        images: uint8 (N, C, H, W).
        batch_size: images per batch on this rank.
        shuffle: reshuffle every epoch.
        drop_last: drop the final incomplete batch (keeps BatchNorm statistics and throughput even).
        seed: base seed of the shuffle.
        rank, world_size: this process's share in data-parallel training.
    """

    def __init__(self, images: torch.Tensor, batch_size: int, *, shuffle: bool = True, drop_last: bool = True,
                 seed: int = 0, rank: int = 0, world_size: int = 1) -> None:
        import torch

        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"images must be a uint8 tensor (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        per_rank = len(images) // world_size
        if (per_rank < batch_size if drop_last else per_rank < 1):
            raise ValueError(f"{len(images)} images are too few for batch_size {batch_size} "
                             f"on {world_size} process(es)")
        self.images, self.batch_size, self.shuffle, self.drop_last = images, batch_size, shuffle, drop_last
        self.seed, self.rank, self.world_size = seed, rank, world_size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose shuffle the next iteration uses."""
        self.epoch = epoch

    def _indices(self) -> torch.Tensor:
        import torch

        n = len(self.images)
        if self.shuffle:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(as_seed(self.seed + self.epoch)))
        else:
            order = torch.arange(n)
        per_rank = n // self.world_size
        return order[self.rank::self.world_size][:per_rank]

    def __len__(self) -> int:
        per_rank = len(self.images) // self.world_size
        return per_rank // self.batch_size if self.drop_last else -(-per_rank // self.batch_size)

    def __iter__(self):
        return self.iterate()

    def iterate(self, start_batch: int = 0):
        """Yield this epoch's batches from batch number `start_batch` on (to resume mid-epoch)."""
        indices = self._indices()
        for start in range(start_batch * self.batch_size, len(self) * self.batch_size, self.batch_size):
            yield to_unit_range(self.images[indices[start:start + self.batch_size]])

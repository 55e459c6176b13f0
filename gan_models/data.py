"""Training images: datasets by name, held in memory as uint8, batched and scaled to [-1, 1].

MNIST-family data is small, so it is read once into a uint8 tensor (N, C, H, W) and batched by
indexing: no per-item PIL transform, no DataLoader workers. Image folders and CelebA are decoded
once the same way (centre-cropped to a square, then resized). Scaling to [-1, 1] happens per
batch, so memory holds one byte per pixel.

The data root is the `root` argument, else the environment variable GAN_MODELS_DATA, else
`./data` (gan_models.dataroot). Layouts are torchvision's: `<root>/MNIST/raw`, `<root>/FashionMNIST/raw`,
`<root>/celeba`;
Emoji64 is `<root>/Emoji64/<design>/<category>/<codepoints>.png` (see gan_models.emoji).

Images are decoded by gan_models.image_decoding, which composites transparency onto white; every resize
is counted there, for whoever records them (gan_models.image_decoding.recording_resizes).

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
from gan_models.dataroot import (  # noqa: F401  DATA_ROOT_ENV, default_root: for conftest.py, train_throughput.py
    DATA_ROOT_ENV,
    SPLITS,
    DatasetNotFoundError,
    default_root,
    missing_data_hint,
    resolve_root,
)
from gan_models.emoji import EMOJI_CATEGORIES, load_emoji
from gan_models.image_decoding import center_crop_resize, decode_image, note_resize, pil_to_uint8

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
        DatasetInfo("folder", 3, 64),  # any image folder, centre-cropped and resized; labelled if ImageFolder-style
        DatasetInfo("emoji", 3, 64, EMOJI_CATEGORIES),  # Emoji64
    )
}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def get_dataset(name: str) -> DatasetInfo:
    """The DatasetInfo called `name`; raises ValueError naming the choices for an unknown one."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {list(DATASETS)}")
    return DATASETS[name]


def load_digits(name: str, root: str | os.PathLike | None = None, *, split: str = "train",
                download: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST or Fashion-MNIST images, uint8 (N, 1, 28, 28), and their labels, int64 (N,), in the same order.

    Read once from torchvision's raw files under `root` (default `default_root()`); `split` is
    "train", "test" or "all". Raises DatasetNotFoundError naming the folder it looked in.
    """
    import torch

    root = resolve_root(root)
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
            raise DatasetNotFoundError(f"{name} not found: looked in {where}; {missing_data_hint(True)}") from None
        images.append(digits.data)
        labels.append(digits.targets)
    return torch.cat(images).unsqueeze(1), torch.cat(labels).long()


def _folder_root(root: str | os.PathLike | None) -> Path:
    """The image folder a "folder" dataset reads: `root` itself, which must be given (the data root of the other
    datasets is no image folder of the user's, so falling back to it would train or measure on the wrong images)."""
    if root is None:
        raise DatasetNotFoundError("the folder dataset needs its image folder: give --data-root DIR (root= in Python)")
    return Path(root)


def _image_paths(root: Path) -> list[Path]:
    """The image files below `root`, recursively, sorted; DatasetNotFoundError if `root` is no folder."""
    if not root.is_dir():
        raise DatasetNotFoundError(f"image folder not found: {root} is not a directory; {missing_data_hint(False)}")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def _folder_classes(root: Path, paths: list[Path]) -> tuple[str, ...]:
    """The classes of an ImageFolder-style folder: its subfolders holding images, sorted (the label order).

    () when some image lies directly in `root` (it has no class) or there are no images.
    """
    parts = [path.relative_to(root).parts for path in paths]
    return () if not parts or any(len(p) == 1 for p in parts) else tuple(sorted({p[0] for p in parts}))


def _load_folder(root: Path, image_size: int, channels: int) -> tuple[torch.Tensor, torch.Tensor | None, tuple]:
    """Every image below `root` (flat or ImageFolder-style) as uint8 (N, C, size, size); unreadable ones are skipped.

    Returns the images, and their labels int64 (N,) and class names when the folder is ImageFolder-style
    (`_folder_classes`), else None and ().
    """
    import torch

    paths = _image_paths(root)
    classes = _folder_classes(root, paths)
    images, kept, skipped = [], [], []
    # PIL pads a truncated file with grey when this global is set (some libraries set it); a half
    # image would then train silently, so decoding here is always strict.
    tolerant, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        for path in paths:
            try:
                images.append(decode_image(path, image_size, channels))
                kept.append(path)
            except Exception as err:  # decoders raise OSError, SyntaxError, ValueError, ...: all mean "unusable"
                skipped.append(f"{path} ({type(err).__name__}: {err})")
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = tolerant
    if skipped:
        warnings.warn(f"skipped {len(skipped)} unreadable image(s): " + "; ".join(skipped), stacklevel=4)
    if not images:
        raise DatasetNotFoundError(
            f"no usable images in {root} (looked for {', '.join(IMAGE_EXTENSIONS)} files, recursively)")
    if not classes:
        return torch.stack(images), None, ()
    labels = torch.tensor([classes.index(path.relative_to(root).parts[0]) for path in kept], dtype=torch.long)
    return torch.stack(images), labels, classes


def _load_celeba(root: Path, split: str, download: bool, image_size: int, channels: int) -> torch.Tensor:
    """CelebA (torchvision layout), centre-cropped and resized, as uint8 (N, C, size, size)."""
    import torch
    from torchvision import datasets

    try:
        celeba = datasets.CelebA(str(root), split=split, download=download)
    except RuntimeError as err:
        if "not found" not in str(err).lower() and "corrupted" not in str(err).lower():
            raise
        raise DatasetNotFoundError(
            f"celeba not found: looked in {root / 'celeba'}; {missing_data_hint(True)}") from None
    images = []
    for index in range(len(celeba)):
        image, _ = celeba[index]
        images.append(pil_to_uint8(center_crop_resize(image, image_size), channels))
    return torch.stack(images)


def _resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Resize a uint8 batch (N, C, H, W) to (N, C, size, size) with antialiased bilinear filtering (noted, see
    gan_models.image_decoding.recording_resizes)."""
    import torch
    import torch.nn.functional as F

    note_resize(images.shape[-1], images.shape[-2], size, count=images.shape[0])
    resized = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return resized.round_().clamp_(0, 255).to(torch.uint8)


def load_images(name: str, root: str | os.PathLike | None = None, *, split: str = "train", download: bool = False,
                image_size: int | None = None, channels: int | None = None,
                emoji_design: str = "both") -> torch.Tensor:
    """Load a dataset's images into memory as a uint8 tensor (N, C, H, W) in [0, 255].

    Args:
        name: "mnist", "fashion-mnist", "celeba", "folder" or "emoji" (Emoji64, see gan_models.emoji).
        root: data root; default `default_root()`. For "folder": the image folder itself, which must be given.
        split: "train", "test", or "all" (both merged). Ignored for "folder".
        download: fetch the dataset with torchvision if it is missing (needs internet).
        image_size: output height and width; default the dataset's (DATASETS).
        channels: 1 or 3; default the dataset's (DATASETS). Grayscale data is repeated to 3.
        emoji_design: for "emoji": "both", "google" or "twitter".

    Raises:
        ValueError: unknown name, split, channels or size.
        DatasetNotFoundError: the data is missing or a folder holds no usable image.
    """
    return _load(name, root, split, download, image_size, channels, emoji_design)[0]


def dataset_classes(name: str, root: str | os.PathLike | None = None) -> tuple[str, ...]:
    """The class names of a labelled dataset, in label order, without decoding its images.

    For "folder", the subfolders of `root` that hold images (ImageFolder-style). Raises ValueError
    in one line for a dataset without labels (celeba, a folder with images outside class subfolders).
    """
    info = get_dataset(name)
    if name == "folder":
        root = _folder_root(root)
        classes = _folder_classes(root, _image_paths(root))
        why = f"the folder {root} has images outside class subfolders"
    else:
        classes, why = info.classes, f"{name} has no class labels"
    if not classes:
        labelled = ", ".join(n for n, i in DATASETS.items() if i.labelled)
        raise ValueError(f"a conditional GAN needs labelled images, but {why}; use {labelled} "
                         "or a folder with one subfolder of images per class")
    return classes


def load_labelled_images(name: str, root: str | os.PathLike | None = None, *, split: str = "train",
                         download: bool = False, image_size: int | None = None, channels: int | None = None,
                         emoji_design: str = "both") -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    """A labelled dataset's images (as `load_images`), their labels int64 (N,) and the class names, in label order.

    Raises:
        ValueError: the dataset has no labels (`dataset_classes`), or as `load_images`.
        DatasetNotFoundError: as `load_images`.
    """
    dataset_classes(name, root)  # refuses unlabelled data before decoding anything
    return _load(name, root, split, download, image_size, channels, emoji_design)


def _load(name: str, root: str | os.PathLike | None, split: str, download: bool, image_size: int | None,
          channels: int | None, emoji_design: str = "both") -> tuple:
    """Images uint8 (N, C, H, W), labels int64 (N,) or None for unlabelled data, and class names (or ())."""
    info = get_dataset(name)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
    image_size = image_size or info.image_size
    channels = channels or info.channels
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    if image_size < 4:
        raise ValueError(f"image_size must be >= 4, got {image_size}")
    if name == "folder":
        return _load_folder(_folder_root(root), image_size, channels)
    root = resolve_root(root)
    if name == "emoji":
        images, labels = load_emoji(root, split=split, design=emoji_design, image_size=image_size, channels=channels)
        return images, labels, info.classes
    if name == "celeba":
        return _load_celeba(root, split, download, image_size, channels), None, ()
    images, labels = load_digits(name, root, split=split, download=download)
    if image_size != images.shape[-1]:
        images = _resize_uint8(images, image_size)
    images = images.expand(-1, channels, -1, -1).contiguous() if channels == 3 else images
    return images, labels, info.classes


def to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 images in [0, 255] -> float32 in [-1, 1] (x / 127.5 - 1), same shape."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Float images in [-1, 1] -> uint8 in [0, 255] (values outside are clipped), same shape."""
    import torch

    return images.detach().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)

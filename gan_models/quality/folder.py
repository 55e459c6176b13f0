"""The held-out part of an image folder: what evaluate compares with, and what a folder classifier is tested on.

A folder (`--dataset folder`) has no test split, so a fixed share of it is held out: HOLD_OUT_SHARE of its
images, chosen by a permutation seeded with SPLIT_SEED (not the evaluation's seed, so the split is a property
of the folder: every evaluation and `gan-models train-classifier` hold out the same images). The rest is its
train part. A GAN trained with `--dataset folder` saw the whole folder, held-out part included; so the
real-vs-real floor (train part against held-out part) is still two real samples, and the copy check searches
the train part: a generator copying training images then scores a median of 0 unless it copies held-out
images more than half of the time.
"""
import os
from dataclasses import dataclass

import torch

from gan_models.data import load_images, load_labelled_images

HOLD_OUT_SHARE = 0.2
SPLIT_SEED = 0
MIN_HELD_OUT = 4  # precision and recall's k = 3 neighbours need 4 images


@dataclass
class FolderSplits:
    """A folder's images split into its train and held-out parts, uint8 (N, C, H, W), with labels when labelled."""

    train: torch.Tensor
    held_out: torch.Tensor
    train_labels: torch.Tensor | None  # int64 (N,), None for an unlabelled folder
    held_out_labels: torch.Tensor | None
    classes: tuple[str, ...]  # class subfolder names in label order; () when unlabelled


def held_out_index(count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(train indices, held-out indices) of a folder of `count` images: round(HOLD_OUT_SHARE * count) held out."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(SPLIT_SEED))
    held = round(HOLD_OUT_SHARE * count)
    return order[held:], order[:held]


def load_folder_splits(root: str | os.PathLike | None, image_shape: tuple[int, int, int], *,
                       labelled: bool = False) -> FolderSplits:
    """The folder's images decoded at `image_shape` (C, H, W, H == W), split by `held_out_index`.

    Raises:
        ValueError: labelled is asked of a folder with images outside class subfolders, or the folder is too
            small for a held-out part of MIN_HELD_OUT images.
        DatasetNotFoundError: no usable images in `root`.
    """
    channels, size = image_shape[0], image_shape[-1]
    if labelled:
        images, labels, classes = load_labelled_images("folder", root, image_size=size, channels=channels)
    else:
        images, labels, classes = load_images("folder", root, image_size=size, channels=channels), None, ()
    train, held = held_out_index(len(images))
    if len(held) < MIN_HELD_OUT:
        raise ValueError(f"the folder {root} has {len(images)} images; holding out {HOLD_OUT_SHARE:.0%} leaves "
                         f"{len(held)}, fewer than {MIN_HELD_OUT} to compare with (add images)")
    return FolderSplits(train=images[train], held_out=images[held],
                        train_labels=None if labels is None else labels[train],
                        held_out_labels=None if labels is None else labels[held], classes=classes)

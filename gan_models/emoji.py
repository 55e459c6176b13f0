"""Emoji64: 7,572 emoji images, 64 x 64, in two designs and ten categories, with a fixed 10% hold-out.

Layout (see ../shared/data/README.md): `<root>/Emoji64/<design>/<category>/<codepoints>.png`,
3,786 images per design: `google` (Noto Emoji, Apache License 2.0; RGBA files) and `twitter`
(Twemoji, CC BY 4.0; palette files with a transparent index). Both come from the emoji-datasource
16.0.0 packages of the emoji-data project (MIT). Images are composited onto white
(gan_models.image_decoding.composite_on_white). Labels are the category folders, EMOJI_CATEGORIES.
torch is imported in the functions: the command line reads EMOJI_DESIGNS for its help without it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from gan_models.dataroot import SPLITS, DatasetNotFoundError, missing_data_hint, resolve_root
from gan_models.image_decoding import decode_image

if TYPE_CHECKING:
    import torch

EMOJI_DESIGNS = ("both", "google", "twitter")  # Noto Emoji (google), Twemoji (twitter), or both
# The ten category folders, sorted: the class names of the labels (gan_models.data.DATASETS["emoji"].classes).
EMOJI_CATEGORIES = ("activities", "animals-nature", "component", "flags", "food-drink", "objects", "people-body",
                    "smileys-emotion", "symbols", "travel-places")
EMOJI_TEST_FRACTION = 0.1  # emoji held out per category for the test split
SKIN_TONES = ("1f3fb", "1f3fc", "1f3fd", "1f3fe", "1f3ff")  # the Fitzpatrick modifiers in file names
EMOJI_SPLIT_SEED = 0  # fixes which emoji are held out; never changes, so classifiers and runs agree on it
# What a model card of weights trained on Emoji64 must say (the data's README asks to credit both designs).
EMOJI_CREDITS = (
    "Noto Emoji images by Google (https://github.com/googlefonts/noto-emoji), Apache License 2.0",
    "Twemoji images by Twitter, Inc. and other contributors (https://github.com/twitter/twemoji), CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/)",
    "Both as packaged by emoji-data (Cal Henderson, MIT): emoji-datasource-google and -twitter 16.0.0",
)


def dataset_credits(dataset: str) -> tuple[str, ...]:
    """The credit lines a model card must carry for weights trained on `dataset` (none for the MNIST family)."""
    return EMOJI_CREDITS if dataset == "emoji" else ()


def _emoji_group(name: str) -> str:
    """An emoji file's name without its skin-tone modifiers: one key for an emoji and all its skin tones."""
    parts = name.removesuffix(".png").split("-")
    return "-".join(part for part in parts if part not in SKIN_TONES) or name  # the five tone swatches stay apart


def _emoji_held_out(folder: Path) -> set[tuple[str, str]]:
    """The (category, file name) pairs of Emoji64's test split, the same for every design.

    Per category, EMOJI_TEST_FRACTION of the emoji (at least one) are drawn by EMOJI_SPLIT_SEED from
    the file names found in any design, an emoji with all its skin tones counting as one: stratified
    by category, and held out in both designs and all skin tones at once, so that no training image
    is another design's drawing or another skin tone of a test emoji.
    """
    import torch

    rng = torch.Generator().manual_seed(EMOJI_SPLIT_SEED)
    held_out = set()
    for category in EMOJI_CATEGORIES:
        names = sorted({p.name for design in EMOJI_DESIGNS[1:] for p in (folder / design / category).glob("*.png")})
        groups = sorted({_emoji_group(name) for name in names})
        count = max(1, round(len(groups) * EMOJI_TEST_FRACTION)) if groups else 0
        chosen = {groups[i] for i in torch.randperm(len(groups), generator=rng)[:count].tolist()}
        held_out.update((category, name) for name in names if _emoji_group(name) in chosen)
    return held_out


def load_emoji(root: str | os.PathLike | None = None, *, split: str = "train", design: str = "both",
               image_size: int = 64, channels: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Emoji64 images, uint8 (N, C, size, size) composited on white, and their category labels, int64 (N,).

    Reads `<root>/Emoji64/<design>/<category>/<codepoints>.png`; labels index EMOJI_CATEGORIES.
    `split` is "train" (about 90%), "test" (the emoji _emoji_held_out draws) or "all"; `design` is
    "google" (Noto Emoji, Apache-2.0), "twitter" (Twemoji, CC BY 4.0) or "both" (google first).
    Within a design, images come by category, then file name.

    Raises:
        ValueError: unknown split or design.
        DatasetNotFoundError: the design's folder or one of its category folders is missing.
    """
    import torch

    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {list(SPLITS)}")
    if design not in EMOJI_DESIGNS:
        raise ValueError(f"unknown emoji design {design!r}; choose one of {list(EMOJI_DESIGNS)}")
    folder = resolve_root(root) / "Emoji64"
    held_out = _emoji_held_out(folder) if split != "all" else set()
    images, labels = [], []
    for name in (EMOJI_DESIGNS[1:] if design == "both" else (design,)):
        for label, category in enumerate(EMOJI_CATEGORIES):
            where = folder / name / category
            if not where.is_dir():
                raise DatasetNotFoundError(f"emoji not found: {where} is not a directory; {missing_data_hint(False)}")
            for path in sorted(where.glob("*.png")):
                if split == "all" or ((category, path.name) in held_out) == (split == "test"):
                    images.append(decode_image(path, image_size, channels))
                    labels.append(label)
    return torch.stack(images), torch.tensor(labels, dtype=torch.int64)

"""The small digit/clothing/emoji classifiers whose features judge generated samples (see metrics.py).

Inception-based FID downloads weights at run time and was trained on photographs, so it judges
28 x 28 grayscale digits (and 64 x 64 emoji drawn on white) poorly. Instead each dataset gets its
own small CNN, trained on that dataset's train split by `scripts/train_classifier.py` and shipped
as a hash-checked state dict in `gan_models/weights/`, its record in `classifiers.json` there. Its
penultimate layer (`Classifier.features`, 128 values after ReLU) is the feature space of the
Frechet distance; its softmax gives the class coverage.
"""
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from gan_models.data import DATASETS
from gan_models.nets.base import check_input
from gan_models.registry import WEIGHTS_DIR, load_checked_state_dict, load_shipped_state_dict, read_records

NUM_CLASSES = 10
FEATURE_LAYER = "fc1 (penultimate: Linear + ReLU, 128 features)"  # named in reports so numbers stay comparable
# The images each classifier judges (C, H, W): its dataset's shape. 28 x 28 gets three conv blocks, 64 x 64 four.
INPUT_SHAPES = {name: (DATASETS[name].channels, DATASETS[name].image_size, DATASETS[name].image_size)
                for name in ("mnist", "fashion-mnist", "emoji")}


class Classifier(nn.Module):
    """A small CNN for (N, C, H, W) images in [-1, 1]: 3 x 3 conv blocks, then 128 features, then K logits (10 shipped).

    (1, 28, 28), 98,442 parameters: Conv(1, 16) - Conv(16, 32) - Conv(32, 64), each with ReLU and
    MaxPool(2) (28 -> 14 -> 7 -> 3), Flatten(64 x 3 x 3) - Linear(576, 128) - ReLU [features] -
    Linear(128, 10) [logits]. (3, 64, 64), 361,002 parameters: a fourth block Conv(64, 128)
    (64 -> 32 -> 16 -> 8 -> 4), then Linear(2048, 128) and the same head.

    Other shapes (a folder's, `gan-models train-classifier`) get blocks until H <= 4, widths 16, 32, 64, 128,
    128, ..., and `num_classes` logits.

    Args:
        input_shape: (C, H, W) with C = 1 or 3, H == W >= 8; INPUT_SHAPES holds the shipped ones.
        num_classes: K >= 2 logits.
    """

    def __init__(self, input_shape: tuple[int, int, int] = (1, 28, 28), num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        channels, size = input_shape[0], input_shape[1]
        if len(input_shape) != 3 or channels not in (1, 3) or size != input_shape[2] or size < 8 or num_classes < 2:
            raise ValueError(f"a classifier takes (1 or 3, H, H) images with H >= 8 and >= 2 classes, got "
                             f"{tuple(input_shape)} and {num_classes} classes")
        self.input_shape = tuple(input_shape)
        widths = [channels]
        while size > 4:  # 28 -> 14 -> 7 -> 3: three blocks; 64 -> 32 -> 16 -> 8 -> 4: four
            widths.append(min(16 * 2 ** (len(widths) - 1), 128))
            size //= 2
        blocks = []
        for c_in, c_out in zip(widths[:-1], widths[1:], strict=True):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]  # halves H and W
        self.conv = nn.Sequential(*blocks, nn.Flatten())
        self.fc1 = nn.Linear(widths[-1] * size * size, 128)
        self.head = nn.Linear(128, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) in [-1, 1] -> (N, 128) non-negative penultimate-layer features."""
        check_input(x, ("N", *self.input_shape), "images")
        return torch.relu(self.fc1(self.conv(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) in [-1, 1] -> (N, K) class logits."""
        return self.head(self.features(x))


@dataclass(frozen=True)
class ClassifierRecord:
    """A shipped classifier state dict, what it was trained on, and how well it classifies.

    Records live in `gan_models/weights/classifiers.json`, written by `scripts/train_classifier.py`
    (byte-identical on a rerun from the repository root with torch 2.14.1 on CPU). MNIST's test
    split is the 2,000-image hold-out in ../shared/data, Emoji64's the emoji gan_models.emoji holds
    out (788 images, both designs). Random shifts lift MNIST (8,000 training
    digits) from 97.0% to 98.3%; Fashion-MNIST, with 60,000 centred images, trains without them
    (90.6% against 89.9% with them).
    """

    KEY: ClassVar[tuple[str, ...]] = ("dataset",)  # one classifier per dataset; the file is sorted by it

    dataset: str  # key of gan_models.data.DATASETS
    file: str  # file name in WEIGHTS_DIR, "classifier-<dataset>-<first 12 hex digits of sha256>.pt"
    sha256: str  # full hex digest of the file
    train_images: int  # images in the train split it was trained on
    test_images: int  # images in the test split its accuracy was measured on
    test_accuracy: float  # fraction of test_images classified correctly
    command: str  # the exact command that produced the file
    credits: tuple = ()  # licence credit lines its training images require (Emoji64: Noto and Twemoji)
    classes: tuple = ()  # a folder classifier's class names in label order; () for a shipped one (DATASETS')
    image_shape: tuple = ()  # a folder classifier's input (C, H, W); () for a shipped one (INPUT_SHAPES')

    @property
    def stem(self) -> str:
        """The weight file's name before its hash: "classifier-<dataset>"."""
        return f"classifier-{self.dataset}"


MANIFEST = WEIGHTS_DIR / "classifiers.json"
CLASSIFIERS: dict[str, ClassifierRecord] = {r.dataset: r for r in read_records(MANIFEST, ClassifierRecord)}


def find_classifier(dataset: str) -> ClassifierRecord:
    """The shipped record for `dataset`; raises ValueError naming the datasets that have one."""
    if dataset not in CLASSIFIERS:
        raise ValueError(f"no sample-quality classifier for dataset {dataset!r}; "
                         f"choose one of {sorted(CLASSIFIERS)}")
    return CLASSIFIERS[dataset]


def load_classifier(dataset: str) -> Classifier:
    """The shipped classifier for `dataset` in eval mode on the CPU, its file's SHA-256 checked first.

    Raises:
        ValueError: no classifier ships for `dataset`.
        WeightsIntegrityError: the weight file is missing or its hash differs from the record.
    """
    record = find_classifier(dataset)
    classifier = Classifier(INPUT_SHAPES[dataset])
    classifier.load_state_dict(load_shipped_state_dict(record))
    return classifier.eval()


def load_classifier_file(path: str | os.PathLike) -> tuple[Classifier, ClassifierRecord]:
    """A classifier written by `gan-models train-classifier` and its record, from the classifiers.json beside it,
    in eval mode on the CPU, its SHA-256 checked first.

    Raises:
        ValueError: no record in that folder names the file.
        WeightsIntegrityError: the file is missing or its hash differs from the record.
    """
    path = Path(path)
    records = read_records(path.parent / MANIFEST.name, ClassifierRecord)
    record = next((r for r in records if r.file == path.name), None)
    if record is None:
        raise ValueError(f"{path}: no record of it in {path.parent / MANIFEST.name} "
                         "(write both with gan-models train-classifier)")
    shape = tuple(record.image_shape) or INPUT_SHAPES[record.dataset]
    classifier = Classifier(shape, len(record.classes or DATASETS[record.dataset].classes))
    classifier.load_state_dict(load_checked_state_dict(path, record.sha256))
    return classifier.eval(), record


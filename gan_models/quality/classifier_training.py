"""Training the sample-quality classifiers: the shipped ones (scripts/train_classifier.py) and a folder's own
(`gan-models train-classifier`), one loop for both.

A folder classifier trains on the folder's train part and is tested on its held-out part
(gan_models.quality.folder), the same images `evaluate --classifier` then compares with, so its accuracy and the
evaluation never use an image it trained on.
"""
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_models.data import to_unit_range
from gan_models.quality.classifier import MANIFEST, Classifier, ClassifierRecord
from gan_models.quality.folder import load_folder_splits
from gan_models.registry import save_weights, write_record


@torch.no_grad()
def accuracy(classifier: Classifier, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 1000) -> float:
    """Fraction of uint8 images (N, C, H, W) whose predicted class equals `labels` (N,)."""
    classifier.eval()
    correct = 0
    for start in range(0, len(images), batch_size):
        logits = classifier(to_unit_range(images[start:start + batch_size]))
        correct += (logits.argmax(1) == labels[start:start + batch_size]).sum().item()
    return correct / len(images)


def shift(x: torch.Tensor, max_pixels: int, rng: torch.Generator, fill: float = -1.0) -> torch.Tensor:
    """Translate each image (N, C, H, W) by a random offset of up to `max_pixels` in x and y, filling with `fill`.

    Eight thousand MNIST digits are few for a CNN; shifted copies make it generalise to the hold-out
    and make its features less sensitive to a generator placing strokes a pixel off. MNIST's
    background is black (-1), emoji's white (+1).
    """
    offsets = torch.randint(-max_pixels, max_pixels + 1, (len(x), 2), generator=rng).float() * 2 / x.shape[-1]
    theta = torch.zeros(len(x), 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    theta[:, :, 2] = offsets
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x - fill, grid, mode="nearest", padding_mode="zeros", align_corners=False) + fill


def train(images: torch.Tensor, labels: torch.Tensor, epochs: int, batch_size: int, lr: float,
          seed: int, max_shift: int, flip: bool = False, fill: float = -1.0) -> Classifier:
    """A Classifier trained on uint8 images (N, C, H, W) with labels (N,); order fixed by `seed`.

    `max_shift` pixels of random translation (filled with `fill`) and, with `flip`, random
    horizontal mirroring of half the images augment each batch.
    """
    torch.manual_seed(seed)
    classifier = Classifier(tuple(images.shape[1:]), int(labels.max()) + 1)
    optimizer = torch.optim.Adam(classifier.parameters(), lr=lr)
    rng = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        classifier.train()
        order = torch.randperm(len(images), generator=rng)
        total, started = 0.0, time.time()
        for start in range(0, len(images), batch_size):
            index = order[start:start + batch_size]
            batch = to_unit_range(images[index])
            if max_shift:
                batch = shift(batch, max_shift, rng, fill)
            if flip:  # an emoji and its mirror image belong to the same category
                mirrored = torch.rand(len(batch), generator=rng) < 0.5
                batch = torch.where(mirrored[:, None, None, None], batch.flip(-1), batch)
            loss = F.cross_entropy(classifier(batch), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(index)
        print(f"epoch {epoch + 1}/{epochs}  loss {total / len(images):.4f}  ({time.time() - started:.0f} s)",
              flush=True)
    return classifier.eval()


def train_folder_classifier(root: str | os.PathLike, out: str | os.PathLike, *, image_size: int = 64,
                            channels: int = 3, epochs: int = 10, batch_size: int = 128, lr: float = 1e-3,
                            seed: int = 0, max_shift: int = 2, flip: bool = False,
                            command: str = "") -> tuple[ClassifierRecord, Path]:
    """Train a Classifier on a labelled (class-subfolder) folder's train part, test it on the held-out part, and
    write `out`/classifier-folder-<hash>.pt with its record in `out`/classifiers.json; returns both.

    Raises ValueError for a folder without class subfolders or with one class, DatasetNotFoundError without images.
    """
    splits = load_folder_splits(root, (channels, image_size, image_size), labelled=True)
    if len(splits.classes) < 2:
        raise ValueError(f"the folder {root} has {len(splits.classes)} class subfolder(s); a classifier needs >= 2")
    classifier = train(splits.train, splits.train_labels, epochs, batch_size, lr, seed, max_shift, flip)
    test_accuracy = accuracy(classifier, splits.held_out, splits.held_out_labels)
    Path(out).mkdir(parents=True, exist_ok=True)
    path, sha256 = save_weights(classifier.state_dict(), Path(out), "classifier-folder")
    record = ClassifierRecord(dataset="folder", file=path.name, sha256=sha256, train_images=len(splits.train),
                              test_images=len(splits.held_out), test_accuracy=round(test_accuracy, 4),
                              command=command, classes=tuple(splits.classes),
                              image_shape=(channels, image_size, image_size))
    write_record(Path(out) / MANIFEST.name, record)
    return record, path

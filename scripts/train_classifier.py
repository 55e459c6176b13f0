"""Train the sample-quality classifier for one dataset and write its hash-named state dict and record.

    python scripts/train_classifier.py --dataset mnist --data-root ../shared/data

Trains `gan_models.quality.classifier.Classifier` on the train split (Adam, cross-entropy), measures its
accuracy on the test split, writes `gan_models/weights/classifier-<dataset>-<sha256[:12]>.pt`
and writes its record into `gan_models/weights/classifiers.json` (replacing, and deleting the
file of, an earlier record for the same dataset); `--out` puts both in another folder. With the
same seed, thread count and torch version the file is byte-identical, so its hash is reproducible.

Prints: the loss of every epoch, then the test accuracy and the file written, then the record as JSON.
The classifiers' table in docs/benchmarks.md ("Sample-quality classifiers") comes from these records.
"""
import argparse
import dataclasses
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_models.data import load_labelled_images, to_unit_range
from gan_models.emoji import dataset_credits
from gan_models.quality.classifier import INPUT_SHAPES, MANIFEST, Classifier, ClassifierRecord
from gan_models.registry import WEIGHTS_DIR, save_weights, write_record


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
    classifier = Classifier(tuple(images.shape[1:]))
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


def reproducing_command(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str:
    """The command that retrains this classifier: the dataset, the data root as the project keeps it
    (../shared/data), and every other option that differs from its default; --out only says where files go."""
    parts = ["python scripts/train_classifier.py", f"--dataset {args.dataset}", "--data-root ../shared/data"]
    for name, value in vars(args).items():
        if name in ("dataset", "data_root", "out") or value == parser.get_default(name):
            continue
        flag = "--" + name.replace("_", "-")
        parts.append(flag if value is True else f"{flag} {value}")
    return " ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=sorted(INPUT_SHAPES), required=True)
    parser.add_argument("--data-root", type=Path, default=None, help="default: $GAN_MODELS_DATA")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-shift", type=int, default=2, help="random translation in pixels (0: none)")
    parser.add_argument("--flip", action="store_true", help="mirror half of each batch left to right")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads; the hash depends on it")
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR,
                        help=f"folder for the weight file and its {MANIFEST.name} record")
    return parser


def main() -> None:
    parser = build_parser()
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train_images, train_labels, _ = load_labelled_images(args.dataset, args.data_root, split="train")
    test_images, test_labels, _ = load_labelled_images(args.dataset, args.data_root, split="test")
    fill = 1.0 if args.dataset == "emoji" else -1.0  # the background: white emoji, black digits and clothes
    classifier = train(train_images, train_labels, args.epochs, args.batch_size, args.lr, args.seed,
                       args.max_shift, args.flip, fill)
    test_accuracy = accuracy(classifier, test_images, test_labels)

    path, sha256 = save_weights(classifier.state_dict(), args.out, f"classifier-{args.dataset}")
    record = ClassifierRecord(
        dataset=args.dataset, file=path.name, sha256=sha256, train_images=len(train_images),
        test_images=len(test_images), test_accuracy=round(test_accuracy, 4),
        command=reproducing_command(parser, args), credits=dataset_credits(args.dataset))
    print(f"test accuracy {test_accuracy:.4f} on {len(test_images):,} images -> {path} "
          f"({path.stat().st_size:,} bytes)")
    write_record(args.out / MANIFEST.name, record)
    print(json.dumps(dataclasses.asdict(record), indent=2))


if __name__ == "__main__":
    main()

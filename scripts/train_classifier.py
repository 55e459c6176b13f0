"""Train the sample-quality classifier for one dataset and write its hash-named state dict and record.

    python scripts/train_classifier.py --dataset mnist --data-root ../shared/data

Trains `gan_models.quality.classifier.Classifier` (the loop of gan_models.quality.classifier_training, which
`gan-models train-classifier` runs for a folder) on the train split (Adam, cross-entropy), measures its
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
from pathlib import Path

import torch

from gan_models.data import load_labelled_images
from gan_models.emoji import dataset_credits
from gan_models.quality.classifier import INPUT_SHAPES, MANIFEST, ClassifierRecord
from gan_models.quality.classifier_training import accuracy, train
from gan_models.registry import WEIGHTS_DIR, save_weights, write_record


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

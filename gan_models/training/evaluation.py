"""Evaluation during training (`train --eval-every N`): the generator's FD and KID, and the best one kept.

Every N steps, and after the run's last step, the trainer's main process draws `eval_samples` images
(seed EVAL_SEED) from the run's EMA generator (the raw one without EMA), in eval mode, and measures
them against as many test-split images in the dataset's shipped classifier's 128 features
(gan_models.quality.classifier); for a folder, against as many of its held-out images
(gan_models.quality.folder) in the shipped general features (gan_models.quality.general). The Frechet
distance is the one `gan-models evaluate --samples N` prints for the same weights: the same seed, the
same generated images, the same reference subset.
KID is gan_models.quality.distribution.kernel_inception_distance over KID_SUBSETS subsets instead of
evaluate's 100 (its mean is unbiased either way; the 100 subsets cost 7 s at n = 2,000 on 2 cores).
The reference images' features are computed once, when the trainer starts, not at every evaluation.

The generator with the lowest FD so far is written to best.pt (gan_models.training.rundir).
"""
import math
import os
import time
from dataclasses import dataclass

import torch

from gan_models.data import DATASETS, load_labelled_images, to_unit_range
from gan_models.quality.classifier import CLASSIFIERS, INPUT_SHAPES, load_classifier
from gan_models.quality.distribution import kernel_inception_distance
from gan_models.quality.folder import load_folder_splits
from gan_models.quality.frechet import feature_statistics, frechet_distance
from gan_models.quality.general import general_features, load_general_features
from gan_models.quality.metrics import classify, kid_subset_size, seeded_subset
from gan_models.sampling import generate

EVAL_SEED = 0  # evaluate's default --seed, so `evaluate --checkpoint best.pt --samples N` repeats the logged FD
KID_SUBSETS = 10  # subsets of KID's mean (evaluate averages 100)


@dataclass(frozen=True)
class Score:
    """One evaluation of the generator after `step` steps."""

    step: int
    fd: float  # Frechet distance to the reference subset (classifier or general features); lower is better
    kid: float  # KID (mean over KID_SUBSETS subsets) in the same features; about 0 for real images
    seconds: float  # wall time the evaluation took

    def beats(self, best: dict | None) -> bool:
        """Whether this score is finite and lower in FD than `best` ({"step", "fd", "kid"}; None: none yet)."""
        return math.isfinite(self.fd) and (best is None or self.fd < best["fd"])


def check_evaluable(dataset: str, image_shape: tuple[int, ...], num_classes: int) -> None:
    """ValueError (one line) unless --eval-every can measure a generator of `image_shape` trained on `dataset`.

    A folder is decoded at the generator's shape, so any generator of one can be measured.
    """
    if dataset == "folder":
        return
    if dataset not in CLASSIFIERS:
        raise ValueError(f"--eval-every measures with the dataset's shipped classifier, and {dataset} has none "
                         f"(they ship for {', '.join(sorted(CLASSIFIERS))}; a folder is measured in general "
                         "features); leave --eval-every out")
    if tuple(image_shape) != INPUT_SHAPES[dataset]:
        raise ValueError(f"--eval-every: the {dataset} classifier judges {' x '.join(map(str, INPUT_SHAPES[dataset]))} "
                         f"images, this generator makes {' x '.join(map(str, image_shape))}; leave --eval-every out")
    if num_classes and num_classes != len(DATASETS[dataset].classes):
        raise ValueError(f"--eval-every: the generator has {num_classes} classes, the {dataset} classifier "
                         f"{len(DATASETS[dataset].classes)}")


class RunEvaluator:
    """Scores generators of one run against a fixed test subset, whose features it computes once.

    Args:
        dataset: a dataset a classifier ships for ("mnist", "fashion-mnist", "emoji"), measured in its
            classifier's features against its test split; or "folder", in general features against the
            folder's held-out part.
        data_root: folder holding the dataset, None for $GAN_MODELS_DATA; or the image folder.
        samples: images per set, capped at the reference's size (MNIST 2,000, emoji 788, a folder's fifth).
        image_shape, num_classes: of the run's generator (checked by `check_evaluable`).
    """

    def __init__(self, dataset: str, data_root: str | os.PathLike | None, samples: int,
                 image_shape: tuple[int, ...], num_classes: int) -> None:
        check_evaluable(dataset, image_shape, num_classes)
        if dataset == "folder":
            network = load_general_features()
            self.features = lambda images: general_features(network, images).numpy()  # (n, 256) float64
            test = load_folder_splits(data_root, image_shape).held_out
        else:
            classifier = load_classifier(dataset)
            self.features = lambda images: classify(classifier, to_unit_range(images))[0]  # (n, 128) float64
            test, _, _ = load_labelled_images(dataset, data_root, split="test")
        self.samples = min(samples, len(test))
        held_out, _ = seeded_subset(test, self.samples, EVAL_SEED, None)  # the subset evaluate_samples measures against
        self.test_features = self.features(held_out)
        self.reference = feature_statistics(self.test_features)

    def score(self, generator: torch.nn.Module, step: int) -> Score:
        """FD and KID of `generator`'s `samples` images (seed EVAL_SEED; image i of class i % K if conditional)."""
        began = time.perf_counter()
        images = generate(generator, self.samples, EVAL_SEED)  # eval mode for the draw, then the mode it had
        features = self.features(images)
        fd = frechet_distance(*feature_statistics(features), *self.reference)
        kid, _ = kernel_inception_distance(self.test_features, features, subsets=KID_SUBSETS,
                                           subset_size=kid_subset_size(self.samples), seed=EVAL_SEED)
        return Score(step=step, fd=fd, kid=kid, seconds=time.perf_counter() - began)

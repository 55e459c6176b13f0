"""Sample quality: Frechet distance in a small classifier's feature space, and class coverage.

The Frechet distance (gan_models.quality.frechet: FID's formula) is applied to the 128 penultimate-layer
features of the dataset's own classifier (`gan_models.quality.classifier`) instead of Inception's 2048.

Which images are compared (`evaluate_generator`):
- the reference is the dataset's test split, which no classifier and no GAN trains on;
- every comparison uses the same count n = min(n_samples, size of the test split), because the
  distance's estimate grows as the sample shrinks: with equal counts, the real-vs-real floor
  (n train images against the same n test images) is what a perfect generator would score.
  MNIST's test split here is a 2,000-image hold-out, so MNIST runs use n <= 2,000;
  Fashion-MNIST's is the official 10,000, Emoji64's the 788 held-out emoji images.
- class coverage uses the classifier's softmax on the same n generated images.
- beside FD, the distribution numbers (`DistributionQuality`, gan_models.quality.distribution): FD's
  95% bootstrap interval, KID (mean and std over subsets) and precision, recall, density and
  coverage (k = 3), all against the same n test images, in the classifier's features or, with
  features="inception", in pytorch-fid's Inception features (then FD and its interval are Inception
  FID). The real train subset gets the same numbers: its real-vs-real values, the floor of each.
- the copy check compares how close generated images come to their nearest training image with
  how close held-out real images come: a generator that memorises its training set scores far
  below the held-out figure. It searches the whole train split when the split holds at most
  COPY_CHECK_MAX_VALUES pixel values (MNIST, Fashion-MNIST and Emoji64 all do); a larger split
  (a big folder dataset) is sampled down to that many, chosen by `seed`, and the report says how
  many were searched of how many. Against a subsample only the copies of searched images score
  0, so a memoriser's median then falls below the held-out one by less than on a full search.
- a warning (`EvaluationReport.warnings`) when n is too small for FD's interval to mean anything:
  n < min_samples_for_interval(D) = (D + 1) / (1 - 1/e). A bootstrap resample of n images holds
  about n (1 - 1/e) distinct ones, so below that count its covariance cannot have full rank D
  (128 classifier features: n < 205; 2,048 Inception features: n < 3,242), and the resampled FDs
  measure the rank lost to repeated images, not sampling noise.

A conditional generator is measured on n images whose labels cycle through the classes
(`balanced_labels`: each class n / K times, the uniform label distribution). Beside the numbers
above, computed on all of them, come the class numbers (`ClassQuality`): the class accuracy, the
share of the images generated for class c that the classifier assigns to c, per class and
averaged over classes; and the intra-class Frechet distance, between the images of class c and
the test images of class c, averaged over classes. Real train images, with their own labels,
give the floor of both.
"""
import dataclasses
import math
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from gan_models.data import DATASETS, load_labelled_images, to_unit_range
from gan_models.nets.base import GeneratorBase
from gan_models.quality.class_quality import ClassQuality, class_quality
from gan_models.quality.classifier import (
    FEATURE_LAYER,
    Classifier,
    find_classifier,
    load_classifier,
    load_classifier_file,
)
from gan_models.quality.distribution import (
    BOOTSTRAP_RESAMPLES,
    KID_SUBSET_SIZE,
    KID_SUBSETS,
    NEAREST_K,
    frechet_interval,
    kernel_inception_distance,
    precision_recall_density_coverage,
)
from gan_models.quality.folder import HOLD_OUT_SHARE, SPLIT_SEED, load_folder_splits
from gan_models.quality.frechet import feature_statistics, frechet_distance
from gan_models.quality.general import LIMITS, general_features, general_record, load_general_features
from gan_models.sampling import balanced_labels, generate

DEFAULT_SAMPLES = 10_000
MIN_SHARE = 0.02  # a class counts as covered when it receives at least this share of the samples
# The copy check searches at most this many train pixel values (images x C x H x W), sampled down beyond it: its
# float64 copy is 8 bytes a value (800 MB), its time grows with it. Emoji64's 6,784 x 12,288 = 83.4M is the largest
# shipped split (Fashion-MNIST 60,000 x 784 = 47.0M), so every shipped dataset is searched whole.
COPY_CHECK_MAX_VALUES = 100_000_000
COPY_CHECK_IMAGES = 1_000  # at most this many generated and held-out images are checked
FEATURES = ("classifier", "inception", "general")  # the feature spaces of the distribution numbers
FEATURE_LIMITS = {  # one line each, printed with the figures
    "classifier": "classifier features: trained on this image set's classes, so they judge what separates them; "
                  "comparable only with the same classifier file",
    "inception": "Inception features: trained on ImageNet photographs; standard FID, comparable with published "
                 "figures, but weak on images unlike photographs (digits, drawings)",
    "general": LIMITS,
}


@torch.no_grad()
def classify(classifier: Classifier, images: torch.Tensor, batch_size: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Run the classifier on float images (N, C, H, W) in [-1, 1], of the classifier's input shape.

    Returns:
        features (N, 128) and class probabilities (N, 10), both float64 numpy arrays.
    """
    features, probabilities = [], []
    for start in range(0, len(images), batch_size):
        feature = classifier.features(images[start:start + batch_size].float().cpu())
        features.append(feature.double())
        probabilities.append(torch.softmax(classifier.head(feature).double(), dim=1))
    return torch.cat(features).numpy(), torch.cat(probabilities).numpy()


def class_coverage(histogram, min_share: float = MIN_SHARE) -> tuple[int, float]:
    """Coverage numbers of a predicted-class histogram (K,) of counts or shares.

    Returns:
        (number of classes with at least `min_share` of the samples,
         KL divergence of the class shares from uniform in nats: 0 when uniform, log K for one class).
    """
    counts = np.asarray(histogram, dtype=np.float64)
    if counts.ndim != 1 or len(counts) < 2 or (counts < 0).any() or not counts.sum() > 0:
        raise ValueError(f"histogram must be K >= 2 non-negative counts with a positive sum, got {counts}")
    shares = counts / counts.sum()
    present = shares[shares > 0]
    return int((shares >= min_share).sum()), float(np.sum(present * np.log(present * len(shares))))


def class_share_failures(report, data_shares, factor: float = 2.0) -> list[str]:
    """The classes holding at least MIN_SHARE of the training data whose share of the generated images is not
    within `factor` of their share of the real images (both as the classifier predicts them: one measuring stick).

    `report` is an EvaluationReport; `data_shares` the classes' shares of the training labels. The bar for
    weights on an unbalanced dataset (emoji): none may fail.
    """
    rows = zip(report.class_names, report.generated.class_histogram, report.real.class_histogram, data_shares,
               strict=True)
    return [f"{name}: {generated:.1%} of samples, {real:.1%} of real images" for name, generated, real, data in rows
            if data >= MIN_SHARE and not real / factor <= generated <= real * factor]


@dataclass
class SampleQuality:
    """The sample-quality numbers of one set of images against the reference (test split)."""

    frechet_distance: float  # in the classifier's feature space, to the test split; lower is better
    classes_covered: int  # classes receiving at least MIN_SHARE of the predictions, of NUM_CLASSES
    kl_from_uniform: float  # KL(predicted class shares || uniform) in nats; 0 is perfectly balanced
    mean_confidence: float  # mean max-softmax of the classifier; low means unrecognisable images
    class_histogram: list[float]  # share of the images predicted as each class 0..9


def sample_quality(features: np.ndarray, probabilities: np.ndarray, reference: tuple) -> SampleQuality:
    """SampleQuality of images from their features (N, D), class probabilities (N, K) and the reference (mean, cov)."""
    counts = np.bincount(probabilities.argmax(axis=1), minlength=probabilities.shape[1])
    covered, kl = class_coverage(counts)
    return SampleQuality(
        frechet_distance=frechet_distance(*feature_statistics(features), *reference),
        classes_covered=covered, kl_from_uniform=kl,
        mean_confidence=float(probabilities.max(axis=1).mean()),
        class_histogram=(counts / counts.sum()).tolist())


@dataclass
class DistributionQuality:
    """FD with its interval, KID and the k-NN manifold numbers of one image set against the test split.

    All in one feature space (EvaluationReport.features); the same n images as SampleQuality.
    """

    frechet_distance: float  # FD to the test split in these features; lower is better
    frechet_interval: list[float]  # [low, high]: its 95% basic bootstrap interval (distribution.frechet_interval)
    kid: float  # KID, the unbiased polynomial-kernel MMD^2, mean over subsets; about 0 for real images
    kid_std: float  # its standard deviation over the subsets (not a confidence interval)
    precision: float  # share of these images inside the test images' k-NN manifold: fidelity
    recall: float  # share of test images inside these images' manifold: diversity
    density: float  # mean count of test k-NN balls holding an image, over k; about 1 for real images
    coverage: float  # share of test images whose k-NN ball holds one of these images


def kid_subset_size(n: int) -> int:
    """KID's subset size for n images a set: 1,000 (torchmetrics' and StyleGAN2-ADA's) when n >= 2,000, else n // 2,
    so that the subsets differ and the std says something (the mean is unbiased at any subset size)."""
    return min(KID_SUBSET_SIZE, n // 2)


def distribution_quality(features: np.ndarray, reference: np.ndarray, *, seed: int = 0,
                         resamples: int = BOOTSTRAP_RESAMPLES) -> DistributionQuality:
    """DistributionQuality of features (n, D) against the reference (test) features (m, D); n, m > NEAREST_K."""
    kid, kid_std = kernel_inception_distance(reference, features, subsets=KID_SUBSETS,
                                             subset_size=kid_subset_size(min(len(features), len(reference))),
                                             seed=seed)
    manifold = precision_recall_density_coverage(reference, features, k=NEAREST_K)
    low, high = frechet_interval(reference, features, resamples=resamples, seed=seed)
    return DistributionQuality(
        frechet_distance=frechet_distance(*feature_statistics(features), *feature_statistics(reference)),
        frechet_interval=[low, high], kid=kid, kid_std=kid_std, **dataclasses.asdict(manifold))


def min_samples_for_interval(dims: int) -> int:
    """The smallest n whose bootstrap resamples (about n (1 - 1/e) distinct images) can have a covariance of full
    rank `dims`: below it FD's interval measures the rank lost to repeated images, not sampling noise."""
    return math.ceil((dims + 1) / (1 - math.exp(-1)))


@torch.no_grad()
def nearest_distances(queries: torch.Tensor, references: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """For each uint8 query image (M, C, H, W), the distance to its nearest uint8 reference image (N, C, H, W).

    The distance is the root-mean-square pixel difference on a 0..1 scale: 0 for an exact copy, 1
    between a black and a white image. Returns float64 (M,).
    """
    if queries.shape[1:] != references.shape[1:]:
        raise ValueError(f"queries {tuple(queries.shape)} and references {tuple(references.shape)} differ in shape")
    refs = references.flatten(1).double().div_(255)  # float64: ||q||^2 - 2 q.r + ||r||^2 cancels for near-copies
    ref_norms = (refs * refs).sum(1)
    nearest = []
    for chunk in queries.flatten(1).double().div_(255).split(batch_size):
        squared = (chunk * chunk).sum(1, keepdim=True) - 2 * chunk @ refs.T + ref_norms  # (B, N)
        nearest.append(squared.min(dim=1).values.clamp_(min=0))
    return torch.cat(nearest).div_(refs.shape[1]).sqrt_().numpy()


@dataclass
class CopyCheck:
    """Median distance to the nearest training image, for generated and for held-out real images."""

    images: int  # generated images checked, and as many held-out (test split) images
    train_images: int  # training images searched for the nearest one
    train_split_images: int  # images in the train split; above train_images when it was sampled down
    generated_median: float  # RMS pixel difference (0..1 scale) to the nearest training image
    held_out_median: float  # the same for real images never trained on; a memorising generator scores far below


def copy_check(generated: torch.Tensor, held_out: torch.Tensor, train: torch.Tensor, *, seed: int = 0,
               max_values: int = COPY_CHECK_MAX_VALUES) -> CopyCheck:
    """CopyCheck of uint8 generated and held-out images (M, C, H, W) against the uint8 train images (N, C, H, W).

    Train splits of more than `max_values` pixel values are sampled down to that many, without replacement,
    chosen by `seed`; both medians are taken against the same subsample.
    """
    searched = train
    keep = max(1, max_values // max(1, train[0].numel())) if len(train) else 0
    if len(train) > keep:
        searched = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[:keep]]
    return CopyCheck(images=len(generated), train_images=len(searched), train_split_images=len(train),
                     generated_median=float(np.median(nearest_distances(generated, searched))),
                     held_out_median=float(np.median(nearest_distances(held_out, searched))))


@dataclass
class EvaluationReport:
    """A generator's sample quality beside that of real images (the floor), on one dataset."""

    dataset: str  # "mnist", "fashion-mnist", "emoji" or "folder"
    samples: int  # images in every compared set (generated, real train subset, test reference)
    seed: int  # seeds the noise and the choice of real images
    classifier: str  # weight file of the classifier, naming its hash; "" for a folder without one
    feature_layer: str  # the classifier layer the Frechet distance is measured in; "" without a classifier
    generated: SampleQuality | None  # the generator's images against the test split; None without a classifier
    real: SampleQuality | None  # real train-split images against the test split: the best to hope for
    generated_classes: ClassQuality | None = None  # a conditional generator's class numbers; None if unconditional
    real_classes: ClassQuality | None = None  # the same for real train images and their labels: the floor
    class_names: list[str] = dataclasses.field(default_factory=list)  # of class_histogram's entries
    copy_check: CopyCheck | None = None  # against the train split, sampled down past COPY_CHECK_MAX_VALUES
    features: str = "classifier"  # the feature space of the distribution numbers: one of FEATURES
    feature_weights: str = ""  # its weights: the classifier's file, the general extractor's or Inception's path
    feature_limits: str = ""  # what figures in these features can and cannot be compared with (FEATURE_LIMITS)
    reference: str = ""  # which real images are the reference: the test split, or a folder's held-out part
    feature_dims: int = 0  # D: 128 classifier features, 2,048 Inception ones
    generated_distribution: DistributionQuality | None = None  # FD [interval], KID, precision ... of the generator
    real_distribution: DistributionQuality | None = None  # the same for the real train subset: the floor of each
    warnings: list[str] = dataclasses.field(default_factory=list)  # one line each, e.g. n too small for the interval

    def to_dict(self) -> dict:
        """Plain dict of numbers, strings and lists, ready for json.dumps."""
        return dataclasses.asdict(self)


def seeded_subset(images: torch.Tensor, n: int, seed: int,
            labels: torch.Tensor | None) -> tuple[torch.Tensor, np.ndarray | None]:
    """n of the uint8 images and their labels (None without), chosen without replacement by `seed` (all, in order,
    for n = all)."""
    shuffled = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed)) if n < len(images) else None
    chosen = torch.arange(n) if shuffled is None else shuffled[:n]
    return images[chosen], None if labels is None else labels[chosen].numpy()


def evaluate_generator(generator: GeneratorBase, dataset: str, data_root: str | os.PathLike | None = None, *,
                       n_samples: int = DEFAULT_SAMPLES, seed: int = 0, features: str | None = None,
                       inception_weights: str | os.PathLike | None = None, resamples: int = BOOTSTRAP_RESAMPLES,
                       distribution: bool = True, classifier: str | os.PathLike | None = None) -> EvaluationReport:
    """Measure a generator of images in [-1, 1] against `dataset`'s test split, or a folder's held-out part.

    Deterministic given `seed`: it fixes the generator's noise and which real images are used.
    A conditional generator (num_classes > 0) draws its images with labels cycling through its classes, and is also
    measured class by class (ClassQuality) where a classifier judges them: not on a folder without `classifier`.

    Args:
        generator: any gan_models generator; for a shipped dataset its `image_shape` is the dataset classifier's
            input: (1, 28, 28) for MNIST and Fashion-MNIST, (3, 64, 64) for emoji. For "folder", the folder is
            decoded at the generator's shape.
        dataset: "mnist", "fashion-mnist" or "emoji" (a classifier ships for each), or "folder" (data_root is
            the image folder; its held-out part, gan_models.quality.folder, is the reference). A conditional
            generator must have as many classes as the classifier.
        data_root: folder holding the datasets (default $GAN_MODELS_DATA), or the image folder.
        n_samples: images per compared set; capped at the test split's size (MNIST: 2,000; emoji: 788).
        seed: seed of the noise, of the real subsets, of KID's subsets and of the bootstrap.
        features: the feature space of the distribution numbers (FD [interval], KID, precision ...):
            "classifier" (the dataset's, or `classifier`), "inception" (pytorch-fid's InceptionV3) or
            "general" (the shipped random-weights CNN, gan_models.quality.general); default "classifier" where
            there is one, else "general".
        inception_weights: with features="inception", the weights file (.pth); None lets pytorch-fid
            fetch its own (online).
        resamples: bootstrap resamples of FD's interval.
        distribution: False skips the distribution numbers (about 10 s on one core at n = 2,000, mostly the
            bootstrap), for callers that need only FD and the class numbers, e.g. a quality gate.
        classifier: a classifier file written by `gan-models train-classifier` (its record beside it), for a
            folder's class numbers and classifier features; replaces a shipped dataset's own.

    Raises:
        TypeError: `generator` is not a gan_models generator.
        ValueError: unknown dataset or features, wrong image shape or class count, n_samples < 2, or
            non-finite images.
        DatasetNotFoundError: the data is not under data_root.
    """
    if not isinstance(generator, GeneratorBase):
        raise TypeError(f"generator must be a gan_models generator (GeneratorBase), got {type(generator).__name__}")
    judge, record = _judge(dataset, classifier)
    if judge is not None and tuple(generator.image_shape) != judge.input_shape:
        expected = judge.input_shape
        raise ValueError(f"the {dataset} classifier judges {' x '.join(map(str, expected))} images; this generator "
                         f"makes {' x '.join(map(str, generator.image_shape))}")
    classes = generator.num_classes
    names = _class_names(dataset, record)
    if classes and record is not None and classes != len(names):  # a folder without a classifier has no class numbers
        raise ValueError(f"the generator has {classes} classes, the {dataset} classifier {len(names)}")

    def draw(n: int) -> torch.Tensor:  # a conditional generator draws image i of class i % K
        return generate(generator, n, seed, labels=balanced_labels(n, classes) if classes else None)

    report = evaluate_samples(draw, dataset, data_root, n_samples=n_samples, seed=seed, num_classes=classes,
                              features=features, inception_weights=inception_weights, resamples=resamples,
                              distribution=distribution, classifier=classifier,
                              image_shape=tuple(generator.image_shape))
    if classes and record is None:
        report.warnings.append(f"no class numbers: nothing judges this folder's {classes} classes; "
                               f"`gan-models train-classifier --data-root {data_root} --out DIR` trains a "
                               "classifier on them, and --classifier DIR/classifier-folder-<hash>.pt then adds "
                               "class accuracy")
    return report


def _judge(dataset: str, classifier: str | os.PathLike | None) -> tuple[Classifier | None, object]:
    """The classifier judging `dataset` and its record: the file given, else the shipped one, else (None, None)
    for a folder. An unknown dataset is a ValueError naming the choices."""
    if classifier is not None:
        return load_classifier_file(classifier)
    if dataset == "folder":
        return None, None
    return load_classifier(dataset), find_classifier(dataset)


def _class_names(dataset: str, record) -> tuple[str, ...]:
    """The class names of a classifier's logits: a folder classifier's record's, else its dataset's."""
    if record is None:
        return ()
    return tuple(record.classes) or DATASETS[record.dataset].classes


@torch.no_grad()
def _inception_features(network, images: torch.Tensor, batch_size: int = 50) -> np.ndarray:
    """(N, 2048) float64 Inception features of uint8 images (N, C, H, W)."""
    return torch.cat([network(to_unit_range(images[start:start + batch_size])).double()
                      for start in range(0, len(images), batch_size)]).numpy()


def _reference_data(dataset: str, data_root, image_shape, labelled: bool, classes: tuple) -> tuple:
    """(held-out images, their labels or None, train images, their labels or None, a phrase naming the reference)."""
    if dataset != "folder":
        test, test_labels, _ = load_labelled_images(dataset, data_root, split="test")
        train, train_labels, _ = load_labelled_images(dataset, data_root, split="train")
        return test, test_labels, train, train_labels, f"{dataset} test split"
    if image_shape is None:
        raise ValueError("evaluating against a folder needs image_shape, the (C, H, W) the images are decoded at")
    splits = load_folder_splits(data_root, image_shape, labelled=labelled)
    if labelled and tuple(splits.classes) != tuple(classes):
        raise ValueError(f"the folder {data_root} has classes {list(splits.classes)}, the classifier {list(classes)}")
    total = len(splits.train) + len(splits.held_out)
    where = (f"{len(splits.held_out):,} of the folder's {total:,} images held out ({HOLD_OUT_SHARE:.0%}, "
             f"split seed {SPLIT_SEED})")
    return splits.held_out, splits.held_out_labels, splits.train, splits.train_labels, where


def evaluate_samples(draw: Callable[[int], torch.Tensor], dataset: str, data_root: str | os.PathLike | None = None, *,
                     n_samples: int = DEFAULT_SAMPLES, seed: int = 0, num_classes: int = 0,
                     features: str | None = None, inception_weights: str | os.PathLike | None = None,
                     resamples: int = BOOTSTRAP_RESAMPLES, distribution: bool = True,
                     classifier: str | os.PathLike | None = None,
                     image_shape: tuple[int, int, int] | None = None) -> EvaluationReport:
    """Measure images from any source, e.g. an ONNX generator under onnxruntime, as evaluate_generator does.

    Args:
        draw: draw(n) returns n uint8 images (n, C, H, W) of the reference's shape (the classifier's input, or
            `image_shape` for a folder), the 8-bit images a user would save.
        dataset, data_root, n_samples, seed, features, inception_weights, resamples, distribution, classifier: as
            for evaluate_generator.
        num_classes: for a conditional source, its class count: image i was drawn for class i % num_classes
            (`balanced_labels`), and the report adds the class numbers (ClassQuality).
        image_shape: (C, H, W) the folder is decoded at; needed for "folder", else the classifier's input.

    Raises:
        ValueError: unknown dataset or features, n_samples < 2 (< 4 for the k = 3 neighbours), images of
            another shape or type, or non-finite features.
        DatasetNotFoundError: the data is not under data_root.
        RuntimeError, FileNotFoundError: features="inception" without pytorch-fid, or without its weights file.
    """
    judge, record = _judge(dataset, classifier)
    features = features or ("classifier" if judge is not None else "general")
    if features not in FEATURES:
        raise ValueError(f"unknown features {features!r}; choose one of {list(FEATURES)}")
    if features == "classifier" and judge is None:
        raise ValueError("a folder has no shipped classifier: use features 'general' or 'inception', or give the "
                         "classifier file `gan-models train-classifier` wrote for it")
    if n_samples <= NEAREST_K:
        raise ValueError(f"n_samples must be >= 2 for a covariance and >= {NEAREST_K + 1} for precision and recall's "
                         f"{NEAREST_K} nearest neighbours, got {n_samples}")
    inception = None
    if features == "inception" and distribution:  # before the data, so a missing weights file fails fast
        from gan_models.quality.inception import load_inception

        inception = load_inception(inception_weights)
    shape = judge.input_shape if judge is not None else tuple(image_shape or ())
    classes = _class_names(dataset, record)
    test, test_labels, train, train_labels, reference_name = _reference_data(
        dataset, data_root, shape, judge is not None, classes)
    n = min(n_samples, len(test))
    held_out, held_out_labels = seeded_subset(test, n, seed, test_labels)
    fake = draw(n)
    if tuple(fake.shape) != (n, *test.shape[1:]) or fake.dtype != torch.uint8:
        raise ValueError(f"draw({n}) must return uint8 images {(n, *test.shape[1:])}, got {fake.dtype} "
                         f"{tuple(fake.shape)}")
    labels = balanced_labels(n, num_classes) if num_classes else None
    real, real_labels = seeded_subset(train, n, seed, train_labels)
    checked = min(n, COPY_CHECK_IMAGES)
    report = EvaluationReport(
        dataset=dataset, samples=n, seed=seed, classifier=record.file if record else "",
        feature_layer=FEATURE_LAYER if judge is not None else "", generated=None, real=None,
        class_names=list(classes), copy_check=copy_check(fake[:checked], held_out[:checked], train, seed=seed),
        features=features, feature_limits=FEATURE_LIMITS[features], reference=reference_name)
    if judge is not None:
        test_scores = classify(judge, to_unit_range(held_out))
        fake_scores, real_scores = classify(judge, to_unit_range(fake)), classify(judge, to_unit_range(real))
        reference = feature_statistics(test_scores[0])
        report.generated, report.real = sample_quality(*fake_scores, reference), sample_quality(*real_scores, reference)
        if labels is not None:
            report.generated_classes = class_quality(*fake_scores, labels.numpy(), test_scores[0], held_out_labels)
            report.real_classes = class_quality(*real_scores, real_labels, test_scores[0], held_out_labels)
    if features == "classifier":
        spaces, report.feature_weights = (test_scores[0], fake_scores[0], real_scores[0]), record.file
    elif features == "general":
        network = load_general_features()
        spaces = tuple(general_features(network, images).numpy() for images in (held_out, fake, real))
        report.feature_weights = general_record().file
    elif inception is not None:
        spaces = tuple(_inception_features(inception, images) for images in (held_out, fake, real))
        report.feature_weights = "pytorch-fid's download" if inception_weights is None else str(inception_weights)
    else:  # inception without the distribution numbers: nothing is measured in its features
        spaces = None
    report.feature_dims = spaces[0].shape[1] if spaces is not None else 0
    if distribution:
        report.generated_distribution = distribution_quality(spaces[1], spaces[0], seed=seed, resamples=resamples)
        report.real_distribution = distribution_quality(spaces[2], spaces[0], seed=seed, resamples=resamples)
    dims = report.feature_dims
    if distribution and n < min_samples_for_interval(dims):
        report.warnings.append(f"{n:,} images per set is too few for FD's 95% interval to mean anything "
                               f"in {dims:,} {features} features: bootstrap resamples need n >= "
                               f"{min_samples_for_interval(dims):,} for a full-rank covariance (use more --samples)")
    return report

"""gan_models/quality/metrics.py: the Frechet distance by hand, class coverage, and evaluate_generator on real data."""
import math

import numpy as np
import pytest
import torch

from gan_models.data import load_images, to_unit_range
from gan_models.emoji import EMOJI_CATEGORIES, load_emoji
from gan_models.nets.base import GeneratorBase
from gan_models.quality.classifier import CLASSIFIERS, load_classifier
from gan_models.quality.metrics import (
    class_coverage,
    class_quality,
    classify,
    copy_check,
    evaluate_generator,
    feature_statistics,
    frechet_distance,
    nearest_distances,
)
from gan_models.registry import build_generator
from tests.helpers import tiny_fcgan_generator

MU2, SIGMA2 = np.array([1.0, 2.0, 0.0]), np.diag([4.0, 1.0, 9.0])


DISTANCE = 7.0


# N(0, diag(1, 4, 9)) against N((1, 2, 0), diag(4, 1, 9)): ||mu1 - mu2||^2 = 1 + 4 = 5, and for
# diagonal covariances the trace term is sum((sqrt(a) - sqrt(b))^2) = (1 - 2)^2 + (2 - 1)^2 + 0 = 2.
MU1, SIGMA1 = np.zeros(3), np.diag([1.0, 4.0, 9.0])


def test_frechet_distance_of_diagonal_gaussians_by_hand():
    assert frechet_distance(MU1, SIGMA1, MU2, SIGMA2) == pytest.approx(DISTANCE, abs=1e-12)
    assert frechet_distance(MU2, SIGMA2, MU1, SIGMA1) == pytest.approx(DISTANCE, abs=1e-12)


def test_frechet_distance_does_not_depend_on_the_basis():
    # Rotating both Gaussians makes the covariances full (the non-diagonal code path) but keeps the distance.
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    rotated = frechet_distance(q @ MU1, q @ SIGMA1 @ q.T, q @ MU2, q @ SIGMA2 @ q.T)
    assert rotated == pytest.approx(DISTANCE, abs=1e-9)


def test_frechet_distance_of_a_singular_gaussian_to_itself_is_zero():
    v = np.array([[1.0, 2.0, 3.0]])
    sigma = v.T @ v  # rank 1: where scipy.linalg.sqrtm(S1 @ S2) can go non-finite or complex
    assert frechet_distance(np.ones(3), sigma, np.ones(3), sigma) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_of_sample_statistics_matches_the_formula():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.0, 1.0, (20_000, 2)), rng.normal(3.0, 2.0, (20_000, 2))
    # Expected: ||(3, 3)||^2 + 2 * (1 - 2)^2 = 18 + 2 = 20, up to sampling error.
    assert frechet_distance(*feature_statistics(a), *feature_statistics(b)) == pytest.approx(20.0, rel=0.03)


@pytest.mark.parametrize("bad, message", [
    ((np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)), "of one D"),
    ((np.array([np.nan, 0.0]), np.eye(2), np.zeros(2), np.eye(2)), "NaN or inf"),
])
def test_frechet_distance_rejects_bad_statistics(bad, message):
    with pytest.raises(ValueError, match=message):
        frechet_distance(*bad)


@pytest.mark.parametrize("histogram, covered, kl", [
    ([0, 0, 0, 500, 0, 0, 0, 0, 0, 0], 1, math.log(10)),  # every sample one class
    ([7] * 10, 10, 0.0),  # perfectly balanced
    ([50, 50, 0, 0, 0, 0, 0, 0, 0, 0], 2, math.log(5)),  # KL = log K - entropy = log 10 - log 2
    ([98, 2, 0, 0, 0, 0, 0, 0, 0, 0], 2, 0.98 * math.log(9.8) + 0.02 * math.log(0.2)),  # 2% counts
    ([99, 1, 0, 0, 0, 0, 0, 0, 0, 0], 1, 0.99 * math.log(9.9) + 0.01 * math.log(0.1)),  # 1% does not
])
def test_class_coverage_by_hand(histogram, covered, kl):
    assert class_coverage(histogram) == (covered, pytest.approx(kl, abs=1e-12))


def test_class_coverage_rejects_an_empty_histogram():
    with pytest.raises(ValueError, match="positive sum"):
        class_coverage([0] * 10)


def test_real_vs_real_is_far_below_noise_vs_real(data_root):
    classifier = load_classifier("mnist")
    test = to_unit_range(load_images("mnist", data_root, split="test"))
    train = to_unit_range(load_images("mnist", data_root, split="train")[:len(test)])
    noise = torch.rand(test.shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    reference = feature_statistics(classify(classifier, test)[0])
    real = frechet_distance(*feature_statistics(classify(classifier, train)[0]), *reference)
    uniform = frechet_distance(*feature_statistics(classify(classifier, noise)[0]), *reference)
    assert 0 < real < uniform / 50


def test_evaluate_generator_is_deterministic_given_the_seed(data_root):
    first = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=300, seed=3).to_dict()
    again = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=300, seed=3).to_dict()
    other = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=300, seed=4).to_dict()
    assert first == again and first != other
    assert first["samples"] == 300 and first["real"]["classes_covered"] == 10
    assert first["generated"]["frechet_distance"] > 10 * first["real"]["frechet_distance"]


def test_evaluate_caps_samples_at_the_test_split(data_root):
    report = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=50_000)
    assert report.samples == CLASSIFIERS["mnist"].test_images


# The copy check: distances to the nearest training image, by hand and on real data.

def _flat(*values: int) -> torch.Tensor:
    """uint8 images (N, 3, 4, 4), image i filled with values[i]."""
    return torch.tensor(values, dtype=torch.uint8).view(-1, 1, 1, 1).expand(-1, 3, 4, 4).contiguous()


def test_nearest_distances_by_hand():
    references = _flat(0, 51, 51)
    half = _flat(0)
    half[..., :2] = 255  # half white, half black: RMS to black sqrt(0.5), to 51 (nearer) sqrt((0.8^2 + 0.2^2) / 2)
    distances = nearest_distances(torch.cat([_flat(51, 255, 102, 0), half]), references, batch_size=2)
    assert distances == pytest.approx([0.0, 0.8, 0.2, 0.0, np.sqrt(0.34)], abs=1e-12)


def test_copy_check_reports_both_medians():
    check = copy_check(_flat(0, 10, 20), _flat(102, 102, 153), _flat(0, 255))
    # generated: 0, 10/255, 20/255 from black -> median 10/255; held out: 0.4 each (153 is 0.4 from white)
    assert (check.images, check.train_images) == (3, 2)
    assert check.generated_median == pytest.approx(10 / 255, abs=1e-12)
    assert check.held_out_median == pytest.approx(0.4, abs=1e-12)


def test_images_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        nearest_distances(_flat(0), torch.zeros(1, 1, 4, 4, dtype=torch.uint8))


class _Memoriser(GeneratorBase):
    """A 'generator' that returns training images: the copy check must catch it."""

    def __init__(self, images: torch.Tensor) -> None:
        super().__init__(8, images.shape[1], images.shape[-1], "normal")
        self.images = torch.nn.Parameter(to_unit_range(images), requires_grad=False)

    def generate(self, z: torch.Tensor) -> torch.Tensor:
        return self.images[(z[:, 0].abs() * 1e4).long() % len(self.images)]


# An exact copy's distance is 0 up to the float64 cancellation of ||q||^2 - 2 q.r + ||r||^2 over D = 12,288 pixels:
# at most about sqrt(D * eps64) = 1.6e-6 (measured 7.1e-8 on an AVX2 CPU, 0.0 on an AVX-512 one). The nearest
# distinct uint8 image (one pixel one level off) is sqrt((1/255)^2 / D) = 3.5e-5 away, so 1e-5 tells them apart.
COPY_TOLERANCE = 1e-5


@pytest.mark.numerics
def test_a_memorising_emoji_generator_scores_zero_against_the_held_out_figure(data_root):
    train, _ = load_emoji(data_root, split="train")
    report = evaluate_generator(_Memoriser(train), "emoji", data_root, n_samples=10_000, seed=0)
    assert report.samples == 788 and report.class_names == list(EMOJI_CATEGORIES)
    check = report.copy_check
    assert (check.images, check.train_images) == (788, 6784)
    assert 0.0 <= check.generated_median < COPY_TOLERANCE
    # measured: held-out emoji lie 0.155 (RMS, 0..1 scale) from their nearest training emoji
    assert check.held_out_median == pytest.approx(0.155425, abs=1e-6)
    # training images score like training images: the real floor's distance, the same eight categories above 2%
    # (activities, 2.3% of the images, is predicted for 1.0-1.8%; component for 0.1-0.3%)
    assert report.real.frechet_distance == pytest.approx(34.62, abs=0.01)
    # The memoriser's picks follow z's float bits (x 1e4, truncated), which torch's kernel paths round differently
    # (34.55 where recorded, 34.39 under ATEN_CPU_CAPABILITY=default): other training images, the same score.
    assert report.generated.frechet_distance == pytest.approx(report.real.frechet_distance, rel=0.02)
    assert report.generated.classes_covered == report.real.classes_covered == 8


def test_the_copy_check_searches_the_whole_mnist_train_split(data_root):
    generator = build_generator("fcgan", nz=4, ngf=16)
    mnist = evaluate_generator(generator, "mnist", data_root, n_samples=50)
    assert (mnist.copy_check.images, mnist.copy_check.train_images) == (50, 8000)
    assert mnist.copy_check.generated_median > mnist.copy_check.held_out_median  # noise is far from any digit
    # Fashion-MNIST (60,000) gets one too, now that no split is skipped: tests/quality/test_report.py


def test_class_quality_by_hand():
    rng = np.random.default_rng(0)
    reference = rng.normal(size=(40, 3))
    reference_labels = np.repeat([0, 1], 20)
    # Class 0's images are predicted right 3 times in 4, class 1's always; features equal the reference's.
    probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.2, 0.8]] + [[0.1, 0.9]] * 4)
    features = np.concatenate([reference[:4], reference[20:24]])
    labels = np.array([0] * 4 + [1] * 4)
    quality = class_quality(features, probabilities, labels, reference, reference_labels)
    assert quality.per_class_accuracy == [0.75, 1.0]
    assert quality.class_accuracy == pytest.approx(0.875)
    assert quality.per_class_frechet_distance[0] > 0
    same = class_quality(reference, np.eye(2)[reference_labels], reference_labels, reference, reference_labels)
    assert same.per_class_frechet_distance == pytest.approx([0.0, 0.0], abs=1e-9)
    assert same.class_accuracy == 1.0
    with pytest.raises(ValueError, match="class 1 has 1 images and 20 reference images"):
        class_quality(features[:5], probabilities[:5], labels[:5], reference, reference_labels)


def test_evaluate_measures_a_conditional_generator_class_by_class(data_root):
    torch.manual_seed(0)
    generator = build_generator("fcgan", conditional=True, ngf=8)
    report = evaluate_generator(generator, "mnist", data_root, n_samples=200, seed=0)
    assert report.samples == 200
    assert len(report.generated_classes.per_class_accuracy) == 10
    # Real train images with their own labels: the classifier's own accuracy, far above an untrained generator's.
    assert report.real_classes.class_accuracy > 0.95
    assert report.generated_classes.class_accuracy < 0.5
    assert report.real_classes.intra_class_frechet_distance < report.generated_classes.intra_class_frechet_distance
    unconditional = evaluate_generator(build_generator("fcgan", ngf=8), "mnist", data_root, n_samples=200, seed=0)
    assert unconditional.generated_classes is None
    assert unconditional.real == report.real  # the floor does not depend on the generator
    with pytest.raises(ValueError, match="the generator has 3 classes, the mnist classifier 10"):
        evaluate_generator(build_generator("fcgan", conditional=True, num_classes=3, ngf=8), "mnist", data_root,
                           n_samples=20)


def test_class_share_failures_by_hand():
    from types import SimpleNamespace

    from gan_models.quality.metrics import class_share_failures

    # generated vs real shares: a within 2x (0.30 vs 0.20), b over (0.45 vs 0.20), c under (0.04 vs 0.10),
    # d exactly half (0.05 vs 0.10) passes; e is 1% of the data, so its 0.16 vs 0.40 is not judged
    report = SimpleNamespace(class_names=["a", "b", "c", "d", "e"],
                             generated=SimpleNamespace(class_histogram=[0.30, 0.45, 0.04, 0.05, 0.16]),
                             real=SimpleNamespace(class_histogram=[0.20, 0.20, 0.10, 0.10, 0.40]))
    assert class_share_failures(report, [0.3, 0.3, 0.2, 0.19, 0.01]) == [
        "b: 45.0% of samples, 20.0% of real images", "c: 4.0% of samples, 10.0% of real images"]

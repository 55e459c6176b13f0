"""The full quality report of evaluate_generator: FD [interval], KID, precision/recall/density/coverage beside their
real-vs-real values, the copy check on any train split, and the small-n warning. Small n and few bootstrap resamples
keep it fast (about 2 s a report on one core)."""
import numpy as np
import pytest
import torch

from gan_models.data import load_labelled_images
from gan_models.quality.distribution import kernel_inception_distance, precision_recall_density_coverage
from gan_models.quality.metrics import copy_check, evaluate_generator, min_samples_for_interval
from tests.helpers import tiny_fcgan_generator
from tests.quality.test_inception import random_weights  # noqa: F401 (the fixture)
from tests.quality.test_metrics import COPY_TOLERANCE, _flat, _Memoriser

N, RESAMPLES = 300, 20  # n above min_samples_for_interval(128) = 205, so no warning


@pytest.fixture(scope="module")
def memorised(data_root):
    """The report of a generator that returns MNIST training images: real images, scored as generated."""
    train = load_labelled_images("mnist", data_root, split="train")[0]
    return evaluate_generator(_Memoriser(train), "mnist", data_root, n_samples=N, seed=0, resamples=RESAMPLES)


def test_real_train_images_scored_as_generated_sit_at_the_real_vs_real_floor(memorised):
    mine, floor = memorised.generated_distribution, memorised.real_distribution
    assert (memorised.features, memorised.feature_dims, memorised.warnings) == ("classifier", 128, [])
    # KID is unbiased: about 0 for real images, within two subset stds (measured 13.1 +- 38.2 and -27.9 +- 33.5),
    # against 2,500-2,900 for an untrained generator (below)
    assert abs(mine.kid) < 2 * mine.kid_std and abs(floor.kid) < 2 * floor.kid_std
    # precision, recall, density, coverage: within 0.1 of the floor's, measured 0.897/0.907/0.979/0.857 against
    # 0.907/0.827/1.073/0.843 (k = 3 on 300 images: about 0.9, not 1, even for real images)
    for name in ("precision", "recall", "density", "coverage"):
        assert getattr(mine, name) == pytest.approx(getattr(floor, name), abs=0.1), name
        assert getattr(floor, name) > 0.8, name
    # the FD of the distribution numbers is the classifier FD the records carry, for both sets
    assert mine.frechet_distance == memorised.generated.frechet_distance
    assert floor.frechet_distance == memorised.real.frechet_distance
    assert all(0 <= low <= high for low, high in (mine.frechet_interval, floor.frechet_interval))


def test_a_memorising_mnist_generator_is_caught_by_the_copy_check(memorised):
    check = memorised.copy_check
    assert (check.images, check.train_images, check.train_split_images) == (N, 8000, 8000)
    assert 0.0 <= check.generated_median < COPY_TOLERANCE
    assert check.held_out_median == pytest.approx(0.1735, abs=1e-3)  # measured 0.173512


def test_an_untrained_generator_is_far_from_the_floor_on_every_number(data_root):
    report = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=N, seed=0, resamples=RESAMPLES)
    mine, floor = report.generated_distribution, report.real_distribution
    assert mine.kid > 1000 > 10 * abs(floor.kid)  # measured 2,500-2,900 against -27.9
    assert mine.recall == 0.0 and mine.coverage < 0.05 and floor.recall > 0.8
    low, high = mine.frechet_interval
    assert low <= mine.frechet_distance <= high and mine.frechet_distance > 50 * floor.frechet_distance


def test_the_distribution_numbers_are_the_library_functions_on_the_report_features(data_root):
    # evaluate_samples passes the test features as `real`: KID's mean is symmetric, precision and recall swap
    report = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=N, seed=1, resamples=RESAMPLES)
    assert report.seed == 1 and report.generated_distribution.kid_std > 0  # subsets of n // 2 = 150 differ
    assert report.real_distribution == evaluate_generator(tiny_fcgan_generator(1), "mnist", data_root, n_samples=N,
                                                          seed=1, resamples=RESAMPLES).real_distribution


def test_too_few_images_for_the_interval_warn_in_one_line(data_root):
    assert (min_samples_for_interval(128), min_samples_for_interval(2048)) == (205, 3242)
    report = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=200, resamples=RESAMPLES)
    assert len(report.warnings) == 1 and "\n" not in report.warnings[0]
    assert report.warnings[0].startswith("200 images per set is too few for FD's 95% interval")
    assert "n >= 205" in report.warnings[0]


def test_distribution_false_keeps_the_records_numbers_and_skips_the_rest(data_root):
    full = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=50, resamples=RESAMPLES)
    quick = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=50, distribution=False)
    assert quick.generated_distribution is None and quick.warnings == []
    assert (quick.generated, quick.real, quick.copy_check) == (full.generated, full.real, full.copy_check)


def test_a_large_train_split_is_sampled_down_for_the_copy_check():
    train = _flat(*range(0, 200, 2))  # 100 images of 48 values; a budget of 480 values keeps 10 of them
    check = copy_check(_flat(0, 1), _flat(3, 5), train, seed=0, max_values=480)
    assert (check.images, check.train_images, check.train_split_images) == (2, 10, 100)
    assert copy_check(_flat(0, 1), _flat(3, 5), train, seed=0, max_values=480) == check  # seeded
    whole = copy_check(_flat(0, 1), _flat(3, 5), train)
    assert (whole.train_images, whole.generated_median, whole.held_out_median) == (100, pytest.approx(0.5 / 255),
                                                                                  pytest.approx(1 / 255))


def test_fashion_mnist_gets_a_copy_check_of_its_whole_train_split(data_root):
    report = evaluate_generator(tiny_fcgan_generator(), "fashion-mnist", data_root, n_samples=20, distribution=False)
    check = report.copy_check
    assert (check.images, check.train_images, check.train_split_images) == (20, 60_000, 60_000)
    assert check.generated_median > check.held_out_median  # noise is far from any garment


def test_unknown_features_and_too_few_samples_are_refused(data_root):
    with pytest.raises(ValueError, match="unknown features 'clip'"):
        evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=50, features="clip")
    with pytest.raises(ValueError, match="n_samples must be >= 2 for a covariance and >= 4"):
        evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=3)


def test_kid_and_manifold_helpers_agree_with_the_report_on_identical_features():
    # the same features as real and generated: KID's mean is the unbiased MMD^2 of one sample with itself's halves
    rng = np.random.default_rng(0)
    features = rng.normal(size=(40, 8))
    assert kernel_inception_distance(features, features, subsets=5, subset_size=20)[0] == pytest.approx(0, abs=0.5)
    same = precision_recall_density_coverage(features, features)
    assert (same.precision, same.recall, same.coverage) == (1.0, 1.0, 1.0)
    assert torch.is_tensor(torch.as_tensor(features))


@pytest.mark.slow  # Inception at 299 x 299, and FDs of 2048 x 2048 covariances, on the CPU: about a minute
def test_inception_features_give_fd_kid_and_prdc_of_the_same_images(data_root, random_weights,  # noqa: F811
                                                                    monkeypatch):
    from gan_models.data import to_unit_range
    from gan_models.quality.frechet import feature_statistics, frechet_distance
    from gan_models.quality.inception import load_inception
    from gan_models.quality.metrics import seeded_subset
    from gan_models.sampling import generate
    weights = random_weights  # a file of pytorch-fid's FID InceptionV3 with random values
    network = load_inception(weights)
    loaded = []  # building the network takes most of the test's time: build it once, and check evaluate asks for it
    monkeypatch.setattr("gan_models.quality.inception.load_inception", lambda path: loaded.append(path) or network)
    n = 6
    report = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=n, seed=0, resamples=2,
                                features="inception", inception_weights=weights)
    assert loaded == [weights]
    assert (report.features, report.feature_dims, report.feature_weights) == ("inception", 2048, str(weights))
    assert report.warnings and "2,048 inception features" in report.warnings[0]
    test, test_labels, _ = load_labelled_images("mnist", data_root, split="test")
    reference = network(to_unit_range(seeded_subset(test, n, 0, test_labels)[0])).double().numpy()
    fake = network(to_unit_range(generate(tiny_fcgan_generator(), n, 0))).double().numpy()
    mine = report.generated_distribution
    assert mine.frechet_distance == pytest.approx(
        frechet_distance(*feature_statistics(fake), *feature_statistics(reference)), rel=1e-6)
    assert len(mine.frechet_interval) == 2  # each resample costs three 2048 x 2048 eigendecompositions: two only
    assert mine.precision == pytest.approx(precision_recall_density_coverage(reference, fake).precision)
    # the classifier numbers of the records stay as they were
    classifier = evaluate_generator(tiny_fcgan_generator(), "mnist", data_root, n_samples=n, distribution=False)
    assert report.generated == classifier.generated and report.copy_check == classifier.copy_check

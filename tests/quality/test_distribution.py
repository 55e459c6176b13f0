"""KID, precision/recall/density/coverage and the FD interval, against torchmetrics and prdc on the same features."""
import numpy as np
import prdc
import pytest
import torch
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance, poly_mmd

from gan_models.quality.distribution import (
    frechet_interval,
    kernel_inception_distance,
    polynomial_mmd,
    precision_recall_density_coverage,
)
from gan_models.quality.frechet import feature_statistics, frechet_distance


def _features(seed: int, n: int = 300, dims: int = 16, shift: float = 0.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(shift, 1.0, size=(n, dims))


class _Features(torch.nn.Module):
    """torchmetrics' feature hook, fed features directly: the identity, with the width its metrics ask for."""

    num_features = 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def test_polynomial_mmd_equals_torchmetrics_on_the_same_subset():
    real, fake = _features(0), _features(1, shift=0.3)
    expected = float(poly_mmd(torch.from_numpy(real), torch.from_numpy(fake)))
    assert _relative(polynomial_mmd(real, fake), expected) < 1e-6


def test_kid_equals_torchmetrics_kernel_inception_distance():
    real, fake = _features(2, n=200), _features(3, n=200, shift=0.5)
    metric = KernelInceptionDistance(feature=_Features(), subsets=3, subset_size=200).double()
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    expected_mean, expected_std = (float(v) for v in metric.compute())
    # subsets as large as the sets: every subset is the whole set, so the random draws cannot differ
    mean, std = kernel_inception_distance(real, fake, subsets=3, subset_size=200)
    assert _relative(mean, expected_mean) < 1e-6
    assert std == pytest.approx(expected_std, abs=1e-12) and std < 1e-12


def test_kid_is_near_zero_for_one_distribution_and_grows_with_the_shift():
    same, _ = kernel_inception_distance(_features(4, n=600), _features(5, n=600), subsets=10, subset_size=200)
    shifted, _ = kernel_inception_distance(_features(4, n=600), _features(5, n=600, shift=0.5), subsets=10,
                                           subset_size=200)
    assert abs(same) < 0.01
    assert shifted > 0.1


def test_frechet_distance_equals_torchmetrics():
    real, fake = _features(6), _features(7, shift=0.2)
    metric = FrechetInceptionDistance(feature=_Features()).double()
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    ours = frechet_distance(*feature_statistics(real), *feature_statistics(fake))
    assert _relative(ours, float(metric.compute())) < 1e-6


@pytest.mark.parametrize("shift", [0.0, 0.7])
def test_precision_recall_density_coverage_equal_the_prdc_package(shift):
    real, fake = _features(8, n=250), _features(9, n=200, shift=shift)
    expected = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=3)
    ours = precision_recall_density_coverage(real, fake, k=3)
    for name in ("precision", "recall", "density", "coverage"):
        assert _relative(getattr(ours, name), float(expected[name])) < 1e-6, name


def test_a_collapsed_generator_has_fidelity_but_no_diversity():
    real = _features(10, n=400)
    collapsed = real[:1].repeat(400, axis=0) + np.random.default_rng(11).normal(0, 1e-3, size=(400, 16))
    scores = precision_recall_density_coverage(real, collapsed)
    assert scores.precision == 1.0
    assert scores.recall < 0.05 and scores.coverage < 0.05


def test_frechet_interval_holds_the_estimate_even_for_one_distribution():
    """Resampling's repeated images push every bootstrap FD above a real-vs-real estimate; the interval must not."""
    real, other = _features(14, n=300), _features(15, n=300)
    estimate = frechet_distance(*feature_statistics(real), *feature_statistics(other))
    low, high = frechet_interval(real, other, resamples=100)
    assert low <= estimate <= high
    assert 0 < high - low < estimate


def test_frechet_interval_holds_the_estimate_and_narrows_with_more_samples():
    small = frechet_interval(_features(12, n=200), _features(13, n=200, shift=0.3), resamples=100)
    large = frechet_interval(_features(12, n=2000), _features(13, n=2000, shift=0.3), resamples=100)
    estimate = frechet_distance(*feature_statistics(_features(12, n=2000)),
                                *feature_statistics(_features(13, n=2000, shift=0.3)))
    assert large[0] <= estimate <= large[1]
    assert large[1] - large[0] < (small[1] - small[0]) / 2

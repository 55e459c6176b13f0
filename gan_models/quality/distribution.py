"""Distances between two sets of feature vectors that complement the Frechet distance.

All take real features (N, D) and generated features (M, D) as float arrays, in any feature space
(the project's classifiers' 128 features, or Inception's 2048):
- `kernel_inception_distance`: KID (Binkowski et al. 2018, arXiv 1801.01401), the unbiased MMD^2
  with the cubic polynomial kernel k(x, y) = (x.y / D + 1)^3, averaged over random subsets. Its
  estimate does not drift with the sample count, which FD's does.
- `precision_recall_density_coverage`: fidelity and diversity as separate figures, from k-nearest-
  neighbour balls (precision and recall: Kynkaanniemi et al. 2019, arXiv 1904.06991; density and
  coverage: Naeem et al. 2020, arXiv 2002.09797), k = 3.
- `frechet_interval`: a bootstrap interval of the Frechet distance. Resampling with replacement
  repeats images, which raises FD's small-sample bias by about as much as a real-vs-real floor, so
  the bootstrap values sit above FD, often all of them. The interval therefore takes only their
  spread: the distances from their median to their 2.5% and 97.5% quantiles, laid around FD.

The formulas follow torchmetrics' KernelInceptionDistance and the `prdc` package, and the tests check
equality with both on the same features; they are written here in numpy and torch so that a user's
install needs neither (nor scikit-learn, which `prdc` pulls in).
"""
from dataclasses import dataclass

import numpy as np
import torch

from gan_models.quality.frechet import feature_statistics, frechet_distance

NEAREST_K = 3  # the k of precision/recall/density/coverage, as both papers recommend
KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000
BOOTSTRAP_RESAMPLES = 200
_ROW_CHUNK = 2048  # rows of a distance matrix held at once: 2048 x 10,000 float64 is 160 MB


def _as_float64(features) -> torch.Tensor:
    tensor = torch.as_tensor(np.asarray(features, dtype=np.float64))
    if tensor.ndim != 2:
        raise ValueError(f"features must have shape (N, D), got {tuple(tensor.shape)}")
    return tensor


def polynomial_mmd(real: np.ndarray, fake: np.ndarray) -> float:
    """Unbiased MMD^2 between two equal-sized feature sets (m, D) with k(x, y) = (x.y / D + 1)^3."""
    x, y = _as_float64(real), _as_float64(fake)
    m, dims = x.shape
    if y.shape != x.shape or m < 2:
        raise ValueError(f"polynomial_mmd needs two (m >= 2, D) sets of the same shape, got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    k_xx = (x @ x.T / dims + 1) ** 3
    k_yy = (y @ y.T / dims + 1) ** 3
    k_xy = (x @ y.T / dims + 1) ** 3
    within = (k_xx.sum() - k_xx.diagonal().sum() + k_yy.sum() - k_yy.diagonal().sum()) / (m * (m - 1))
    return float(within - 2 * k_xy.sum() / m ** 2)


def kernel_inception_distance(real: np.ndarray, fake: np.ndarray, *, subsets: int = KID_SUBSETS,
                              subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> tuple[float, float]:
    """KID: mean and standard deviation of `polynomial_mmd` over random subsets, without replacement within one.

    `subset_size` is capped at the smaller set's size. Returns (mean, std); std is the spread over
    subsets (torchmetrics' convention, population std), not a confidence interval.
    """
    x, y = _as_float64(real), _as_float64(fake)
    size = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    values = [polynomial_mmd(x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)])
              for _ in range(subsets)]
    return float(np.mean(values)), float(np.std(values))


def _kth_neighbour_distances(features: torch.Tensor, k: int) -> torch.Tensor:
    """(N,) Euclidean distance from each row to its k-th nearest other row."""
    radii = []
    for start in range(0, len(features), _ROW_CHUNK):
        distances = torch.cdist(features[start:start + _ROW_CHUNK], features)
        radii.append(distances.kthvalue(k + 1, dim=1).values)  # the smallest is the row itself, at 0
    return torch.cat(radii)


@dataclass(frozen=True)
class PrecisionRecall:
    """Precision, recall, density and coverage of generated features against real ones; all but density in [0, 1]."""

    precision: float  # share of generated samples inside some real sample's k-NN ball: fidelity
    recall: float  # share of real samples inside some generated sample's k-NN ball: diversity
    density: float  # mean count of real balls holding a generated sample, over k (1 when distributions match)
    coverage: float  # share of real samples whose ball holds at least one generated sample


def precision_recall_density_coverage(real: np.ndarray, fake: np.ndarray, k: int = NEAREST_K) -> PrecisionRecall:
    """The four k-NN manifold metrics of `fake` (M, D) against `real` (N, D), as the `prdc` package computes them."""
    x, y = _as_float64(real), _as_float64(fake)
    if min(len(x), len(y)) <= k:
        raise ValueError(f"precision/recall with k = {k} needs more than {k} samples a set, got {len(x)} and {len(y)}")
    real_radii, fake_radii = _kth_neighbour_distances(x, k), _kth_neighbour_distances(y, k)
    inside_real = torch.zeros(len(y), dtype=torch.float64)  # per generated sample: real balls holding it
    real_hit = torch.zeros(len(x), dtype=torch.bool)  # per real sample: inside some generated ball
    covered = torch.zeros(len(x), dtype=torch.bool)  # per real sample: its ball holds a generated sample
    for start in range(0, len(x), _ROW_CHUNK):
        distances = torch.cdist(x[start:start + _ROW_CHUNK], y)  # (chunk, M)
        radii = real_radii[start:start + _ROW_CHUNK, None]
        inside_real += (distances < radii).sum(dim=0)
        real_hit[start:start + _ROW_CHUNK] = (distances < fake_radii[None, :]).any(dim=1)
        covered[start:start + _ROW_CHUNK] = distances.min(dim=1).values < radii[:, 0]
    return PrecisionRecall(precision=float((inside_real > 0).double().mean()), recall=float(real_hit.double().mean()),
                           density=float(inside_real.mean() / k), coverage=float(covered.double().mean()))


def frechet_interval(real: np.ndarray, fake: np.ndarray, *, resamples: int = BOOTSTRAP_RESAMPLES,
                     seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Bootstrap interval (low, high) of the Frechet distance: the resamples' spread around their median, set at FD.

    Resamples both sets with replacement; low is clipped at 0. The interval always holds the estimate.
    """
    x, y = np.asarray(real, dtype=np.float64), np.asarray(fake, dtype=np.float64)
    rng = np.random.default_rng(seed)
    estimate = frechet_distance(*feature_statistics(x), *feature_statistics(y))
    values = []
    for _ in range(resamples):
        a, b = x[rng.integers(0, len(x), len(x))], y[rng.integers(0, len(y), len(y))]
        values.append(frechet_distance(*feature_statistics(a), *feature_statistics(b)))
    tail = (1 - level) / 2 * 100
    low_quantile, median, high_quantile = np.percentile(values, [tail, 50, 100 - tail])
    return max(0.0, float(estimate - (median - low_quantile))), float(estimate + (high_quantile - median))

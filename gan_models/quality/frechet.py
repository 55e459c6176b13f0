"""The Frechet distance between two sets of features (Heusel et al. 2017, arXiv 1706.08500).

FID's formula, `||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))`, on the Gaussians fitted to two
feature sets; gan_models.quality.metrics applies it in the project's classifiers' feature space, for
whole sample sets and class by class (gan_models.quality.class_quality).
"""
import numpy as np


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and unbiased covariance (D, D) of features (N, D), N >= 2, as float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features must have shape (N >= 2, D), got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix; round-off negative eigenvalues count as 0."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    return (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet distance between Gaussians N(mu1, sigma1) and N(mu2, sigma2); means (D,), covariances (D, D).

    `tr((S1 S2)^(1/2))` is computed as the sum of square roots of the eigenvalues of the symmetric
    matrix `S1^(1/2) S2 S1^(1/2)`, which has the same eigenvalues as `S1 S2`. This is the number
    pytorch-fid gets from `scipy.linalg.sqrtm(S1 @ S2)`, without its failure modes: sqrtm of the
    non-symmetric product can return a complex matrix (pytorch-fid drops a small imaginary part and
    raises on a large one) or non-finite values for singular covariances (pytorch-fid retries with
    1e-6 added to the diagonals). Here the eigenvalues are real by construction, round-off negatives
    are clipped to 0, and the result is clipped at 0 for the same reason.

    Raises:
        ValueError: shapes disagree, or an input holds NaN or inf (e.g. a generator that output NaN).
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(f"need means (D,) and covariances (D, D) of one D; got {mu1.shape}, {sigma1.shape}, "
                         f"{mu2.shape}, {sigma2.shape}")
    if not all(np.isfinite(a).all() for a in (mu1, sigma1, mu2, sigma2)):
        raise ValueError("feature statistics contain NaN or inf: the images (or the features) are not finite")
    root1 = _sqrt_psd((sigma1 + sigma1.T) / 2)
    middle = root1 @ sigma2 @ root1
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    diff = mu1 - mu2
    return float(max(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt, 0.0))

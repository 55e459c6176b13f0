"""gan_models/noise.py: truncation redraws (bound, distribution, determinism) and the interpolations of walks."""
import math

import pytest
import torch

from gan_models.noise import check_interpolation, interpolate_latents, sample_noise, truncation_bound


def _ks_distance(values: torch.Tensor, cdf) -> float:
    """Kolmogorov-Smirnov statistic of `values` against the distribution function `cdf` (float64)."""
    x = values.double().flatten().sort().values
    n = len(x)
    f = cdf(x)
    above = torch.arange(1, n + 1, dtype=torch.float64) / n - f
    below = f - torch.arange(n, dtype=torch.float64) / n
    return max(above.max().item(), below.max().item())


def test_the_bound_is_psi_standard_deviations_of_each_kind():
    assert truncation_bound("normal", 0.7) == 0.7
    assert truncation_bound("uniform", 1.0) == pytest.approx(1 / math.sqrt(3))  # the std of U(-1, 1)
    assert truncation_bound("uniform", math.sqrt(3)) == pytest.approx(1.0)  # the whole range


@pytest.mark.parametrize("kind", ["normal", "uniform"])
@pytest.mark.parametrize("psi", [0.5, 1.0, 2.0])
def test_no_component_lies_beyond_the_bound_and_those_inside_keep_their_values(kind, psi):
    plain = sample_noise(500, 16, kind, generator=torch.Generator().manual_seed(1))
    truncated = sample_noise(500, 16, kind, generator=torch.Generator().manual_seed(1), truncation=psi)
    bound = truncation_bound(kind, psi)
    assert truncated.shape == (500, 16) and truncated.dtype == torch.float32
    assert truncated.abs().max() <= bound
    inside = plain.abs() <= bound
    assert torch.equal(truncated[inside], plain[inside])  # only the components beyond the bound are redrawn
    assert (truncated[~inside] != plain[~inside]).all()


def test_truncated_noise_follows_the_distribution_conditioned_on_the_bound():
    n = 200_000  # KS critical value at the 0.1% level: 1.95 / sqrt(n) = 0.0044
    normal = sample_noise(n // 8, 8, "normal", generator=torch.Generator().manual_seed(0), truncation=0.7)
    mass = torch.special.ndtr(torch.tensor(0.7, dtype=torch.float64)) * 2 - 1

    def truncated_normal_cdf(x):
        return (torch.special.ndtr(x) - torch.special.ndtr(torch.tensor(-0.7, dtype=torch.float64))) / mass

    assert _ks_distance(normal, truncated_normal_cdf) < 0.0044
    bound = truncation_bound("uniform", 0.7)
    uniform = sample_noise(n // 8, 8, "uniform", generator=torch.Generator().manual_seed(0), truncation=0.7)
    assert _ks_distance(uniform, lambda x: (x + bound) / (2 * bound)) < 0.0044  # uniform on [-bound, bound]
    phi = math.exp(-0.7 ** 2 / 2) / math.sqrt(2 * math.pi)
    assert normal.std().item() == pytest.approx(math.sqrt(1 - 2 * 0.7 * phi / mass.item()), abs=0.002)  # 0.3909
    # The untruncated draws pass the same test, so it can tell the distributions apart.
    assert _ks_distance(normal, torch.special.ndtr) > 0.2


def test_truncation_is_deterministic_per_seed_and_psi_beyond_the_range_changes_nothing():
    first = sample_noise(64, 8, generator=torch.Generator().manual_seed(4), truncation=0.5)
    assert torch.equal(first, sample_noise(64, 8, generator=torch.Generator().manual_seed(4), truncation=0.5))
    assert not torch.equal(first, sample_noise(64, 8, generator=torch.Generator().manual_seed(5), truncation=0.5))
    uniform = sample_noise(64, 8, "uniform", generator=torch.Generator().manual_seed(4))
    assert torch.equal(uniform, sample_noise(64, 8, "uniform", generator=torch.Generator().manual_seed(4),
                                             truncation=math.sqrt(3)))


@pytest.mark.parametrize("psi, error", [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError),
                                        (float("inf"), ValueError), (True, TypeError), ("0.5", TypeError)])
def test_bad_truncations_are_refused(psi, error):
    with pytest.raises(error, match="truncation must be"):
        sample_noise(2, 4, truncation=psi)


def test_slerp_keeps_the_gaussian_norm_where_the_straight_line_loses_it():
    start, end = sample_noise(256, 128, generator=torch.Generator().manual_seed(0)).chunk(2)
    spherical = interpolate_latents(start, end, 3)  # slerp: the default for normal noise
    straight = interpolate_latents(start, end, 3, method="linear")
    endpoint_norm = start.norm(dim=1).mean()
    assert spherical[:, 1].norm(dim=1).mean() / endpoint_norm == pytest.approx(1.0, abs=0.01)
    # nearly orthogonal endpoints: the straight line's middle has 1 / sqrt(2) of their norm
    assert straight[:, 1].norm(dim=1).mean() / endpoint_norm == pytest.approx(2 ** -0.5, abs=0.02)
    assert torch.allclose(straight[:, 1], (start + end) / 2, atol=1e-6)


def test_the_interpolation_defaults_and_refusals():
    assert check_interpolation("normal", None) == "slerp" and check_interpolation("uniform", None) == "linear"
    assert check_interpolation("normal", "linear") == "linear"
    with pytest.raises(ValueError, match=r"slerp walks uniform noise out of \[-1, 1\]"):
        check_interpolation("uniform", "slerp")
    with pytest.raises(ValueError, match=r"unknown interpolation 'cubic'; choose one of \['slerp', 'linear'\]"):
        interpolate_latents(torch.zeros(1, 2), torch.ones(1, 2), 3, method="cubic")

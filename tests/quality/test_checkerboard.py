"""gan_models/quality/checkerboard.py: the Nyquist share of spectral power, on hand-made images with known answers."""
import pytest
import torch

from gan_models.quality.checkerboard import checkerboard_energy

ROWS, COLUMNS = torch.meshgrid(torch.arange(64), torch.arange(64), indexing="ij")  # (64, 64) each


def test_a_pure_checkerboard_and_pure_stripes_are_all_nyquist():
    board = (-1.0) ** (ROWS + COLUMNS)  # +-1 at (pi, pi) alone
    assert checkerboard_energy(board.expand(2, 3, 64, 64)) == 1.0
    assert checkerboard_energy(((-1.0) ** COLUMNS).expand(1, 1, 64, 64)) == 1.0  # (0, pi): stripes across
    assert checkerboard_energy(((-1.0) ** ROWS).expand(1, 3, 64, 64)) == 1.0  # (pi, 0)


def test_a_smooth_gradient_holds_its_hand_derived_share():
    # A ramp across, x - mean for x = 0 ... N - 1, has DFT power N^2 / (4 sin^2(pi k / N)) at frequency k != 0 (times
    # the rows' H^2), and sum_k 1 / sin^2(pi k / N) = (N^2 - 1) / 3: at Nyquist (k = N / 2) sin = 1, a share of
    # 3 / (N^2 - 1), 0.00073 at N = 64, whatever its slope or offset.
    ramp = (COLUMNS / 63 * 2 - 1).float().expand(1, 3, 64, 64)
    assert checkerboard_energy(ramp) == pytest.approx(3 / (64**2 - 1), rel=1e-4)
    assert checkerboard_energy(0.25 * ramp.transpose(-2, -1) + 0.5) == pytest.approx(3 / (64**2 - 1), rel=1e-4)
    smooth = torch.cos(2 * torch.pi * ROWS / 64) * torch.sin(2 * torch.pi * COLUMNS / 64)  # one period: no Nyquist
    assert checkerboard_energy(smooth.expand(1, 1, 64, 64)) < 1e-12


def test_constant_images_have_no_power_and_score_0():
    assert checkerboard_energy(torch.full((2, 3, 64, 64), 0.3)) == 0.0
    assert checkerboard_energy(torch.full((1, 1, 28, 28), 0.1, dtype=torch.float64)) == 0.0  # 0.1: inexact in binary


def test_the_share_is_per_image_over_its_channels_then_averaged():
    board = (-1.0) ** (ROWS + COLUMNS)
    constant = torch.zeros(64, 64)
    # A checkerboard and a constant image: 1 and 0, averaged.
    assert checkerboard_energy(torch.stack([board, constant])[:, None]) == 0.5
    # Within an image the channels' powers add: a checkerboard channel beside a half-strength one (a quarter of the
    # power) and a constant one is still all Nyquist.
    assert checkerboard_energy(torch.stack([board, 0.5 * board, constant])[None]) == 1.0
    # Half the power at Nyquist, half at a low frequency: a checkerboard plus a cosine of equal power.
    wave = torch.cos(2 * torch.pi * COLUMNS.double() / 64) * 2**0.5  # mean square 1, as the checkerboard's
    assert checkerboard_energy(torch.stack([board.double(), wave])[None]) == pytest.approx(0.5, abs=1e-12)


def test_shapes_without_nyquist_bins_are_refused():
    with pytest.raises(ValueError, match=r"even height and width \(Nyquist bins\), got 27 x 28"):
        checkerboard_energy(torch.zeros(1, 1, 27, 28))
    with pytest.raises(ValueError, match=r"shape \(N, C, H, W\) with N >= 1, got \(3, 8, 8\)"):
        checkerboard_energy(torch.zeros(3, 8, 8))

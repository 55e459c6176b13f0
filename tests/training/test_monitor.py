"""gan_models/training/monitor.py: collapse and diversity warnings, and the non-finite stop seen from the command
line."""

import pytest
import torch

from gan_models.training.checkpoint import load_checkpoint
from gan_models.training.monitor import HealthMonitor, d_wins_advice, diversity
from tests.helpers import TINY_ARGS


def test_monitor_flags_discriminator_collapse_and_low_diversity():
    monitor = HealthMonitor(window=5)
    messages = [monitor.check_losses(0.7, 1.0) for _ in range(5)] + [monitor.check_losses(0.01, 4.0) for _ in range(5)]
    assert messages[:-1] == [None] * 9 and "discriminator collapse" in messages[-1]
    same = torch.zeros(8, 1, 4, 4)
    real = torch.randn(8, 1, 4, 4)
    ratio, warning = monitor.check_diversity(same + 0.01 * torch.randn_like(same), real, step=5000)
    assert ratio < 0.1 and "mode collapse" in warning
    assert monitor.check_diversity(same, real, step=5009) == (0.0, None)  # once a run, not every epoch
    resumed = HealthMonitor()
    resumed.load_state_dict(monitor.state_dict())
    assert resumed.check_diversity(same, real, step=5018)[1] is None  # nor again after a resume
    assert HealthMonitor().check_diversity(same, real, step=5018)[1] is not None
    assert monitor.check_diversity(real.flip(0), real, step=5000) == (pytest.approx(1.0), None)
    assert diversity(torch.tensor([[0.0, 0.0], [3.0, 4.0]])) == pytest.approx(5.0)



def test_d_winning_outright_warns_once_when_the_median_of_50_steps_is_below_001_and_resumes_its_window():
    monitor = HealthMonitor()
    # 30 steps at 0.2, then D wins with G landing the odd batch (0.6 every fifth step, as in a recorded DCGAN-64
    # collapse): the median of the last 50 falls below 0.01 once 26 of them are low; 32 steps of D winning hold
    # 26 low ones (every fifth is 0.6), so it warns at step 30 + 32 = 62.
    outputs = [0.2] * 30 + [0.6 if step % 5 == 0 else 0.001 for step in range(1, 91)]
    messages = [monitor.check_d_wins(value, step) for step, value in enumerate(outputs, start=1)]
    warned = [step for step, message in enumerate(messages, start=1) if message]
    low_in_window = sum(value < 0.01 for value in outputs[62 - 50:62])
    assert low_in_window == 26 and warned == [62]
    assert "D wins outright" in messages[61] and "step 62" in messages[61] and "median of 0.001" in messages[61]
    assert "--diffaugment" in messages[61]
    assert [m for m in (HealthMonitor().check_d_wins(0.001, s) for s in range(1, 50)) if m] == []  # < 50 steps
    resumed, halfway = HealthMonitor(), HealthMonitor()
    for step, value in enumerate(outputs[:45], start=1):
        halfway.check_d_wins(value, step)
    resumed.load_state_dict(halfway.state_dict())  # a checkpoint at step 45, inside the window that warns
    assert [step for step, value in enumerate(outputs[45:], start=46) if resumed.check_d_wins(value, step)] == [62]


def test_the_d_wins_advice_names_only_what_the_run_can_still_change():
    assert d_wins_advice() == ("try --diffaugment translation,cutout, a smaller --batch-size, a lower --lr-d, "
                               "--label-smoothing 0.1 or a narrower D (--ndf)")
    # The small-data defaults: batch 32 and all three transformations are already on.
    assert d_wins_advice(diffaugment="color,translation,cutout", batch_size=32, ndf=32) == (
        "try --diffaugment translation,cutout (color hides plain backgrounds), a lower --lr-d, --label-smoothing 0.1 "
        "or a narrower D (--ndf below 32)")
    assert d_wins_advice(diffaugment="color", batch_size=32).startswith("try --diffaugment translation,cutout (color")
    assert d_wins_advice(ada=True, batch_size=16, label_smoothing=0.1) == "try a lower --lr-d or a narrower D (--ndf)"
    monitor = HealthMonitor(d_wins_advice="try X")
    assert [m for m in (monitor.check_d_wins(0.001, s) for s in range(1, 51)) if m][0].endswith("one image; try X")


def test_a_conditional_grid_is_judged_by_its_least_diverse_class():
    """One class drawn as a single image is mode collapse, however varied the other classes are."""
    torch.manual_seed(0)
    monitor = HealthMonitor()
    real, real_labels = torch.randn(30, 1, 4, 4), torch.arange(30) % 3
    samples, labels = torch.randn(24, 1, 4, 4), torch.arange(3).repeat_interleave(8)
    samples[8:16] = samples[8]  # class 1: one image, eight times
    ratio, warning = monitor.check_diversity(samples, real, 5000, labels, real_labels, ("a", "b", "c"))
    assert ratio == 0.0
    assert warning == ("possible mode collapse: fixed-noise samples of class 'b' are 0.00x as diverse as real images "
                       "(below 0.2); look at the grid")
    overall, none = monitor.check_diversity(samples, real, 5000)  # the ratio over all images would not see it
    assert overall > 0.8 and none is None
    healthy = torch.randn(24, 1, 4, 4)
    assert monitor.check_diversity(healthy, real, 5000, labels, real_labels, ("a", "b", "c"))[1] is None


@pytest.mark.slow
def test_nan_batch_stops_the_cli_cleanly_and_keeps_the_last_good_checkpoint(tmp_path, worker, data_root):
    out, log = tmp_path / "run", tmp_path / "nan.log"
    args = ["train", *TINY_ARGS, "--dataset", "mnist", "--data-root", data_root, "--max-images", 64, "--epochs", 3,
                   "--checkpoint-every", 2, "--out", out]
    assert worker.run(args, log, nan_at_step=7) == 1
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert len(lines) == 2 and lines[0].startswith("epoch 1/3: 4/4 steps, "), lines  # the one epoch that finished
    assert lines[1].startswith("Error: non-finite loss at step 7 (errD=nan)"), lines
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 6  # the last good one, untouched by the failed step 7
    assert all(torch.isfinite(t).all() for t in state["generator"].values())
    assert not (out / ".lock").exists()

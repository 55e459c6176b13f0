"""gan_models/training/report.py and the trainer's early warnings: what a person sees of a run without a bar."""
import csv
import re
import statistics

import pytest
import torch

from gan_models.training.report import format_seconds
from gan_models.training.trainer import train
from tests.helpers import fcgan16_config


def read_log(out) -> list[dict]:
    with open(out / "log.csv", newline="") as file:
        return list(csv.DictReader(file))

EPOCH_LINE = re.compile(r"^epoch (\d+)/(\d+): (\d+)/(\d+) steps, errD ([\d.]+), errG ([\d.]+), D\(x\) ([\d.]+), "
                        r"D\(G\(z\)\) ([\d.]+), ([\d,]+) images/s, (.+) left$")


def test_without_a_terminal_each_epoch_prints_one_plain_line_of_its_means(tmp_path, tiny_images, capsys):
    # progress=True, but pytest's captured stderr is no terminal: no bar, one line per epoch instead.
    train(fcgan16_config(epochs=3, progress=True), tmp_path / "run", images=tiny_images)  # 4 steps an epoch
    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.startswith("epoch ")]
    assert "\r" not in out + err and len(lines) == 3
    rows = read_log(tmp_path / "run")
    for epoch, line in enumerate(lines, start=1):
        match = EPOCH_LINE.match(line)
        assert match, line
        assert match.group(1, 2, 3, 4) == (str(epoch), "3", "4", "4")
        epoch_rows = [r for r in rows if int(r["epoch"]) == epoch]
        for group, name in ((5, "errD"), (6, "errG"), (7, "D_x"), (8, "D_G_z")):
            mean = sum(float(r[name]) for r in epoch_rows) / len(epoch_rows)
            assert float(match.group(group)) == pytest.approx(mean, abs=0.0006 if group < 7 else 0.006), name
        harmonic = len(epoch_rows) / sum(1 / float(r["images_per_s"]) for r in epoch_rows)
        assert int(match.group(9).replace(",", "")) == pytest.approx(harmonic, abs=1)
    assert lines[-1].endswith("0 s left")


def test_durations_read_as_a_person_says_them():
    assert [format_seconds(s) for s in (0.4, 45, 60, 725, 3600, 12_030)] == [
        "0 s", "45 s", "1 min 0 s", "12 min 5 s", "1 h 0 min", "3 h 20 min"]


def test_a_discriminator_that_wins_outright_is_warned_of_within_100_steps(tmp_path):
    # A config recorded to collapse at once: D learns 10,000 times faster than G, so D(G(z)) falls below 0.01 within
    # a few dozen steps and stays there; the warning must come within the first 100 steps, long before the loss
    # check's 100-step window or the diversity check's 1,000-step warm-up.
    images = torch.randint(0, 256, (256, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    result = train(fcgan16_config(epochs=7, lr_d=0.01, lr_g=1e-6), tmp_path / "run", images=images)  # 112 steps
    rows = read_log(tmp_path / "run")
    warned = [w for w in result.warnings if "D wins outright" in w]
    assert len(warned) == 1
    step = int(re.search(r"\(step (\d+)\)", warned[0]).group(1))
    assert step <= 100
    medians = [statistics.median(float(r["D_G_z"]) for r in rows[end - 50:end]) for end in range(50, step + 1)]
    assert medians[-1] < 0.01 and all(m >= 0.01 for m in medians[:-1])  # the first 50-step window whose median is low

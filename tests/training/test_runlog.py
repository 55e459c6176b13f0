"""gan_models/training/runlog.py: log.csv survives torn and damaged rows, TensorBoard mirrors it, the loss curve
draws sparse G losses."""
from pathlib import Path

import pytest
import torch

from gan_models.training.runlog import STEP_FIELDS, RunLog
from gan_models.training.trainer import train
from tests.helpers import fcgan16_config, tiny_config


def _log_rows(out: Path) -> list[list[str]]:
    """out/log.csv's rows without the header, each as its fields, timing column dropped."""
    return [line.split(",")[:6] for line in (out / "log.csv").read_text().splitlines()[1:]]


@pytest.mark.parametrize("torn", [
    b"6,2,0.69",  # cut off after the third field
    b"6,2,0.6931,,0.51,0.49,1234.5\r\n",  # an empty field
    b"\x00\x00\xff\xfe\x00\x00",  # what a power cut can leave: zeros and bytes that are not UTF-8
    b"6,2,0.6931,1.25,0.51,0.49,12",  # every field there, but the line end is not: images/s lost digits
])
def test_a_torn_last_log_line_is_dropped_with_a_warning_and_the_resumed_log_matches(tmp_path, tiny_images, torn):
    whole = train(fcgan16_config(epochs=2), tmp_path / "whole", images=tiny_images).out
    out = train(fcgan16_config(epochs=1), tmp_path / "run", images=tiny_images).out  # checkpoint at step 4
    # A crash after step 5 was logged, before its checkpoint, in the middle of writing step 6's row.
    step_5 = (whole / "log.csv").read_text().splitlines()[5]
    with open(out / "log.csv", "ab") as file:
        file.write(step_5.encode() + b"\r\n" + torn)
    with pytest.warns(UserWarning, match=r"log\.csv: dropped 1 malformed row"):
        train(fcgan16_config(epochs=2), out, resume=True, images=tiny_images)
    assert [row[0] for row in _log_rows(out)] == [str(step) for step in range(1, 9)]
    assert _log_rows(out) == _log_rows(whole)  # every step once, with the uninterrupted run's losses


def test_damaged_log_rows_anywhere_are_dropped_with_one_warning(tmp_path):
    rows = ["1,1,0.70,0.71,0.50,0.49,100.0",
            '2,"1,0.69,0.72,0.51,0.48,100.0',  # a stray quote must not swallow the rows after it
            "3,1,0.68,nan,0.52,0.47,100.0",  # errG is NaN on steps without a G step: a valid row
            "4,1,0.67,0.74,0.53",  # fields missing
            "5,1,0.66,0.75,0.54,0.45,100.0,7",  # a field too many
            "6,1,0.65,0.76,0.55,0.44,100.0",
            "7,1,0.64,zzz,0.56,0.43,100.0"]  # past the resume step, and damaged
    (tmp_path / "log.csv").write_text("\n".join([",".join(STEP_FIELDS), *rows]) + "\n")  # a log before fd, kid
    with pytest.warns(UserWarning, match=r"log\.csv: dropped 4 malformed row\(s\)") as caught:
        log = RunLog(tmp_path, resume_step=6)
    log.close()
    assert len(caught) == 1 and str(tmp_path / "log.csv") in str(caught[0].message)
    assert [row["step"] for row in log.rows] == [1, 3, 6]
    assert [row[0] for row in _log_rows(tmp_path)] == ["1", "3", "6"]  # the file was rewritten clean


def test_tensorboard_mirrors_the_logged_scalars(tmp_path, tiny_images, monkeypatch):
    from gan_models.training import runlog

    written = []

    class Recorder:
        def add_scalar(self, tag, value, step):
            written.append((tag, step))

        def close(self):
            written.append(("closed", None))

    monkeypatch.setattr(runlog, "_tensorboard_writer", lambda folder: Recorder())
    train(tiny_config(epochs=1), tmp_path, images=tiny_images)
    assert ("errD", 1) in written and ("D_G_z", 4) in written and ("images_per_s", 4) in written
    assert len(written) == 4 * 5 + 1 and written[-1] == ("closed", None)


def test_loss_curve_draws_g_loss_when_only_every_n_critic_th_step_has_one(tmp_path, monkeypatch):
    """With n_critic > 1 errG is NaN on D-only steps; the G curve must still have points, not vanish."""
    from gan_models.training import runlog

    drawn = {}

    def capture(fig, path, **kwargs):
        drawn.update({line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()})

    monkeypatch.setattr(runlog.Figure, "savefig", capture)
    for steps in (50, 500):  # one point per step, and smoothed over 5 steps
        log = runlog.RunLog(tmp_path)
        for step in range(1, steps + 1):
            err_g = 0.7 if step % 5 == 0 else float("nan")
            log.log({"step": step, "epoch": 1, "errD": 1.3, "errG": err_g, "D_x": 0.5, "D_G_z": 0.5,
                     "images_per_s": 1.0})
        log.plot(tmp_path / "losses.png", force=True)
        log.close()
        g_curve = torch.tensor(drawn["G loss"], dtype=torch.float64)
        assert len(g_curve) == steps // 5 and torch.allclose(g_curve, torch.tensor(0.7, dtype=torch.float64))
        assert len(drawn["D loss"]) == steps

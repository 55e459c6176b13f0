"""The training faults of issue 22 seen from the command line and the trainer: divergence, bad options, a kill
before the first checkpoint, SIGTERM on the last step; and the trainer's own state, with no import cycle."""
import ast
import dataclasses
import os
import signal
from pathlib import Path

import pytest
import torch
from PIL import Image

import gan_models.training
from gan_models.training import rundir
from gan_models.training.checkpoint import load_checkpoint
from gan_models.training.config import TrainConfig
from gan_models.training.monitor import LOSS_STOP, LOSS_WARN, HealthMonitor, LossExplosionError, NonFiniteLossError
from gan_models.training.trainer import Trainer, train
from tests.helpers import TINY_ARGS, assert_same_checkpoint, one_error_line, run_cli, tiny_config


def test_absurd_rates_stop_with_one_line_and_write_no_checkpoint(tmp_path, data_root):
    out = tmp_path / "run"
    result = run_cli("train", *TINY_ARGS, "--lr-g", "1e6", "--lr-d", "1e6", "--max-images", 64, "--epochs", 1,
                     "--data-root", data_root, "--out", out)
    line = one_error_line(result)
    assert line.startswith(("Error: the loss exploded at step", "Error: non-finite")), line
    assert line.endswith("no checkpoint was written (it stopped before the first)")
    assert not (out / "checkpoint.pt").exists()


def test_an_adam_moment_that_overflowed_to_inf_is_never_checkpointed(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(epochs=1), tmp_path, images=tiny_images)
    original_step = trainer.train_step

    def step_then_overflow(real):  # as squared gradients of 1e20 do: weights stay finite, updates become 0
        row = original_step(real)
        next(iter(trainer.optG.state.values()))["exp_avg_sq"][0] = float("inf")
        return row

    trainer.train_step = step_then_overflow
    with pytest.raises(NonFiniteLossError) as stop:
        trainer.fit()
    assert str(stop.value) == ("non-finite Adam state in the generator's optimizer after step 4; training stopped "
                               "without saving them, and no checkpoint was written (it stopped before the first)")
    assert not (tmp_path / "checkpoint.pt").exists()


def test_a_resume_refuses_a_checkpoint_holding_inf_from_a_version_that_saved_it(tmp_path, tiny_images):
    result = train(tiny_config(epochs=1), tmp_path, images=tiny_images)
    state = load_checkpoint(result.checkpoint)
    next(iter(state["optimizer_d"]["state"].values()))["exp_avg_sq"].fill_(float("inf"))
    torch.save({"format": "gan-models-checkpoint", "version": 2, **state}, result.checkpoint)
    with pytest.raises(ValueError, match=r"checkpoint.pt: its optimizer_d hold NaN or inf \(the run diverged\)"):
        train(tiny_config(epochs=2), tmp_path, resume=True, images=tiny_images)


def test_a_finite_loss_warns_past_loss_warn_once_and_stops_past_loss_stop(tmp_path, tiny_images):
    monitor = HealthMonitor()
    assert monitor.check_scale(LOSS_WARN / 2, 1.0, step=1) is None
    assert monitor.check_scale(1.6e18, float("nan"), step=2) == (
        "the losses are exploding at step 2 (errD=1.6e+18, beyond 1e+05): training is diverging; it stops beyond "
        "1e+10; lower the learning rates")
    assert monitor.check_scale(1.6e18, 1.0, step=3) is None  # once
    trainer = Trainer(tiny_config(epochs=1), tmp_path, images=tiny_images)
    d_loss = trainer.loss.d_loss
    trainer.loss = dataclasses.replace(trainer.loss, d_loss=lambda *args: d_loss(*args) * 1e12 * (trainer.step >= 2))
    with pytest.raises(LossExplosionError, match=r"^the loss exploded at step 3 \(errD=\d\.\d+e\+12, beyond 1e\+10\)"):
        trainer.fit()
    assert LOSS_STOP == 1e10 and trainer.step == 2


@pytest.mark.parametrize("args, message", [
    (["--export", "{out}/g.txt"], "--export writes an ONNX file; give a name ending in .onnx, such as {out}/g.onnx"),
    (["--emoji-design", "google"], "emoji_design='google' applies to --dataset emoji only, not mnist; leave it out"),
    (["--upsample", "resize"], "upsample='resize' applies to dcgan at 32, 64 or 128 and dcgan64 only (Radford et "
                               "al.'s generator), not fcgan; leave it out"),
    (["--epochs", "99999999999999999999999"],
     "invalid training config: epochs=99999999999999999999999 (give 1 to 1,000,000)"),
])
def test_options_that_would_be_ignored_or_never_end_are_refused_before_training(tmp_path, data_root, args, message):
    args = [a.format(out=tmp_path) for a in args]
    line = one_error_line(run_cli("train", *TINY_ARGS, "--data-root", data_root, "--out", tmp_path / "run", *args))
    assert line.endswith(message.format(out=tmp_path))
    assert not (tmp_path / "run").exists()


def test_resume_after_a_kill_before_the_first_checkpoint_says_to_start_again_and_that_works(tmp_path, data_root):
    out = tmp_path / "run"
    command = ["train", *TINY_ARGS, "--max-images", 64, "--epochs", 1, "--data-root", data_root, "--out", out]
    rundir.write_config(out, TrainConfig(**{**dataclasses.asdict(tiny_config()), "data_root": str(data_root)}))
    assert one_error_line(run_cli(*command, "--resume")) == (
        f"Error: checkpoint not found: {out / 'checkpoint.pt'}; the run stopped before its first checkpoint, so "
        "nothing is lost by starting it again: run the same command without --resume")
    assert run_cli(*command).exit_code == 0 and load_checkpoint(out / "checkpoint.pt")["step"] == 4


def test_sigterm_on_the_last_step_saves_it_and_exits_as_interrupted(tmp_path, data_root, monkeypatch):
    out = tmp_path / "run"
    original_step = Trainer.train_step

    def step_then_sigterm(self, *batch):
        row = original_step(self, *batch)
        if self.step == 4:  # the last step of the run
            os.kill(os.getpid(), signal.SIGTERM)
        return row

    monkeypatch.setattr(Trainer, "train_step", step_then_sigterm)
    result = run_cli("train", *TINY_ARGS, "--max-images", 64, "--epochs", 1, "--data-root", data_root, "--out", out)
    assert result.exit_code == 130
    epoch_line, interrupted = result.output.splitlines()  # the epoch ended before the signal was acted on
    assert epoch_line.startswith("epoch 1/1: 4/4 steps, errD ")
    assert interrupted == f"interrupted at step 4; checkpoint saved to {out / 'checkpoint.pt'}; continue with --resume"
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 4


def test_the_progress_sheet_of_a_long_run_shows_sheet_grids_epochs_from_first_to_last(tmp_path):
    for epoch in range(1, 1001):
        path = rundir.epoch_grid(tmp_path, epoch)
        path.parent.mkdir(exist_ok=True)
        Image.new("RGB", (10, 10), "black").save(path)
    with Image.open(rundir.save_progress_sheet(tmp_path, 1000)) as sheet:
        # 40 tiles of 10 x 10 in 5 columns: 8 rows, each tile 6 px apart and under a 14 px title
        assert rundir.SHEET_GRIDS == 40 and sheet.size == (5 * 16 + 6, 8 * 30 + 6)
    with Image.open(rundir.save_progress_sheet(tmp_path, 7)) as sheet:
        assert sheet.size == (5 * 16 + 6, 2 * 30 + 6)  # all 7


def test_a_trainer_resumes_exactly_from_another_trainers_state_dict(tmp_path, tiny_images):
    first = Trainer(tiny_config(epochs=1, ema_decay=0.5), tmp_path / "a", images=tiny_images)
    first.fit()
    second = Trainer(tiny_config(epochs=1, ema_decay=0.5), tmp_path / "b", images=tiny_images)
    second.load_state_dict(first.state_dict())
    assert second.step == 4
    assert_same_checkpoint(second.state_dict(), first.state_dict())
    with pytest.raises(ValueError, match=r"^the config differs from the checkpoint's in ema_decay: 0.5 -> 0.0$"):
        Trainer(tiny_config(epochs=1), tmp_path / "c", images=tiny_images).load_state_dict(first.state_dict())


def test_every_train_option_help_is_its_field_metadata():
    text = " ".join(run_cli("train", "--help").output.split())
    for field in dataclasses.fields(TrainConfig):
        assert " ".join(field.metadata["help"].split()) in text, field.name


def test_no_module_of_gan_models_training_imports_itself_back():
    folder = Path(gan_models.training.__file__).parent
    imports = {}
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        names |= {f"{node.module}.{a.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                  and node.module == "gan_models.training" for a in node.names}
        imports[path.stem] = {n.rsplit(".", 1)[1] for n in names if n.startswith("gan_models.training.")}

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in imports.get(start, ()))

    assert imports["trainer"] >= {"rundir", "report", "checkpoint"}
    assert [module for module in imports if reaches(module, module)] == []

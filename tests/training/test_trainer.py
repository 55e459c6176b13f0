"""gan_models/training/trainer.py: reproducibility, exact resume, the non-finite stop, config refusal, EMA, bf16,
Ctrl-C, conditional runs."""
import json
import signal
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_models.emoji import EMOJI_CATEGORIES, load_emoji
from gan_models.nets.conditional import ConditionalGenerator
from gan_models.sources import from_checkpoint
from gan_models.training.checkpoint import generator_from_state, load_checkpoint
from gan_models.training.config import config_differences
from gan_models.training.monitor import HealthMonitor, NonFiniteLossError
from gan_models.training.trainer import TrainConfig, Trainer, TrainingInterrupted, ema_update, train
from tests.helpers import (
    assert_same_checkpoint,
    assert_same_state,
    read_log,
    signal_after_step,
    tiny_config,
    two_colour_class_folders,
    weights,
)


def test_same_seed_same_losses_and_weights(tmp_path, tiny_images):
    first = train(tiny_config(ema_decay=0.9), tmp_path / "a", images=tiny_images)
    second = train(tiny_config(ema_decay=0.9), tmp_path / "b", images=tiny_images)
    assert first.step == second.step == 8  # 64 images / 16 per batch * 2 epochs
    assert read_log(tmp_path / "a") == read_log(tmp_path / "b")
    assert_same_state(weights(first.checkpoint), weights(second.checkpoint))
    third = train(tiny_config(ema_decay=0.9, seed=1), tmp_path / "c", images=tiny_images)
    assert read_log(tmp_path / "c") != read_log(tmp_path / "a")
    assert third.step == 8


@pytest.mark.parametrize("options", [
    {},
    {"model": "dcgan", "ngf": 4, "ndf": 4, "ema_decay": 0.9, "fresh_noise": True},
    {"loss": "wgan-gp", "n_critic": 2},
    {"label_smoothing": 0.1, "label_flip": 0.3, "noise": "uniform"},
    {"model": "dcgan", "ngf": 4, "ndf": 4, "compute_dtype": "bfloat16", "ema_decay": 0.9},
])
def test_interrupted_then_resumed_equals_uninterrupted(tmp_path, tiny_images, options, monkeypatch):
    config = tiny_config(epochs=3, **options)
    whole = train(config, tmp_path / "whole", images=tiny_images)

    # Interrupt mid-epoch (after step 6 of 12) as Ctrl-C would, then resume.
    trainer = Trainer(config, tmp_path / "split", images=tiny_images)
    signal_after_step(trainer, 6, monkeypatch)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 6; checkpoint saved"):
        trainer.fit()
    assert load_checkpoint(tmp_path / "split" / "checkpoint.pt")["step"] == 6
    resumed = train(config, tmp_path / "split", resume=True, images=tiny_images)

    assert resumed.step == whole.step == 12
    assert read_log(tmp_path / "split") == read_log(tmp_path / "whole")
    for key in ("generator", "discriminator", "ema_generator"):
        a, b = load_checkpoint(whole.checkpoint)[key], load_checkpoint(resumed.checkpoint)[key]
        assert (a is None) == (b is None)
        if a is not None:
            assert_same_state(a, b)
    # The health monitor's loss windows carry over too, so warnings come when they would have.
    monitor = load_checkpoint(whole.checkpoint)["monitor"]
    assert load_checkpoint(resumed.checkpoint)["monitor"] == monitor
    assert len(monitor["d_losses"]) == (0 if options.get("loss") == "wgan-gp" else 12)  # critics are not watched


def test_more_epochs_continue_a_finished_run(tmp_path, tiny_images):
    train(tiny_config(epochs=1), tmp_path / "run", images=tiny_images)
    result = train(tiny_config(epochs=2), tmp_path / "run", resume=True, images=tiny_images)
    whole = train(tiny_config(epochs=2), tmp_path / "whole", images=tiny_images)
    assert result.step == 8
    assert_same_state(weights(result.checkpoint), weights(whole.checkpoint))


def test_resume_continues_a_checkpoint_written_after_the_trainer_read_it(tmp_path, tiny_images, monkeypatch):
    # A trainer reads the checkpoint when it is made, but takes the run lock only in fit. If another run
    # finished and replaced the checkpoint in between, fit must go on from the newer one, not the copy it read.
    train(tiny_config(epochs=1), tmp_path / "run", images=tiny_images)  # 4 steps
    late = Trainer(tiny_config(epochs=3), tmp_path / "run", images=tiny_images, resume=True)  # has read step 4
    train(tiny_config(epochs=2), tmp_path / "run", resume=True, images=tiny_images)  # the other run: to step 8
    steps = []
    monkeypatch.setattr(late, "train_step", lambda *batch: steps.append(1) or Trainer.train_step(late, *batch))
    result = late.fit()
    whole = train(tiny_config(epochs=3), tmp_path / "whole", images=tiny_images)
    assert (result.step, len(steps)) == (12, 4)  # only epoch 3 trained here
    assert read_log(tmp_path / "run") == read_log(tmp_path / "whole")
    assert_same_state(weights(result.checkpoint), weights(whole.checkpoint))


def test_resume_under_a_changed_config_lists_the_differences(tmp_path, tiny_images):
    train(tiny_config(epochs=1), tmp_path / "run", images=tiny_images)
    with pytest.raises(ValueError, match=r"config differs .* lr_d: 0.001 -> 0.0002; label_smoothing: 0.0 -> 0.1"):
        train(tiny_config(epochs=2, lr_d=2e-4, label_smoothing=0.1), tmp_path / "run", resume=True, images=tiny_images)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config_differences(saved, tiny_config().resolved()) == []


def test_a_new_run_refuses_to_overwrite_a_checkpoint(tmp_path, tiny_images):
    train(tiny_config(epochs=1), tmp_path / "run", images=tiny_images)
    with pytest.raises(FileExistsError, match="pass --resume"):
        train(tiny_config(epochs=1), tmp_path / "run", images=tiny_images)


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, tiny_images):
    run = tmp_path / "run"
    train(tiny_config(epochs=1), run, images=tiny_images)
    good = (run / "checkpoint.pt").read_bytes()
    trainer = Trainer(tiny_config(epochs=2), run, images=tiny_images, resume=True)
    clean = trainer.batches.iterate

    def poisoned(start_batch=0):
        for index, batch in enumerate(clean(start_batch)):
            if index == 2:
                batch[0, 0, 0, 0] = float("nan")  # one NaN pixel in one batch
            yield batch

    trainer.batches.iterate = poisoned
    with pytest.raises(NonFiniteLossError, match=r"non-finite loss at step 7 \(errD=nan\)"):
        trainer.fit()
    assert (run / "checkpoint.pt").read_bytes() == good


def test_a_stop_before_the_first_checkpoint_says_there_is_none(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(), tmp_path / "run", images=tiny_images)
    clean = trainer.batches.iterate
    trainer.batches.iterate = lambda start_batch=0: (batch.fill_(float("nan")) for batch in clean(start_batch))
    with pytest.raises(NonFiniteLossError) as stop:
        trainer.fit()
    assert str(stop.value) == ("non-finite loss at step 1 (errD=nan); training stopped, and no checkpoint was written "
                               "(it stopped before the first)")
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_non_finite_weights_stop_training_and_keep_the_last_good_checkpoint(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(ema_decay=0.9, checkpoint_every=1), tmp_path, images=tiny_images)
    step = trainer.optG.step

    def step_then_break_at_step_3(*args, **kwargs):
        step(*args, **kwargs)
        if trainer.step == 2:  # the third step's update (the counter moves after it)
            next(trainer.netG.parameters()).data[0] = float("inf")

    trainer.optG.step = step_then_break_at_step_3
    with pytest.raises(NonFiniteLossError) as stop:
        trainer.fit()
    assert str(stop.value) == ("non-finite weights in the generator and the EMA generator after step 3; training "
                               f"stopped without saving them, and the last good checkpoint is untouched: "
                               f"{tmp_path / 'checkpoint.pt'}")
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    assert state["step"] == 2
    assert all(torch.isfinite(t).all() for net in ("generator", "ema_generator") for t in state[net].values())


def test_ema_update_is_the_exponential_average():
    model, ema = torch.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    with torch.no_grad():
        model.weight.fill_(3.0)
        model.running_mean.fill_(1.0)
        model.num_batches_tracked.fill_(7)
    ema_update(ema, model, decay=0.75)  # 0.75 * 1 + 0.25 * 3 = 1.5 ; 0.75 * 0 + 0.25 * 1 = 0.25
    assert ema.weight.tolist() == [1.5, 1.5]
    assert ema.running_mean.tolist() == [0.25, 0.25]
    assert ema.num_batches_tracked.item() == 7


def test_separate_optimizers_and_learning_rates(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(lr_g=3e-4, lr_d=1e-4, beta1=0.2), tmp_path, images=tiny_images)
    assert trainer.optG.param_groups[0]["lr"] == 3e-4 and trainer.optD.param_groups[0]["lr"] == 1e-4
    assert trainer.optG.param_groups[0]["betas"] == (0.2, 0.999)
    g_params = {id(p) for p in trainer.netG.parameters()}
    d_params = {id(p) for p in trainer.netD.parameters()}
    assert {id(p) for p in trainer.optG.param_groups[0]["params"]} == g_params
    assert {id(p) for p in trainer.optD.param_groups[0]["params"]} == d_params
    assert trainer.config.loss == "vanilla"
    assert Trainer(tiny_config(model="lsgan"), tmp_path, images=tiny_images).config.loss == "lsgan"


def test_d_step_leaves_g_alone_and_g_step_leaves_d_alone(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(n_critic=2), tmp_path, images=tiny_images)
    g_before = [p.clone() for p in trainer.netG.parameters()]
    d_before = [p.clone() for p in trainer.netD.parameters()]
    batch = next(iter(trainer.batches))
    row = trainer.train_step(batch)  # step 1 of n_critic=2: D only
    assert row["errG"] != row["errG"]  # NaN: no G step
    assert all(torch.equal(a, b) for a, b in zip(g_before, trainer.netG.parameters(), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, trainer.netD.parameters(), strict=True))
    trainer.train_step(batch)  # step 2: D then G
    assert not all(torch.equal(a, b) for a, b in zip(g_before, trainer.netG.parameters(), strict=True))


@pytest.mark.parametrize("bad, field", [({"epochs": 0}, "epochs=0"), ({"batch_size": -1}, "batch_size=-1"),
                                        ({"label_smoothing": 1.0}, "label_smoothing=1.0"),
                                        ({"ema_decay": 1.5}, "ema_decay=1.5"),
                                        ({"mode_seeking": -1.0}, "mode_seeking=-1.0")])
def test_invalid_config_names_the_field(bad, field):
    with pytest.raises(ValueError, match=f"invalid training config: {field}"):
        TrainConfig(**bad).resolved()


def test_wrong_image_shape_for_the_model(tmp_path, tiny_images):
    with pytest.raises(ValueError, match=r"training images must be \(N, 1, 64, 64\), got \(64, 1, 28, 28\)"):
        Trainer(TrainConfig(model="dcgan64", channels=1, ngf=4, ndf=4), tmp_path, images=tiny_images)


@pytest.mark.slow
def test_real_mnist_training_writes_grids_and_logs(tmp_path, data_root):
    result = train(TrainConfig(model="fcgan", dataset="mnist", data_root=str(data_root), max_images=2048,
                               batch_size=128, diffaugment="", epochs=2, grid_every=10, progress=False), tmp_path)
    rows = read_log(tmp_path)
    assert result.step == len(rows) == 32  # 2048 / 128 * 2
    assert all(0 < float(r["errD"]) < 10 and 0 < float(r["errG"]) < 20 and 0 <= float(r["D_x"]) <= 1 for r in rows)
    from PIL import Image

    for name in ("grids/epoch_0001.png", "grids/epoch_0002.png", "grids/step_000030.png", "progress.png", "losses.png"):
        assert (tmp_path / name).stat().st_size > 1000, name
    with Image.open(tmp_path / "grids/epoch_0002.png") as grid:
        assert grid.size == (8 * 30 + 2, 8 * 30 + 2)
    assert json.loads((tmp_path / "config.json").read_text())["lr_g"] == 1e-3
    assert torch.equal(load_checkpoint(result.checkpoint)["fixed_noise"], Trainer(
        TrainConfig(model="fcgan", data_root=str(data_root), max_images=256), tmp_path / "x").fixed_noise)


def test_images_per_s_times_the_step_not_the_logging(tmp_path, tiny_images, monkeypatch):
    """A slow log write (0.2 s) is not charged to the next step: images/s is the step's own rate."""
    from gan_models.training.runlog import RunLog

    logged, durations = [], []
    original_log = RunLog.log

    def slow_log(self, row):
        time.sleep(0.2)
        logged.append(row)
        original_log(self, row)

    monkeypatch.setattr(RunLog, "log", slow_log)
    trainer = Trainer(tiny_config(), tmp_path, images=tiny_images)
    original_step = trainer.train_step

    def timed_step(real):
        began = time.perf_counter()
        row = original_step(real)
        durations.append(time.perf_counter() - began)
        return row

    monkeypatch.setattr(trainer, "train_step", timed_step)
    trainer.fit()
    assert len(logged) == len(durations) == 8
    # Seconds each row's images/s stands for, beyond the train_step call itself: the batch fetch only.
    extra = [16 / row["images_per_s"] - duration for row, duration in zip(logged, durations, strict=True)]
    assert min(extra) >= 0  # the whole step is timed
    assert statistics.median(extra) < 0.1, extra  # timing the previous step's logging too would add 0.2 s


@pytest.mark.slow
def test_ctrl_c_in_a_real_process_saves_and_exits_130(tmp_path, data_root):
    import os
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    command = [sys.executable, "-m", "gan_models.cli", "train", "--ngf", "16", "--ndf", "16", "--batch-size", "16",
               "--epochs", "50", "--data-root", str(data_root), "--out", str(out), "--no-progress"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    while not (out / "log.csv").exists() or len((out / "log.csv").read_text().splitlines()) < 20:
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    step = load_checkpoint(out / "checkpoint.pt")["step"]
    assert f"interrupted at step {step}; checkpoint saved to {out / 'checkpoint.pt'}; continue with --resume" in err
    assert step >= 19


def test_ema_warms_up_from_the_first_g_step(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(ema_decay=0.999), tmp_path, images=tiny_images)
    before = trainer.netG.net[0].weight.detach().clone()
    trainer.train_step(next(iter(trainer.batches)))
    after = trainer.netG.net[0].weight.detach()
    decay = 2 / 11  # min(0.999, (1 + 1) / (10 + 1)) after the first update
    assert torch.allclose(trainer.netG_ema.net[0].weight, decay * before + (1 - decay) * after, atol=1e-7)


def test_bf16_autocast_trains_with_float32_weights_and_losses(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(compute_dtype="bfloat16"), tmp_path, images=tiny_images)
    batch = next(iter(trainer.batches))
    with trainer._autocast():
        assert trainer.netG(torch.randn(2, 8)).dtype == torch.bfloat16  # matrix products run in bfloat16
    row = trainer.train_step(batch)
    assert all(p.dtype == torch.float32 for p in trainer.netG.parameters())
    assert 0 < row["errD"] < 10 and 0 < row["errG"] < 10
    fp32 = Trainer(tiny_config(), tmp_path / "fp32", images=tiny_images).train_step(batch)
    assert row["errD"] == pytest.approx(fp32["errD"], rel=0.05) and row["errD"] != fp32["errD"]
    with pytest.raises(ValueError, match="invalid training config: compute_dtype='fp8'"):
        tiny_config(compute_dtype="fp8").resolved()


def test_resume_on_a_different_number_of_images_is_refused(tmp_path, tiny_images):
    """The step -> (epoch, batch) mapping depends on the image count: resuming on more images would redo epoch 1."""
    train(tiny_config(epochs=1), tmp_path / "run", images=tiny_images)  # 64 images: 4 steps per epoch
    more = torch.cat([tiny_images, tiny_images.flip(0)])
    with pytest.raises(ValueError, match="checkpoint was trained on 64 images, this run has 128"):
        train(tiny_config(epochs=2), tmp_path / "run", resume=True, images=more)
    assert load_checkpoint(tmp_path / "run" / "checkpoint.pt")["step"] == 4


def test_no_collapse_warning_from_losses_that_are_negative_by_design(tmp_path, tiny_images, monkeypatch):
    """A WGAN critic's loss is below 0 by design and G losses may cross 0: neither is D winning."""
    monitor = HealthMonitor(window=5)
    # A real wgan-gp run (fcgan, MNIST) went from errG -0.509 to 0.016 with errD -4.43: "rose" 2x, said the monitor.
    messages = [monitor.check_losses(-4.43, -0.509) for _ in range(5)] + [monitor.check_losses(-4.43, 0.016)
                                                                          for _ in range(5)]
    assert messages == [None] * 10

    trainer = Trainer(tiny_config(loss="wgan-gp", epochs=4), tmp_path, images=tiny_images)
    trainer.monitor = HealthMonitor(window=4)

    def critic_step(real):  # as a training WGAN-GP logs: critic loss about -4, G loss climbing from 0.3 to 1.5
        trainer.step += 1
        return {"errD": -4.0, "errG": 0.3 if trainer.step <= 8 else 1.5, "D_x": 2.0, "D_G_z": -2.0}

    monkeypatch.setattr(trainer, "train_step", critic_step)
    result = trainer.fit()
    assert result.step == 16 and not [w for w in result.warnings if "collapse" in w]


@pytest.mark.parametrize("stop_at", [4, 8])  # the last step of epoch 1, and of the whole run
def test_ctrl_c_on_an_epochs_last_step_still_ends_that_epoch(tmp_path, tiny_images, monkeypatch, stop_at):
    """Grids, the progress sheet and the diversity check of an epoch are not lost when Ctrl-C hits its last step."""
    whole = train(tiny_config(), tmp_path / "whole", images=tiny_images)
    trainer = Trainer(tiny_config(), tmp_path / "split", images=tiny_images)
    original_step = trainer.train_step

    def step_then_signal(real):
        row = original_step(real)
        if trainer.step == stop_at:
            trainer.stop.received = signal.SIGINT
        return row

    monkeypatch.setattr(trainer, "train_step", step_then_signal)
    with pytest.raises(TrainingInterrupted, match=f"^interrupted at step {stop_at}; checkpoint saved"):
        trainer.fit()  # the run's last step too: it ends that epoch, then says it was interrupted
    resumed = train(tiny_config(), tmp_path / "split", resume=True, images=tiny_images)

    def grids(out):
        return {p.name: p.read_bytes() for p in sorted((out / "grids").glob("*.png"))}

    assert resumed.step == whole.step == 8
    assert sorted(grids(tmp_path / "split")) == sorted(grids(tmp_path / "whole")) == ["epoch_0001.png",
                                                                                       "epoch_0002.png"]
    assert grids(tmp_path / "split") == grids(tmp_path / "whole")
    # The last epoch's diversity: measured by the resumed run, or (stopped on the last step) before the interruption.
    assert (resumed.diversity if stop_at < 8 else trainer.diversity) == whole.diversity is not None


@pytest.mark.parametrize("loss", ["wgan-gp", "hinge"])
@pytest.mark.parametrize("trick", [{"label_smoothing": 0.1}, {"label_flip": 0.05}])
def test_label_tricks_are_refused_for_losses_without_labels(loss, trick):
    with pytest.raises(ValueError, match=f"the {loss} loss has none of; set them to 0"):
        TrainConfig(loss=loss, **trick).resolved()
    TrainConfig(loss="lsgan", **trick).resolved()  # a loss with targets takes them


def test_batch_size_1_is_refused_where_batchnorm1d_needs_two_images(tmp_path, tiny_images):
    with pytest.raises(ValueError, match="batch_size=1 cannot train dcgan: its BatchNorm1d layers need at least 2"):
        Trainer(tiny_config(model="dcgan", ngf=4, ndf=4, batch_size=1), tmp_path, images=tiny_images)
    trainer = Trainer(tiny_config(batch_size=1), tmp_path, images=tiny_images)  # the FC nets have no BatchNorm
    assert trainer.train_step(tiny_images[:1].float() / 127.5 - 1)["errD"] > 0


def test_seeds_span_what_torch_accepts_and_no_further(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(seed=2**64 - 1), tmp_path, images=tiny_images)  # step seeds wrap, not overflow
    assert [trainer.train_step(tiny_images[:16].float() / 127.5 - 1)["errD"] > 0 for _ in range(2)] == [True, True]
    trainer.batches.set_epoch(1)  # the shuffle's seed wraps too
    assert next(trainer.batches.iterate()).shape == (16, 1, 28, 28)
    for seed in (2**64, -1):
        with pytest.raises(ValueError, match=f"invalid training config: seed={seed}"):
            tiny_config(seed=seed).resolved()


def test_wgan_gp_on_a_batchnorm_critic_warns(tmp_path, capsys, tiny_images):
    images = torch.randint(0, 256, (16, 3, 64, 64), dtype=torch.uint8)
    config = TrainConfig(model="dcgan64", dataset="folder", ngf=2, ndf=2, batch_size=8, progress=False)
    assert Trainer(replace(config, loss="wgan-gp"), tmp_path / "a", images=images).report.warnings == [
        "dcgan64's critic has BatchNorm, which mixes the images of a batch; the gradient penalty assumes each score "
        "depends on its own image alone (Gulrajani et al. 2017 use no BatchNorm in the critic)"]
    assert "warning: dcgan64's critic has BatchNorm" in capsys.readouterr().out
    assert Trainer(replace(config, loss="hinge"), tmp_path / "b", images=images).report.warnings == []
    no_batchnorm = Trainer(tiny_config(loss="wgan-gp"), tmp_path / "c", images=tiny_images)
    assert no_batchnorm.report.warnings == []


def _fake_emoji64(root: Path) -> None:
    """Emoji64's layout with 3 flat-colour images per category and design: pixel (category, index, len(design))."""
    for design in ("google", "twitter"):
        for c, category in enumerate(EMOJI_CATEGORIES):
            (root / "Emoji64" / design / category).mkdir(parents=True)
            for i in range(3):
                pixels = np.full((64, 64, 4), (c, i, len(design), 255), dtype=np.uint8)
                Image.fromarray(pixels, "RGBA").save(root / "Emoji64" / design / category / f"{i}.png")


def test_the_trainer_reads_the_chosen_design(tmp_path):
    _fake_emoji64(tmp_path)
    config = TrainConfig(model="dcgan64", dataset="emoji", emoji_design="twitter", data_root=str(tmp_path),
                         ngf=4, ndf=4, batch_size=4, progress=False)
    trainer = Trainer(config, tmp_path / "run")
    expected, _ = load_emoji(tmp_path, split="train", design="twitter")
    assert trainer.images.shape == (20, 3, 64, 64)  # 2 of 3 per category train (1 held out), 10 categories
    assert torch.equal(trainer.images, expected) and trainer.images[:, 2].eq(len("twitter")).all()


def test_a_conditional_dcgan64_trains_on_the_emoji_categories(tmp_path):
    _fake_emoji64(tmp_path)
    config = TrainConfig(model="dcgan64", dataset="emoji", conditional=True, data_root=str(tmp_path), ngf=4, ndf=4,
                         batch_size=8, epochs=1, progress=False)
    result = train(config, tmp_path / "run")
    state = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    _, labels = load_emoji(tmp_path, split="train")
    assert result.step == 40 // 8 and state["generator_kwargs"]["classes"] == list(EMOJI_CATEGORIES)
    trainer = Trainer(config, tmp_path / "again")
    assert torch.equal(trainer.labels, labels)
    assert trainer.images[:, 0].eq(labels[:, None, None]).all()  # the red channel holds the category
    generator = generator_from_state(state)
    assert generator.sample(2, seed=0, labels="animals-nature").shape == (2, 3, 64, 64)


# Conditional runs: the smallest DCGAN-28 on 64 labelled MNIST images.
CONDITIONAL = dict(model="dcgan", ngf=4, ndf=4, nz=8, batch_size=16, max_images=64, progress=False, conditional=True)


def conditional_config(data_root, **changes) -> TrainConfig:
    return TrainConfig(**{**CONDITIONAL, "data_root": str(data_root), "epochs": 3, **changes})


@pytest.mark.parametrize("options", [
    {"ema_decay": 0.9, "fresh_noise": True},
    {"model": "fcgan", "ngf": 16, "ndf": 16, "loss": "wgan-gp", "n_critic": 2},
    {"compute_dtype": "bfloat16", "ema_decay": 0.9, "dataset": "fashion-mnist"},
    {"mode_seeking": 1.0, "ema_decay": 0.9, "lr_decay": True},
])
def test_conditional_run_interrupted_then_resumed_equals_uninterrupted(tmp_path, data_root, options, monkeypatch):
    config = conditional_config(data_root, **options)
    whole = train(config, tmp_path / "whole")

    trainer = Trainer(config, tmp_path / "split")
    signal_after_step(trainer, 6, monkeypatch)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 6"):
        trainer.fit()
    resumed = train(config, tmp_path / "split", resume=True)

    assert resumed.step == whole.step == 12
    assert read_log(tmp_path / "split") == read_log(tmp_path / "whole")
    for key in ("generator", "discriminator", "ema_generator", "optimizer_g"):
        a, b = load_checkpoint(whole.checkpoint)[key], load_checkpoint(resumed.checkpoint)[key]
        assert (a is None) == (b is None)
        if a is not None:
            assert_same_checkpoint(a, b, key)
    assert "embed.weight" in load_checkpoint(whole.checkpoint)["discriminator"]  # the projection was trained


def test_conditional_checkpoint_rebuilds_a_generator_with_the_class_names(tmp_path, data_root):
    result = train(conditional_config(data_root, dataset="fashion-mnist", epochs=1, ema_decay=0.9), tmp_path)
    state = load_checkpoint(result.checkpoint)
    assert state["generator_kwargs"]["conditional"] is True
    assert state["generator_kwargs"]["classes"][7] == "Sneaker"
    generator = from_checkpoint(result.checkpoint).generator
    assert isinstance(generator, ConditionalGenerator) and generator.classes[9] == "Ankle boot"
    assert generator.sample(3, labels="Sneaker", seed=0).shape == (3, 1, 28, 28)


def test_the_grid_shows_one_row_per_class(tmp_path, data_root):
    train(conditional_config(data_root, epochs=1), tmp_path)
    with Image.open(tmp_path / "grids" / "epoch_0001.png") as grid:
        assert grid.size == (8 * 30 + 2, 10 * 30 + 2)  # 8 latents across, 10 classes down, 2-pixel padding


def test_the_same_latent_in_each_row_differs_by_class(tmp_path, data_root):
    trainer = Trainer(conditional_config(data_root, epochs=1), tmp_path)
    trainer.fit()
    samples = trainer.render_grid(tmp_path / "again.png")
    assert samples.shape == (80, 1, 28, 28)
    rows = samples.view(10, 8, -1)
    assert (rows[1:] - rows[:1]).abs().amax(dim=2).min() > 0  # one latent, ten classes, ten images


def test_a_dataset_without_labels_is_refused_in_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"^a conditional GAN needs labelled images, but celeba has no class labels"):
        Trainer(TrainConfig(model="dcgan64", dataset="celeba", conditional=True, data_root=str(tmp_path)), tmp_path)


def test_a_folder_of_class_subfolders_trains_and_a_changed_one_does_not_resume(tmp_path):
    data = two_colour_class_folders(tmp_path / "data")
    config = TrainConfig(model="fcgan", dataset="folder", data_root=str(data), conditional=True, ngf=8, ndf=8,
                         batch_size=8, epochs=1, progress=False)
    result = train(config, tmp_path / "run")
    assert load_checkpoint(result.checkpoint)["generator_kwargs"]["classes"] == ["blue", "red"]
    (data / "green").mkdir()
    Image.new("RGB", (28, 28), (0, 255, 0)).save(data / "green" / "0.png")
    (data / "red" / "7.png").unlink()  # keep 16 images: the class check, not the image count, must refuse it
    with pytest.raises(ValueError, match=r"trained on classes \['blue', 'red'\], this data has \['blue', 'green'"):
        train(TrainConfig(**{**config.__dict__, "epochs": 2}), tmp_path / "run", resume=True)



def test_mode_seeking_pairs_the_labels_and_adds_its_weighted_term_to_g_loss(tmp_path, data_root, tiny_images):
    # A conditional batch's pairs share their labels: sample i + ceil(n / 2) has sample i's.
    trainer = Trainer(conditional_config(data_root, mode_seeking=1.0), tmp_path / "conditional")
    for n in (16, 7):
        (labels,) = trainer._fake_labels(n)
        assert labels.shape == (n,) and torch.equal(labels[: n // 2], labels[n - n // 2:])
    # Unconditional runs draw the same numbers whatever the weight, so G's first loss differs by weight x the term.
    errG = {}
    for weight in (0.0, 1.0, 3.0):
        trainer = Trainer(tiny_config(mode_seeking=weight), tmp_path / str(weight), images=tiny_images)
        errG[weight] = trainer.train_step(next(iter(trainer.batches)))["errG"]
    term = errG[1.0] - errG[0.0]
    assert term > 0 and errG[3.0] - errG[0.0] == pytest.approx(3 * term, rel=1e-4)


def test_lr_decay_lowers_both_rates_linearly_to_zero_at_the_run_end(tmp_path, tiny_images):
    trainer = Trainer(tiny_config(lr_decay=True, lr_g=2e-3, lr_d=1e-3), tmp_path, images=tiny_images)
    total = trainer.config.epochs * len(trainer.batches)
    batch = next(iter(trainer.batches))
    for step in range(3):
        trainer.train_step(batch)  # step `step` trains at 1 - step / total of each rate
        assert trainer.optG.param_groups[0]["lr"] == pytest.approx(2e-3 * (1 - step / total))
        assert trainer.optD.param_groups[0]["lr"] == pytest.approx(1e-3 * (1 - step / total))
    result = train(trainer.config, tmp_path / "whole", images=tiny_images)  # the last step trains at 1 / total
    assert result.step == total
    assert load_checkpoint(result.checkpoint)["optimizer_g"]["param_groups"][0]["lr"] == pytest.approx(2e-3 / total)

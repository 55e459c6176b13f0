"""Conditional training: (image, label) batches, exact resume, one grid row per class, labelled checkpoints."""
import signal

import pytest
import torch
from PIL import Image

from gan_models.nets.conditional import ConditionalGenerator
from gan_models.sources import from_checkpoint
from gan_models.training import rundir
from gan_models.training.checkpoint import load_checkpoint
from gan_models.training.trainer import TrainConfig, Trainer, TrainingInterrupted, train

TINY = dict(model="dcgan", ngf=4, ndf=4, nz=8, batch_size=16, max_images=64, progress=False, conditional=True)


def tiny_config(data_root, **changes) -> TrainConfig:
    return TrainConfig(**{**TINY, "data_root": str(data_root), "epochs": 3, **changes})


def read_log(out) -> list[dict]:
    import csv

    with open(out / "log.csv", newline="") as file:
        return [{k: v for k, v in row.items() if k != "images_per_s"} for row in csv.DictReader(file)]


@pytest.mark.parametrize("options", [
    {"ema_decay": 0.9, "fresh_noise": True},
    {"model": "fcgan", "ngf": 16, "ndf": 16, "loss": "wgan-gp", "n_critic": 2},
    {"compute_dtype": "bfloat16", "ema_decay": 0.9, "dataset": "fashion-mnist"},
])
def test_conditional_run_interrupted_then_resumed_equals_uninterrupted(tmp_path, data_root, options, monkeypatch):
    config = tiny_config(data_root, **options)
    whole = train(config, tmp_path / "whole")

    trainer = Trainer(config, tmp_path / "split")
    original_step = trainer.train_step

    def step_then_signal(*args):
        row = original_step(*args)
        if trainer.step == 6:
            trainer.stop.received = signal.SIGINT
        return row

    monkeypatch.setattr(trainer, "train_step", step_then_signal)
    with pytest.raises(TrainingInterrupted, match="interrupted at step 6"):
        trainer.fit()
    resumed = train(config, tmp_path / "split", resume=True)

    assert resumed.step == whole.step == 12
    assert read_log(tmp_path / "split") == read_log(tmp_path / "whole")
    for key in ("generator", "discriminator", "ema_generator", "optimizer_g"):
        a, b = load_checkpoint(whole.checkpoint)[key], load_checkpoint(resumed.checkpoint)[key]
        assert (a is None) == (b is None)
        if key.endswith("generator") and a is not None or key == "discriminator":
            assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), key
    assert "embed.weight" in load_checkpoint(whole.checkpoint)["discriminator"]  # the projection was trained


def test_conditional_checkpoint_rebuilds_a_generator_with_the_class_names(tmp_path, data_root):
    result = train(tiny_config(data_root, dataset="fashion-mnist", epochs=1, ema_decay=0.9), tmp_path)
    state = load_checkpoint(result.checkpoint)
    assert state["generator_kwargs"]["conditional"] is True
    assert state["generator_kwargs"]["classes"][7] == "Sneaker"
    generator = from_checkpoint(result.checkpoint).generator
    assert isinstance(generator, ConditionalGenerator) and generator.classes[9] == "Ankle boot"
    assert generator.sample(3, labels="Sneaker", seed=0).shape == (3, 1, 28, 28)


def test_the_grid_shows_one_row_per_class(tmp_path, data_root):
    train(tiny_config(data_root, epochs=1), tmp_path)
    with Image.open(tmp_path / "grids" / "epoch_0001.png") as grid:
        assert grid.size == (8 * 30 + 2, 10 * 30 + 2)  # 8 latents across, 10 classes down, 2-pixel padding


def test_the_same_latent_in_each_row_differs_by_class(tmp_path, data_root):
    trainer = Trainer(tiny_config(data_root, epochs=1), tmp_path)
    trainer.fit()
    samples = rundir.render_grid(trainer, tmp_path / "again.png")
    assert samples.shape == (80, 1, 28, 28)
    rows = samples.view(10, 8, -1)
    assert (rows[1:] - rows[:1]).abs().amax(dim=2).min() > 0  # one latent, ten classes, ten images


def test_a_dataset_without_labels_is_refused_in_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"^a conditional GAN needs labelled images, but celeba has no class labels"):
        Trainer(TrainConfig(model="dcgan64", dataset="celeba", conditional=True, data_root=str(tmp_path)), tmp_path)


def test_a_folder_of_class_subfolders_trains_and_a_changed_one_does_not_resume(tmp_path):
    data = tmp_path / "data"
    for name, colour in [("blue", (0, 0, 255)), ("red", (255, 0, 0))]:
        (data / name).mkdir(parents=True)
        for i in range(8):
            Image.new("RGB", (28, 28), tuple(c // (i + 1) for c in colour)).save(data / name / f"{i}.png")
    config = TrainConfig(model="fcgan", dataset="folder", data_root=str(data), conditional=True, ngf=8, ndf=8,
                         batch_size=8, epochs=1, progress=False)
    result = train(config, tmp_path / "run")
    assert load_checkpoint(result.checkpoint)["generator_kwargs"]["classes"] == ["blue", "red"]
    (data / "green").mkdir()
    Image.new("RGB", (28, 28), (0, 255, 0)).save(data / "green" / "0.png")
    (data / "red" / "7.png").unlink()  # keep 16 images: the class check, not the image count, must refuse it
    with pytest.raises(ValueError, match=r"trained on classes \['blue', 'red'\], this data has \['blue', 'green'"):
        train(TrainConfig(**{**config.__dict__, "epochs": 2}), tmp_path / "run", resume=True)

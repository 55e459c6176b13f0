"""The run folder: everything a training run writes, where, and how it is read back.

    <out>/config.json           the resolved TrainConfig as JSON, rewritten when the run starts or resumes
    <out>/checkpoint.pt         the latest training state (below), replaced atomically every epoch
                                (and every `checkpoint_every` steps, and on Ctrl-C or SIGTERM)
    <out>/log.csv               one row per step: step, epoch, errD, errG, D_x, D_G_z, images_per_s
                                (gan_models.training.runlog; rows past the checkpoint are dropped on resume)
    <out>/losses.png            errD and errG against the step, redrawn at most every 30 s and at the end
    <out>/tensorboard/          the same scalars, when the tensorboard package is installed
    <out>/grids/epoch_0001.png  8 x 8 grid of the fixed noise after each epoch (EMA generator if enabled);
                                a conditional run's has one row of 8 per class (at most 10)
    <out>/grids/step_000100.png the same every `grid_every` steps, when asked
    <out>/progress.png          every epoch grid on one sheet, redrawn with losses.png
    <out>/.lock                 held by the training process (gan_models.training.runlock)

checkpoint.pt is a dict that `torch.load(weights_only=True)` reads (gan_models.training.checkpoint
writes it atomically and checks its format and version on loading):

    format "gan-models-checkpoint", version 1,
    model, dataset: what was trained on what; num_images: how many images (fixes the step -> epoch mapping),
    config: the resolved TrainConfig as a dict; generator_kwargs, discriminator_kwargs: keywords of
    build_generator / build_discriminator (for a conditional run: conditional=True and the class names, classes),
    step: steps completed (with the config, the whole RNG state: see gan_models.training.trainer),
    generator, discriminator, ema_generator (None without EMA): state dicts,
    optimizer_g, optimizer_d: Adam state dicts; fixed_noise: the (64, nz) latents of the grids,
    monitor: the health monitor's loss windows (absent in checkpoints of early versions).

Configs saved by any earlier version load: `TrainConfig.from_dict` maps old field names and gives
fields they lack their defaults, in config.json and in a checkpoint's "config" alike.
"""
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from gan_models.atomic import atomic_write
from gan_models.images import save_grid, save_sheet
from gan_models.nets.base import eval_mode
from gan_models.training.checkpoint import load_checkpoint, save_checkpoint
from gan_models.training.config import TrainConfig, config_differences

if TYPE_CHECKING:  # the trainer imports this module
    from gan_models.training.trainer import Trainer

CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"
LOG = "log.csv"
LOSSES = "losses.png"
TENSORBOARD = "tensorboard"
GRIDS = "grids"
GRID_CLASSES = 10  # a conditional run's grids show this many classes at most, one row each
PROGRESS = "progress.png"


def read_config(out: Path) -> TrainConfig | None:
    """The TrainConfig saved in `out/config.json` by any gan-models version, or None if there is none."""
    path = Path(out) / CONFIG
    return TrainConfig.from_dict(json.loads(path.read_text())) if path.is_file() else None


def resume_config(out: Path, given: dict) -> TrainConfig | None:
    """The config to resume the run in `out` with: the saved one, with the fields in `given` changed.

    None when the folder holds no config.json (the caller then trains with its own config).
    """
    saved = read_config(out)
    return None if saved is None else TrainConfig(**{**asdict(saved), **given})


def write_config(out: Path, config: TrainConfig) -> None:
    """Write `config` to `out/config.json`, whole or not at all (`train --resume` reads it; a kill may come anytime)."""
    with atomic_write(Path(out) / CONFIG) as tmp:
        tmp.write_text(json.dumps(asdict(config), indent=2) + "\n")


def epoch_grid(out: Path, epoch: int) -> Path:
    """Where the fixed-noise grid after `epoch` (1-based) goes."""
    return Path(out) / GRIDS / f"epoch_{epoch:04d}.png"


def step_grid(out: Path, step: int) -> Path:
    """Where the fixed-noise grid after `step` goes (with `grid_every`)."""
    return Path(out) / GRIDS / f"step_{step:06d}.png"


@torch.no_grad()
def render_grid(trainer: "Trainer", path: Path) -> torch.Tensor:
    """Save the fixed-noise grid to `path` (EMA generator if enabled) and return the samples (64, C, H, W).

    A conditional run's grid has one row per class (the first GRID_CLASSES), each drawn from the same
    first 8 fixed latents, so a column shows one latent across the classes: (8 * rows, C, H, W).
    """
    generator = trainer.netG_ema if trainer.netG_ema is not None else trainer.netG
    z, labels = trainer.fixed_noise, ()
    if trainer.config.conditional:
        rows = min(len(trainer.classes), GRID_CLASSES)
        z, labels = z[:8].repeat(rows, 1), (grid_labels(8 * rows).to(trainer.device),)
    with eval_mode(generator):
        samples = generator(z.to(trainer.device), *labels).cpu()
    save_grid(samples, path)
    return samples


def grid_labels(n: int) -> torch.Tensor:
    """The labels of a conditional grid of n images: 8 of class 0, 8 of class 1, ... (one row each), int64 (n,)."""
    return torch.arange(n // 8).repeat_interleave(8)


def save_progress_sheet(out: Path, epochs: int) -> Path:
    """Put the epoch grids 1..`epochs` that exist on one sheet, `out/progress.png`."""
    existing = [grid for grid in (epoch_grid(out, e) for e in range(1, epochs + 1)) if grid.exists()]
    return save_sheet(existing, [f"epoch {int(g.stem.split('_')[1])}" for g in existing], Path(out) / PROGRESS)


def last_checkpoint_note(out: Path) -> str:
    """What a run stopped by an error leaves: "the last good checkpoint is untouched: <path>", or that there is none."""
    checkpoint = Path(out) / CHECKPOINT
    return (f"the last good checkpoint is untouched: {checkpoint}" if checkpoint.exists()
            else "no checkpoint was written (it stopped before the first)")


def save_training_state(trainer: "Trainer", path: Path) -> Path:
    """Write a Trainer's state to the checkpoint `path` (keys in this module's docstring)."""
    config = trainer.config
    return save_checkpoint({
        "model": config.model,
        "dataset": config.dataset,
        "num_images": len(trainer.images),
        "generator_kwargs": config.generator_kwargs(trainer.classes),
        "discriminator_kwargs": config.discriminator_kwargs(trainer.classes),
        "config": asdict(config),
        "step": trainer.step,
        "generator": trainer.netG.state_dict(),
        "discriminator": trainer.netD.state_dict(),
        "ema_generator": trainer.netG_ema.state_dict() if trainer.netG_ema is not None else None,
        "optimizer_g": trainer.optG.state_dict(),
        "optimizer_d": trainer.optD.state_dict(),
        "fixed_noise": trainer.fixed_noise,
        "monitor": trainer.monitor.state_dict(),
    }, path)


def load_training_state(trainer: "Trainer", path: Path) -> None:
    """Restore a Trainer from the checkpoint `path`; ValueError if it was trained under another config or data."""
    state = load_checkpoint(path, map_location=trainer.device)
    differences = config_differences(state["config"], trainer.config)
    if differences:
        raise ValueError(f"cannot resume {path}: the config differs from the checkpoint's in " + "; ".join(differences))
    if state["num_images"] != len(trainer.images):  # the step -> (epoch, batch) mapping depends on it
        raise ValueError(f"cannot resume {path}: the checkpoint was trained on {state['num_images']} images, "
                         f"this run has {len(trainer.images)}; resume on the same data, or choose another --out")
    saved_classes = tuple(state["generator_kwargs"].get("classes", ()))
    if saved_classes != trainer.classes:  # a folder whose class subfolders changed would relabel every image
        raise ValueError(f"cannot resume {path}: the checkpoint was trained on classes {list(saved_classes)}, "
                         f"this data has {list(trainer.classes)}")
    trainer.netG.load_state_dict(state["generator"])
    trainer.netD.load_state_dict(state["discriminator"])
    if trainer.netG_ema is not None:
        trainer.netG_ema.load_state_dict(state["ema_generator"])
    trainer.optG.load_state_dict(state["optimizer_g"])
    trainer.optD.load_state_dict(state["optimizer_d"])
    trainer.fixed_noise = state["fixed_noise"].cpu()
    if "monitor" in state:  # checkpoints written before it was saved start with empty loss windows
        trainer.monitor.load_state_dict(state["monitor"])
    trainer.step = state["step"]

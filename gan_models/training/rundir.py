"""The run folder: everything a training run writes, where, and how it is read back.

    <out>/config.json           the resolved TrainConfig as JSON, rewritten when the run starts or resumes
    <out>/checkpoint.pt         the latest training state (below), replaced atomically every epoch
                                (and every `checkpoint_every` steps, and on Ctrl-C or SIGTERM)
    <out>/log.csv               one row per step: step, epoch, errD, errG, D_x, D_G_z, images_per_s, and with
                                `eval_every` fd, kid, eval_s (seconds evaluating), empty on steps not evaluated
                                (gan_models.training.runlog; rows past the checkpoint are dropped on resume)
    <out>/losses.png            errD and errG against the step, redrawn at most every 30 s and at the end
    <out>/tensorboard/          the same scalars, when the tensorboard package is installed
    <out>/grids/epoch_0001.png  8 x 8 grid of the fixed noise after each epoch (EMA generator if enabled);
                                a conditional run's has one row of 8 per class (at most 10)
    <out>/grids/step_000100.png the same every `grid_every` steps, when asked
    <out>/progress.png          every epoch grid on one sheet, redrawn with losses.png
    <out>/best.pt               with `eval_every`: the generator of the lowest FD so far (below), replaced atomically
    <out>/.lock                 held by the training process (gan_models.training.runlock)

checkpoint.pt is a dict that `torch.load(weights_only=True)` reads (gan_models.training.checkpoint
writes it atomically and checks its format, version, checksums and entries on loading); the trainer
makes it (`Trainer.state_dict`) and restores from it (`Trainer.load_state_dict`):

    format "gan-models-checkpoint", version 2 (version 1 files load too: gan_models.training.upgrade),
    model, dataset: what was trained on what; num_images: how many images (fixes the step -> epoch mapping),
    config: the resolved TrainConfig as a dict (the one place that says whether the run is conditional),
    generator_kwargs: keywords of build_generator (a conditional run's class names, classes, among them),
    step: steps completed (with the config, the whole RNG state: see gan_models.training.trainer),
    generator, discriminator, ema_generator (None without EMA): state dicts,
    optimizer_g, optimizer_d: Adam state dicts; fixed_noise: the (64, nz) latents of the grids,
    monitor: the health monitor's loss windows (absent in checkpoints of early versions),
    best: {"step", "fd", "kid"} of the best evaluation so far, or None (absent before eval_every existed),
    ada: with ada_target, ADA's {"p", "r_t", "sign_sum", "count"} (gan_models.training.ada: the probability, the
    last adjustment's r_t, the sign sum and count of the real logits since), else None (absent before ADA existed).

best.pt is a checkpoint too, of a generator only, so that `gan-models sample`, `export` and `evaluate
--checkpoint` and scripts/ship_generator.py read it (it cannot be resumed): model, dataset, num_images,
config, generator_kwargs, step, generator, ema_generator as above, at the step of the best evaluation,
and evaluation: {"step", "fd", "kid", "samples", "seed"}, its score (gan_models.training.evaluation). It
is written before the checkpoint that records its score, so after a kill it is never older than the
checkpoint's "best".

Configs saved by any earlier version load: `TrainConfig.from_dict` maps old field names and gives
fields they lack their defaults, in config.json and in a checkpoint's "config" alike.
"""
import json
from dataclasses import asdict
from pathlib import Path

from gan_models.atomic import atomic_write
from gan_models.images import save_sheet
from gan_models.training.config import TrainConfig

CONFIG = "config.json"
CHECKPOINT = "checkpoint.pt"
BEST = "best.pt"
LOG = "log.csv"
LOSSES = "losses.png"
TENSORBOARD = "tensorboard"
GRIDS = "grids"
PROGRESS = "progress.png"
SHEET_GRIDS = 40  # progress.png shows at most this many epochs, spread over the run, so it stays small


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


def save_progress_sheet(out: Path, epochs: int) -> Path:
    """Put the epoch grids of 1..`epochs` that exist on one sheet, `out/progress.png`: all of them up to
    SHEET_GRIDS epochs, else SHEET_GRIDS spread evenly from the first epoch to the last."""
    shown = min(epochs, SHEET_GRIDS)
    picked = sorted({1 + round(i * (epochs - 1) / max(shown - 1, 1)) for i in range(shown)})
    existing = [grid for grid in (epoch_grid(out, e) for e in picked) if grid.exists()]
    return save_sheet(existing, [f"epoch {int(g.stem.split('_')[1])}" for g in existing], Path(out) / PROGRESS)


def last_checkpoint_note(out: Path) -> str:
    """What a run stopped by an error leaves: "the last good checkpoint is untouched: <path>", or that there is none."""
    checkpoint = Path(out) / CHECKPOINT
    return (f"the last good checkpoint is untouched: {checkpoint}" if checkpoint.exists()
            else "no checkpoint was written (it stopped before the first)")

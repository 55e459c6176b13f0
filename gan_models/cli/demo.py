"""`gan-models demo`: every shipped generator sampled and exported, then a short training."""
import shutil
from pathlib import Path

import click

from gan_models.cli.options import SEED, echo_result, export_checkpoint


@click.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/demo"), show_default=True,
              help="Folder for everything the demo writes.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding MNIST/raw [default: $GAN_MODELS_DATA, else ./data].")
@click.option("--download", is_flag=True, help="Fetch MNIST with torchvision if it is missing (needs internet).")
@click.option("--epochs", type=click.IntRange(min=1), default=40, show_default=True,
              help="Epochs of the FC-GAN training on MNIST's 8,000 training images (62 steps each).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for the networks and their samples.")
def demo_command(out: Path, data_root: Path | None, download: bool, epochs: int, seed: int) -> None:
    """The main job: every pretrained generator sampled and exported to validated ONNX, offline; then a short training.

    \b
    1. Builds each model's generator and discriminator (parameter counts, shapes).
    2. For every shipped generator (loaded offline, hash-checked): an 8 x 8 sample grid (a conditional
       one: a row of 8 per class), and an ONNX export validated against PyTorch at batch sizes 1, 7 and 64.
    3. If MNIST is found (or --download), trains the FC-GAN for 40 epochs (2,480 steps; the whole
       demo takes one to two minutes on 2 CPU cores; digits take shape from about epoch 15), writes its
       grids and loss curve, and exports and validates that generator too. A finished demo run is
       trained afresh.
    """
    import torch

    from gan_models.data import load_images
    from gan_models.dataroot import DatasetNotFoundError
    from gan_models.export.validate import export_and_validate
    from gan_models.images import save_grid
    from gan_models.registry import MODELS, WEIGHTS, build_discriminator, build_generator
    from gan_models.sources import from_hub

    for name in MODELS:
        torch.manual_seed(seed)
        generator, discriminator = build_generator(name), build_discriminator(name)  # the hub's defaults
        logits = discriminator(generator.sample(2, seed=seed))
        n_g = sum(p.numel() for p in generator.parameters())
        n_d = sum(p.numel() for p in discriminator.parameters())
        click.echo(f"{name:8s} G {n_g:>9,d} params  D {n_d:>9,d} params  z (N, {generator.nz}) -> images "
                   f"(N, {', '.join(map(str, generator.image_shape))}) -> D logits (N, {logits.shape[1]})")

    for record in WEIGHTS:
        source = from_hub(record.model, pretrained=True, dataset=record.dataset, conditional=record.conditional)
        stem = out / "pretrained" / record.stem
        labels = torch.arange(source.generator.num_classes).repeat_interleave(8) if record.conditional else None
        images = source.generator.sample(64 if labels is None else len(labels), seed=seed, labels=labels)
        grid = save_grid(images, stem.with_suffix(".png"))
        report = export_and_validate(source.generator, stem.with_suffix(".onnx"), **source.export_kwargs())
        worst = max(b.max_abs_diff for b in report.providers[0].batches)
        click.echo(f"pretrained {stem.name:20s} grid {grid}; ONNX {stem.with_suffix('.onnx')} validated "
                   f"(max |diff| {worst:.1e} at batch sizes 1, 7, 64)")

    try:
        images = load_images("mnist", data_root, download=download)
    except DatasetNotFoundError as missing:
        click.echo(f"skipping the short training: {missing}")
        return
    from gan_models.training.rundir import epoch_grid
    from gan_models.training.trainer import TrainConfig
    from gan_models.training.trainer import train as run_training

    run, onnx = out / "trained-fcgan-mnist", out / "trained-fcgan-mnist.onnx"
    # The recipe of the shipped FC-GAN (lr 1e-3, batch 128), with a warmed-up EMA of G, whose samples are
    # recognisable digits well before the raw G's are: by epoch 36-40 on 8,000 images (measured).
    config = TrainConfig(model="fcgan", dataset="mnist", epochs=epochs, seed=seed, ema_decay=0.999, batch_size=128)
    resume = _resume_or_start_afresh(run, epochs, len(images) // config.batch_size)
    click.echo(f"training fcgan on {len(images):,} MNIST images for {epochs} epochs -> {run}")
    echo_result(run_training(config, run, resume=resume, images=images))
    export_checkpoint(run / "checkpoint.pt", onnx)
    click.echo(f"look at {epoch_grid(run, epochs)}: 64 digits of the trained generator; {run / 'progress.png'}: the "
               f"same latents after every epoch; {run / 'losses.png'}: the losses; the generator as ONNX: {onnx}")


def _resume_or_start_afresh(run: Path, epochs: int, steps_per_epoch: int) -> bool:
    """Whether to resume the demo's run folder (an interrupted run); a finished one is removed and trained afresh."""
    from gan_models.training.checkpoint import load_checkpoint

    if not (run / "checkpoint.pt").exists():
        return False
    step = load_checkpoint(run / "checkpoint.pt")["step"]
    if step < epochs * steps_per_epoch:
        click.echo(f"resuming the interrupted demo run in {run} from step {step:,}")
        return True
    click.echo(f"{run} holds a finished demo run ({step:,} steps): training it afresh")
    shutil.rmtree(run)
    return False

"""`gan-models demo`: every shipped generator sampled and exported, then a short training."""
from pathlib import Path

import click

from gan_models.cli.options import SEED, echo_result, export_checkpoint


@click.command("demo")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/demo"), show_default=True,
              help="Folder for everything the demo writes.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding MNIST/raw [default: $GAN_MODELS_DATA, else ./data].")
@click.option("--download", is_flag=True, help="Fetch MNIST with torchvision if it is missing (needs internet).")
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Epochs of the short FC-GAN training on MNIST.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for the networks and their samples.")
def demo_command(out: Path, data_root: Path | None, download: bool, epochs: int, seed: int) -> None:
    """The main job: every pretrained generator sampled and exported to validated ONNX, offline; then a short training.

    \b
    1. Builds each model's generator and discriminator (parameter counts, shapes).
    2. For every shipped generator (loaded offline, hash-checked): an 8 x 8 sample grid, and an
       ONNX export validated against PyTorch at batch sizes 1, 7 and 64.
    3. If MNIST is found (or --download), trains the FC-GAN for a few epochs, writes its grids and
       loss curve, and exports and validates that generator too.
    """
    import torch

    from export.validate import export_and_validate
    from gan_models.data import DatasetNotFoundError, load_images
    from gan_models.images import save_grid
    from gan_models.registry import MODELS, WEIGHTS, build_discriminator, build_generator
    from gan_models.sources import from_hub

    for name in MODELS:
        torch.manual_seed(seed)
        channels = {"channels": 1} if name == "dcgan64" else {}  # grayscale like the bundled data
        generator, discriminator = build_generator(name, **channels), build_discriminator(name, **channels)
        logits = discriminator(generator.sample(2, seed=seed))
        n_g = sum(p.numel() for p in generator.parameters())
        n_d = sum(p.numel() for p in discriminator.parameters())
        click.echo(f"{name:8s} G {n_g:>9,d} params  D {n_d:>9,d} params  z (N, {generator.nz}) -> images "
                   f"(N, {', '.join(map(str, generator.image_shape))}) -> D logits (N, {logits.shape[1]})")

    for record in WEIGHTS:
        source = from_hub(record.model, pretrained=True, dataset=record.dataset)
        stem = out / "pretrained" / f"{record.model}-{record.dataset}"
        grid = save_grid(source.generator.sample(64, seed=seed), stem.with_suffix(".png"))
        report = export_and_validate(source.generator, stem.with_suffix(".onnx"), **source.export_kwargs())
        worst = max(b.max_abs_diff for b in report.providers[0].batches)
        click.echo(f"pretrained {stem.name:20s} grid {grid}; ONNX {stem.with_suffix('.onnx')} validated "
                   f"(max |diff| {worst:.1e} at batch sizes 1, 7, 64)")

    try:
        images = load_images("mnist", data_root, download=download)
    except DatasetNotFoundError as missing:
        click.echo(f"skipping the short training: {missing}")
        return
    from gan_models.training.trainer import TrainConfig
    from gan_models.training.trainer import train as run_training

    run = out / "trained-fcgan-mnist"
    click.echo(f"training fcgan on {len(images):,} MNIST images for {epochs} epochs -> {run}")
    result = run_training(TrainConfig(model="fcgan", dataset="mnist", epochs=epochs, seed=seed, ema_decay=0.99),
                          run, resume=(run / "checkpoint.pt").exists(), images=images)
    echo_result(result)
    click.echo(f"fixed-noise grids in {run / 'grids'}, loss curve {run / 'losses.png'}")
    export_checkpoint(result.checkpoint, out / "trained-fcgan-mnist.onnx")

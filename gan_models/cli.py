"""The `gan-models` command line: train, sample, export, validate.

Errors a person can fix (bad values, missing files, corrupt checkpoints) print one line and exit
non-zero; set GAN_MODELS_DEBUG=1 to see the full traceback instead. Heavy imports (onnx,
onnxruntime, the trainer) happen inside the commands that need them.
"""
import os
from pathlib import Path

import click

from gan_models import __version__
from gan_models.registry import MODELS

# Exceptions that describe a problem with the user's input or files, not a bug in gan-models.
USER_ERRORS = (ValueError, TypeError, OSError, RuntimeError)


class _FriendlyGroup(click.Group):
    """A click group that turns user errors into one line ('Error: ...') and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except USER_ERRORS as err:
            if os.environ.get("GAN_MODELS_DEBUG"):
                raise
            raise click.ClickException(" ".join(str(err).split()) or type(err).__name__) from None


@click.group(cls=_FriendlyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gan-models")
def main() -> None:
    """Train GANs (FC-GAN, LSGAN, DCGAN), sample them, export generators to validated ONNX."""


@main.command("models")
def list_models() -> None:
    """List the models and what each one is."""
    for spec in MODELS.values():
        click.echo(f"{spec.name:8s} {spec.summary} [default loss: {spec.loss}]")


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("runs/demo"), show_default=True,
              help="Folder for the sample grids.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the networks and their samples.")
def demo(out: Path, seed: int) -> None:
    """Build every network and write an 8 x 8 sample grid from each generator to OUT."""
    import torch

    from gan_models.images import save_grid
    from gan_models.registry import build_discriminator, build_generator

    for name in MODELS:
        torch.manual_seed(seed)
        generator, discriminator = build_generator(name), build_discriminator(name)
        if name == "dcgan64":  # grayscale like the bundled data
            generator, discriminator = build_generator(name, channels=1), build_discriminator(name, channels=1)
        images = generator.sample(64, seed=seed)
        logits = discriminator(images)
        path = save_grid(images, out / f"{name}-untrained.png")
        n_g = sum(p.numel() for p in generator.parameters())
        n_d = sum(p.numel() for p in discriminator.parameters())
        click.echo(f"{name:8s} G {n_g:>9,d} params  D {n_d:>9,d} params  images {tuple(images.shape)} "
                   f"in [{images.min():.2f}, {images.max():.2f}]  D logits {tuple(logits.shape)}  -> {path}")

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


def _generator_source(checkpoint: Path | None, hub: str | None, pretrained: bool, dataset: str | None):
    """The generator named by exactly one of --checkpoint / --hub (with its metadata)."""
    from export.sources import from_checkpoint, from_hub

    if (checkpoint is None) == (hub is None):
        raise ValueError("give exactly one of --checkpoint CKPT or --hub NAME")
    if checkpoint is not None:
        if pretrained or dataset is not None:
            raise ValueError("--pretrained and --dataset go with --hub, not --checkpoint")
        return from_checkpoint(checkpoint)
    return from_hub(hub, pretrained=pretrained, dataset=dataset)


def _source_options(command):
    """The --checkpoint / --hub / --pretrained / --dataset options shared by export and validate."""
    options = [
        click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
                     help="Training checkpoint; its EMA generator is used when it has one."),
        click.option("--hub", metavar="NAME", help=f"Hub generator entry point: {', '.join(MODELS)}."),
        click.option("--pretrained", is_flag=True, help="With --hub: the shipped weights (else fresh ones, seed 0)."),
        click.option("--dataset", help="With --hub --pretrained: which shipped weights."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@main.command("export")
@_source_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .onnx file to write.")
@click.option("--opset", type=int, default=None, help="ONNX opset, 17 to 20 [default: 17].")
@click.option("--fp16", is_flag=True, help="Half-precision weights and compute; z and images stay float32.")
def export_command(checkpoint: Path | None, hub: str | None, pretrained: bool, dataset: str | None, out: Path,
                   opset: int | None, fp16: bool) -> None:
    """Export a generator to ONNX, then validate it against PyTorch (non-zero exit on mismatch)."""
    from export.onnx import DEFAULT_OPSET, check_opset
    from export.validate import export_and_validate

    opset = check_opset(DEFAULT_OPSET if opset is None else opset)  # before any loading: fail fast
    source = _generator_source(checkpoint, hub, pretrained, dataset)
    report = export_and_validate(source.generator, out, opset=opset, fp16=fp16, **source.export_kwargs())
    click.echo(report)
    click.echo(f"exported {source.model} to {out}: validation passed")


@main.command("validate")
@click.argument("model_onnx", metavar="MODEL.onnx", type=click.Path(dir_okay=False, path_type=Path))
@_source_options
def validate_command(model_onnx: Path, checkpoint: Path | None, hub: str | None, pretrained: bool,
                     dataset: str | None) -> None:
    """Validate an existing ONNX file against the generator it came from (non-zero exit on mismatch)."""
    from export.validate import load_onnx, validate_onnx

    load_onnx(model_onnx)  # a bad file is reported before the generator is loaded
    source = _generator_source(checkpoint, hub, pretrained, dataset)
    click.echo(validate_onnx(model_onnx, source.generator))
    click.echo(f"{model_onnx}: validation passed")

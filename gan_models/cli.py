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


@main.command()
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A checkpoint written by the trainer; its generator (EMA if present) is measured.")
@click.option("--hub", "hub_name", type=click.Choice(sorted(MODELS)), default=None,
              help="A model by name instead: fresh (random) weights, or shipped ones with --pretrained.")
@click.option("--pretrained", is_flag=True, help="With --hub: load the shipped, hash-checked weights.")
@click.option("--dataset", type=click.Choice(["mnist", "fashion-mnist"]), default=None,
              help="Data to compare with. Default: the checkpoint's dataset, else mnist.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding MNIST/raw and FashionMNIST/raw. Default: $GAN_MODELS_DATA.")
@click.option("--samples", type=int, default=10_000, show_default=True,
              help="Images per compared set; capped at the test split's size (MNIST: 2,000).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the noise and the real subsets.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Also write the numbers as JSON to this file ('-' for standard output).")
def evaluate(checkpoint: Path | None, hub_name: str | None, pretrained: bool, dataset: str | None,
             data_root: Path | None, samples: int, seed: int, json_path: Path | None) -> None:
    """Measure a generator's sample quality: classifier-feature Frechet distance and class coverage.

    Real training images scored the same way are printed beside it: the best a generator can hope for.
    """
    import json

    import torch

    from gan_models.metrics import MIN_SHARE, evaluate_generator

    if (checkpoint is None) == (hub_name is None):
        raise click.UsageError("give exactly one of --checkpoint or --hub")
    if pretrained and hub_name is None:
        raise click.UsageError("--pretrained goes with --hub; a checkpoint carries its own weights")
    if checkpoint is not None:
        from gan_models.checkpoint import generator_from_checkpoint, load_checkpoint

        dataset = dataset or load_checkpoint(checkpoint).get("dataset") or "mnist"
        generator, source = generator_from_checkpoint(checkpoint), f"checkpoint {checkpoint}"
    else:
        from gan_models.registry import build_generator, load_pretrained_generator

        dataset = dataset or "mnist"
        torch.manual_seed(seed)  # a fresh generator's weights are part of what is measured
        generator = load_pretrained_generator(hub_name, dataset) if pretrained else build_generator(hub_name)
        source = f"{hub_name} ({'pretrained' if pretrained else 'untrained'})"
    report = evaluate_generator(generator, dataset, data_root, n_samples=samples, seed=seed)

    generated, real, classes = report.generated, report.real, len(report.generated.class_histogram)
    click.echo(f"{source} on {report.dataset}: {report.samples:,} images per set, seed {report.seed}, "
               f"reference = {report.dataset} test split; classifier {report.classifier}, layer {report.feature_layer}")
    rows = [("", "generated", "real (train split)"),
            ("Frechet distance to test split", f"{generated.frechet_distance:.3f}", f"{real.frechet_distance:.3f}"),
            (f"classes with >= {MIN_SHARE:.0%} of images", f"{generated.classes_covered} / {classes}",
             f"{real.classes_covered} / {classes}"),
            ("KL(class shares || uniform)", f"{generated.kl_from_uniform:.4f}", f"{real.kl_from_uniform:.4f}"),
            ("mean confidence (max softmax)", f"{generated.mean_confidence:.4f}", f"{real.mean_confidence:.4f}")]
    rows += [(f"  share predicted as class {k}", f"{g:.1%}", f"{r:.1%}")
             for k, (g, r) in enumerate(zip(generated.class_histogram, real.class_histogram))]
    for name, left, right in rows:
        click.echo(f"{name:34s} {left:>12s} {right:>20s}")
    if json_path is not None:
        text = json.dumps(report.to_dict(), indent=2)
        if str(json_path) == "-":
            click.echo(text)
        else:
            json_path.write_text(text + "\n")
            click.echo(f"wrote {json_path}")

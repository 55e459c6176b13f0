"""The `gan-models` command line: demo, train, sample, export, validate, evaluate.

Errors a person can fix (bad values, missing files, corrupt checkpoints) print one line and exit
non-zero; set GAN_MODELS_DEBUG=1 to see the full traceback instead. onnx and onnxruntime are
imported inside the commands that need them, so the rest works without the export extra.
"""
import os
from pathlib import Path

import click

from gan_models import __version__
from gan_models.atomic import atomic_write
from gan_models.noise import MAX_SEED
from gan_models.registry import MODELS

# `sample` draws at most this many images into one PNG (100 x 100 digits: 3,002 x 3,002 pixels).
MAX_GRID_IMAGES = 10_000

SEED = click.IntRange(0, MAX_SEED)  # what torch.Generator.manual_seed accepts

# Exceptions that describe a problem with the user's input or files, not a bug in gan-models.
USER_ERRORS = (ValueError, TypeError, OSError, RuntimeError)


class _FriendlyGroup(click.Group):
    """A click group that turns user errors into one line ('Error: ...') and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise  # click's own exits and messages (Exit subclasses RuntimeError)
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
              help="Folder for everything the demo writes.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding MNIST/raw [default: $GAN_MODELS_DATA, else ./data].")
@click.option("--download", is_flag=True, help="Fetch MNIST with torchvision if it is missing (needs internet).")
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Epochs of the short FC-GAN training on MNIST.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed for the networks and their samples.")
def demo(out: Path, data_root: Path | None, download: bool, epochs: int, seed: int) -> None:
    """The main job: every pretrained generator sampled and exported to validated ONNX, offline; then a short training.

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
    from gan_models.registry import WEIGHTS, build_discriminator, build_generator
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
    _echo_result(result)
    click.echo(f"fixed-noise grids in {run / 'grids'}, loss curve {run / 'losses.png'}")
    _export_checkpoint(result.checkpoint, out / "trained-fcgan-mnist.onnx")


def _option_help() -> dict[str, str]:
    """Each TrainConfig field's one-line comment, read from its source: the --help text of its option."""
    import inspect
    import re

    from gan_models.training.trainer import TrainConfig

    pattern = re.compile(r"^\s+(\w+): [^=]+= .*?  # (.+)$")
    lines = inspect.getsource(TrainConfig).splitlines()
    return {m.group(1): m.group(2) for line in lines if (m := pattern.match(line))}


def _train_options(command):
    """Add one option per TrainConfig field (--batch-size for batch_size), typed and documented from the dataclass."""
    import dataclasses
    import typing

    from gan_models.data import DATASETS, SPLITS
    from gan_models.losses import LOSSES
    from gan_models.noise import NOISE_KINDS
    from gan_models.training.trainer import PRECISIONS, TrainConfig

    choices = {"model": list(MODELS), "dataset": list(DATASETS), "loss": list(LOSSES), "noise": list(NOISE_KINDS),
               "split": list(SPLITS), "precision": list(PRECISIONS)}
    helps = _option_help()
    hints = typing.get_type_hints(TrainConfig)
    for field in reversed(dataclasses.fields(TrainConfig)):
        flag = "--" + field.name.replace("_", "-")
        base = next(t for t in typing.get_args(hints[field.name]) or (hints[field.name],) if t is not type(None))
        if base is bool:
            option = click.option(f"{flag}/--no-{flag[2:]}", field.name, default=field.default, show_default=True,
                                  help=helps[field.name])
        else:
            kind = click.Choice(choices[field.name]) if field.name in choices else base
            option = click.option(flag, field.name, type=kind, default=field.default,
                                  show_default=field.default is not None, help=helps[field.name])
        command = option(command)
    return command


@main.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run folder for checkpoints, grids and logs [default: runs/<model>-<dataset>].")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint (same config required).")
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="After training, export the generator (EMA if enabled) to this ONNX file and validate it.")
@_train_options
@click.pass_context
def train(ctx: click.Context, out: Path | None, resume: bool, export_path: Path | None, **fields) -> None:
    """Train a GAN; write checkpoints, fixed-noise grids, a CSV log and a loss curve to the run folder.

    With --resume, the run's saved config is the starting point and only the options given on
    this command line change it (e.g. a larger --epochs); changes that alter training are refused.

    Example: gan-models train --model dcgan --dataset mnist --data-root ../shared/data --epochs 20 --export dcgan.onnx
    """
    import json

    from gan_models.training.trainer import TrainConfig, TrainingInterrupted
    from gan_models.training.trainer import train as run_training

    if export_path is not None:
        import export  # noqa: F401  fail now, not after hours of training, if onnx/onnxruntime are missing
    config = TrainConfig(**fields)
    out = out or Path("runs") / f"{config.model}-{config.dataset}"
    if resume and (out / "config.json").is_file():
        given = {name: value for name, value in fields.items()
                 if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT}
        config = TrainConfig(**{**json.loads((out / "config.json").read_text()), **given})
    try:
        result = run_training(config, out, resume=resume)
    except TrainingInterrupted as stop:
        click.echo(str(stop), err=True)
        raise SystemExit(130) from None
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 alone reports and exports
        return
    _echo_result(result)
    if export_path is not None:
        _export_checkpoint(result.checkpoint, export_path)


def _echo_result(result) -> None:
    """One line on how a training run ended (its last logged losses), then its warnings."""
    parts = [f"done: {result.step} steps"]
    if result.last:
        parts.append(" ".join(f"{key} {result.last[field]:.3f}" for key, field in
                              (("errD", "errD"), ("errG", "errG"), ("D(x)", "D_x"), ("D(G(z))", "D_G_z"))))
    if result.diversity is not None:
        parts.append(f"diversity {result.diversity:.2f}")
    click.echo("; ".join(parts + [f"checkpoint {result.checkpoint}"]))
    for warning in result.warnings:
        click.echo(f"warning: {warning}")


def _export_checkpoint(checkpoint: Path, path: Path) -> None:
    """Export a checkpoint's generator to ONNX, validate it, and print the report."""
    from gan_models.sources import from_checkpoint

    _export(from_checkpoint(checkpoint), path)


def _export(source, path: Path, **options) -> None:
    """Export a GeneratorSource's generator to ONNX at `path` (export_onnx `options`), validate it, print the report."""
    from export.validate import export_and_validate

    click.echo(export_and_validate(source.generator, path, **options, **source.export_kwargs()))
    click.echo(f"exported {source.model} to {path}: validation passed")


def _generator_source(checkpoint: Path | None, hub: str | None, pretrained: bool, dataset: str | None,
                      use_ema: bool = True):
    """The generator named by exactly one of --checkpoint / --hub (with its metadata)."""
    from gan_models.sources import from_checkpoint, from_hub

    if (checkpoint is None) == (hub is None):
        raise ValueError("give exactly one of --checkpoint CKPT or --hub NAME")
    if checkpoint is not None:
        if pretrained or dataset is not None:
            raise ValueError("--pretrained and --dataset go with --hub, not --checkpoint")
        return from_checkpoint(checkpoint, use_ema=use_ema)
    return from_hub(hub, pretrained=pretrained, dataset=dataset)


def _source_options(command):
    """The --checkpoint / --hub / --pretrained / --dataset options shared by sample, export, validate and evaluate."""
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


@main.command()
@_source_options
@click.option("-n", "n", type=click.IntRange(min=1), default=64, show_default=True, help="Number of images.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("samples.png"),
              show_default=True, help=f"PNG file for the grid (at most {MAX_GRID_IMAGES:,} images), or a .npy "
              "file: uint8 (n, C, H, W), written batch by batch, for any n.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the latent draw.")
@click.option("--nrow", type=click.IntRange(min=1), default=None, help="Images per grid row [default: ~sqrt(n)].")
@click.option("--interpolate", is_flag=True,
              help="Latent-space walks instead: n // 8 rows, each 8 frames from one random latent to another.")
@click.option("--no-ema", is_flag=True, help="Use a checkpoint's raw generator even when it has an EMA one.")
def sample(checkpoint, hub, pretrained, dataset, n, out, seed, nrow, interpolate, no_ema) -> None:
    """Draw images from a generator and save them as one PNG grid, or as a .npy array.

    Memory stays bounded for any -n: images are generated in batches and a .npy file is written
    batch by batch (e.g. -n 100000 --out samples.npy). A grid of more than 10,000 images is
    refused: it would be a picture too large to look at (100,000 digits: 9,512 x 9,512 pixels).
    """
    import math

    from gan_models.images import save_grid
    from gan_models.sampling import generate, latent_walks, save_npy

    to_npy = out.suffix.lower() == ".npy"
    if interpolate and to_npy:
        raise ValueError("--interpolate draws a PNG grid; give --out a .png file")
    if n > MAX_GRID_IMAGES and not to_npy:
        raise ValueError(f"-n {n:,} is too many images for one PNG grid (at most {MAX_GRID_IMAGES:,}); "
                         f"write them to a .npy file instead: --out {out.with_suffix('.npy')}")
    generator = _generator_source(checkpoint, hub, pretrained, dataset, use_ema=not no_ema).generator
    if to_npy:
        path = save_npy(generator, n, out, seed=seed)
        click.echo(f"wrote {n} images {tuple(generator.image_shape)} as uint8 (n, C, H, W) to {path}")
        return
    if interpolate:
        images, nrow = latent_walks(generator, walks=max(1, n // 8), frames=8, seed=seed), 8
    else:
        images = generate(generator, n, seed=seed)
        nrow = nrow or math.ceil(math.sqrt(n))
    path = save_grid(images, out, nrow=nrow)
    click.echo(f"wrote {len(images)} images {tuple(images.shape[1:])} to {path}")


@main.command("export")
@_source_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .onnx file to write.")
@click.option("--opset", type=int, default=None, help="ONNX opset, 17 to 20 [default: 17].")
@click.option("--fp16", is_flag=True,
              help="Half-precision weights (half the file), computed in float16 where the provider has kernels for "
                   "it (onnxruntime's CPU provider computes in float32); z and images stay float32.")
def export_command(checkpoint: Path | None, hub: str | None, pretrained: bool, dataset: str | None, out: Path,
                   opset: int | None, fp16: bool) -> None:
    """Export a generator to ONNX, then validate it against PyTorch (non-zero exit on mismatch)."""
    from export.onnx import DEFAULT_OPSET, check_opset

    opset = check_opset(DEFAULT_OPSET if opset is None else opset)  # before any loading: fail fast
    _export(_generator_source(checkpoint, hub, pretrained, dataset), out, opset=opset, fp16=fp16)


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


@main.command()
@_source_options
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding MNIST/raw and FashionMNIST/raw. Default: $GAN_MODELS_DATA.")
@click.option("--samples", type=int, default=10_000, show_default=True,
              help="Images per compared set; capped at the test split's size (MNIST: 2,000).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seeds the noise and the real subsets.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path), default=None,
              help="Also write the numbers as JSON to this file ('-' for standard output).")
def evaluate(checkpoint: Path | None, hub: str | None, pretrained: bool, dataset: str | None,
             data_root: Path | None, samples: int, seed: int, json_path: Path | None) -> None:
    """Measure a generator's sample quality: classifier-feature Frechet distance and class coverage.

    Real training images scored the same way are printed beside it: the best a generator can hope for.
    """
    import json

    from gan_models.quality.metrics import MIN_SHARE, evaluate_generator

    # --dataset picks the shipped weights (with --pretrained) and the data compared with.
    source = _generator_source(checkpoint, hub, pretrained, dataset if pretrained else None)
    generator, dataset = source.generator, dataset or source.dataset or "mnist"
    label = f"checkpoint {checkpoint}" if checkpoint else f"{hub} ({'pretrained' if pretrained else 'untrained'})"
    report = evaluate_generator(generator, dataset, data_root, n_samples=samples, seed=seed)

    generated, real, classes = report.generated, report.real, len(report.generated.class_histogram)
    click.echo(f"{label} on {report.dataset}: {report.samples:,} images per set, seed {report.seed}, "
               f"reference = {report.dataset} test split; classifier {report.classifier}, layer {report.feature_layer}")
    rows = [("", "generated", "real (train split)"),
            ("Frechet distance to test split", f"{generated.frechet_distance:.3f}", f"{real.frechet_distance:.3f}"),
            (f"classes with >= {MIN_SHARE:.0%} of images", f"{generated.classes_covered} / {classes}",
             f"{real.classes_covered} / {classes}"),
            ("KL(class shares || uniform)", f"{generated.kl_from_uniform:.4f}", f"{real.kl_from_uniform:.4f}"),
            ("mean confidence (max softmax)", f"{generated.mean_confidence:.4f}", f"{real.mean_confidence:.4f}")]
    rows += [(f"  share predicted as class {k}", f"{g:.1%}", f"{r:.1%}")
             for k, (g, r) in enumerate(zip(generated.class_histogram, real.class_histogram, strict=True))]
    for name, left, right in rows:
        click.echo(f"{name:34s} {left:>12s} {right:>20s}")
    if json_path is not None:
        text = json.dumps(report.to_dict(), indent=2)
        if str(json_path) == "-":
            click.echo(text)
        else:
            with atomic_write(json_path) as tmp:
                tmp.write_text(text + "\n")
            click.echo(f"wrote {json_path}")


if __name__ == "__main__":  # `torchrun -m gan_models.cli train ...` runs the CLI in each process
    main()

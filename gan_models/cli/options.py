"""What several commands share: the seed type, the generator-source options, and reporting a run or an export."""
from pathlib import Path

import click

from gan_models.atomic import check_writable
from gan_models.noise import MAX_SEED
from gan_models.specs import MODELS

SEED = click.IntRange(0, MAX_SEED)  # what torch.Generator.manual_seed accepts


def source_options(command):
    """The --checkpoint, --hub, --pretrained, --dataset and --conditional options of sample, export, validate and
    evaluate."""
    options = [
        click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
                     help="Training checkpoint; its EMA generator is used when it has one."),
        click.option("--hub", metavar="NAME", help=f"Hub generator entry point: {', '.join(MODELS)}."),
        click.option("--pretrained", is_flag=True, help="With --hub: the shipped weights (else fresh ones, seed 0)."),
        click.option("--dataset", help="With --hub --pretrained: which shipped weights."),
        click.option("--conditional", is_flag=True,
                     help="With --hub: the class-conditional generator (with --pretrained, its shipped weights)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def generator_source(checkpoint: Path | None, hub: str | None, pretrained: bool, dataset: str | None,
                     conditional: bool = False, use_ema: bool = True):
    """The generator named by exactly one of --checkpoint / --hub (a gan_models.sources.GeneratorSource)."""
    from gan_models.sources import from_checkpoint, from_hub

    if (checkpoint is None) == (hub is None):
        raise ValueError("give exactly one of --checkpoint CKPT or --hub NAME")
    if checkpoint is not None:
        if pretrained or dataset is not None or conditional:
            raise ValueError("--pretrained, --dataset and --conditional go with --hub, not --checkpoint "
                             "(a checkpoint knows its dataset and whether it is conditional)")
        return from_checkpoint(checkpoint, use_ema=use_ema)
    return from_hub(hub, pretrained=pretrained, dataset=dataset, conditional=conditional)


def check_onnx_path(path: Path) -> Path:
    """`path` if it names a .onnx file that can be written, else ValueError or the OSError writing it would raise."""
    if path.suffix.lower() != ".onnx":
        raise ValueError(f"--out {path} must end in .onnx (an ONNX model)")
    return check_writable(path)  # the user's path in the error, before the export's work


def export_source(source, path: Path, **options) -> None:
    """Export a GeneratorSource's generator to ONNX at `path` (export_onnx `options`), validate it, print the report."""
    from gan_models.export.validate import export_and_validate

    check_onnx_path(path)

    click.echo(export_and_validate(source.generator, path, **options, **source.export_kwargs()))
    click.echo(f"exported {source.model} to {path}: validation passed")


def export_checkpoint(checkpoint: Path, path: Path) -> None:
    """Export a checkpoint's generator to ONNX, validate it, and print the report."""
    from gan_models.sources import from_checkpoint

    export_source(from_checkpoint(checkpoint), path)


def echo_result(result) -> None:
    """One line on how a training run (a TrainResult) ended: its last logged losses, then its warnings."""
    parts = [f"done: {result.step} steps"]
    if result.last:
        parts.append(" ".join(f"{key} {result.last[field]:.3f}" for key, field in
                              (("errD", "errD"), ("errG", "errG"), ("D(x)", "D_x"), ("D(G(z))", "D_G_z"))))
    if result.diversity is not None:
        parts.append(f"diversity {result.diversity:.2f}")
    click.echo("; ".join(parts + [f"checkpoint {result.checkpoint}"]))
    for warning in result.warnings:
        click.echo(f"warning: {warning}")

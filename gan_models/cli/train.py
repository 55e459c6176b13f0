"""`gan-models train`: one option per TrainConfig field, its help the field's `metadata["help"]`."""
import dataclasses
import os
import typing
from pathlib import Path

import click

from gan_models.atomic import check_writable
from gan_models.choices import TRAIN_PRECISIONS, UPSAMPLES
from gan_models.cli.options import echo_result, export_checkpoint
from gan_models.data import DATASETS, SPLITS
from gan_models.emoji import EMOJI_DESIGNS
from gan_models.losses import LOSSES
from gan_models.noise import NOISE_KINDS
from gan_models.specs import MODELS, ModelSpec
from gan_models.training.config import TrainConfig

CHOICES = {"model": list(MODELS), "dataset": list(DATASETS), "loss": list(LOSSES), "noise": list(NOISE_KINDS),
           "split": list(SPLITS), "compute_dtype": list(TRAIN_PRECISIONS), "emoji_design": list(EMOJI_DESIGNS),
           "upsample": list(UPSAMPLES)}
SHORT_FLAGS = {"ada_target": "--ada", "r1_gamma": "--r1"}  # the names the papers' options go by, beside the field's


def _model_defaults(field: str) -> str:
    """The models' defaults for a ModelSpec field, most common first: "0.001 (0.0002 for dcgan64)"."""
    values = {name: getattr(spec, field) for name, spec in MODELS.items()}
    common = max(values.values(), key=list(values.values()).count)
    others = ", ".join(f"{value:g} for {name}" if isinstance(value, float) else f"{value} for {name}"
                       for name, value in values.items() if value != common)
    return (f"{common:g}" if isinstance(common, float) else f"{common}") + (f" ({others})" if others else "")


def _option_help() -> dict[str, str]:
    """Each TrainConfig field's `metadata["help"]`: the --help text of its option.

    Fields whose default is the model's (ModelSpec has a field of that name) also list the models' values.
    """
    helps = {field.name: field.metadata["help"] for field in dataclasses.fields(TrainConfig)}
    for field in {f.name for f in dataclasses.fields(ModelSpec)} & set(helps):
        helps[field] += f", {_model_defaults(field)}"
    return helps


def _train_options(command):
    """Add one option per TrainConfig field (--batch-size for batch_size; --ada and --r1 name two of them too, see
    SHORT_FLAGS), typed and documented from the dataclass."""
    helps = _option_help()
    hints = typing.get_type_hints(TrainConfig)
    for field in reversed(dataclasses.fields(TrainConfig)):
        flag = "--" + field.name.replace("_", "-")
        flags = [SHORT_FLAGS[field.name], flag] if field.name in SHORT_FLAGS else [flag]
        base = next(t for t in typing.get_args(hints[field.name]) or (hints[field.name],) if t is not type(None))
        if base is bool:
            option = click.option(f"{flag}/--no-{flag[2:]}", field.name, default=field.default, show_default=True,
                                  help=helps[field.name])
        else:
            kind = click.Choice(CHOICES[field.name]) if field.name in CHOICES else base
            alone = field.metadata["given_alone"]
            optional_value = {} if alone is None else {"is_flag": False, "flag_value": alone}
            option = click.option(*flags, field.name, type=kind, default=field.default,
                                  show_default=field.default is not None, help=helps[field.name], **optional_value)
        command = option(command)
    return command


@click.command("train")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Run folder for checkpoints, grids and logs [default: runs/<model>-<dataset>].")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its checkpoint (same config required).")
@click.option("--export", "export_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="After training, export the generator (EMA if enabled) to this ONNX file and validate it.")
@_train_options
@click.pass_context
def train_command(ctx: click.Context, out: Path | None, resume: bool, export_path: Path | None, **fields) -> None:
    """Train a GAN; write checkpoints, fixed-noise grids, a CSV log and a loss curve to the run folder.

    With --resume, the run's saved config is the starting point and only the options given on
    this command line change it (e.g. a larger --epochs); changes that alter training are refused.

    Example: gan-models train --model dcgan --dataset mnist --data-root ../shared/data --epochs 20 --export dcgan.onnx
    """
    from gan_models.training.rundir import resume_config
    from gan_models.training.trainer import TrainingInterrupted
    from gan_models.training.trainer import train as run_training

    if export_path is not None:
        if export_path.suffix.lower() != ".onnx":
            raise click.UsageError(f"--export writes an ONNX file; give a name ending in .onnx, such as "
                                   f"{export_path.with_suffix('.onnx')}")
        import gan_models.export  # noqa: F401  fail now, not after hours of training, if onnx/onnxruntime are missing
        check_writable(export_path)  # and if the file cannot be written
    given = {name: value for name, value in fields.items()
             if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT}
    config = TrainConfig(**fields)
    out = out or Path("runs") / f"{config.model}-{config.dataset}"
    if resume:
        config = resume_config(out, given) or config
    try:
        result = run_training(config, out, resume=resume)
    except TrainingInterrupted as stop:
        click.echo(str(stop), err=True)
        raise SystemExit(130) from None
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 alone reports and exports
        return
    echo_result(result)
    if export_path is not None:
        export_checkpoint(result.checkpoint, export_path)

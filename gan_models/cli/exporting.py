"""`gan-models export` and `gan-models validate`: generators to ONNX files, checked against PyTorch.

onnx and onnxruntime are imported inside the commands, so the rest of the CLI works without the export extra.
"""
from pathlib import Path

import click

from gan_models.cli.options import export_source, generator_source, source_options


@click.command("export")
@source_options
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
    export_source(generator_source(checkpoint, hub, pretrained, dataset), out, opset=opset, fp16=fp16)


@click.command("validate")
@click.argument("model_onnx", metavar="MODEL.onnx", type=click.Path(dir_okay=False, path_type=Path))
@source_options
def validate_command(model_onnx: Path, checkpoint: Path | None, hub: str | None, pretrained: bool,
                     dataset: str | None) -> None:
    """Validate an existing ONNX file against the generator it came from (non-zero exit on mismatch)."""
    from export.validate import load_onnx, validate_onnx

    load_onnx(model_onnx)  # a bad file is reported before the generator is loaded
    source = generator_source(checkpoint, hub, pretrained, dataset)
    click.echo(validate_onnx(model_onnx, source.generator))
    click.echo(f"{model_onnx}: validation passed")

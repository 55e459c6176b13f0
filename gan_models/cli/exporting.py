"""`gan-models export` and `gan-models validate`: generators to ONNX files, checked against PyTorch.

onnx and onnxruntime are imported inside the commands, so the rest of the CLI works without the export extra.
"""
from pathlib import Path

import click

from gan_models.choices import (
    DEFAULT_EXPORTER,
    DEFAULT_INT8_METHOD,
    DEFAULT_OPSET,
    EXPORTERS,
    INT8_METHODS,
    ONNX_PRECISIONS,
    check_opset,
    opset_help,
)
from gan_models.cli.options import check_onnx_path, export_source, generator_source, source_options


@click.command("export")
@source_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The .onnx file to write.")
@click.option("--exporter", type=click.Choice(EXPORTERS), default=DEFAULT_EXPORTER, show_default=True,
              help="torch's torch.export-based exporter, or its older TorchScript one (deprecated by torch).")
@click.option("--opset", type=int, default=None, help=opset_help())
@click.option("--precision", type=click.Choice(ONNX_PRECISIONS), default=ONNX_PRECISIONS[0], show_default=True,
              help="float16: half-precision weights (half the file), computed in float16 where the provider has "
                   "kernels for it (onnxruntime's CPU provider computes in float32). int8: quantized with "
                   "onnxruntime (about 4x smaller), validated against PyTorch and, where a quality classifier ships "
                   "for the weights' dataset, held to the float32 file's Frechet distance (+-2%, needs the dataset "
                   "under $GAN_MODELS_DATA). z and images are float32 in every file.")
@click.option("--int8-method", type=click.Choice(INT8_METHODS), default=None,
              help="With --precision int8: onnxruntime's dynamic or static (QDQ, calibrated) quantization, or auto "
                   f"(dynamic when the graph has MatMul or Gemm weights). [default: {DEFAULT_INT8_METHOD}]")
@click.option("--web", "web_folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write a static web page running the generator with onnxruntime-web into this folder; "
                   "serve it with `python -m http.server -d DIR`.")
def export_command(checkpoint: Path | None, hub: str | None, pretrained: bool, dataset: str | None,
                   conditional: bool, out: Path, exporter: str, opset: int | None, precision: str,
                   int8_method: str | None, web_folder: Path | None) -> None:
    """Export a generator to ONNX, then validate it against PyTorch (non-zero exit on mismatch)."""
    from gan_models.export.web import check_web_folder, find_onnxruntime_web, write_web_page

    # Everything the options can get wrong is said before the generator is loaded and exported.
    opset = check_opset(DEFAULT_OPSET if opset is None else opset, exporter)
    if int8_method is not None and precision != "int8":
        raise ValueError(f"--int8-method goes with --precision int8, not {precision}")
    check_onnx_path(out)
    runtime = find_onnxruntime_web() if web_folder else None
    if web_folder:
        check_web_folder(web_folder, out)
    source = generator_source(checkpoint, hub, pretrained, dataset, conditional)
    if precision == "int8":
        from gan_models.export.int8 import export_int8_and_validate

        options = {"exporter": exporter, "opset": opset, **source.export_kwargs()}
        _, int8_report, quality = export_int8_and_validate(source.generator, out,
                                                           method=int8_method or DEFAULT_INT8_METHOD, **options)
        click.echo(int8_report)
        click.echo(quality or f"no sample-quality classifier for dataset {source.dataset or 'unknown'}: FD not checked")
        click.echo(f"exported {source.model} to {out} as int8: validation passed")
    else:
        export_source(source, out, exporter=exporter, opset=opset, precision=precision)
    if web_folder:
        page = write_web_page(out, web_folder, runtime=runtime)
        click.echo(f"wrote {page}: serve it with `python -m http.server -d {web_folder}` and open http://localhost:8000")


@click.command("validate")
@click.argument("model_onnx", metavar="MODEL.onnx", type=click.Path(dir_okay=False, path_type=Path))
@source_options
def validate_command(model_onnx: Path, checkpoint: Path | None, hub: str | None, pretrained: bool,
                     dataset: str | None, conditional: bool) -> None:
    """Validate an existing ONNX file against the generator it came from (non-zero exit on mismatch)."""
    from gan_models.export.checks import load_onnx
    from gan_models.export.validate import validate_onnx

    load_onnx(model_onnx)  # a bad file is reported before the generator is loaded
    source = generator_source(checkpoint, hub, pretrained, dataset, conditional)
    click.echo(validate_onnx(model_onnx, source.generator))
    click.echo(f"{model_onnx}: validation passed")

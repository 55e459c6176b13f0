"""int8 ONNX: an exported float32 generator quantized with onnxruntime's quantization tools.

Two methods, both from `onnxruntime.quantization`, after its `quant_pre_process` (shape inference
and graph clean-up):
- "dynamic": weights of MatMul/Gemm stored as int8, activations quantized per batch at run time
  (DynamicQuantizeLinear + MatMulInteger). Convolutions stay float32.
- "static": QDQ format, per-channel int8 weights and int8 activations with ranges calibrated
  (MinMax) on CALIBRATION_LATENTS latents drawn from the generator's own noise (and uniform labels
  for a conditional generator); ConvTranspose layers are quantized too.

Dynamic int8 stores weights as uint8 (activations are uint8 too: U8U8). onnxruntime's default,
int8 weights (U8S8), multiplies with `vpmaddubsw` on CPUs without VNNI (AVX2, most laptops and AMD
servers), which adds pairs of u8 x s8 products into int16 and saturates: the conditional test
generator's mean |int8 - PyTorch| was 0.063 at batch 1 on an AMD EPYC (AVX2) against 0.0011 in
exact integer arithmetic, which is what AVX-512 VNNI computes. U8U8 products are widened to int16
before they are added (and `vpdpbusd` is u8 x s8 only), so they cannot saturate on any ISA: on the
AVX2 machine they equal exact integer arithmetic (onnx.reference) to 1e-4. On the eight shipped
Linear-heavy generators (AVX2, worst mean |diff| over batches 1, 7 and 64) U8U8 gave 0.0032 to
0.0117, U8S8 0.0031 to 0.0152 and U8S8 with reduce_range's 7-bit weights 0.0033 to 0.0280: level
with U8S8 on MNIST (within 0.0002), better on Fashion-MNIST (docs/benchmarks.md, "int8 ONNX"). Static QDQ keeps int8
weights and activations with reduce_range's 7-bit weights: without it the shipped DCGAN-28
Fashion-MNIST file reached max |diff| 1.70 (> 1) at batch 64 on the AVX2 machine, 0.50 with it
(mean 0.035 and 0.034).

The default, "auto", takes whichever measured better for the graph. On the six shipped
generators (FC-GAN, LSGAN, DCGAN-28; README, "int8 ONNX") dynamic is the more accurate (mean
|int8 - PyTorch| 3 to 5 times smaller than static QDQ) at the same file size and about the same
speed: their weights sit mostly in Linear layers, and the files shrink about 4x. DCGAN-64 has no
Linear layer, so dynamic quantization would leave it float32; static QDQ quantizes its
ConvTranspose layers (4x smaller, mean |diff| ~1e-4 on fresh weights). So "auto" is dynamic when
the graph has MatMul or Gemm weights and static otherwise; the file records the method used.

The quantized file keeps the float32 interface (z, labels, images) and the metadata_props, with
precision "int8" and `int8_method`; validate_onnx compares it with PyTorch under its own
tolerances (export/validate.py).
"""
import os
import tempfile
from pathlib import Path

import onnx
import torch
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static
from onnxruntime.quantization.shape_inference import quant_pre_process

from gan_models.atomic import atomic_write
from gan_models.choices import DEFAULT_INT8_METHOD, INT8_METHODS
from gan_models.export.checks import load_onnx
from gan_models.export.errors import OnnxValueError
from gan_models.export.interface import INPUT_NAME, LABELS_NAME
from gan_models.export.onnx import PRECISION_KEY, read_metadata
from gan_models.export.quality import WHAT_TO_TRY, QualityCheck, check_int8_quality
from gan_models.export.report import ValidationReport
from gan_models.export.validate import export_and_validate, validate_onnx
from gan_models.noise import sample_noise
from gan_models.quality.classifier import CLASSIFIERS, INPUT_SHAPES
from gan_models.quality.metrics import DEFAULT_SAMPLES

DYNAMIC_OPS = ("MatMul", "Gemm")  # what dynamic quantization makes int8
DYNAMIC_WEIGHT_TYPE = QuantType.QUInt8  # U8U8: exact integer products on every x86 ISA (module docstring)
CALIBRATION_LATENTS = 512  # in batches of CALIBRATION_BATCH; ranges settle well before that on every generator
CALIBRATION_BATCH = 64


class _LatentReader(CalibrationDataReader):
    """Calibration feeds: latents of the model's noise kind (and uniform labels when it takes them)."""

    def __init__(self, meta: dict[str, str], seed: int) -> None:
        rng = torch.Generator().manual_seed(seed)
        z = sample_noise(CALIBRATION_LATENTS, int(meta["nz"]), meta["noise"], generator=rng)
        feeds = [{INPUT_NAME: z[i:i + CALIBRATION_BATCH].numpy()} for i in range(0, len(z), CALIBRATION_BATCH)]
        if int(meta["num_classes"]):
            for feed in feeds:
                feed[LABELS_NAME] = torch.randint(int(meta["num_classes"]), (len(feed[INPUT_NAME]),),
                                                  generator=rng).numpy()
        self._feeds = iter(feeds)

    def get_next(self) -> dict | None:
        return next(self._feeds, None)


def quantize_onnx(fp32_file: str | os.PathLike, out: str | os.PathLike, *, method: str = DEFAULT_INT8_METHOD,
                  seed: int = 0) -> Path:
    """Write an int8 version of the float32 ONNX generator `fp32_file` (from export_onnx) to `out`.

    Args:
        fp32_file: a float32 file written by export_onnx; its metadata gives nz, noise and classes.
        out: the int8 .onnx file to write (atomically; its folder is created).
        method: "auto" (default), "dynamic" or "static" (see the module docstring).
        seed: seed of the calibration latents ("static" only).

    Returns:
        The path written.

    Raises:
        ValueError: unknown method, or `fp32_file` is not a float32 gan-models file.
        OnnxFileError: `fp32_file` is missing or not a valid ONNX model.
    """
    if method not in INT8_METHODS:
        raise ValueError(f"unknown int8 method {method!r}; choose one of {list(INT8_METHODS)}")
    meta = read_metadata(load_onnx(fp32_file))
    if meta.get(PRECISION_KEY, "float32") != "float32" or "nz" not in meta:
        raise ValueError(f"{fp32_file} is not a float32 gan-models ONNX file (precision "
                         f"{meta.get(PRECISION_KEY)!r}); quantize the float32 export")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, atomic_write(out) as tmp:
        prepared, quantized = Path(scratch) / "prepared.onnx", Path(scratch) / "int8.onnx"
        quant_pre_process(os.fspath(fp32_file), os.fspath(prepared))
        if method == "auto":
            ops = {node.op_type for node in onnx.load(os.fspath(prepared)).graph.node}
            method = "dynamic" if ops & set(DYNAMIC_OPS) else "static"
        if method == "dynamic":
            quantize_dynamic(prepared, quantized, weight_type=DYNAMIC_WEIGHT_TYPE)
        else:
            quantize_static(prepared, quantized, _LatentReader(meta, seed), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8, per_channel=True,
                            reduce_range=True)  # 7-bit weights: no int16 saturation without VNNI
        proto = onnx.load(os.fspath(quantized))
        onnx.helper.set_model_props(proto, {**meta, PRECISION_KEY: "int8", "int8_method": method})
        onnx.checker.check_model(proto, full_check=True)
        onnx.save(proto, os.fspath(tmp))
    return out


def export_int8_and_validate(generator, out: str | os.PathLike, *, method: str = DEFAULT_INT8_METHOD,
                             data_root: str | os.PathLike | None = None, quality_samples: int = DEFAULT_SAMPLES,
                             **export_kwargs) -> tuple[ValidationReport, ValidationReport, QualityCheck | None]:
    """Export float32, validate it, quantize to int8 at `out`, validate that, and check its sample quality.

    The float32 file is an intermediate (deleted at the end); `out` only ever holds an int8 file
    that passed validation and, when a classifier ships for the weights' dataset (`dataset` in
    `export_kwargs`), check_int8_quality on `quality_samples` images: its "data" gate when the
    dataset is under data_root, else its "self" gate, which needs no dataset (the check names it).

    Returns:
        The float32 and int8 validation reports, and the QualityCheck (None without a classifier).

    Raises:
        everything export_and_validate and validate_onnx raise, and OnnxQualityError; an int8 file beyond its
        tolerances (OnnxValueError) or its quality gate (OnnxQualityError) is refused saying what to try.
    """
    dataset = export_kwargs.get("dataset")
    out = Path(out)
    with tempfile.TemporaryDirectory() as scratch:
        fp32_file = Path(scratch) / "fp32.onnx"
        fp32_report = export_and_validate(generator, fp32_file, **export_kwargs)
        quantize_onnx(fp32_file, out, method=method)
        try:
            try:
                int8_report = validate_onnx(out, generator)
            except OnnxValueError as err:  # beyond int8's image tolerances: say what else can make a small file
                err.args = (f"{err}; {WHAT_TO_TRY}",)
                raise
            quality = None
            if dataset in CLASSIFIERS and tuple(generator.image_shape) == INPUT_SHAPES[dataset]:
                quality = check_int8_quality(fp32_file, out, dataset, data_root, n_samples=quality_samples)
        except BaseException:  # not proven: leave no int8 file behind
            out.unlink(missing_ok=True)
            raise
    return fp32_report, int8_report, quality

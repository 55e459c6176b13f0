"""The names a user chooses between, each list written once: precisions, upsampling, ONNX exporters and opsets.

Torch-free, so the command line, export/ and benchmarks/ import it without loading torch or onnx.
"""

PRECISIONS = ("float32", "bfloat16", "float16", "int8")  # every precision name the project uses, anywhere
TRAIN_PRECISIONS = ("float32", "bfloat16")  # what a training step computes in (bfloat16 autocast on CPU and CUDA)
WEIGHT_PRECISIONS = ("float32", "float16", "int8")  # how a shipped weight file stores its tensors
ONNX_PRECISIONS = ("float32", "float16", "int8")  # how an ONNX file stores and computes
INT8_METHODS = ("auto", "dynamic", "static")  # onnxruntime quantization: dynamic MatMul/Gemm, static QDQ, or measured
DEFAULT_INT8_METHOD = "auto"

UPSAMPLES = ("transpose", "resize")  # Radford et al.'s DCGAN G doubles by ConvTranspose2d, or nearest then Conv2d
DEFAULT_UPSAMPLE = "transpose"

EXPORTERS = ("dynamo", "torchscript")  # torch.onnx.export(dynamo=True), or the deprecated TorchScript tracer
DEFAULT_EXPORTER = "dynamo"
SUPPORTED_OPSETS = {"dynamo": range(18, 21), "torchscript": range(17, 21)}
DEFAULT_OPSET = 18  # the lowest opset the dynamo exporter implements; onnxruntime-web runs it too

assert {*TRAIN_PRECISIONS, *WEIGHT_PRECISIONS, *ONNX_PRECISIONS} <= set(PRECISIONS)


def check_exporter(exporter: str) -> str:
    """Return `exporter` if it names one of EXPORTERS, else raise ValueError."""
    if exporter not in EXPORTERS:
        raise ValueError(f"unknown exporter {exporter!r}; choose one of {list(EXPORTERS)} (default {DEFAULT_EXPORTER})")
    return exporter


def check_upsample(upsample: str) -> str:
    """Return `upsample` if it names one of UPSAMPLES, else raise ValueError."""
    if upsample not in UPSAMPLES:
        raise ValueError(f"unknown upsample {upsample!r}; choose one of {list(UPSAMPLES)} (default {DEFAULT_UPSAMPLE})")
    return upsample


def check_opset(opset: int, exporter: str = DEFAULT_EXPORTER) -> int:
    """Return `opset` if `exporter` writes it, else raise ValueError naming the range."""
    supported = SUPPORTED_OPSETS[check_exporter(exporter)]
    if isinstance(opset, bool) or not isinstance(opset, int) or opset not in supported:
        hint = "; the torchscript exporter writes 17" if exporter == "dynamo" and opset == 17 else ""
        raise ValueError(f"opset {opset!r} is not supported by the {exporter} exporter; choose {supported.start} to "
                         f"{supported.stop - 1} (default {DEFAULT_OPSET}){hint}")
    return opset


def opset_help() -> str:
    """The --opset help text, from SUPPORTED_OPSETS."""
    ranges = ", ".join(f"{name}: {r.start} to {r.stop - 1}" for name, r in SUPPORTED_OPSETS.items())
    return f"ONNX opset ({ranges}) [default: {DEFAULT_OPSET}]."

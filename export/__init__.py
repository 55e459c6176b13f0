"""Generators to ONNX, proven right: export_onnx writes the file, validate_onnx compares it with PyTorch.

    from gan_models.export import export_onnx, validate_onnx
    export_onnx(G, "dcgan.onnx", model="dcgan")       # z (batch, nz) -> images (batch, C, H, W)
    report = validate_onnx("dcgan.onnx", G)            # raises OnnxValidationError on a mismatch
    print(report)

`exporter="torchscript"` picks torch's older, deprecated exporter instead of the torch.export-based
default. Importing this package imports onnx and onnxruntime; gan_models itself never does at import time.
"""
from gan_models.choices import DEFAULT_EXPORTER, DEFAULT_OPSET, EXPORTERS, SUPPORTED_OPSETS
from gan_models.export.checks import load_onnx
from gan_models.export.errors import OnnxFileError, OnnxNameError, OnnxShapeError, OnnxValidationError, OnnxValueError
from gan_models.export.interface import INPUT_NAME, LABELS_NAME, OUTPUT_NAME
from gan_models.export.onnx import export_onnx, read_metadata
from gan_models.export.report import BatchResult, ProviderReport, ValidationReport
from gan_models.export.session import OnnxRuntimeError, make_session
from gan_models.export.validate import DEFAULT_BATCH_SIZES, TOLERANCES, export_and_validate, validate_onnx
from gan_models.sources import GeneratorSource, from_checkpoint, from_hub

__all__ = ["DEFAULT_BATCH_SIZES", "DEFAULT_EXPORTER", "DEFAULT_OPSET", "EXPORTERS", "INPUT_NAME", "LABELS_NAME",
           "OUTPUT_NAME", "SUPPORTED_OPSETS", "TOLERANCES", "BatchResult", "GeneratorSource", "OnnxFileError",
           "OnnxNameError", "OnnxRuntimeError", "OnnxShapeError", "OnnxValidationError", "OnnxValueError",
           "ProviderReport", "ValidationReport", "export_and_validate", "export_onnx", "from_checkpoint", "from_hub",
           "load_onnx", "make_session", "read_metadata", "validate_onnx"]

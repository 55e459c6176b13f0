"""Generators to ONNX, proven right: export_onnx writes the file, validate_onnx compares it with PyTorch.

    from export import export_onnx, validate_onnx
    export_onnx(G, "dcgan.onnx", model="dcgan")       # z (batch, nz) -> images (batch, C, H, W)
    report = validate_onnx("dcgan.onnx", G)            # raises OnnxValidationError on a mismatch
    print(report)

`exporter="torchscript"` picks torch's older, deprecated exporter instead of the torch.export-based
default. Importing this package imports onnx and onnxruntime; gan_models itself never does at import time.
"""
from export.checks import load_onnx
from export.errors import OnnxFileError, OnnxNameError, OnnxShapeError, OnnxValidationError, OnnxValueError
from export.exporters import DEFAULT_EXPORTER, DEFAULT_OPSET, EXPORTERS, SUPPORTED_OPSETS
from export.interface import INPUT_NAME, LABELS_NAME, OUTPUT_NAME
from export.onnx import export_onnx, read_metadata
from export.report import BatchResult, ProviderReport, ValidationReport
from export.session import OnnxRuntimeError, make_session
from export.validate import DEFAULT_BATCH_SIZES, TOLERANCES, export_and_validate, validate_onnx
from gan_models.sources import GeneratorSource, from_checkpoint, from_hub

__all__ = ["DEFAULT_BATCH_SIZES", "DEFAULT_EXPORTER", "DEFAULT_OPSET", "EXPORTERS", "INPUT_NAME", "LABELS_NAME",
           "OUTPUT_NAME", "SUPPORTED_OPSETS", "TOLERANCES", "BatchResult", "GeneratorSource", "OnnxFileError",
           "OnnxNameError", "OnnxRuntimeError", "OnnxShapeError", "OnnxValidationError", "OnnxValueError",
           "ProviderReport", "ValidationReport", "export_and_validate", "export_onnx", "from_checkpoint", "from_hub",
           "load_onnx", "make_session", "read_metadata", "validate_onnx"]

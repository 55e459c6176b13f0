"""The typed failures of ONNX validation, one class per check (see export/validate.py for the order)."""


class OnnxValidationError(ValueError):
    """An ONNX file does not faithfully reproduce its PyTorch generator."""


class OnnxFileError(OnnxValidationError):
    """The file is missing, unreadable, or not a well-formed ONNX model."""


class OnnxNameError(OnnxValidationError):
    """The model's input or output names are not the ones consumers rely on."""


class OnnxShapeError(OnnxValidationError):
    """A declared or produced shape differs from the generator's, or the graph does not run at a batch size.

    Attributes: expected and actual shapes (actual is () when it did not run); batch_size (None for a
    declared-shape mismatch).
    """

    def __init__(self, message: str, expected: tuple, actual: tuple, batch_size: int | None = None) -> None:
        super().__init__(message)
        self.expected, self.actual, self.batch_size = expected, actual, batch_size


class OnnxValueError(OnnxValidationError):
    """onnxruntime's images differ from PyTorch's by more than the tolerance.

    Attributes: max_abs_diff, atol, provider, batch_size and index (the (n, c, h, w) element of
    the largest difference), onnx_value and torch_value there.
    """

    def __init__(self, message: str, *, max_abs_diff: float, atol: float, provider: str, batch_size: int,
                 index: tuple[int, ...], onnx_value: float, torch_value: float) -> None:
        super().__init__(message)
        self.max_abs_diff, self.atol, self.provider = max_abs_diff, atol, provider
        self.batch_size, self.index, self.onnx_value, self.torch_value = batch_size, index, onnx_value, torch_value

"""Static checks of an ONNX file against its generator: well-formed, named and declared as promised.

These run before anything is executed, so a wrong file fails with the specific reason
(OnnxFileError, OnnxNameError, OnnxShapeError) rather than as a numeric mismatch.
"""
import os
from pathlib import Path

import onnx

from gan_models.choices import ONNX_PRECISIONS
from gan_models.errors import first_line
from gan_models.export.errors import OnnxFileError, OnnxNameError, OnnxShapeError
from gan_models.export.interface import LABELS_NAME, OUTPUT_NAME, input_names
from gan_models.export.onnx import PRECISION_KEY, read_metadata


def load_onnx(path: str | os.PathLike) -> onnx.ModelProto:
    """Read and fully check an ONNX file; raises OnnxFileError with one clear line otherwise."""
    path = Path(path)
    if not path.is_file():
        raise OnnxFileError(f"ONNX file not found: {path}")
    try:
        proto = onnx.load(os.fspath(path))
        onnx.checker.check_model(proto, full_check=True)
    except Exception as err:  # protobuf DecodeError, onnx ValidationError, shape inference errors
        raise OnnxFileError(f"{path} is not a valid ONNX model ({first_line(err)})") from None
    return proto


def read_onnx_precision(proto: onnx.ModelProto, path) -> str:
    """The declared precision, one of ONNX_PRECISIONS ("float32" when the metadata has none); else OnnxFileError."""
    value = read_metadata(proto).get(PRECISION_KEY, "float32")
    if value not in ONNX_PRECISIONS:  # it picks the tolerance: an unknown value must not fall through
        raise OnnxFileError(f"{path} declares precision {value!r}; expected one of {list(ONNX_PRECISIONS)} "
                            "(metadata_props)")
    return value


def opset_of(proto: onnx.ModelProto) -> int:
    """The default-domain opset the model imports (0 if none)."""
    return next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)


def graph_inputs(proto: onnx.ModelProto) -> list:
    """The graph's real inputs (initializers that some exporters also list as inputs are left out)."""
    initializers = {init.name for init in proto.graph.initializer}
    return [i for i in proto.graph.input if i.name not in initializers]


def check_names(proto: onnx.ModelProto, path, generator) -> None:
    """Inputs must be ["z"] (["z", "labels"] for a conditional generator) and outputs ["images"]."""
    inputs = [i.name for i in graph_inputs(proto)]
    outputs = [o.name for o in proto.graph.output]
    expected = input_names(generator)
    if inputs != expected or outputs != [OUTPUT_NAME]:
        kind = "a conditional" if generator.num_classes else "an unconditional"
        raise OnnxNameError(f"{path} has inputs {inputs} and outputs {outputs}; {kind} generator's file has "
                            f"{expected} and [{OUTPUT_NAME!r}]")


def _dims(value_info) -> tuple:
    """Declared dims: ints for fixed axes, names (e.g. "batch") for dynamic ones."""
    return tuple(d.dim_value if d.HasField("dim_value") else d.dim_param for d in value_info.type.tensor_type.shape.dim)


def _check_type(value_info, path, elem_type: int) -> None:
    actual = value_info.type.tensor_type.elem_type
    if actual != elem_type:
        dims = _dims(value_info)
        actual_name = onnx.helper.tensor_dtype_to_np_dtype(actual) if actual else "untyped"
        raise OnnxShapeError(f"{path} declares {value_info.name} as {actual_name}; gan-models files use "
                             f"{onnx.helper.tensor_dtype_to_np_dtype(elem_type)}", expected=dims, actual=dims)


def check_declared_shapes(proto: onnx.ModelProto, path, generator) -> int | None:
    """Compare the declared input and image shapes and types with the generator; return the batch if fixed.

    z and images are float32 in every file (float16 and int8 files too: only their weights and
    compute differ); labels are int64 (batch,).
    """
    inputs = graph_inputs(proto)
    z_info, image_info = inputs[0], proto.graph.output[0]
    for value_info in (z_info, image_info):
        _check_type(value_info, path, onnx.TensorProto.FLOAT)
    z_dims, image_dims = _dims(z_info), _dims(image_info)
    if len(z_dims) != 2 or z_dims[1] != generator.nz:
        raise OnnxShapeError(f"{path} takes z of shape {z_dims} but the generator takes (batch, {generator.nz}): "
                             "latent size nz differs; is this the right model?",
                             expected=("batch", generator.nz), actual=z_dims)
    if tuple(image_dims[1:]) != generator.image_shape:
        raise OnnxShapeError(f"{path} declares images of shape {image_dims} but the generator makes "
                             f"(batch, {', '.join(map(str, generator.image_shape))})",
                             expected=("batch", *generator.image_shape), actual=image_dims)
    if generator.num_classes:
        labels_info = inputs[1]
        _check_type(labels_info, path, onnx.TensorProto.INT64)
        if len(_dims(labels_info)) != 1:
            raise OnnxShapeError(f"{path} takes {LABELS_NAME} of shape {_dims(labels_info)}; expected (batch,)",
                                 expected=("batch",), actual=_dims(labels_info))
    return z_dims[0] if isinstance(z_dims[0], int) and z_dims[0] > 0 else None

"""export/interface.py and exporters.py: both input layouts (z; z and labels) on the stand-in of
tests/export/conditional_standin.py, and the warnings each exporter lets a user see."""
import json
import warnings

import numpy as np
import onnx
import pytest
import torch

from gan_models.export import (
    LABELS_NAME,
    OnnxNameError,
    OnnxShapeError,
    OnnxValueError,
    export_and_validate,
    export_onnx,
    make_session,
    read_metadata,
    validate_onnx,
)
from gan_models.registry import MODELS, build_generator
from tests.export.conditional_standin import trained_standin
from tests.helpers import TINY_WIDTHS


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
def test_conditional_generator_exports_with_two_inputs_and_validates(tmp_path, exporter):
    generator = trained_standin()
    report = export_and_validate(generator, tmp_path / "c.onnx", exporter=exporter, model="standin")
    cpu = report.provider("cpu")
    assert [b.batch_size for b in cpu.batches] == [1, 7, 64] and all(b.max_abs_diff <= 1e-5 for b in cpu.batches)
    proto = onnx.load(tmp_path / "c.onnx")
    declared = {i.name: (i.type.tensor_type.elem_type, [d.dim_param or d.dim_value for d in
                                                        i.type.tensor_type.shape.dim]) for i in proto.graph.input}
    assert declared == {"z": (onnx.TensorProto.FLOAT, ["batch", 16]), "labels": (onnx.TensorProto.INT64, ["batch"])}
    meta = read_metadata(proto)
    assert meta["num_classes"] == "3" and json.loads(meta["classes"]) == ["class, 0", "class, 1", "class, 2"]


def test_labels_choose_the_image_in_onnx_as_in_pytorch(tmp_path):
    generator = trained_standin()
    session = make_session(export_onnx(generator, tmp_path / "c.onnx"))
    z = torch.randn(1, 16).repeat(3, 1)  # one latent, three classes
    labels = torch.arange(3)
    images = session.run(None, {"z": z.numpy(), LABELS_NAME: labels.numpy()})[0]
    with torch.no_grad():
        np.testing.assert_allclose(images, generator(z, labels).numpy(), atol=1e-5, rtol=0)
    assert np.abs(images[0] - images[1]).max() > 0.01 and np.abs(images[1] - images[2]).max() > 0.01


def test_a_file_whose_labels_do_nothing_fails_on_values(tmp_path):
    generator = trained_standin()
    path = export_onnx(generator, tmp_path / "c.onnx")
    other = trained_standin()
    with torch.no_grad():
        other.embed.weight.copy_(other.embed.weight[0].expand_as(other.embed.weight))  # every class embeds alike
    with pytest.raises(OnnxValueError, match="max \\|onnx - torch\\|"):
        validate_onnx(path, other)


def test_input_layouts_must_match_the_generator(tmp_path):
    conditional, plain = trained_standin(), build_generator("fcgan", nz=16, ngf=8)
    with pytest.raises(OnnxNameError, match=r"inputs \['z'\].*a conditional generator's file has \['z', 'labels'\]"):
        validate_onnx(export_onnx(plain, tmp_path / "plain.onnx"), conditional)
    with pytest.raises(OnnxNameError, match=r"inputs \['z', 'labels'\].*an unconditional generator's file has \['z'\]"):
        validate_onnx(export_onnx(conditional, tmp_path / "cond.onnx"), plain)


def test_labels_declared_as_int32_are_a_shape_error(tmp_path):
    generator = trained_standin()
    proto = onnx.load(export_onnx(generator, tmp_path / "c.onnx"))
    proto.graph.input[1].type.tensor_type.elem_type = onnx.TensorProto.INT32  # Gather takes it; our feeds do not
    onnx.save(proto, tmp_path / "int32-labels.onnx")
    with pytest.raises(OnnxShapeError, match="declares labels as int32; gan-models files use int64"):
        validate_onnx(tmp_path / "int32-labels.onnx", generator)


@pytest.mark.parametrize("name", [*MODELS, "conditional"])
def test_the_default_exporter_raises_no_warning(tmp_path, name):
    generator = trained_standin() if name == "conditional" else build_generator(name, **TINY_WIDTHS[name])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning, DeprecationWarning included, fails the export
        export_and_validate(generator, tmp_path / "g.onnx", batch_sizes=(1, 3))


def test_the_torchscript_exporter_says_it_is_deprecated(tmp_path):
    generator = build_generator("fcgan", **TINY_WIDTHS["fcgan"])
    with pytest.warns(DeprecationWarning, match="legacy TorchScript-based ONNX export"):
        export_onnx(generator, tmp_path / "g.onnx", exporter="torchscript")

"""export/onnx.py: every generator exports, with its metadata, opsets, float16, dynamic batch."""
import os
import re

import numpy as np
import onnx
import pytest
import torch

from gan_models import __version__
from gan_models.export import (
    DEFAULT_OPSET,
    INPUT_NAME,
    LABELS_NAME,
    OUTPUT_NAME,
    export_and_validate,
    export_onnx,
    make_session,
    read_metadata,
    validate_onnx,
)
from gan_models.export.int8 import quantize_onnx
from gan_models.export.onnx import INVALID_LABELS, INVALID_LABELS_KEY
from gan_models.export.quality import OnnxGenerator
from gan_models.registry import MODELS, build_generator
from gan_models.sources import from_hub
from tests.helpers import TINY_WIDTHS, trained_like


@pytest.mark.parametrize("exporter", ["dynamo", "torchscript"])
@pytest.mark.parametrize("name", list(MODELS))
def test_every_generator_exports_and_matches_pytorch(name, exporter, tmp_path):
    generator = trained_like(name, **TINY_WIDTHS[name])
    path = tmp_path / f"{name}.onnx"
    report = validate_onnx(export_onnx(generator, path, model=name, exporter=exporter), generator)
    assert report.exporter == exporter and read_metadata(path)["exporter"] == exporter
    cpu = report.provider("cpu")
    assert cpu.status == "passed" and cpu.provider == "CPUExecutionProvider"
    assert [b.batch_size for b in cpu.batches] == [1, 7, 64]
    for batch in cpu.batches:
        assert batch.max_abs_diff <= 1e-5 and batch.mean_abs_diff <= batch.max_abs_diff
    assert generator.training, "export and validation must not change the caller's module"
    proto = onnx.load(path)
    assert [i.name for i in proto.graph.input] == [INPUT_NAME] and [o.name for o in proto.graph.output] == [OUTPUT_NAME]
    assert proto.opset_import[0].version == DEFAULT_OPSET


def test_default_width_dcgan_validates_at_1_7_64(tmp_path):
    generator = trained_like("dcgan")
    report = export_and_validate(generator, tmp_path / "dcgan.onnx", model="dcgan")
    within = {b.batch_size: b.max_abs_diff <= 1e-5 for b in report.provider("cpu").batches}
    assert within == {1: True, 7: True, 64: True}
    assert "passed" in str(report)


def test_batch_axis_is_dynamic_and_eval_mode_is_exported(tmp_path):
    generator = trained_like("dcgan64", **TINY_WIDTHS["dcgan64"])
    path = export_onnx(generator, tmp_path / "g.onnx")
    session = make_session(path)
    z = torch.randn(5, generator.nz)
    images = session.run(None, {INPUT_NAME: z.numpy()})[0]
    assert images.shape == (5, 3, 64, 64)
    with torch.no_grad():
        expected = generator.eval()(z).numpy()  # running statistics, not batch statistics
    np.testing.assert_allclose(images, expected, atol=1e-5, rtol=0)


def test_metadata_describes_the_model(tmp_path):
    generator = build_generator("dcgan64", ngf=4, channels=1, noise="uniform")
    export_onnx(generator, tmp_path / "g.onnx", model="dcgan64", dataset="celeba", source_sha256="ab" * 32)
    assert read_metadata(tmp_path / "g.onnx") == {
        "model": "dcgan64", "nz": "100", "image_shape": "1,64,64", "value_range": "[-1, 1]", "noise": "uniform",
        "dataset": "celeba", "precision": "float32", "exporter": "dynamo", "torch_version": torch.__version__,
        "gan_models_version": __version__, "num_classes": "0", "source_sha256": "ab" * 32}


def test_the_exported_file_has_the_permissions_of_any_new_file(tmp_path):
    # The file goes to production, often read by another user (a model server): like the PNG and .npy
    # outputs it follows the umask, rather than the owner-only mode of its temporary file.
    previous = os.umask(0o022)
    try:
        path = export_onnx(build_generator("fcgan", **TINY_WIDTHS["fcgan"]), tmp_path / "g.onnx")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize(("exporter", "opset", "message"), [
    ("dynamo", 17, "choose 18 to 20 (default 18); the torchscript exporter writes 17"),
    ("dynamo", 21, "choose 18 to 20"), ("dynamo", "18", "choose 18 to 20"),
    ("torchscript", 16, "choose 17 to 20"), ("torchscript", 0, "choose 17 to 20")])
def test_opset_out_of_range_is_a_value_error_and_writes_nothing(tmp_path, exporter, opset, message):
    with pytest.raises(ValueError, match=re.escape(f"opset {opset!r} is not supported by the {exporter} exporter; "
                                                   f"{message}")):
        export_onnx(build_generator("fcgan", **TINY_WIDTHS["fcgan"]), tmp_path / "g.onnx", exporter=exporter,
                    opset=opset)
    assert not list(tmp_path.iterdir())


def test_unknown_exporter_is_a_value_error():
    with pytest.raises(ValueError, match=r"unknown exporter 'onnxscript'; choose one of \['dynamo', 'torchscript'\]"):
        export_onnx(build_generator("fcgan", **TINY_WIDTHS["fcgan"]), "g.onnx", exporter="onnxscript")


def test_highest_opset_and_fixed_batch(tmp_path):
    generator = trained_like("dcgan", **TINY_WIDTHS["dcgan"])
    path = export_onnx(generator, tmp_path / "g.onnx", opset=20, batch_dynamic=False, batch_size=3)
    assert onnx.load(path).opset_import[0].version == 20
    report = validate_onnx(path, generator)
    assert [b.batch_size for b in report.provider("cpu").batches] == [3]


@pytest.mark.parametrize("name", ["fcgan", "dcgan", "dcgan64"])
def test_float16_export_validates_under_its_tolerance(tmp_path, name):
    generator = trained_like(name, **TINY_WIDTHS[name])
    path = export_onnx(generator, tmp_path / "g16.onnx", precision="float16")
    proto = onnx.load(path)
    assert read_metadata(proto)["precision"] == "float16"
    floats = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16)
    stored = {init.data_type for init in proto.graph.initializer if init.data_type in floats}
    assert stored == {onnx.TensorProto.FLOAT16}
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # interface stays float32
    report = validate_onnx(path, generator)
    cpu = report.provider("cpu")
    assert cpu.atol == 1e-2 and all(b.max_abs_diff <= 1e-2 for b in cpu.batches)
    assert (tmp_path / "g16.onnx").stat().st_size < 0.6 * export_onnx(generator, tmp_path / "g32.onnx").stat().st_size


@pytest.mark.parametrize("function", [export_onnx, validate_onnx])
def test_a_discriminator_is_refused_with_a_type_error(tmp_path, function):
    discriminator, path = __import__("gan_models").fcgan_discriminator(ndf=8), tmp_path / "d.onnx"
    arguments = (discriminator, path) if function is export_onnx else (path, discriminator)
    with pytest.raises(TypeError, match=f"{function.__name__} needs a gan-models generator, got Discriminator"):
        function(*arguments)
    assert not path.exists()


def _conditional_fashion_mnist():
    """The shipped class-conditional DCGAN of Fashion-MNIST (10 classes) and its export keywords."""
    source = from_hub("dcgan", pretrained=True, dataset="fashion-mnist", conditional=True)
    return source.generator, source.export_kwargs()


@pytest.mark.parametrize(("exporter", "precision"), [("dynamo", "float32"), ("torchscript", "float32"),
                                                     ("dynamo", "float16")])
def test_out_of_range_labels_give_nan_images_and_valid_ones_match_pytorch(tmp_path, exporter, precision):
    generator, export_kwargs = _conditional_fashion_mnist()
    path = export_onnx(generator, tmp_path / "c.onnx", exporter=exporter, precision=precision, **export_kwargs)
    assert read_metadata(path)[INVALID_LABELS_KEY] == INVALID_LABELS == "nan"
    labels = np.array([-1, 3, 10, 9, -7, 0, 2 ** 40], dtype=np.int64)  # onnxruntime's Gather would wrap -1 to 9
    z = torch.randn(len(labels), generator.nz, generator=torch.Generator().manual_seed(3))
    images = make_session(path).run(None, {INPUT_NAME: z.numpy(), LABELS_NAME: labels})[0]
    invalid = (labels < 0) | (labels >= 10)
    assert np.isnan(images[invalid]).all() and not np.isnan(images[~invalid]).any()
    with torch.no_grad():
        expected = generator(z[~invalid], torch.from_numpy(labels[~invalid])).numpy()
    atol = 1e-5 if precision == "float32" else 1e-2
    np.testing.assert_allclose(images[~invalid], expected, atol=atol, rtol=0)
    validate_onnx(path, generator)  # its invalid-label check passes


def test_the_dynamic_int8_file_keeps_nan_for_out_of_range_labels(tmp_path):
    generator, export_kwargs = _conditional_fashion_mnist()
    fp32 = export_onnx(generator, tmp_path / "c.onnx", **export_kwargs)
    int8 = quantize_onnx(fp32, tmp_path / "c.int8.onnx", method="dynamic")
    assert read_metadata(int8)[INVALID_LABELS_KEY] == "nan" and read_metadata(int8)["int8_method"] == "dynamic"
    labels = np.array([-1, 4, 10], dtype=np.int64)
    z = torch.randn(3, generator.nz, generator=torch.Generator().manual_seed(4))
    images = make_session(int8).run(None, {INPUT_NAME: z.numpy(), LABELS_NAME: labels})[0]
    assert np.isnan(images[[0, 2]]).all() and not np.isnan(images[1]).any()
    with torch.no_grad():
        expected = generator(z[1:2], torch.tensor([4])).numpy()
    assert np.abs(images[1:2] - expected).mean() < 0.05  # int8's mean budget (validate.MEAN_TOLERANCES)
    assert validate_onnx(int8, generator).onnx_precision == "int8"


def test_onnx_generator_refuses_out_of_range_labels_as_pytorch_does(tmp_path):
    generator, export_kwargs = _conditional_fashion_mnist()
    onnx_generator = OnnxGenerator(export_onnx(generator, tmp_path / "c.onnx", **export_kwargs))
    z = torch.randn(2, generator.nz)
    for bad in (-1, 10):
        with pytest.raises(ValueError, match=r"0\.\.9") as onnx_error:
            onnx_generator(z, torch.tensor([0, bad]))
        with pytest.raises(ValueError) as torch_error:
            generator(z, torch.tensor([0, bad]))
        assert str(onnx_error.value) == str(torch_error.value)
    assert torch.isfinite(onnx_generator(z, torch.tensor([0, 9]))).all()

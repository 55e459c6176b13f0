"""export/validate.py: typed failures, file errors, memory, and the CUDA comparison."""
import os

import numpy as np
import onnx
import pytest
import torch
from click.testing import CliRunner

from gan_models.cli import main
from gan_models.export import (
    INPUT_NAME,
    OUTPUT_NAME,
    OnnxFileError,
    OnnxNameError,
    OnnxRuntimeError,
    OnnxShapeError,
    OnnxValueError,
    export_and_validate,
    export_onnx,
    make_session,
    read_metadata,
    validate_onnx,
)
from gan_models.export import onnx as onnx_module
from gan_models.export import validate as validate_module
from gan_models.export.session import cuda_available
from gan_models.registry import build_generator
from tests.export.conditional_standin import trained_standin
from tests.helpers import TINY_WIDTHS, one_error_line, trained_like


@pytest.fixture
def tf32_allowed():
    """A function that allows TF32 in PyTorch (the flags cannot be monkeypatched), restoring them after the test."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32

    def allow():
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True

    yield allow
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


class _SessionReportingCuda:
    """A CPU onnxruntime session that reports CUDAExecutionProvider, adds `offset` to its output and
    records PyTorch's TF32 flags at each run: the CUDA branch of validation, on a machine without a GPU."""

    def __init__(self, path, offset: float) -> None:
        self.session, self.offset, self.tf32_flags = make_session(path), offset, []

    def get_providers(self) -> list[str]:
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]

    def run(self, outputs, feed):
        self.tf32_flags.append((torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32))
        return [out + self.offset for out in self.session.run(outputs, feed)]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_perturbed_model_fails_with_the_largest_difference(tmp_path):
    generator = trained_like("fcgan", **TINY_WIDTHS["fcgan"])
    path = export_onnx(generator, tmp_path / "g.onnx")
    with torch.no_grad():
        generator.net[0].weight[3, 5] += 1e-3  # after export: PyTorch and the file now disagree
    with pytest.raises(OnnxValueError) as caught:
        validate_onnx(path, generator)
    err = caught.value
    assert err.batch_size == 1 and err.provider == "CPUExecutionProvider" and err.atol == 5e-5
    assert 5e-5 < err.max_abs_diff < 1e-2
    assert err.max_abs_diff == pytest.approx(abs(err.onnx_value - err.torch_value), rel=1e-5)
    assert len(err.index) == 4 and err.index[0] == 0
    assert f"{err.max_abs_diff:.3g}" in str(err) and f"element {err.index}" in str(err)


def test_export_and_validate_removes_a_failing_file(tmp_path, monkeypatch):
    import gan_models.export.validate as validate_module

    def broken_export(generator, path, **kwargs):
        other = build_generator("fcgan", **TINY_WIDTHS["fcgan"])  # different weights, same shapes
        return export_onnx(other, path, **kwargs)

    monkeypatch.setattr(validate_module, "export_onnx", broken_export)
    with pytest.raises(OnnxValueError):
        validate_module.export_and_validate(build_generator("fcgan", **TINY_WIDTHS["fcgan"]), tmp_path / "g.onnx")
    assert not (tmp_path / "g.onnx").exists()


def test_export_and_validate_removes_the_file_when_validation_cannot_finish(tmp_path, monkeypatch):
    # onnxruntime-gpu lists CUDA but its libraries are missing: the CUDA session falls back to the CPU and
    # validation stops with OnnxRuntimeError. The file was never proven, so it must not stay at `path`.
    def cuda_falls_back(model, *, device="cpu", **kwargs):
        if device == "cuda":
            raise OnnxRuntimeError("asked onnxruntime for CUDAExecutionProvider but it runs on "
                                   "['CPUExecutionProvider']; check the CUDA and cuDNN libraries onnxruntime-gpu needs")
        return make_session(model, device=device, **kwargs)

    monkeypatch.setattr(validate_module, "cuda_available", lambda: True)
    monkeypatch.setattr(validate_module, "make_session", cuda_falls_back)
    with pytest.raises(OnnxRuntimeError, match="but it runs on"):
        export_and_validate(build_generator("fcgan", **TINY_WIDTHS["fcgan"]), tmp_path / "g.onnx")
    assert not list(tmp_path.iterdir())


def test_wrong_latent_size_and_wrong_names_are_typed_errors(tmp_path):
    path = export_onnx(build_generator("fcgan", nz=8, ngf=8), tmp_path / "g.onnx")
    with pytest.raises(OnnxShapeError, match="latent size nz differs") as caught:
        validate_onnx(path, build_generator("fcgan", nz=9, ngf=8))
    assert caught.value.expected == ("batch", 9) and caught.value.actual == ("batch", 8)
    proto = onnx.load(path)
    proto.graph.output[0].name = "out"
    for node in proto.graph.node:
        node.output[:] = ["out" if o == OUTPUT_NAME else o for o in node.output]
    onnx.save(proto, tmp_path / "renamed.onnx")
    with pytest.raises(OnnxNameError, match=r"outputs \['out'\]"):
        validate_onnx(tmp_path / "renamed.onnx", build_generator("fcgan", nz=8, ngf=8))


def test_a_graph_that_runs_only_at_its_traced_batch_is_a_shape_error(tmp_path):
    # The declared batch axis is dynamic, but the final Reshape is pinned to batch 2 (what a tracer that
    # specialised on its example batch writes): onnxruntime fails at batch 1, and validation must say so.
    generator = build_generator("fcgan", nz=8, ngf=8)
    proto = onnx.load(export_onnx(generator, tmp_path / "g.onnx"))
    reshape = next(node for node in proto.graph.node if node.op_type == "Reshape")
    shape = next(init for init in proto.graph.initializer if init.name == reshape.input[1])
    shape.CopyFrom(onnx.numpy_helper.from_array(np.array([2, 1, 28, 28], dtype=np.int64), name=shape.name))
    onnx.save(proto, tmp_path / "pinned.onnx")
    with pytest.raises(OnnxShapeError, match="at batch size 1") as caught:
        validate_onnx(tmp_path / "pinned.onnx", generator)
    assert caught.value.batch_size == 1


@pytest.mark.parametrize("which", ["input", "output"])
def test_z_and_images_must_be_float32(tmp_path, which):
    # A float16 file edited to take or return float16 (as float16 converters do unless told to keep the
    # interface): consumers feed and read float32, so it must fail validation, not pass under float16's tolerance.
    generator = build_generator("fcgan", nz=8, ngf=8)
    proto = onnx.load(export_onnx(generator, tmp_path / "g.onnx", precision="float16"))
    name = INPUT_NAME if which == "input" else OUTPUT_NAME
    cast = next(node for node in proto.graph.node if name in (node.input if which == "input" else node.output))
    assert cast.op_type == "Cast"
    if which == "input":  # z arrives in half precision: the Cast to half becomes an Identity
        cast.op_type = "Identity"
        del cast.attribute[:]
        proto.graph.input[0].type.tensor_type.elem_type = onnx.TensorProto.FLOAT16
    else:  # the closing Cast back to float32 is dropped
        cast.attribute[0].i = onnx.TensorProto.FLOAT16
        proto.graph.output[0].type.tensor_type.elem_type = onnx.TensorProto.FLOAT16
    onnx.checker.check_model(proto, full_check=True)
    onnx.save(proto, tmp_path / "half.onnx")
    with pytest.raises(OnnxShapeError, match=f"{name} as float16; gan-models files use float32"):
        validate_onnx(tmp_path / "half.onnx", generator)


def test_an_unknown_precision_in_the_metadata_is_a_file_error(tmp_path):
    generator = build_generator("fcgan", nz=8, ngf=8)
    proto = onnx.load(export_onnx(generator, tmp_path / "g.onnx"))
    onnx.helper.set_model_props(proto, {**read_metadata(proto), "precision": "fp32"})
    onnx.save(proto, tmp_path / "renamed-precision.onnx")
    with pytest.raises(OnnxFileError, match=r"precision 'fp32'; expected one of \['float32', 'float16', 'int8'\]"):
        validate_onnx(tmp_path / "renamed-precision.onnx", generator)


@pytest.mark.parametrize("content", [None, b"", os.urandom(512), b"not an onnx model\n"])
def test_missing_or_corrupt_files_are_file_errors(tmp_path, content):
    path = tmp_path / "bad.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(OnnxFileError, match="not found|not a valid ONNX model"):
        validate_onnx(path, build_generator("fcgan", **TINY_WIDTHS["fcgan"]))


def test_cuda_is_reported_skipped_without_a_provider(tmp_path):
    generator = build_generator("fcgan", **TINY_WIDTHS["fcgan"])
    report = validate_onnx(export_onnx(generator, tmp_path / "g.onnx"), generator)
    cuda = report.provider("cuda")
    if "CUDAExecutionProvider" in __import__("onnxruntime").get_available_providers():
        assert cuda.status == "passed" and cuda.provider == "CUDAExecutionProvider"
    else:
        assert cuda.status == "skipped: no CUDA provider" and cuda.batches == []
        assert "skipped: no CUDA provider" in str(report)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc (Linux)")
def test_many_validations_do_not_leak_memory(tmp_path):
    generator = build_generator("dcgan", ngf=32)
    path = export_onnx(generator, tmp_path / "g.onnx")
    for _ in range(3):  # warm-up: allocator pools and lazy onnxruntime state settle
        validate_onnx(path, generator)
    before = _rss_bytes()
    for _ in range(20):
        validate_onnx(path, generator)
    growth = _rss_bytes() - before
    # A session kept alive holds ~10 MB here (its own copy of the weights), so leaking one per
    # validation would add ~200 MB; the bound leaves room for allocator noise, not for sessions.
    assert growth < 40 * 2**20, f"RSS grew by {growth / 2**20:.1f} MiB over 20 validations"


def test_a_silent_fallback_from_cuda_to_cpu_is_an_error(tmp_path, monkeypatch):
    generator = build_generator("fcgan", **TINY_WIDTHS["fcgan"])
    path = export_onnx(generator, tmp_path / "g.onnx")
    if cuda_available():
        assert make_session(path, device="cuda").get_providers()[0] == "CUDAExecutionProvider"
        return
    # This onnxruntime has no CUDA provider: asked for one, it quietly builds a CPU session.
    with pytest.raises(OnnxRuntimeError, match=r"asked onnxruntime for CUDAExecutionProvider but it runs on "
                                               r"\['CPUExecutionProvider'\]"):
        make_session(path, device="cuda")
    monkeypatch.setattr(validate_module, "cuda_available", lambda: True)  # as if onnxruntime-gpu were installed
    with pytest.raises(OnnxRuntimeError, match="but it runs on"):
        validate_onnx(path, generator)


@pytest.mark.parametrize("offset", [0.0, 5e-5, 2e-4])
def test_the_cuda_comparison_turns_tf32_off_and_has_its_own_tolerance(tmp_path, monkeypatch, tf32_allowed, offset):
    generator = trained_like("dcgan", **TINY_WIDTHS["dcgan"])
    path = export_onnx(generator, tmp_path / "g.onnx")
    sessions = {}

    def fake_make_session(model, *, device="cpu", **kwargs):
        if device == "cpu":
            return make_session(model, device=device, **kwargs)
        sessions[device] = _SessionReportingCuda(model, offset)
        return sessions[device]

    monkeypatch.setattr(validate_module, "cuda_available", lambda: True)
    monkeypatch.setattr(validate_module, "make_session", fake_make_session)
    tf32_allowed()
    if offset > validate_module.TOLERANCES[("float32", "cuda")]:
        with pytest.raises(OnnxValueError) as failure:
            validate_onnx(path, generator)
        assert failure.value.provider == "CUDAExecutionProvider" and failure.value.atol == 1e-4
        assert failure.value.max_abs_diff == pytest.approx(offset, rel=0.05)
    else:  # 5e-5 would fail a tighter CPU tolerance but passes CUDA's 1e-4
        cuda = validate_onnx(path, generator).provider("cuda")
        assert (cuda.status, cuda.provider, cuda.atol) == ("passed", "CUDAExecutionProvider", 1e-4)
        assert [b.batch_size for b in cuda.batches] == [1, 7, 64]
        assert all(b.max_abs_diff == pytest.approx(offset, abs=5e-6) for b in cuda.batches)
    assert sessions["cuda"].tf32_flags and set(sessions["cuda"].tf32_flags) == {(False, False)}
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (True, True)  # restored


def test_truncated_random_or_renamed_onnx_files_give_one_clear_error(tmp_path, tiny_checkpoint, onnx_nz8):
    from gan_models.sources import from_checkpoint

    generator = from_checkpoint(tiny_checkpoint).generator
    content = onnx_nz8.read_bytes()
    bad = {"truncated.onnx": content[:len(content) // 2], "random.onnx": np.random.default_rng(0).bytes(4096)}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(OnnxFileError, match="is not a valid ONNX model"):
            validate_onnx(tmp_path / name, generator)
        line = one_error_line(CliRunner().invoke(main, ["validate", str(tmp_path / name), "--checkpoint",
                                                         str(tiny_checkpoint)]))
        assert "is not a valid ONNX model" in line

    proto = onnx.load(str(onnx_nz8))
    proto.graph.input[0].name = "latent"
    for node in proto.graph.node:
        node.input[:] = ["latent" if name == "z" else name for name in node.input]
    onnx.save(proto, str(tmp_path / "renamed.onnx"))
    with pytest.raises(OnnxNameError, match="'latent'"):
        validate_onnx(tmp_path / "renamed.onnx", generator)
    line = one_error_line(CliRunner().invoke(main, ["validate", str(tmp_path / "renamed.onnx"), "--checkpoint",
                                                     str(tiny_checkpoint)]))
    assert "latent" in line


def test_a_conditional_file_whose_gather_wraps_bad_labels_fails_validation(tmp_path, monkeypatch):
    generator = trained_standin()  # 3 classes
    wrapping = tmp_path / "wrapping.onnx"
    with monkeypatch.context() as patch:  # the export before invalid labels gave NaN: G(z, labels) as it stands
        patch.setattr(onnx_module._GenerateConditional, "forward", lambda self, z, labels: self.generator(z, labels))
        export_onnx(generator, wrapping, exporter="torchscript")
    images = make_session(wrapping).run(None, {INPUT_NAME: np.zeros((2, generator.nz), np.float32),
                                               "labels": np.array([-1, 2])})[0]
    np.testing.assert_array_equal(images[0], images[1])  # label -1 silently drew class 2: what the check catches
    with pytest.raises(OnnxValueError, match="labels -1 and 3 must give all-NaN images and label 0 none; got "
                                             "label -1: 0.0% NaN; label 0: 0.0% NaN; label 3: .*indices element"):
        validate_onnx(wrapping, generator)
    unsaid = tmp_path / "unsaid.onnx"
    proto = onnx.load(export_onnx(generator, unsaid, exporter="torchscript"))
    del proto.metadata_props[[p.key for p in proto.metadata_props].index("invalid_labels")]
    onnx.save(proto, unsaid)
    with pytest.raises(OnnxValueError, match="does not say what out-of-range labels give"):
        validate_onnx(unsaid, generator)

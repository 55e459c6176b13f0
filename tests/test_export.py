"""ONNX export and validation: every registered generator, metadata, fp16, typed failures, memory."""
import builtins
import hashlib
import os
import pathlib

import numpy as np
import onnx
import pytest
import torch

from export import (
    DEFAULT_OPSET,
    INPUT_NAME,
    OUTPUT_NAME,
    OnnxFileError,
    OnnxNameError,
    OnnxRuntimeError,
    OnnxShapeError,
    OnnxValueError,
    export_and_validate,
    export_onnx,
    from_checkpoint,
    from_hub,
    make_session,
    read_metadata,
    validate_onnx,
)
from export import validate as validate_module
from export.session import cuda_available
from gan_models import __version__
from gan_models.registry import MODELS, NoPretrainedWeightsError, build_generator, file_sha256
from gan_models.training.checkpoint import save_checkpoint

TINY = {"fcgan": {"ngf": 16}, "lsgan": {"ngf": 16}, "dcgan": {"ngf": 4}, "dcgan64": {"ngf": 4}}


def trained_like(name: str, **kwargs):
    """A generator with non-trivial BatchNorm running statistics, as after training, in train mode."""
    torch.manual_seed(0)
    generator = build_generator(name, **kwargs)
    with torch.no_grad():
        for _ in range(3):
            generator(torch.randn(16, generator.nz))  # train mode: updates running mean and var
    return generator


@pytest.mark.parametrize("name", list(MODELS))
def test_every_generator_exports_and_matches_pytorch(name, tmp_path):
    generator = trained_like(name, **TINY[name])
    path = tmp_path / f"{name}.onnx"
    report = validate_onnx(export_onnx(generator, path, model=name), generator)
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
    generator = trained_like("dcgan64", **TINY["dcgan64"])
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
        "dataset": "celeba", "precision": "fp32", "gan_models_version": __version__, "source_sha256": "ab" * 32}


def test_checkpoint_source_uses_ema_generator_and_records_its_hash(tmp_path):
    raw, ema = build_generator("fcgan", nz=8, ngf=8), build_generator("fcgan", nz=8, ngf=8)
    path = save_checkpoint({"model": "lsgan", "generator_kwargs": {"nz": 8, "ngf": 8}, "dataset": "mnist",
                            "generator": raw.state_dict(), "ema_generator": ema.state_dict()}, tmp_path / "ckpt.pt")
    source = from_checkpoint(path)
    assert (source.model, source.dataset, source.sha256) == ("lsgan", "mnist", file_sha256(path))
    torch.testing.assert_close(source.generator.state_dict(), ema.state_dict())
    export_and_validate(source.generator, tmp_path / "g.onnx", **source.export_kwargs())
    meta = read_metadata(tmp_path / "g.onnx")
    assert (meta["model"], meta["dataset"], meta["source_sha256"]) == ("lsgan", "mnist", file_sha256(path))


def test_checkpoint_source_reads_the_file_once_and_hashes_those_bytes(tmp_path, monkeypatch):
    generator = build_generator("fcgan", nz=8, ngf=8)
    path = save_checkpoint({"model": "fcgan", "generator_kwargs": {"nz": 8, "ngf": 8}, "dataset": "mnist",
                            "generator": generator.state_dict(), "ema_generator": None}, tmp_path / "ckpt.pt")
    opened = []

    def counting(open_):  # wraps builtins.open and Path.open (which Path.read_bytes goes through)
        def counted(file, *args, **kwargs):
            opened.append(str(file))
            return open_(file, *args, **kwargs)
        return counted

    monkeypatch.setattr(builtins, "open", counting(builtins.open))
    monkeypatch.setattr(pathlib.Path, "open", counting(pathlib.Path.open))
    source = from_checkpoint(path)
    monkeypatch.undo()
    assert opened.count(str(path)) == 1
    assert source.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_hub_source_is_reproducible_and_pretrained_is_a_clear_error():
    first, second = from_hub("dcgan", ngf=4), from_hub("dcgan", ngf=4)
    torch.testing.assert_close(first.generator.state_dict(), second.generator.state_dict())
    with pytest.raises(NoPretrainedWeightsError, match="no pretrained weights for 'dcgan' on 'celeba'"):
        from_hub("dcgan", pretrained=True, dataset="celeba")
    with pytest.raises(ValueError, match="only generators are exported"):
        from_hub("dcgan_discriminator")


def test_perturbed_model_fails_with_the_largest_difference(tmp_path):
    generator = trained_like("fcgan", **TINY["fcgan"])
    path = export_onnx(generator, tmp_path / "g.onnx")
    with torch.no_grad():
        generator.net[0].weight[3, 5] += 1e-3  # after export: PyTorch and the file now disagree
    with pytest.raises(OnnxValueError) as caught:
        validate_onnx(path, generator)
    err = caught.value
    assert err.batch_size == 1 and err.provider == "CPUExecutionProvider" and err.atol == 1e-5
    assert 1e-5 < err.max_abs_diff < 1e-2
    assert err.max_abs_diff == pytest.approx(abs(err.onnx_value - err.torch_value), rel=1e-5)
    assert len(err.index) == 4 and err.index[0] == 0
    assert f"{err.max_abs_diff:.3g}" in str(err) and f"element {err.index}" in str(err)


def test_the_exported_file_has_the_permissions_of_any_new_file(tmp_path):
    # The file goes to production, often read by another user (a model server): like the PNG and .npy
    # outputs it follows the umask, rather than the owner-only mode of its temporary file.
    previous = os.umask(0o022)
    try:
        path = export_onnx(build_generator("fcgan", **TINY["fcgan"]), tmp_path / "g.onnx")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644


def test_export_and_validate_removes_a_failing_file(tmp_path, monkeypatch):
    import export.validate as validate_module

    def broken_export(generator, path, **kwargs):
        other = build_generator("fcgan", **TINY["fcgan"])  # different weights, same shapes
        return export_onnx(other, path, **kwargs)

    monkeypatch.setattr(validate_module, "export_onnx", broken_export)
    with pytest.raises(OnnxValueError):
        validate_module.export_and_validate(build_generator("fcgan", **TINY["fcgan"]), tmp_path / "g.onnx")
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
        export_and_validate(build_generator("fcgan", **TINY["fcgan"]), tmp_path / "g.onnx")
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
    constant = next(node for node in proto.graph.node if node.output[0] == reshape.input[1])
    constant.attribute[0].t.CopyFrom(onnx.numpy_helper.from_array(np.array([2, 1, 28, 28], dtype=np.int64)))
    onnx.save(proto, tmp_path / "pinned.onnx")
    with pytest.raises(OnnxShapeError, match="at batch size 1") as caught:
        validate_onnx(tmp_path / "pinned.onnx", generator)
    assert caught.value.batch_size == 1


@pytest.mark.parametrize("which", ["input", "output"])
def test_z_and_images_must_be_float32(tmp_path, which):
    # An fp16 file edited to take or return float16 (as float16 converters do unless told to keep the
    # interface): consumers feed and read float32, so it must fail validation, not pass under fp16's tolerance.
    generator = build_generator("fcgan", nz=8, ngf=8)
    proto = onnx.load(export_onnx(generator, tmp_path / "g.onnx", fp16=True))
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


def test_a_precision_other_than_fp32_or_fp16_in_the_metadata_is_a_file_error(tmp_path):
    generator = build_generator("fcgan", nz=8, ngf=8)
    proto = onnx.load(export_onnx(generator, tmp_path / "g.onnx"))
    onnx.helper.set_model_props(proto, {**read_metadata(proto), "precision": "float32"})
    onnx.save(proto, tmp_path / "renamed-precision.onnx")
    with pytest.raises(OnnxFileError, match="precision 'float32'; expected 'fp32' or 'fp16'"):
        validate_onnx(tmp_path / "renamed-precision.onnx", generator)


@pytest.mark.parametrize("content", [None, b"", os.urandom(512), b"not an onnx model\n"])
def test_missing_or_corrupt_files_are_file_errors(tmp_path, content):
    path = tmp_path / "bad.onnx"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(OnnxFileError, match="not found|not a valid ONNX model"):
        validate_onnx(path, build_generator("fcgan", **TINY["fcgan"]))


@pytest.mark.parametrize("opset", [16, 21, 0, "17"])
def test_opset_out_of_range_is_a_value_error_and_writes_nothing(tmp_path, opset):
    with pytest.raises(ValueError, match="choose 17 to 20"):
        export_onnx(build_generator("fcgan", **TINY["fcgan"]), tmp_path / "g.onnx", opset=opset)
    assert not list(tmp_path.iterdir())


def test_highest_opset_and_fixed_batch(tmp_path):
    generator = trained_like("dcgan", **TINY["dcgan"])
    path = export_onnx(generator, tmp_path / "g.onnx", opset=20, batch_dynamic=False, batch_size=3)
    assert onnx.load(path).opset_import[0].version == 20
    report = validate_onnx(path, generator)
    assert [b.batch_size for b in report.provider("cpu").batches] == [3]


@pytest.mark.parametrize("name", ["fcgan", "dcgan", "dcgan64"])
def test_fp16_export_validates_under_its_tolerance(tmp_path, name):
    generator = trained_like(name, **TINY[name])
    path = export_onnx(generator, tmp_path / "g16.onnx", fp16=True)
    proto = onnx.load(path)
    assert read_metadata(proto)["precision"] == "fp16"
    assert {init.data_type for init in proto.graph.initializer if init.dims} == {onnx.TensorProto.FLOAT16}
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT  # interface stays float32
    report = validate_onnx(path, generator)
    cpu = report.provider("cpu")
    assert cpu.atol == 1e-2 and all(b.max_abs_diff <= 1e-2 for b in cpu.batches)
    assert (tmp_path / "g16.onnx").stat().st_size < 0.6 * export_onnx(generator, tmp_path / "g32.onnx").stat().st_size


def test_cuda_is_reported_skipped_without_a_provider(tmp_path):
    generator = build_generator("fcgan", **TINY["fcgan"])
    report = validate_onnx(export_onnx(generator, tmp_path / "g.onnx"), generator)
    cuda = report.provider("cuda")
    if "CUDAExecutionProvider" in __import__("onnxruntime").get_available_providers():
        assert cuda.status == "passed" and cuda.provider == "CUDAExecutionProvider"
    else:
        assert cuda.status == "skipped: no CUDA provider" and cuda.batches == []
        assert "skipped: no CUDA provider" in str(report)


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


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
    generator = build_generator("fcgan", **TINY["fcgan"])
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


@pytest.fixture
def tf32_allowed():
    """A function that allows TF32 in PyTorch (the flags cannot be monkeypatched), restoring them after the test."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32

    def allow():
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True

    yield allow
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


@pytest.mark.parametrize("offset", [0.0, 5e-5, 2e-4])
def test_the_cuda_comparison_turns_tf32_off_and_has_its_own_tolerance(tmp_path, monkeypatch, tf32_allowed, offset):
    generator = trained_like("dcgan", **TINY["dcgan"])
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
    if offset > validate_module.TOLERANCES[("fp32", "cuda")]:
        with pytest.raises(OnnxValueError) as failure:
            validate_onnx(path, generator)
        assert failure.value.provider == "CUDAExecutionProvider" and failure.value.atol == 1e-4
        assert failure.value.max_abs_diff == pytest.approx(offset, rel=0.05)
    else:  # 5e-5 would fail the CPU tolerance of 1e-5 but passes CUDA's 1e-4
        cuda = validate_onnx(path, generator).provider("cuda")
        assert (cuda.status, cuda.provider, cuda.atol) == ("passed", "CUDAExecutionProvider", 1e-4)
        assert [b.batch_size for b in cuda.batches] == [1, 7, 64]
        assert all(b.max_abs_diff == pytest.approx(offset, abs=5e-6) for b in cuda.batches)
    assert sessions["cuda"].tf32_flags and set(sessions["cuda"].tf32_flags) == {(False, False)}
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (True, True)  # restored


@pytest.mark.parametrize("function", [export_onnx, validate_onnx])
def test_a_discriminator_is_refused_with_a_type_error(tmp_path, function):
    discriminator, path = __import__("gan_models").fcgan_discriminator(ndf=8), tmp_path / "d.onnx"
    arguments = (discriminator, path) if function is export_onnx else (path, discriminator)
    with pytest.raises(TypeError, match=f"{function.__name__} needs a gan-models generator, got Discriminator"):
        function(*arguments)
    assert not path.exists()

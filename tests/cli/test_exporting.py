"""`gan-models export` and `gan-models validate`: success paths and one-line errors for bad input."""
import errno
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from gan_models.cli import main
from gan_models.export import read_metadata
from gan_models.registry import build_generator, find_weights
from gan_models.training.checkpoint import save_checkpoint
from tests.helpers import one_error_line


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(0)
    generator = build_generator("dcgan", ngf=4)
    return save_checkpoint({"model": "dcgan", "generator_kwargs": {"ngf": 4}, "dataset": "mnist",
                            "generator": generator.state_dict()}, tmp_path / "ckpt.pt")


def assert_one_line_error(result, message):
    """Non-zero exit, one line "Error: ..." containing `message`, and no exception escaped click."""
    lines = result.output.strip().splitlines()
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # anything else would be a traceback
    assert "Traceback" not in result.output
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.output


def test_export_from_checkpoint_validates_and_reports(tmp_path, checkpoint):
    out = tmp_path / "dcgan.onnx"
    result = run("export", "--checkpoint", checkpoint, "--out", out)
    assert result.exit_code == 0, result.output
    assert "CPUExecutionProvider       1" in result.output and "CPUExecutionProvider      64" in result.output
    assert "skipped: no CUDA provider" in result.output or "CUDAExecutionProvider" in result.output
    assert f"exported dcgan to {out}: validation passed" in result.output
    meta = read_metadata(out)
    sha256 = hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert (meta["model"], meta["dataset"], meta["source_sha256"]) == ("dcgan", "mnist", sha256)

    result = run("validate", out, "--checkpoint", checkpoint)
    assert result.exit_code == 0 and f"{out}: validation passed" in result.output


def test_export_from_hub_with_opset_and_float16_then_validate(tmp_path):
    out = tmp_path / "fc16.onnx"
    result = run("export", "--hub", "fcgan", "--out", out, "--opset", 18, "--precision", "float16")
    assert result.exit_code == 0, result.output
    assert "(float16, opset 18, dynamo exporter)" in result.output and read_metadata(out)["precision"] == "float16"
    result = run("validate", out, "--hub", "fcgan")  # the fresh hub generator is seeded: same weights again
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist"])
def test_the_shipped_conditional_generator_exports_with_labels_and_validates(tmp_path, dataset):
    out = tmp_path / f"c{dataset}.onnx"
    source = ("--hub", "dcgan", "--pretrained", "--dataset", dataset)
    result = run("export", *source, "--conditional", "--out", out)
    assert result.exit_code == 0, result.output
    assert f"exported dcgan to {out}: validation passed" in result.output
    meta = read_metadata(out)
    record = find_weights("dcgan", dataset, conditional=True)
    assert (meta["dataset"], meta["source_sha256"]) == (dataset, record.sha256)
    assert json.loads(meta["classes"]) == list(record.generator_kwargs["classes"])
    assert run("validate", out, *source, "--conditional").exit_code == 0
    # The unconditional weights of the same dataset take only z: the file's two inputs do not fit them.
    assert_one_line_error(run("validate", out, *source), "labels")


def test_validate_fails_on_other_weights(tmp_path, checkpoint):
    out = tmp_path / "dcgan.onnx"
    assert run("export", "--checkpoint", checkpoint, "--out", out).exit_code == 0
    other = save_checkpoint({"model": "dcgan", "generator_kwargs": {"ngf": 4},
                             "generator": build_generator("dcgan", ngf=4).state_dict()}, tmp_path / "other.pt")
    result = run("validate", out, "--checkpoint", other)
    assert_one_line_error(result, "max |onnx - torch|")
    assert "at batch size 1, element (0," in result.output


def test_bad_input_gives_one_line_and_non_zero_exit(tmp_path, checkpoint):
    random_onnx = tmp_path / "random.onnx"
    random_onnx.write_bytes(os.urandom(256))
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello\n")
    fc = tmp_path / "fc.onnx"
    assert run("export", "--hub", "fcgan", "--out", fc).exit_code == 0
    out = tmp_path / "out.onnx"
    cases = [
        (("export", "--checkpoint", tmp_path / "missing.pt", "--out", out), "checkpoint not found"),
        (("export", "--checkpoint", text_file, "--out", out), "cannot read checkpoint"),
        (("export", "--checkpoint", checkpoint, "--hub", "dcgan", "--out", out), "exactly one of"),
        (("export", "--out", out), "exactly one of"),
        (("export", "--hub", "dcgan", "--out", out, "--opset", 9),
         "opset 9 is not supported by the dynamo exporter; choose 18 to 20"),
        (("export", "--hub", "dcgan", "--pretrained", "--dataset", "celeba", "--out", out),
         "no pretrained weights for 'dcgan' on 'celeba'"),
        (("export", "--hub", "dcgan_discriminator", "--out", out), "only generators are exported"),
        (("validate", tmp_path / "missing.onnx", "--hub", "fcgan"), "ONNX file not found"),
        (("validate", random_onnx, "--hub", "fcgan"), "is not a valid ONNX model"),
        (("validate", text_file, "--hub", "fcgan"), "is not a valid ONNX model"),
        (("validate", fc, "--hub", "dcgan64"), "latent size nz differs"),
        (("validate", fc), "exactly one of"),
    ]
    for args, message in cases:
        assert_one_line_error(run(*args), message)
    assert not out.exists()


def test_importing_hubconf_does_not_import_onnx():
    code = "import sys, hubconf, gan_models.cli; print('onnx' in sys.modules, 'onnxruntime' in sys.modules)"
    root = str(Path(__file__).resolve().parents[2])
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                            env={**os.environ, "PYTHONPATH": root})
    assert result.stdout.split() == ["False", "False"]


# Bad input from the robustness matrix (issue 6): each case is one `Error: ...` line naming the problem.
EXPORT_CASES = [
    (["export", "--hub", "fcgan"], "Missing option '--out'"),
    (["export", "--hub", "fcgan", "--out", "{out}/g.onnx", "--opset", "5"], "opset 5 is not supported by the dynamo"),
    (["export", "--hub", "fcgan", "--out", "{out}/g.onnx", "--opset", "99"], "opset 99 is not supported"),
    (["export", "--hub", "fcgan", "--out", "{out}/g.onnx", "--opset", "new"], "'new' is not a valid integer"),
    (["export", "--checkpoint", "{missing}", "--out", "{out}/g.onnx"], "checkpoint not found"),
    (["validate", "{missing}", "--hub", "fcgan"], "ONNX file not found"),
    (["validate", "{random_onnx}", "--hub", "fcgan"], "is not a valid ONNX model"),
    (["validate", "{dir}", "--hub", "fcgan"], "is a directory"),
    (["validate", "{onnx8}", "--hub", "fcgan"], "latent size nz differs"),
    (["validate", "{onnx8}"], "give exactly one of"),
]


@pytest.mark.parametrize("args, message", EXPORT_CASES, ids=[" ".join(a)[:60] for a, _ in EXPORT_CASES])
def test_bad_cli_input_is_one_line_naming_the_problem(args, message, paths, data_root):
    values = {**paths, "data": str(data_root)}
    result = CliRunner().invoke(main, [a.format(**values) for a in args])
    assert message in one_error_line(result)


def test_export_with_torchscript_and_a_web_page(tmp_path):
    out, site = tmp_path / "fc.onnx", tmp_path / "site"
    result = run("export", "--hub", "fcgan", "--out", out, "--exporter", "torchscript", "--opset", 17, "--web", site)
    assert result.exit_code == 0, result.output
    assert "(float32, opset 17, torchscript exporter)" in result.output
    assert read_metadata(out)["exporter"] == "torchscript"
    assert f"wrote {site / 'index.html'}" in result.output
    assert (site / "model.onnx").read_bytes() == out.read_bytes()
    assert json.loads((site / "model.json").read_text()) == {
        "model": "fcgan", "dataset": "unknown", "nz": 96, "image_shape": [1, 28, 28], "noise": "normal",
        "onnx_precision": "float32", "exporter": "torchscript"}


def test_web_page_without_onnxruntime_web_fails_before_exporting(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_MODELS_ORT_WEB", str(tmp_path / "nowhere"))
    result = run("export", "--hub", "fcgan", "--out", tmp_path / "fc.onnx", "--web", tmp_path / "site")
    assert_one_line_error(result, "onnxruntime-web is not installed")
    assert "npm ci --prefix web" in result.output and not (tmp_path / "fc.onnx").exists()


def test_int8_export_takes_its_method_from_the_command_line(tmp_path):
    out = tmp_path / "fc8.onnx"
    result = run("export", "--hub", "fcgan", "--out", out, "--precision", "int8", "--int8-method", "dynamic")
    assert result.exit_code == 0, result.output
    meta = read_metadata(out)
    assert (meta["precision"], meta["int8_method"], meta["num_classes"]) == ("int8", "dynamic", "0")
    assert f"exported fcgan to {out} as int8: validation passed" in result.output


def test_an_int8_method_without_int8_precision_is_refused_before_exporting(tmp_path):
    out = tmp_path / "fc.onnx"
    assert_one_line_error(run("export", "--hub", "fcgan", "--out", out, "--int8-method", "static"),
                          "--int8-method goes with --precision int8, not float32")
    assert not out.exists()


@pytest.mark.parametrize("name", ["x.txt", "model", "fc.onnx.bak"])
def test_export_refuses_an_out_path_that_is_not_onnx(tmp_path, name):
    # as `sample` refuses an --out that is neither .png nor .npy: an ONNX model in x.txt helps nobody
    assert_one_line_error(run("export", "--hub", "fcgan", "--out", tmp_path / name), "must end in .onnx")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_names_the_file_and_leaves_nothing(tmp_path, monkeypatch):
    import gan_models.export.onnx as onnx_module

    def full_disk(proto, path, *args, **kwargs):  # what a write on a full disk raises: ENOSPC, no file name
        Path(path).write_bytes(b"half")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(onnx_module.onnx, "save", full_disk)
    out = tmp_path / "full" / "fc.onnx"
    result = run("export", "--hub", "fcgan", "--out", out)
    assert_one_line_error(result, f"[Errno 28] cannot write {out}: No space left on device")
    assert list(out.parent.iterdir()) == []  # neither fc.onnx nor its temporary file


@pytest.fixture
def ort_web(tmp_path, monkeypatch):
    """Stand-ins for onnxruntime-web's files: these tests check what is written where, not the page running."""
    from gan_models.export.web import ORT_WEB_ENV, RUNTIME_FILES

    folder = tmp_path.parent / f"{tmp_path.name}-ort-web"
    folder.mkdir()
    for name in RUNTIME_FILES:
        (folder / name).write_text(f"// {name}\n")
    monkeypatch.setenv(ORT_WEB_ENV, str(folder))
    return folder


def test_web_refuses_a_folder_of_someone_elses_files_before_exporting(tmp_path, ort_web):
    site, out = tmp_path / "site", tmp_path / "fc.onnx"
    site.mkdir()
    (site / "index.html").write_text("my own page\n")
    result = run("export", "--hub", "fcgan", "--out", out, "--web", site)
    assert_one_line_error(result, f"{site} is not empty and is not a page gan-models wrote")
    assert (site / "index.html").read_text() == "my own page\n" and sorted(p.name for p in site.iterdir()) == [
        "index.html"]
    assert not out.exists()  # checked before exporting


def test_web_rewrites_a_page_it_wrote_before(tmp_path, ort_web):
    site = tmp_path / "site"
    assert run("export", "--hub", "fcgan", "--out", tmp_path / "fc.onnx", "--web", site).exit_code == 0
    result = run("export", "--hub", "dcgan", "--out", tmp_path / "dc.onnx", "--web", site)
    assert result.exit_code == 0, result.output
    assert (site / "model.onnx").read_bytes() == (tmp_path / "dc.onnx").read_bytes()
    assert json.loads((site / "model.json").read_text())["model"] == "dcgan"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.")]  # the staging folder is gone


@pytest.mark.parametrize("inside", ["model.onnx", "fc.onnx", "sub/fc.onnx"])
def test_out_inside_web_is_one_clear_line_and_writes_nothing(tmp_path, ort_web, inside):
    site = tmp_path / "site"
    result = run("export", "--hub", "fcgan", "--out", site / inside, "--web", site)
    assert_one_line_error(result, f"the ONNX file {site / inside} lies inside the web folder {site}")
    assert list(tmp_path.iterdir()) == []


def test_a_web_path_that_is_a_file_fails_before_exporting(tmp_path, ort_web):
    site, out = tmp_path / "site", tmp_path / "fc.onnx"
    site.write_text("a file\n")
    result = run("export", "--hub", "fcgan", "--out", out, "--web", site)  # click's own usage error
    assert result.exit_code == 2 and f"Invalid value for '--web': Directory '{site}' is a file." in result.output
    assert not out.exists() and site.read_text() == "a file\n"

"""`gan-models export` and `gan-models validate`: success paths and one-line errors for bad input."""
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


def test_export_from_hub_with_opset_and_fp16_then_validate(tmp_path):
    out = tmp_path / "fc16.onnx"
    result = run("export", "--hub", "fcgan", "--out", out, "--opset", 18, "--fp16")
    assert result.exit_code == 0, result.output
    assert "(fp16, opset 18, dynamo exporter)" in result.output and read_metadata(out)["precision"] == "fp16"
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
    assert "(fp32, opset 17, torchscript exporter)" in result.output and read_metadata(out)["exporter"] == "torchscript"
    assert f"wrote {site / 'index.html'}" in result.output
    assert (site / "model.onnx").read_bytes() == out.read_bytes()
    assert json.loads((site / "model.json").read_text()) == {
        "model": "fcgan", "dataset": "unknown", "nz": 96, "image_shape": [1, 28, 28], "noise": "normal",
        "onnx_precision": "fp32", "exporter": "torchscript"}


def test_web_page_without_onnxruntime_web_fails_before_exporting(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_MODELS_ORT_WEB", str(tmp_path / "nowhere"))
    result = run("export", "--hub", "fcgan", "--out", tmp_path / "fc.onnx", "--web", tmp_path / "site")
    assert_one_line_error(result, "onnxruntime-web is not installed")
    assert "npm ci --prefix web" in result.output and not (tmp_path / "fc.onnx").exists()

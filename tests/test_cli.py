"""The command line: listing models, the demo job, and one-line errors."""
import pytest
from click.testing import CliRunner
from PIL import Image

from gan_models.cli import main


def test_models_lists_every_model():
    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == ["fcgan", "lsgan", "dcgan", "dcgan64"]


def test_demo_samples_every_pretrained_generator_trains_and_exports(tmp_path, data_root):
    from gan_models.registry import WEIGHTS

    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--data-root", str(data_root), "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert "fcgan    G 1,952,528 params  D   267,009 params" in result.output
    assert len(WEIGHTS) == 6
    for record in WEIGHTS:
        stem = tmp_path / "pretrained" / f"{record.model}-{record.dataset}"
        with Image.open(stem.with_suffix(".png")) as grid:
            assert grid.size == (8 * 28 + 9 * 2, 8 * 28 + 9 * 2)  # 8 x 8 tiles with 2-pixel padding
        assert stem.with_suffix(".onnx").stat().st_size > 1_000_000
        assert f"pretrained {stem.name}" in result.output
    assert result.output.count(" validated (max |diff| ") == 6
    assert "done: 62 steps; errD " in result.output  # 8,000 images / 128
    assert (tmp_path / "trained-fcgan-mnist" / "grids" / "epoch_0001.png").exists()
    assert "exported fcgan to " in result.output and "validation passed" in result.output
    assert (tmp_path / "trained-fcgan-mnist.onnx").stat().st_size > 7_000_000  # 1.95M float32 weights
    again = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--data-root", str(data_root), "--epochs", "1"])
    assert again.exit_code == 0 and "done: 62 steps;" in again.output  # a second run reuses the finished one


def test_demo_without_data_says_how_to_get_it(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--data-root", str(tmp_path / "none")])
    assert result.exit_code == 0
    assert "skipping the short training: mnist not found" in result.output and "--download" in result.output


def test_train_with_export_ends_in_a_validated_onnx_file(tmp_path, data_root):
    onnx_path = tmp_path / "g.onnx"
    result = CliRunner().invoke(main, ["train", *TINY_TRAIN, "--data-root", str(data_root),
                                       "--out", str(tmp_path / "run"), "--export", str(onnx_path)])
    assert result.exit_code == 0, result.output
    assert f"exported fcgan to {onnx_path}: validation passed" in result.output
    from export.onnx import read_metadata

    assert read_metadata(onnx_path)["nz"] == "8" and read_metadata(onnx_path)["dataset"] == "mnist"


def test_help_explains_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "demo" in result.output and "models" in result.output


def run(*args, **env):
    result = CliRunner().invoke(main, list(map(str, args)), env=env or None)
    return result


TINY_TRAIN = ["--model", "fcgan", "--nz", "8", "--ngf", "16", "--ndf", "16", "--max-images", "256",
              "--batch-size", "32", "--epochs", "1", "--no-progress"]


def test_train_then_sample_from_the_checkpoint(tmp_path, data_root):
    out = tmp_path / "run"
    result = run("train", *TINY_TRAIN, "--data-root", data_root, "--out", out, "--ema-decay", "0.9")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("done: 8 steps; errD ")
    assert (out / "checkpoint.pt").exists() and (out / "grids" / "epoch_0001.png").exists()

    grid = tmp_path / "grid.png"
    result = run("sample", "--checkpoint", out / "checkpoint.pt", "-n", "10", "--out", grid, "--nrow", "5")
    assert result.exit_code == 0, result.output
    assert "wrote 10 images (1, 28, 28)" in result.output
    with Image.open(grid) as image:
        assert image.size == (5 * 30 + 2, 2 * 30 + 2)

    walk = tmp_path / "walk.png"
    result = run("sample", "--checkpoint", out / "checkpoint.pt", "--interpolate", "-n", "24", "--out", walk)
    assert result.exit_code == 0 and "wrote 24 images" in result.output
    with Image.open(walk) as image:
        assert image.size == (8 * 30 + 2, 3 * 30 + 2)

    # Resuming takes the saved config; only what is given on the command line changes it.
    result = run("train", "--out", out, "--epochs", "2", "--resume")
    assert result.exit_code == 0 and result.output.startswith("done: 16 steps"), result.output
    result = run("train", "--out", out, "--epochs", "3", "--lr-d", "0.1", "--resume")
    assert result.exit_code == 1 and "config differs from the checkpoint's in lr_d: 0.001 -> 0.1" in result.output


def test_sample_from_a_fresh_hub_generator(tmp_path):
    result = run("sample", "--hub", "dcgan64", "-n", "4", "--out", tmp_path / "g.png")
    assert result.exit_code == 0 and "wrote 4 images (3, 64, 64)" in result.output


@pytest.mark.parametrize("args, message", [
    (["train", "--model", "gan"], "Invalid value for '--model': 'gan' is not one of"),
    (["train", "--epochs", "-2"], "invalid training config: epochs=-2"),
    (["train", "--epochs", "two"], "'two' is not a valid integer"),
    (["train", "--batch-size", "0"], "invalid training config: batch_size=0"),
    (["train", "--data-root", "/nonexistent"], "mnist not found: looked in /nonexistent/MNIST/raw"),
    (["train", "--device", "cuda:3"], "CUDA is not available"),
    (["sample"], "give exactly one of --checkpoint CKPT or --hub NAME"),
    (["sample", "--hub", "fcgan", "--checkpoint", "x.pt"], "give exactly one of --checkpoint CKPT or --hub NAME"),
    (["sample", "--checkpoint", "/nonexistent.pt"], "checkpoint not found: /nonexistent.pt"),
    (["sample", "--hub", "fcgan", "-n", "0"], "0 is not in the range x>=1"),
    (["sample", "--hub", "fcgan", "--pretrained", "--dataset", "celeba"],
     "no pretrained weights for 'fcgan' on 'celeba'"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(args, message, tmp_path, monkeypatch, data_root):
    monkeypatch.chdir(tmp_path)
    if "--data-root" not in args and args[0] == "train":
        args = ["train", "--data-root", str(data_root), "--max-images", "64", "--batch-size", "32", *args[1:]]
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_unwritable_out_dir_is_one_line(tmp_path, data_root):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("train", *TINY_TRAIN, "--data-root", data_root, "--out", blocker / "run")
    assert result.exit_code == 1 and result.output.startswith("Error: ") and result.output.count("\n") == 1


def test_every_train_option_has_help():
    import dataclasses

    from gan_models.training.trainer import TrainConfig

    result = run("train", "--help")
    assert result.exit_code == 0
    for field in dataclasses.fields(TrainConfig):
        assert "--" + field.name.replace("_", "-") in result.output
    assert "Adam learning rate; default 1e-3 (2e-4 for dcgan64)" in " ".join(result.output.split())

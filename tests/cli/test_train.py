"""`gan-models train`: training, resuming, exporting at the end, one-line errors."""
import csv
import json

import pytest
from click.testing import CliRunner
from PIL import Image

from gan_models.cli import main
from tests.helpers import TINY_ARGS, assert_refused, one_error_line, run_cli

TINY_TRAIN = ["--model", "fcgan", "--nz", "8", "--ngf", "16", "--ndf", "16", "--max-images", "256",
              "--batch-size", "32", "--diffaugment", "", "--epochs", "1", "--no-progress"]


def test_train_with_export_ends_in_a_validated_onnx_file(tmp_path, data_root):
    onnx_path = tmp_path / "g.onnx"
    result = CliRunner().invoke(main, ["train", *TINY_TRAIN, "--data-root", str(data_root),
                                       "--out", str(tmp_path / "run"), "--export", str(onnx_path)])
    assert result.exit_code == 0, result.output
    assert f"exported fcgan to {onnx_path}: validation passed" in result.output
    from gan_models.export.onnx import read_metadata

    assert read_metadata(onnx_path)["nz"] == "8" and read_metadata(onnx_path)["dataset"] == "mnist"


def test_train_then_sample_from_the_checkpoint(tmp_path, data_root):
    out = tmp_path / "run"
    result = run_cli("train", *TINY_TRAIN, "--data-root", data_root, "--out", out, "--ema-decay", "0.9")
    assert result.exit_code == 0, result.output
    epoch_line, done_line = result.output.splitlines()[:2]
    assert epoch_line.startswith("epoch 1/1: 8/8 steps, errD ") and done_line.startswith("done: 8 steps; errD ")
    assert (out / "checkpoint.pt").exists() and (out / "grids" / "epoch_0001.png").exists()

    grid = tmp_path / "grid.png"
    result = run_cli("sample", "--checkpoint", out / "checkpoint.pt", "-n", "10", "--out", grid, "--nrow", "5")
    assert result.exit_code == 0, result.output
    assert "wrote 10 images (1, 28, 28)" in result.output
    with Image.open(grid) as image:
        assert image.size == (5 * 30 + 2, 2 * 30 + 2)

    walk = tmp_path / "walk.png"
    result = run_cli("sample", "--checkpoint", out / "checkpoint.pt", "--interpolate", "-n", "24", "--out", walk)
    assert result.exit_code == 0 and "wrote 3 walks of 8 frames (1, 28, 28)" in result.output
    with Image.open(walk) as image:
        assert image.size == (8 * 30 + 2, 3 * 30 + 2)

    # Resuming takes the saved config; only what is given on the command line changes it.
    result = run_cli("train", "--out", out, "--epochs", "2", "--resume")
    assert result.exit_code == 0 and result.output.startswith("epoch 2/2: 8/8 steps, "), result.output
    assert result.output.splitlines()[1].startswith("done: 16 steps"), result.output
    result = run_cli("train", "--out", out, "--epochs", "3", "--lr-d", "0.1", "--resume")
    assert result.exit_code == 1 and "config differs from the checkpoint's in lr_d: 0.001 -> 0.1" in result.output
    # Fewer epochs than the checkpoint holds: refused before config.json is rewritten.
    config = (out / "config.json").read_bytes()
    result = run_cli("train", "--out", out, "--epochs", "1", "--resume")
    assert result.exit_code == 1 and result.output == (
        f"Error: cannot resume {out / 'checkpoint.pt'} for 1 epoch(s): it has trained 2 epochs (16 steps) already; "
        "give --epochs 2 or more to continue it\n")
    assert (out / "config.json").read_bytes() == config


def test_diverging_weights_are_never_checkpointed(tmp_path, data_root):
    """The LSGAN at lr 30,000: its step-1 update makes every generator weight NaN and its errG 3e35; it stops there."""
    out = tmp_path / "run"
    result = run_cli("train", "--model", "lsgan", "--lr-g", "30000", "--lr-d", "30000", "--checkpoint-every", "1",
                     "--max-images", "256", "--batch-size", "128", "--diffaugment", "", "--epochs", "1",
                     "--no-progress", "--data-root", data_root, "--out", out)
    assert result.exit_code == 1 and result.output == (
        "Error: the loss exploded at step 1 (errG=2.98e+35, beyond 1e+10): training diverged and stopped (lower the "
        "learning rates), and no checkpoint was written (it stopped before the first)\n")
    assert not (out / "checkpoint.pt").exists()


def test_unwritable_out_dir_is_one_line(tmp_path, data_root):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_cli("train", *TINY_TRAIN, "--data-root", data_root, "--out", blocker / "run")
    assert result.exit_code == 1 and result.output.startswith("Error: ") and result.output.count("\n") == 1
    result = run_cli("train", *TINY_TRAIN, "--data-root", data_root, "--out", tmp_path / "run",
                     "--export", blocker / "g.onnx")
    assert result.output == f"Error: [Errno 20] cannot write {blocker / 'g.onnx'}: {blocker} is a file, not a folder\n"
    assert not (tmp_path / "run").exists()  # refused before training


def test_every_train_option_has_help():
    import dataclasses

    from gan_models.training.config import TrainConfig

    result = run_cli("train", "--help")
    assert result.exit_code == 0
    for field in dataclasses.fields(TrainConfig):
        assert "--" + field.name.replace("_", "-") in result.output
    assert "Adam learning rate; default: the model's, 0.001 (0.0002 for dcgan64)" in " ".join(result.output.split())


# Bad input from the robustness matrix (issue 6): each case is one `Error: ...` line naming the problem.
TRAIN_CASES = [
    (["train", "--model", "biggan"], "Invalid value for '--model'"),
    (["train", "--dataset", "imagenet"], "Invalid value for '--dataset'"),
    (["train", "--loss", "wasserstein"], "Invalid value for '--loss'"),
    (["train", "--epochs", "0"], "invalid training config: epochs=0"),
    (["train", "--epochs", "-3"], "epochs=-3"),
    (["train", "--batch-size", "0"], "batch_size=0"),
    (["train", "--batch-size", "ten"], "'ten' is not a valid integer"),
    (["train", "--lr-g", "-0.1"], "lr_g=-0.1"),
    (["train", "--lr-d", "fast"], "'fast' is not a valid float"),
    (["train", "--max-images", "0"], "max_images=0"),
    (["train", "--channels", "2"], "channels=2"),
    (["train", "--channels", "3"], "mnist images are grayscale: --channels 3 would train on three identical copies"),
    (["train", "--lr-g", "inf"], "invalid training config: lr_g=inf"),
    (["train", "--lr-d", "nan"], "invalid training config: lr_d=nan"),
    (["train", "--gp-weight", "inf"], "invalid training config: gp_weight=inf"),
    (["train", "--beta2", "1"], "invalid training config: beta2=1.0"),
    (["train", "--label-smoothing", "1.5"], "label_smoothing=1.5"),
    (["train", "--device", "tpu"], "device string: tpu"),
    (["train", "--dataset", "folder", "--data-root", "{missing}"], "image folder not found"),
    (["train", *TINY_ARGS, "--data-root", "{empty}", "--out", "{out}/a"], "mnist not found"),
    (["train", *TINY_ARGS, "--max-images", "8", "--data-root", "{data}", "--out", "{out}/b"],
     "8 images are too few for batch_size 16"),
    (["train", *TINY_ARGS, "--data-root", "{data}", "--resume", "--out", "{empty}"], "checkpoint not found"),
    (["train", "--out", "{text}"], "is a file"),
    (["train", "--seed", str(2**64)], f"invalid training config: seed={2**64}"),
]


@pytest.mark.parametrize("args, message", TRAIN_CASES, ids=[" ".join(a)[:60] for a, _ in TRAIN_CASES])
def test_bad_cli_input_is_one_line_naming_the_problem(args, message, paths, data_root):
    values = {**paths, "data": str(data_root)}
    result = CliRunner().invoke(main, [a.format(**values) for a in args])
    assert message in one_error_line(result)


@pytest.mark.parametrize("args, message", [
    (["train", "--model", "gan"], "Invalid value for '--model': 'gan' is not one of"),
    (["train", "--epochs", "-2"], "invalid training config: epochs=-2"),
    (["train", "--epochs", "two"], "'two' is not a valid integer"),
    (["train", "--batch-size", "0"], "invalid training config: batch_size=0"),
    (["train", "--data-root", "/nonexistent"], "mnist not found: looked in /nonexistent/MNIST/raw"),
    (["train", "--device", "cuda:3"], "CUDA is not available"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(args, message, tmp_path, monkeypatch, data_root):
    monkeypatch.chdir(tmp_path)
    if "--data-root" not in args and args[0] == "train":
        args = ["train", "--data-root", str(data_root), "--max-images", "64", "--batch-size", "32", *args[1:]]
    assert_refused(run_cli(*args), message)


def test_precision_is_no_option_of_train_and_compute_dtype_takes_the_training_precisions():
    result = run_cli("train", "--precision", "bf16")
    assert result.exit_code == 2 and "No such option '--precision'" in result.output
    result = run_cli("train", "--compute-dtype", "fp32")
    assert result.exit_code == 2 and "'fp32' is not one of 'float32', 'bfloat16'" in result.output


def test_unreadable_images_of_a_folder_dataset_are_one_plain_warning_line(tmp_path):
    import numpy as np

    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(16):
        Image.fromarray(np.full((8, 8, 3), index * 16, dtype=np.uint8)).save(folder / f"{index}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    result = run_cli("train", *TINY_ARGS, "--dataset", "folder", "--data-root", folder, "--epochs", "1",
                     "--out", tmp_path / "run")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "broken.png" in line]
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: skipped 1 unreadable image(s): {folder}/broken.png")
    assert "UserWarning" not in result.output and "warnings.warn" not in result.output


def test_train_conditional_on_unlabelled_data_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["train", "--model", "dcgan64", "--dataset", "celeba", "--conditional",
                                       "--data-root", str(tmp_path), "--out", str(tmp_path / "run")])
    assert result.exit_code == 1
    assert result.output.strip() == ("Error: a conditional GAN needs labelled images, but celeba has no class "
                                     "labels; use mnist, fashion-mnist, emoji or a folder with one subfolder of "
                                     "images per class")



def test_eval_every_alone_evaluates_every_500_steps_and_after_the_last(tmp_path, data_root):
    out = tmp_path / "run"
    result = run_cli("train", *TINY_ARGS, "--max-images", 32, "--epochs", 1, "--eval-every", "--eval-samples", 8,
                     "--data-root", data_root, "--out", out)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "config.json").read_text())["eval_every"] == 500
    assert [row["step"] for row in read_log_rows(out) if row["fd"]] == ["2"]  # 2 steps: only the run's last


def read_log_rows(out) -> list[dict]:
    with open(out / "log.csv", newline="") as file:
        return list(csv.DictReader(file))

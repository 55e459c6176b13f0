"""The command line as a whole: listing models, help, the demo job, unknown commands."""
import subprocess
import sys

import pytest
from click.testing import CliRunner
from PIL import Image

from gan_models.cli import main
from tests.helpers import one_error_line


def test_models_lists_every_model():
    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == ["fcgan", "lsgan", "dcgan", "dcgan64"]


@pytest.mark.slow
def test_demo_samples_every_pretrained_generator_trains_and_exports(tmp_path, data_root):
    from gan_models.registry import WEIGHTS

    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--data-root", str(data_root), "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert "fcgan    G 1,952,528 params  D   267,009 params" in result.output
    assert "z (N, 100) -> images (N, 3, 64, 64)" in result.output  # dcgan64 as torch.hub builds it
    assert len(WEIGHTS) == 9 and sum(r.conditional for r in WEIGHTS) == 2
    for record in WEIGHTS:
        stem = tmp_path / "pretrained" / record.stem
        rows = 10 if record.conditional else 8  # a conditional generator: a row of 8 per class
        tile = record.image_shape[-1]  # 28, or 64 for emoji
        with Image.open(stem.with_suffix(".png")) as grid:
            assert grid.size == (8 * tile + 9 * 2, rows * tile + (rows + 1) * 2)  # tiles with 2-pixel padding
        assert stem.with_suffix(".onnx").stat().st_size > 1_000_000
        assert f"pretrained {stem.name}" in result.output
    assert result.output.count(" validated (max |diff| ") == 9
    assert "done: 62 steps; errD " in result.output  # 8,000 images / 128
    assert (tmp_path / "trained-fcgan-mnist" / "grids" / "epoch_0001.png").exists()
    assert "exported fcgan to " in result.output and "validation passed" in result.output
    assert (tmp_path / "trained-fcgan-mnist.onnx").stat().st_size > 7_000_000  # 1.95M float32 weights
    run = tmp_path / "trained-fcgan-mnist"
    assert (f"look at {run / 'grids' / 'epoch_0001.png'}: 64 digits of the trained generator; {run / 'progress.png'}: "
            f"the same latents after every epoch; {run / 'losses.png'}: the losses; the generator as ONNX: "
            f"{tmp_path / 'trained-fcgan-mnist.onnx'}") in result.output
    (run / "grids" / "stale.png").write_bytes(b"")
    again = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--data-root", str(data_root), "--epochs", "1"])
    assert again.exit_code == 0, again.output
    assert f"{run} holds a finished demo run (62 steps): training it afresh" in again.output
    assert "done: 62 steps;" in again.output and not (run / "grids" / "stale.png").exists()


def test_demo_without_data_says_how_to_get_it(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--data-root", str(tmp_path / "none")])
    assert result.exit_code == 0
    assert "skipping the short training: mnist not found" in result.output and "--download" in result.output


def test_help_explains_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "demo" in result.output and "models" in result.output


# Bad input from the robustness matrix (issue 6): each case is one `Error: ...` line naming the problem.
COMMAND_CASES = [
    (["frobnicate"], "No such command 'frobnicate'"),
]


@pytest.mark.parametrize("args, message", COMMAND_CASES, ids=[" ".join(a)[:60] for a, _ in COMMAND_CASES])
def test_bad_cli_input_is_one_line_naming_the_problem(args, message, paths, data_root):
    values = {**paths, "data": str(data_root)}
    result = CliRunner().invoke(main, [a.format(**values) for a in args])
    assert message in one_error_line(result)


def test_help_of_every_command_is_built_without_importing_torch():
    # --help must answer at once; importing torch alone takes seconds, so no help path may load it.
    code = ("import sys\n"
            "from click.testing import CliRunner\n"
            "import gan_models, gan_models.cli\n"
            "for args in [['--help']] + [[name, '--help'] for name in gan_models.cli.main.commands] + [['models']]:\n"
            "    assert CliRunner().invoke(gan_models.cli.main, args).exit_code == 0, args\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'onnx')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_demo_help_keeps_its_numbered_list():
    lines = CliRunner().invoke(main, ["demo", "--help"]).output.splitlines()
    assert [line.strip()[:3] for line in lines if line.strip()[:2] in ("1.", "2.", "3.")] == ["1. ", "2. ", "3. "]


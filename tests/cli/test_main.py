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
    import torch

    from gan_models.export import read_metadata
    from gan_models.registry import MODELS, WEIGHTS, build_discriminator, build_generator

    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--data-root", str(data_root), "--epochs", "1"])
    assert result.exit_code == 0, result.output
    for name in MODELS:  # each model is built as torch.hub builds it, and its real size and shapes are reported
        torch.manual_seed(0)
        generator, discriminator = build_generator(name), build_discriminator(name)
        counts = [sum(p.numel() for p in net.parameters()) for net in (generator, discriminator)]
        line = next(line for line in result.output.splitlines() if line.split()[:1] == [name])
        assert [f"{n:,}" for n in counts] == [w for w in line.split() if w[0].isdigit() and w[-1].isdigit()][:2]
        assert f"(N, {', '.join(map(str, generator.image_shape))})" in line
    for record in WEIGHTS:  # a grid and an ONNX file of every shipped generator
        stem = tmp_path / "pretrained" / record.stem
        rows = len(record.generator_kwargs.get("classes", ())) or 8  # a conditional grid: a row of 8 per class
        tile = record.image_shape[-1]  # 28, or 64 for emoji
        with Image.open(stem.with_suffix(".png")) as grid:
            assert grid.size == (8 * tile + 9 * 2, rows * tile + (rows + 1) * 2)  # tiles with 2-pixel padding
        meta = read_metadata(stem.with_suffix(".onnx"))
        assert (meta["model"], meta["dataset"], int(meta["num_classes"])) == (
            record.model, record.dataset, len(record.generator_kwargs.get("classes", ())))
    run = tmp_path / "trained-fcgan-mnist"  # then one epoch of FC-GAN training on MNIST, exported
    first = torch.load(run / "checkpoint.pt", weights_only=True)["step"]
    assert first == 8_000 // 128
    for path in (run / "grids" / "epoch_0001.png", run / "progress.png", run / "losses.png"):
        assert path.stat().st_size > 0 and str(path) in result.output  # written, and pointed to
    assert read_metadata(tmp_path / "trained-fcgan-mnist.onnx")["model"] == "fcgan"
    (run / "grids" / "stale.png").write_bytes(b"")
    again = CliRunner().invoke(main, ["demo", "--out", str(tmp_path), "--data-root", str(data_root), "--epochs", "1"])
    assert again.exit_code == 0, again.output
    assert "afresh" in again.output  # a finished run is trained again from the start, not resumed past its end
    assert not (run / "grids" / "stale.png").exists()
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == first


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


"""The command line: listing models, the demo job, and one-line errors."""
from click.testing import CliRunner
from PIL import Image

from gan_models.cli import main


def test_models_lists_every_model():
    result = CliRunner().invoke(main, ["models"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == ["fcgan", "lsgan", "dcgan", "dcgan64"]


def test_demo_writes_a_grid_per_model(tmp_path):
    result = CliRunner().invoke(main, ["demo", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "G 1,952,528 params  D   267,009 params" in result.output
    for name, size in [("fcgan", 28), ("lsgan", 28), ("dcgan", 28), ("dcgan64", 64)]:
        with Image.open(tmp_path / f"{name}-untrained.png") as grid:
            assert grid.size == (8 * size + 9 * 2, 8 * size + 9 * 2)  # 8 x 8 tiles with 2-pixel padding


def test_help_explains_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "demo" in result.output and "models" in result.output

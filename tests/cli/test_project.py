"""`gan-models project`: the files it writes beside the image, `sample --z` on its z, and bad input as one line."""
import numpy as np
import torch
from PIL import Image

from gan_models.cli.project import read_image
from gan_models.sources import from_hub
from tests.helpers import one_error_line, run_cli

FAST = ("--steps", "20", "--restarts", "2")


def _digit(path, size=28, mode="L"):
    """A generated-looking target: the fresh hub fcgan's image of seed 3, saved as an 8-bit `mode` PNG."""
    pixels = from_hub("fcgan").generator.sample(1, seed=3, output="uint8")[0, 0].numpy()
    image = Image.fromarray(pixels).convert(mode)
    image = image.resize((size, size)) if size != 28 else image
    image.save(path)
    return path


def test_project_writes_the_files_and_sample_z_reproduces_the_reconstruction(tmp_path):
    image = _digit(tmp_path / "digit.png")
    result = run_cli("project", image, "--hub", "fcgan", *FAST)
    assert result.exit_code == 0, result.output
    assert "no shipped classifier for untrained weights" in result.output  # pixel loss only, said so
    mse = float(result.output.split("pixel MSE ")[-1].split(",")[0].split()[0])
    z = np.load(tmp_path / "digit.z.npy")
    assert z.shape == (1, 96) and z.dtype == np.float32
    grid = np.asarray(Image.open(tmp_path / "digit.reconstruction.png"))[..., 0]  # image | reconstruction, padded 2
    assert grid.shape == (32, 62)
    assert np.array_equal(grid[2:30, 2:30], np.asarray(Image.open(image)))
    reconstruction = grid[2:30, 32:60]
    assert abs(((reconstruction / 127.5 - grid[2:30, 2:30] / 127.5) ** 2).mean() - mse) < 2e-3  # up to uint8 rounding
    frames = Image.open(tmp_path / "digit.walk.gif")
    assert frames.n_frames == 16
    resampled = run_cli("sample", "--hub", "fcgan", "--z", tmp_path / "digit.z.npy", "--out", tmp_path / "again.npy")
    assert resampled.exit_code == 0, resampled.output
    assert np.array_equal(np.load(tmp_path / "again.npy")[0, 0], reconstruction)


def test_a_conditional_generator_projects_with_and_without_a_class(tmp_path):
    image = _digit(tmp_path / "d.png")
    given = run_cli("project", image, "--hub", "fcgan", "--conditional", "--class", "4", "--out-dir",
                    tmp_path / "given", *FAST)
    assert given.exit_code == 0, given.output
    assert "class 4," in given.output and "gan-models sample --hub fcgan --conditional --class 4 --z" in given.output
    searched = run_cli("project", image, "--hub", "fcgan", "--conditional", "--out-dir", tmp_path / "all", *FAST)
    assert searched.exit_code == 0, searched.output
    assert "(best of all classes)" in searched.output
    best = lambda out: float(out.split("loss ")[1].split(",")[0])  # noqa: E731
    assert best(searched.output) <= best(given.output) + 1e-4  # the search tries class 4 from the same starts
    label = searched.output.split("--class ")[1].split()[0]
    again = run_cli("sample", "--hub", "fcgan", "--conditional", "--class", label, "--z",
                    tmp_path / "all" / "d.z.npy", "--out", tmp_path / "again.npy")
    grid = np.asarray(Image.open(tmp_path / "all" / "d.reconstruction.png"))[..., 0]
    assert again.exit_code == 0 and np.array_equal(np.load(tmp_path / "again.npy")[0, 0], grid[2:30, 32:60])
    assert "give --class with --z" in one_error_line(
        run_cli("sample", "--hub", "fcgan", "--conditional", "--z", tmp_path / "all" / "d.z.npy", "--out",
                tmp_path / "x.png"))


def test_other_sizes_and_channels_are_converted_with_a_note(tmp_path, capsys):
    image = _digit(tmp_path / "big.png", size=40, mode="RGB")
    pixels = read_image(image, 1, 28)
    notes = capsys.readouterr().err
    assert pixels.shape == (1, 28, 28) and pixels.dtype == torch.uint8
    assert "is colour (RGB); converted to grayscale" in notes and "is 40 x 40; resized to 28 x 28" in notes
    result = run_cli("project", image, "--hub", "fcgan", "--steps", "1", "--restarts", "1")
    assert result.exit_code == 0 and "resized to 28 x 28" in result.output


def test_bad_input_is_one_line(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    assert f"{broken} is not an image that can be read" in one_error_line(run_cli("project", broken, "--hub", "fcgan"))
    missing = tmp_path / "missing.png"
    assert "does not exist" in one_error_line(run_cli("project", missing, "--hub", "fcgan"))
    image = _digit(tmp_path / "d.png")
    assert "--class needs a conditional generator" in one_error_line(
        run_cli("project", image, "--hub", "fcgan", "--class", "3"))
    assert "leave it out to try every class" in one_error_line(
        run_cli("project", image, "--hub", "fcgan", "--conditional", "--class", "all"))
    z = tmp_path / "z.npy"
    np.save(z, np.zeros((1, 5), np.float32))
    assert "must hold finite float latents (n, 96)" in one_error_line(
        run_cli("sample", "--hub", "fcgan", "--z", z, "--out", tmp_path / "s.png"))
    assert "-n and --seed do not apply with --z" in one_error_line(
        run_cli("sample", "--hub", "fcgan", "--z", z, "-n", "3", "--out", tmp_path / "s.png"))

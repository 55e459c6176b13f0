"""`gan-models sample`: grids and .npy files from a hub generator or a checkpoint."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from gan_models.cli import main
from gan_models.sampling import generate
from gan_models.sources import from_checkpoint
from tests.helpers import REPO, assert_refused, child_env, one_error_line, run_cli


def test_sample_from_a_fresh_hub_generator(tmp_path):
    result = run_cli("sample", "--hub", "dcgan64", "-n", "4", "--out", tmp_path / "g.png")
    assert result.exit_code == 0 and "wrote 4 images (3, 64, 64)" in result.output


@pytest.mark.slow
def test_sample_100000_images_in_bounded_memory(tmp_path, tiny_checkpoint):
    """`sample -n 100000 --out x.npy` streams: peak RSS grows by about a batch, not by the 75 MB of images."""
    # A warm-up run of 1,000 images pays for lazy imports and allocator pools. Then the kernel's
    # peak-RSS mark is reset to the current RSS and read back after the big run. (getrusage's
    # ru_maxrss would also count the pytest process this child was forked from before its exec.)
    script = ("import sys\n"
              "from gan_models.cli import main\n"
              "def run(n, out):\n"
              "    try:\n"
              "        main(sys.argv[1:] + ['-n', str(n), '--out', out], prog_name='gan-models')\n"
              "    except SystemExit as exit_:\n"
              "        assert not exit_.code, exit_.code\n"
              "def status_kb(key):\n"
              "    return int(next(line for line in open('/proc/self/status') if line.startswith(key)).split()[1])\n"
              "run(1000, 'warmup.npy')\n"
              "open('/proc/self/clear_refs', 'w').write('5')\n"
              "base = status_kb('VmRSS:')\n"
              "run(100000, 'samples.npy')\n"
              "print('rss_growth_mb', (status_kb('VmHWM:') - base) / 1024)\n")
    out = tmp_path / "samples.npy"
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script, "sample", "--checkpoint", str(tiny_checkpoint)],
                          capture_output=True, text=True, env=child_env(), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    growth_mb = float(done.stdout.split("rss_growth_mb")[1])
    images = np.load(out, mmap_mode="r")
    assert images.shape == (100_000, 1, 28, 28) and images.dtype == np.uint8
    from gan_models.sources import from_checkpoint

    first = generate(from_checkpoint(tiny_checkpoint).generator, 300, seed=0)
    assert np.array_equal(images[:300], first.numpy())
    assert growth_mb < 40, f"peak RSS grew by {growth_mb:.0f} MB"  # about half of what the images take
    print(f"\nsample -n 100000 --out .npy: {time.monotonic() - began:.1f} s, peak RSS growth {growth_mb:.0f} MB, "
          f"file {out.stat().st_size / 2**20:.0f} MB")


# Bad input from the robustness matrix (issue 6): each case is one `Error: ...` line naming the problem.
SAMPLE_CASES = [
    (["sample", "-n", "0", "--hub", "fcgan"], "0 is not in the range x>=1"),
    (["sample", "-n", "-5", "--hub", "fcgan"], "-5 is not in the range x>=1"),
    (["sample", "-n", "many", "--hub", "fcgan"], "'many' is not a valid integer"),
    (["sample", "--nrow", "0", "--hub", "fcgan"], "0 is not in the range x>=1"),
    (["sample", "--hub", "fcgan", "--seed", str(2**64)], f"{2**64} is not in the range 0<=x<={2**64 - 1}"),
    (["sample", "--hub", "fcgan", "--seed", "-1"], "-1 is not in the range 0<=x<="),
    (["sample"], "give exactly one of --checkpoint CKPT or --hub NAME"),
    (["sample", "--hub", "fcgan", "--checkpoint", "{ckpt}"], "give exactly one of"),
    (["sample", "--checkpoint", "{missing}"], "checkpoint not found"),
    (["sample", "--checkpoint", "{dir}"], "is a directory"),
    (["sample", "--checkpoint", "{text}"], "cannot read checkpoint"),
    (["sample", "--checkpoint", "{ckpt}", "--dataset", "mnist"],
     "--pretrained, --dataset and --conditional go with --hub"),
    (["sample", "--checkpoint", "{ckpt}", "--conditional"],
     "a checkpoint knows its dataset and whether it is conditional"),
    (["sample", "--hub", "lsgan", "--pretrained", "--conditional"],
     "no pretrained weights for conditional 'lsgan' on 'mnist'"),
    (["sample", "--hub", "biggan"], "unknown generator 'biggan'"),
    (["sample", "--hub", "fcgan_discriminator"], "unknown generator 'fcgan_discriminator'"),
    (["sample", "--hub", "fcgan", "--pretrained", "--dataset", "celeba"],
     "no pretrained weights for 'fcgan' on 'celeba'"),
    (["sample", "--hub", "fcgan", "--dataset", "mnist"], "applies only to pretrained weights"),
    (["sample", "--hub", "fcgan", "-n", "100000", "--out", "{out}/x.png"],
     "write them to a .npy file or a folder instead: --out {out}/x.npy or --out-dir"),
    (["sample", "--hub", "fcgan", "--interpolate", "--out", "{out}/x.npy"], "--interpolate draws a PNG grid"),
    (["sample", "--hub", "fcgan", "--out", "{dir}"], "is a directory"),
    (["sample", "--hub", "fcgan", "--out", ""], "'.' is a folder, not a file name"),
    # issue 14: formats it cannot write, walks of fewer than 8 frames, arrays larger than the disk, unwritable paths
    (["sample", "--hub", "fcgan", "--out", "{out}/s.txt"],
     "--out {out}/s.txt must end in .png (a grid), .npy (a uint8 array) or .gif (an animated walk)"),
    (["sample", "--hub", "fcgan", "--interpolate", "-n", "3", "--out", "{out}/w.png"],
     "give -n a multiple of 8, got 3"),
    (["sample", "--hub", "fcgan", "-n", str(10**20), "--out", "{out}/s.npy"],
     "cannot write {out}/s.npy: the images take 78,400,000,000,000,000,000,000 bytes and only"),
    (["sample", "--hub", "fcgan", "--out", "/proc/s.png"], "cannot write /proc/s.png: "),
    (["sample", "--hub", "fcgan", "--out", "{text}/s.png"],
     "cannot write {text}/s.png: {text} is a file, not a folder"),
    # issue 20 item 5 and issue 21 items 1-2: one file per image, truncation, walks through chosen stops, GIFs
    (["sample", "--hub", "fcgan", "--out", "{out}/s.png", "--out-dir", "{out}/d"],
     "give --out FILE or --out-dir DIR, not both"),
    (["sample", "--hub", "fcgan", "--out-dir", "{text}"],
     "Invalid value for '--out-dir': Directory '{text}' is a file"),
    (["sample", "--hub", "fcgan", "--format", "bmp", "--out-dir", "{out}/d"], "'bmp' is not one of 'png', 'jpg'"),
    (["sample", "--hub", "fcgan", "--truncation", "0", "--out", "{out}/s.png"],
     "--truncation must be a finite number > 0 (standard deviations), got 0.0"),
    (["sample", "--hub", "fcgan", "--truncation", "nan", "--out", "{out}/s.png"], "got nan"),
    (["sample", "--hub", "fcgan", "--out", "{out}/s.gif"], "a .gif is an animated walk; add --interpolate"),
    (["sample", "--hub", "fcgan", "--seeds", "1,2", "--out", "{out}/s.png"],
     "--seeds and a list of classes are stops of a walk: add --interpolate"),
    (["sample", "--hub", "fcgan", "--frames", "4", "--out", "{out}/s.png"], "--frames goes with --interpolate"),
    (["sample", "--hub", "fcgan", "--interpolate", "--out-dir", "{out}/d"],
     "--interpolate draws a PNG grid or an animated GIF"),
    (["sample", "--hub", "fcgan", "--interpolate", "--seeds", "1,x", "--out", "{out}/w.gif"],
     "--seeds 1,x: 'x' is not a seed (an integer 0 to 18446744073709551615)"),
    (["sample", "--hub", "fcgan", "--interpolate", "--seeds", "1,2", "-n", "16", "--out", "{out}/w.gif"],
     "-n does not apply to a walk through --seeds or a list of classes"),
    (["sample", "--hub", "fcgan", "--interpolate", "--seeds", "1", "--out", "{out}/w.gif"],
     "a walk needs at least 2 stops (seeds or classes), got 1"),
    (["sample", "--hub", "fcgan", "--interpolate", "--frames", "3", "-n", "8", "--out", "{out}/w.png"],
     "give -n a multiple of 3, got 8"),
    (["sample", "--hub", "fcgan", "--interpolate", "--interpolation", "cubic", "--out", "{out}/w.png"],
     "'cubic' is not one of 'slerp', 'linear'"),
    (["sample", "--hub", "dcgan", "--conditional", "--interpolate", "--seeds", "1,2", "--out", "{out}/w.gif"],
     "a conditional generator walks within a class: add --class (one, or one per seed)"),
    (["sample", "--hub", "dcgan", "--conditional", "--interpolate", "--class", "1,2,3", "--seeds", "4,5",
      "--out", "{out}/w.gif"], "give one seed, or one per stop: 2 seeds for 3 classes"),
]


@pytest.mark.parametrize("args, message", SAMPLE_CASES, ids=[" ".join(a)[:60] for a, _ in SAMPLE_CASES])
def test_bad_cli_input_is_one_line_naming_the_problem(args, message, paths, data_root):
    values = {**paths, "data": str(data_root)}
    result = CliRunner().invoke(main, [a.format(**values) for a in args])
    assert message.format(**values) in one_error_line(result)
    assert not Path(paths["out"]).exists() or not any(Path(paths["out"]).iterdir())  # no file, no temporary one


def test_sigterm_while_writing_an_array_removes_the_unfinished_file(tmp_path):
    """A killed `sample` leaves nothing behind: SIGTERM ends it as Ctrl-C does, removing the temporary file."""
    child = subprocess.Popen([sys.executable, "-m", "gan_models.cli", "sample", "--hub", "fcgan", "-n", "50000000",
                              "--out", "s.npy"], cwd=tmp_path, env=child_env(), stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not list(tmp_path.glob(".s.npy.*.tmp")) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".s.npy.*.tmp")), child.stderr.read() if child.poll() is not None else "no temp file"
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=60) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["sample"], "give exactly one of --checkpoint CKPT or --hub NAME"),
    (["sample", "--hub", "fcgan", "--checkpoint", "x.pt"], "give exactly one of --checkpoint CKPT or --hub NAME"),
    (["sample", "--checkpoint", "/nonexistent.pt"], "checkpoint not found: /nonexistent.pt"),
    (["sample", "--hub", "fcgan", "-n", "0"], "0 is not in the range x>=1"),
    (["sample", "--hub", "fcgan", "--pretrained", "--dataset", "celeba"],
     "no pretrained weights for 'fcgan' on 'celeba'"),
])
def test_bad_input_is_one_line_and_a_non_zero_exit(args, message, tmp_path, monkeypatch, data_root):
    monkeypatch.chdir(tmp_path)
    assert_refused(run_cli(*args), message)


def test_sample_a_class_by_name_or_index(conditional_checkpoint, tmp_path):
    runner = CliRunner()
    for which in ("Sneaker", "sneaker", "7"):
        result = runner.invoke(main, ["sample", "--checkpoint", str(conditional_checkpoint), "--class", which,
                                      "-n", "5", "--out", str(tmp_path / f"{which}.npy")])
        assert result.exit_code == 0, result.output
    by_name, by_index = np.load(tmp_path / "Sneaker.npy"), np.load(tmp_path / "7.npy")
    assert by_name.shape == (5, 1, 28, 28) and np.array_equal(by_name, by_index)
    assert np.array_equal(np.load(tmp_path / "sneaker.npy"), by_name)
    generator = from_checkpoint(conditional_checkpoint).generator
    assert np.array_equal(by_name, generate(generator, 5, seed=0, labels=torch.full((5,), 7)).numpy())


def test_sample_a_class_from_the_shipped_conditional_generator(tmp_path):
    args = ["sample", "--hub", "dcgan", "--pretrained", "--dataset", "fashion-mnist", "--conditional", "--class",
            "Sneaker", "-n", "6", "--seed", "3", "--out", str(tmp_path / "sneakers.npy")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    generator = torch.hub.load(str(REPO), "dcgan", source="local", pretrained=True, dataset="fashion-mnist",
                               conditional=True)
    expected = generate(generator, 6, seed=3, labels=torch.full((6,), 7))
    assert np.array_equal(np.load(tmp_path / "sneakers.npy"), expected.numpy())
    assert generator.classes[7] == "Sneaker"


def test_sample_all_classes_gives_one_row_per_class(conditional_checkpoint, tmp_path):
    result = CliRunner().invoke(main, ["sample", "--checkpoint", str(conditional_checkpoint), "--class", "all",
                                       "-n", "30", "--out", str(tmp_path / "all.png")])
    assert result.exit_code == 0, result.output
    assert "wrote 30 images" in result.output  # 30 // 10 = 3 per class
    with Image.open(tmp_path / "all.png") as grid:
        assert grid.size == (3 * 30 + 2, 10 * 30 + 2)



@pytest.mark.parametrize("arguments, message", [
    (["--class", "Hat"], "Error: unknown class 'Hat'; the classes are ['T-shirt/top', 'Trouser'"),
    (["--class", "10"], "Error: label 10 is out of range: this network has 10 classes, 0..9"),
])
def test_sample_bad_classes_are_one_line(conditional_checkpoint, tmp_path, arguments, message):
    result = CliRunner().invoke(main, ["sample", "--checkpoint", str(conditional_checkpoint), *arguments,
                                       "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 1 and message in result.output and len(result.output.strip().splitlines()) == 1



def test_class_for_an_unconditional_generator_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["sample", "--hub", "fcgan", "--class", "7", "--out", str(tmp_path / "x.png")])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: --class needs a conditional generator; this one is unconditional"



def test_out_dir_writes_one_file_per_image(tmp_path):
    generator = torch.hub.load(str(REPO), "fcgan", source="local", pretrained=True)
    result = run_cli("sample", "--hub", "fcgan", "--pretrained", "-n", "5", "--seed", "2", "--out-dir", tmp_path / "d")
    assert result.exit_code == 0 and "wrote 5 images (1, 28, 28) as PNG files to" in result.output
    expected = generate(generator, 5, seed=2)
    assert sorted(path.name for path in (tmp_path / "d").iterdir()) == [f"00000{i}.png" for i in range(5)]
    for i in range(5):
        with Image.open(tmp_path / "d" / f"00000{i}.png") as image:
            assert np.array_equal(np.asarray(image), expected[i, 0].numpy())
    result = run_cli("sample", "--hub", "fcgan", "--pretrained", "-n", "2", "--out-dir", tmp_path / "j", "--format",
                     "jpg")
    assert result.exit_code == 0 and sorted(p.name for p in (tmp_path / "j").iterdir()) == ["000000.jpg", "000001.jpg"]
    with Image.open(tmp_path / "j" / "000001.jpg") as image:
        assert image.format == "JPEG"
        first = generate(generator, 2, seed=0)[1, 0].numpy().astype(int)
        assert np.abs(np.asarray(image).astype(int) - first).mean() < 4  # quality 95


def test_class_all_honours_n(tmp_path):
    result = run_cli("sample", "--hub", "dcgan", "--pretrained", "--conditional", "--class", "all", "-n", "12",
                     "--out", tmp_path / "all.npy")
    assert result.exit_code == 0 and "wrote 12 images" in result.output
    generator = torch.hub.load(str(REPO), "dcgan", source="local", pretrained=True, conditional=True)
    labels = torch.tensor([0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9])  # class order, the first 12 % 10 classes twice
    assert np.array_equal(np.load(tmp_path / "all.npy"), generate(generator, 12, seed=0, labels=labels).numpy())


def test_truncation_reaches_the_images(tmp_path):
    result = run_cli("sample", "--hub", "fcgan", "--pretrained", "-n", "6", "--truncation", "0.5", "--out",
                     tmp_path / "t.npy")
    assert result.exit_code == 0, result.output
    generator = torch.hub.load(str(REPO), "fcgan", source="local", pretrained=True)
    truncated = generate(generator, 6, seed=0, truncation=0.5).numpy()
    assert np.array_equal(np.load(tmp_path / "t.npy"), truncated)
    assert not np.array_equal(truncated, generate(generator, 6, seed=0).numpy())


def _gif_frames(path) -> np.ndarray:
    with Image.open(path) as gif:
        frames = []
        for index in range(gif.n_frames):
            gif.seek(index)
            frames.append(np.asarray(gif.convert("L")))
    return np.stack(frames)


def test_a_walk_through_seeds_is_an_animated_gif(tmp_path):
    from gan_models.data import to_uint8
    from gan_models.sampling import walk

    result = run_cli("sample", "--hub", "fcgan", "--pretrained", "--interpolate", "--seeds", "3,7,9", "--frames", "5",
                     "--out", tmp_path / "walk.gif")
    assert result.exit_code == 0 and "wrote a walk of 9 images (1, 28, 28)" in result.output
    generator = torch.hub.load(str(REPO), "fcgan", source="local", pretrained=True)
    expected = to_uint8(walk(generator, [3, 7, 9], frames=5))[:, 0].numpy()
    assert np.array_equal(_gif_frames(tmp_path / "walk.gif"), expected)  # grayscale: exact through the palette


def test_random_walks_animate_as_a_grid_per_frame(tmp_path):
    from gan_models.images import image_grid
    from gan_models.sampling import latent_walks

    result = run_cli("sample", "--hub", "fcgan", "--pretrained", "--interpolate", "-n", "12", "--frames", "6",
                     "--interpolation", "linear", "--out", tmp_path / "walks.gif")
    assert result.exit_code == 0 and "wrote 2 walks of 6 frames" in result.output
    generator = torch.hub.load(str(REPO), "fcgan", source="local", pretrained=True)
    walks = latent_walks(generator, 2, frames=6, method="linear").reshape(2, 6, 1, 28, 28)
    expected = np.stack([image_grid(walks[:, t], nrow=2)[0].numpy() for t in range(6)])
    assert np.array_equal(_gif_frames(tmp_path / "walks.gif"), expected)


def test_a_walk_between_classes(tmp_path):
    from gan_models.data import to_uint8
    from gan_models.sampling import walk

    result = run_cli("sample", "--hub", "dcgan", "--pretrained", "--conditional", "--interpolate", "--class", "3,8",
                     "--seed", "4", "--frames", "4", "--out", tmp_path / "morph.png")
    assert result.exit_code == 0 and "wrote a walk of 4 images" in result.output
    generator = torch.hub.load(str(REPO), "dcgan", source="local", pretrained=True, conditional=True)
    expected = to_uint8(walk(generator, [4], labels=[3, 8], frames=4))
    with Image.open(tmp_path / "morph.png") as grid:  # 2 x 2
        pixels = np.asarray(grid.convert("L"))
    assert np.array_equal(pixels[2:30, 2:30], expected[0, 0].numpy())
    assert np.array_equal(pixels[32:60, 32:60], expected[3, 0].numpy())

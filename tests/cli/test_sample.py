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
    (["sample", "--hub", "fcgan", "-n", "100000", "--out", "{out}/x.png"], "write them to a .npy file instead"),
    (["sample", "--hub", "fcgan", "--interpolate", "--out", "{out}/x.npy"], "--interpolate draws a PNG grid"),
    (["sample", "--hub", "fcgan", "--out", "{dir}"], "is a directory"),
    (["sample", "--hub", "fcgan", "--out", ""], "'.' is a folder, not a file name"),
    # issue 14: formats it cannot write, walks of fewer than 8 frames, arrays larger than the disk, unwritable paths
    (["sample", "--hub", "fcgan", "--out", "{out}/s.txt"], "--out {out}/s.txt must end in .png (a grid) or .npy"),
    (["sample", "--hub", "fcgan", "--interpolate", "-n", "3", "--out", "{out}/w.png"],
     "give -n a multiple of 8, got 3"),
    (["sample", "--hub", "fcgan", "-n", str(10**20), "--out", "{out}/s.npy"],
     "cannot write {out}/s.npy: the images take 78,400,000,000,000,000,000,000 bytes and only"),
    (["sample", "--hub", "fcgan", "--out", "/proc/s.png"], "cannot write /proc/s.png: "),
    (["sample", "--hub", "fcgan", "--out", "{text}/s.png"],
     "cannot write {text}/s.png: {text} is a file, not a folder"),
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


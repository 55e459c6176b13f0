"""`gan-models sample`: grids and .npy files from a hub generator or a checkpoint."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from gan_models.cli import main
from gan_models.sampling import generate
from tests.helpers import child_env, one_error_line, run_cli


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
    (["sample", "--checkpoint", "{ckpt}", "--dataset", "mnist"], "--pretrained and --dataset go with --hub"),
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
    result = run_cli(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)

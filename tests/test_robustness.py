"""The robustness matrix (issue 6): faults, untrusted files and bad input, each proven end to end.

Faults run real processes: training is SIGKILLed and resumed, disks fill up, two trainings
race for one folder, a batch turns NaN. Untrusted files carry code, are tampered with or cut
short. Bad input goes through the CLI and the public Python API. Tiny models keep it fast.
"""
import json
import os
import pickle
import random
import select
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from gan_models import checkpoint as checkpoint_module
from gan_models import classifier, hub, registry
from gan_models.cli import main
from gan_models.data import DatasetNotFoundError, load_images
from gan_models.registry import WeightsIntegrityError, file_sha256, load_checked_state_dict
from gan_models.sampling import generate, latent_walks
from gan_models.training.checkpoint import CheckpointError, load_checkpoint
from gan_models.training.runlock import RunLock, RunLockedError
from gan_models.training.runlog import FIELDS, RunLog
from gan_models.training.trainer import TrainConfig, TrainingInterrupted, train

REPO = Path(__file__).resolve().parents[1]
TINY = ["--model", "fcgan", "--nz", "8", "--ngf", "16", "--ndf", "16", "--batch-size", "16", "--no-progress"]


def _env() -> dict:
    """Environment for child processes: this checkout's code first, one thread each (2 shared cores)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _tiny_config(**overrides) -> TrainConfig:
    return TrainConfig(**{"model": "fcgan", "nz": 8, "ngf": 16, "ndf": 16, "batch_size": 16, "epochs": 1,
                          "progress": False, **overrides})


def _assert_same(a, b, where="state") -> None:
    """Exact, recursive equality of two checkpoint states (tensors bit for bit)."""
    assert type(a) is type(b), where
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{index}]")
    else:
        assert a == b or (a != a and b != b), where  # NaN == NaN here


def _one_error_line(result) -> str:
    """Assert the CLI failed with one 'Error: ...' line (plus click's usage lines) and no traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not an escaped exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert all(line.startswith(("Usage:", "Try ")) for line in lines if line not in errors), result.output
    return errors[0]


# ---- a warm process that forks real training processes ----------------------------------------

class Worker:
    """Client of tests/fork_worker.py: each command runs in a fresh forked child, a real process."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(REPO / "tests" / "fork_worker.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=_env(), cwd=REPO)

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"fork_worker exited with {self.proc.poll()}"
        return json.loads(line)

    def start(self, args: list, log: Path, nan_at_step: int | None = None) -> int:
        """Start `gan-models ARGS` in a child (output to `log`); returns its PID."""
        self.proc.stdin.write(json.dumps({"args": [str(a) for a in args], "log": str(log),
                                          "nan_at_step": nan_at_step}) + "\n")
        self.proc.stdin.flush()
        return self._reply()["pid"]

    def wait(self) -> int:
        """The last child's exit code (-9 when SIGKILLed), once the worker has reaped it."""
        return self._reply()["status"]

    def finished(self) -> bool:
        """Whether the last child has exited (its status is waiting to be read), so its PID must not be signalled."""
        return bool(select.select([self.proc.stdout], [], [], 0)[0])

    def run(self, args: list, log: Path, **kwargs) -> int:
        self.start(args, log, **kwargs)
        return self.wait()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def worker():
    client = Worker()
    yield client
    client.close()


def _logged_step(out: Path) -> int:
    """The last step in out/log.csv (0 if none yet)."""
    try:
        lines = (out / "log.csv").read_text().splitlines()
    except FileNotFoundError:
        return 0
    for line in reversed(lines[1:]):
        try:
            return int(line.split(",")[0])
        except ValueError:
            continue
    return 0


def _partial_writes(out: Path) -> list[Path]:
    return sorted(out.glob(".checkpoint.pt.*.tmp"))


def _wait_for(condition, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; child output:\n{log.read_text() if log.exists() else ''}"
        time.sleep(0.001)


# ---- faults ---------------------------------------------------------------------------------

def test_sigkill_at_20_random_moments_then_resume_equals_uninterrupted_run(tmp_path, worker, data_root):
    """SIGKILL a training process 20 times, resuming each time; the result is the uninterrupted run's, bit for bit.

    The moments are seeded: some during start-up (lock, loading the checkpoint), some after a random
    step, some while a checkpoint's temporary file is being written. After every kill the checkpoint
    must load (never half a file), never go back in time, and the next run must take over the stale lock.
    """
    steps_per_epoch, epochs = 10, 5
    args = ["train", *TINY, "--dataset", "mnist", "--data-root", data_root, "--max-images", 16 * steps_per_epoch,
                   "--epochs", epochs, "--checkpoint-every", 1]
    total = steps_per_epoch * epochs
    began = time.monotonic()
    reference = tmp_path / "reference"
    assert worker.run(args + ["--out", reference], tmp_path / "reference.log") == 0
    reference_s = time.monotonic() - began

    out, rng = tmp_path / "killed", random.Random(6)
    targets = iter(sorted(rng.sample(range(2, total - 10), 20)))  # leave steps to do: every kill hits a live run
    kinds, last_step, mid_write = [], 0, 0
    began = time.monotonic()
    for attempt in range(20):
        kind = rng.choice(["startup", "step", "write"])
        log = tmp_path / f"attempt{attempt}.log"
        resume = ["--resume"] if (out / "checkpoint.pt").exists() else []
        pid = worker.start(args + ["--out", out] + resume, log)
        if kind == "startup":
            time.sleep(rng.uniform(0.0, 0.25))
        else:
            target = next(targets)
            _wait_for(lambda target=target: _logged_step(out) >= target, log)
            if kind == "write":
                _wait_for(lambda: _partial_writes(out), log)
            else:
                time.sleep(rng.uniform(0.0, 0.02))
        assert not worker.finished(), f"attempt {attempt} ended before its kill:\n{log.read_text()}"
        os.kill(pid, signal.SIGKILL)
        assert worker.wait() == -signal.SIGKILL, log.read_text()
        kinds.append(kind)
        mid_write += bool(_partial_writes(out))
        if (out / "checkpoint.pt").exists():
            step = load_checkpoint(out / "checkpoint.pt")["step"]  # a whole checkpoint, never a partial one
            assert step >= last_step
            last_step = step
    resumes_from = last_step
    assert worker.run(args + ["--out", out, "--resume"], tmp_path / "final.log") == 0, \
        (tmp_path / "final.log").read_text()
    killed_s = time.monotonic() - began

    _assert_same(load_checkpoint(reference / "checkpoint.pt"), load_checkpoint(out / "checkpoint.pt"))
    logged = [line.split(",") for line in (out / "log.csv").read_text().splitlines()[1:]]
    expected = [line.split(",") for line in (reference / "log.csv").read_text().splitlines()[1:]]
    assert [row[:6] for row in logged] == [row[:6] for row in expected]  # every step once, with the same losses
    assert not _partial_writes(out) and not (out / ".lock").exists()
    assert mid_write >= 1, "no kill landed inside a checkpoint write"
    print(f"\nkill test: reference run {reference_s:.1f} s; 20 kills + resumes {killed_s:.1f} s; kinds "
          f"{ {k: kinds.count(k) for k in set(kinds)} }; {mid_write} kills left a half-written temp file; "
          f"last kill at checkpoint step {resumes_from}/{total}")


def _log_rows(out: Path) -> list[list[str]]:
    """out/log.csv's rows without the header, each as its fields, timing column dropped."""
    return [line.split(",")[:6] for line in (out / "log.csv").read_text().splitlines()[1:]]


@pytest.mark.parametrize("torn", [
    b"6,2,0.69",  # cut off after the third field
    b"6,2,0.6931,,0.51,0.49,1234.5\r\n",  # an empty field
    b"\x00\x00\xff\xfe\x00\x00",  # what a power cut can leave: zeros and bytes that are not UTF-8
    b"6,2,0.6931,1.25,0.51,0.49,12",  # every field there, but the line end is not: images/s lost digits
])
def test_a_torn_last_log_line_is_dropped_with_a_warning_and_the_resumed_log_matches(tmp_path, tiny_images, torn):
    whole = train(_tiny_config(epochs=2), tmp_path / "whole", images=tiny_images).out
    out = train(_tiny_config(epochs=1), tmp_path / "run", images=tiny_images).out  # checkpoint at step 4
    # A crash after step 5 was logged, before its checkpoint, in the middle of writing step 6's row.
    step_5 = (whole / "log.csv").read_text().splitlines()[5]
    with open(out / "log.csv", "ab") as file:
        file.write(step_5.encode() + b"\r\n" + torn)
    with pytest.warns(UserWarning, match=r"log\.csv: dropped 1 malformed row"):
        train(_tiny_config(epochs=2), out, resume=True, images=tiny_images)
    assert [row[0] for row in _log_rows(out)] == [str(step) for step in range(1, 9)]
    assert _log_rows(out) == _log_rows(whole)  # every step once, with the uninterrupted run's losses


def test_damaged_log_rows_anywhere_are_dropped_with_one_warning(tmp_path):
    rows = ["1,1,0.70,0.71,0.50,0.49,100.0",
            '2,"1,0.69,0.72,0.51,0.48,100.0',  # a stray quote must not swallow the rows after it
            "3,1,0.68,nan,0.52,0.47,100.0",  # errG is NaN on steps without a G step: a valid row
            "4,1,0.67,0.74,0.53",  # fields missing
            "5,1,0.66,0.75,0.54,0.45,100.0,7",  # a field too many
            "6,1,0.65,0.76,0.55,0.44,100.0",
            "7,1,0.64,zzz,0.56,0.43,100.0"]  # past the resume step, and damaged
    (tmp_path / "log.csv").write_text("\n".join([",".join(FIELDS), *rows]) + "\n")
    with pytest.warns(UserWarning, match=r"log\.csv: dropped 4 malformed row\(s\)") as caught:
        log = RunLog(tmp_path, resume_step=6)
    log.close()
    assert len(caught) == 1 and str(tmp_path / "log.csv") in str(caught[0].message)
    assert [row["step"] for row in log.rows] == [1, 3, 6]
    assert [row[0] for row in _log_rows(tmp_path)] == ["1", "3", "6"]  # the file was rewritten clean


def test_nan_batch_stops_the_cli_cleanly_and_keeps_the_last_good_checkpoint(tmp_path, worker, data_root):
    out, log = tmp_path / "run", tmp_path / "nan.log"
    args = ["train", *TINY, "--dataset", "mnist", "--data-root", data_root, "--max-images", 64, "--epochs", 3,
                   "--checkpoint-every", 2, "--out", out]
    assert worker.run(args, log, nan_at_step=7) == 1
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: non-finite loss at step 7 (errD=nan)"), lines
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 6  # the last good one, untouched by the failed step 7
    assert all(torch.isfinite(t).all() for t in state["generator"].values())
    assert not (out / ".lock").exists()


def _fail_checkpoint_write(monkeypatch, how: str, checkpoint: Path) -> dict:
    """Make the second write of `checkpoint` fail as `how` says; returns what it held just before."""
    seen = {"calls": 0, "before": None}
    real_save, real_replace, real_mkstemp = torch.save, os.replace, tempfile.mkstemp

    def failing_save(obj, file, *args, **kwargs):
        seen["calls"] += 1
        if seen["calls"] == 2:
            seen["before"] = checkpoint.read_bytes()
            file.write(b"PK\x03\x04 half a checkpoint")
            raise OSError(28, "No space left on device")
        return real_save(obj, file, *args, **kwargs)

    def failing_replace(src, dst, *args, **kwargs):
        if Path(dst) == checkpoint:
            seen["calls"] += 1
            if seen["calls"] == 2:
                seen["before"] = checkpoint.read_bytes()
                raise OSError(28, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    def failing_mkstemp(*args, **kwargs):  # only for the checkpoint: the run's other files still get written
        if kwargs.get("prefix") == f".{checkpoint.name}.":
            raise PermissionError(13, "Permission denied")
        return real_mkstemp(*args, **kwargs)

    if how == "torch.save":
        monkeypatch.setattr(checkpoint_module.torch, "save", failing_save)
    elif how == "os.replace":
        monkeypatch.setattr(os, "replace", failing_replace)
    else:
        monkeypatch.setattr(tempfile, "mkstemp", failing_mkstemp)
    return seen


@pytest.mark.parametrize("how", ["torch.save", "os.replace", "unwritable"])
def test_a_failing_checkpoint_write_keeps_the_previous_one_and_stops_with_one_line(tmp_path, data_root, monkeypatch,
                                                                                   how):
    out = tmp_path / "run"
    seen = _fail_checkpoint_write(monkeypatch, how, out / "checkpoint.pt")
    result = CliRunner().invoke(main, ["train", *TINY, "--dataset", "mnist", "--data-root", data_root,
                                       "--max-images", 64, "--epochs", 2, "--checkpoint-every", 2, "--out", out])
    line = _one_error_line(result)
    assert f"cannot write checkpoint {out / 'checkpoint.pt'}" in line
    if how == "unwritable":
        assert "Permission denied; no checkpoint was written" in line
        assert not (out / "checkpoint.pt").exists()
    else:
        assert "No space left on device; the previous checkpoint is untouched" in line
        assert (out / "checkpoint.pt").read_bytes() == seen["before"]
        assert load_checkpoint(out / "checkpoint.pt")["step"] == 2
    assert not _partial_writes(out) and not (out / ".lock").exists()


def test_a_second_training_on_the_same_folder_is_refused_and_a_stale_lock_taken_over(tmp_path, worker, data_root):
    out, log = tmp_path / "run", tmp_path / "first.log"
    args = ["train", *TINY, "--dataset", "mnist", "--data-root", data_root, "--max-images", 64, "--epochs", 1000,
            "--checkpoint-every", 1, "--out", out]
    pid = worker.start(args, log)
    try:
        _wait_for(lambda: (out / "checkpoint.pt").exists(), log)
        assert (out / ".lock").read_text().split("\n")[0] == str(pid)
        second = CliRunner().invoke(main, args + ["--resume"])
        assert f"is in use by another training (process {pid})" in _one_error_line(second)
    finally:
        os.kill(pid, signal.SIGKILL)
    assert worker.wait() == -signal.SIGKILL
    assert (out / ".lock").exists()  # left behind by the killed process: stale
    args[args.index("--epochs") + 1] = 2  # --epochs may change on resume
    resumed = CliRunner().invoke(main, args + ["--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert not (out / ".lock").exists()


def test_run_lock_takes_over_only_dead_owners(tmp_path):
    lock = tmp_path / ".lock"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.write_text(f"{dead.stdout.strip()}\n{os.uname().nodename}\n")
    with RunLock(tmp_path):
        assert lock.read_text().split("\n")[0] == str(os.getpid())
        with pytest.raises(RunLockedError, match=f"process {os.getpid()}"):
            RunLock(tmp_path).acquire()
    assert not lock.exists()

    lock.write_text("123\nsome-other-host\n")  # cannot check a PID on another machine: never taken over
    with pytest.raises(RunLockedError, match="on host 'some-other-host'; if that run is over, delete"):
        RunLock(tmp_path).acquire()

    lock.write_text("")  # its owner died between creating and writing it
    os.utime(lock, (time.time() - 60, time.time() - 60))
    with RunLock(tmp_path):
        assert lock.read_text().startswith(str(os.getpid()))


def test_the_lock_is_released_on_ctrl_c_and_on_errors(tmp_path, tiny_images, monkeypatch):
    from gan_models.training.trainer import Trainer

    step = Trainer.train_step

    def ctrl_c_at_step_3(self, real):
        if self.step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # the trainer's handler turns it into a stop after this step
        return step(self, real)

    monkeypatch.setattr(Trainer, "train_step", ctrl_c_at_step_3)
    with pytest.raises(TrainingInterrupted):
        train(_tiny_config(epochs=2), tmp_path / "run", images=tiny_images)
    assert not (tmp_path / "run" / ".lock").exists()
    with pytest.raises(FileExistsError):  # an error inside fit
        train(_tiny_config(epochs=2), tmp_path / "run", images=tiny_images)
    assert not (tmp_path / "run" / ".lock").exists()


# ---- untrusted files ------------------------------------------------------------------------

class _Payload:
    """Unpickling this runs a shell command: what a malicious checkpoint or weight file would carry."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.fixture
def code_carrying_files(tmp_path) -> tuple[Path, list[Path]]:
    """A marker path and two files that create it when unpickled: a raw pickle and a torch.save zip."""
    marker = tmp_path / "MARKER"
    raw = tmp_path / "raw-pickle.pt"
    raw.write_bytes(pickle.dumps({"format": "gan-models-checkpoint", "version": 1, "x": _Payload(marker)}, protocol=2))
    zipped = tmp_path / "torch-save.pt"
    torch.save({"format": "gan-models-checkpoint", "version": 1, "model": "fcgan", "x": _Payload(marker)}, zipped)
    # The files are really dangerous: a plain load runs the payload (then the marker is removed again).
    torch.load(zipped, weights_only=False)
    assert marker.exists()
    marker.unlink()
    return marker, [raw, zipped]


def test_code_carrying_pickles_are_refused_without_running(tmp_path, code_carrying_files):
    marker, files = code_carrying_files
    for path in files:
        with pytest.raises(CheckpointError, match="not a safe torch file"):
            load_checkpoint(path)
        with pytest.raises(WeightsIntegrityError, match="carries code"):
            load_checked_state_dict(path, file_sha256(path))  # the hash matches: only weights_only protects
        for command in (["sample", "--checkpoint", path, "--out", tmp_path / "s.png"],
                        ["export", "--checkpoint", path, "--out", tmp_path / "g.onnx"]):
            assert "not a safe torch file" in _one_error_line(CliRunner().invoke(main, [str(a) for a in command]))
    assert not marker.exists()


def test_a_tampered_or_missing_shipped_classifier_fails_its_hash_check(tmp_path, monkeypatch):
    record = classifier.CLASSIFIERS["mnist"]
    data = bytearray((registry.WEIGHTS_DIR / record.file).read_bytes())
    (tmp_path / record.file).write_bytes(data)
    monkeypatch.setattr(registry, "WEIGHTS_DIR", tmp_path)
    classifier.load_classifier("mnist")  # the faithful copy loads
    data[len(data) // 2] ^= 0x01
    (tmp_path / record.file).write_bytes(data)
    with pytest.raises(WeightsIntegrityError, match=f"hash mismatch for .*{record.file}: expected sha256 "
                                                    f"{record.sha256}, got .*; the file is corrupt or was modified"):
        classifier.load_classifier("mnist")
    (tmp_path / record.file).unlink()
    with pytest.raises(WeightsIntegrityError, match=f"weight file missing: .*{record.file}"):
        classifier.load_classifier("mnist")


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A real checkpoint of a tiny FC-GAN (nz=8, ngf=16)."""
    images = torch.randint(0, 256, (32, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return train(_tiny_config(), tmp_path_factory.mktemp("tiny") / "run", images=images).checkpoint


@pytest.fixture(scope="module")
def onnx_nz8(tmp_path_factory, tiny_checkpoint) -> Path:
    """An ONNX export of the tiny checkpoint's generator (nz=8)."""
    from export import export_onnx
    from gan_models.training.checkpoint import generator_from_checkpoint

    return export_onnx(generator_from_checkpoint(tiny_checkpoint), tmp_path_factory.mktemp("onnx") / "g.onnx")


def test_truncated_checkpoint_and_onnx_files_give_one_clear_error(tmp_path, tiny_checkpoint, onnx_nz8):
    from export import OnnxFileError, OnnxNameError, validate_onnx
    from gan_models.training.checkpoint import generator_from_checkpoint

    cut = tmp_path / "cut.pt"
    cut.write_bytes(tiny_checkpoint.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="truncated, corrupt"):
        load_checkpoint(cut)
    assert "truncated, corrupt" in _one_error_line(CliRunner().invoke(main, ["sample", "--checkpoint", str(cut)]))

    generator = generator_from_checkpoint(tiny_checkpoint)
    content = onnx_nz8.read_bytes()
    bad = {"truncated.onnx": content[:len(content) // 2], "random.onnx": np.random.default_rng(0).bytes(4096)}
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(OnnxFileError, match="is not a valid ONNX model"):
            validate_onnx(tmp_path / name, generator)
        line = _one_error_line(CliRunner().invoke(main, ["validate", str(tmp_path / name), "--checkpoint",
                                                         str(tiny_checkpoint)]))
        assert "is not a valid ONNX model" in line

    proto = onnx.load(str(onnx_nz8))
    proto.graph.input[0].name = "latent"
    for node in proto.graph.node:
        node.input[:] = ["latent" if name == "z" else name for name in node.input]
    onnx.save(proto, str(tmp_path / "renamed.onnx"))
    with pytest.raises(OnnxNameError, match="'latent'"):
        validate_onnx(tmp_path / "renamed.onnx", generator)
    line = _one_error_line(CliRunner().invoke(main, ["validate", str(tmp_path / "renamed.onnx"), "--checkpoint",
                                                     str(tiny_checkpoint)]))
    assert "latent" in line


def _image_folder(root: Path) -> dict[str, Path]:
    """Good images of every mode and size, plus broken files; returns them by kind."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    files = {"rgb": root / "a" / "rgb.png", "jpeg": root / "a" / "photo.jpg", "rgba": root / "b" / "rgba.png",
             "gray": root / "b" / "gray.png", "palette": root / "palette.gif", "small": root / "small.bmp",
             "corrupt": root / "corrupt.png", "truncated_png": root / "cut.png", "truncated_jpeg": root / "cut.jpg",
             "not_an_image": root / "notes.png"}
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(files["rgb"])
    Image.fromarray(rgb).save(files["jpeg"], quality=90)
    Image.fromarray(rng.integers(0, 256, (30, 30, 4), dtype=np.uint8)).save(files["rgba"])
    Image.fromarray(rgb[..., 0]).save(files["gray"])
    Image.fromarray(rgb).convert("P").save(files["palette"])
    Image.fromarray(rgb[:9, :7]).save(files["small"])
    files["corrupt"].write_bytes(b"\x89PNG\r\n\x1a\n" + rng.bytes(300))
    files["truncated_png"].write_bytes(files["rgb"].read_bytes()[:400])  # valid header, cut off
    files["truncated_jpeg"].write_bytes(files["jpeg"].read_bytes()[:1500])
    files["not_an_image"].write_text("not an image")
    (root / "readme.txt").write_text("ignored: not an image extension")
    return files


@pytest.mark.parametrize("tolerant_pil", [False, True])
def test_image_folders_skip_bad_files_by_name_and_load_good_ones(tmp_path, monkeypatch, tolerant_pil):
    files = _image_folder(tmp_path / "images")
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", tolerant_pil)  # as another library may set it
    with pytest.warns(UserWarning, match="skipped 4 unreadable image") as caught:
        images = load_images("folder", tmp_path / "images", channels=3, image_size=16)
    assert images.shape == (6, 3, 16, 16) and images.dtype == torch.uint8
    message = str(caught[0].message)
    for kind in ("corrupt", "truncated_png", "truncated_jpeg", "not_an_image"):
        assert str(files[kind]) in message
    assert ImageFile.LOAD_TRUNCATED_IMAGES is tolerant_pil  # restored
    with pytest.warns(UserWarning, match="skipped 4"):
        assert load_images("folder", tmp_path / "images", channels=1, image_size=8).shape == (6, 1, 8, 8)


def test_an_image_folder_with_nothing_usable_is_one_clear_error(tmp_path):
    files = _image_folder(tmp_path / "images")
    for kind in ("rgb", "jpeg", "rgba", "gray", "palette", "small"):
        files[kind].unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DatasetNotFoundError, match="no usable images in"):
            load_images("folder", tmp_path / "images")


# ---- bad input ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def paths(tmp_path_factory, tiny_checkpoint, onnx_nz8) -> dict[str, str]:
    root = tmp_path_factory.mktemp("cli")
    (root / "folder").mkdir()
    (root / "empty").mkdir()
    (root / "text.pt").write_text("not a checkpoint")
    (root / "random.onnx").write_bytes(b"\x00\x01 not onnx")
    return {"dir": str(root / "folder"), "empty": str(root / "empty"), "text": str(root / "text.pt"),
            "missing": str(root / "missing.pt"), "ckpt": str(tiny_checkpoint), "onnx8": str(onnx_nz8),
            "random_onnx": str(root / "random.onnx"), "out": str(root / "out")}


CLI_CASES = [
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
    (["train", "--label-smoothing", "1.5"], "label_smoothing=1.5"),
    (["train", "--device", "tpu"], "device string: tpu"),
    (["train", "--dataset", "folder", "--data-root", "{missing}"], "image folder not found"),
    (["train", *TINY, "--data-root", "{empty}", "--out", "{out}/a"], "mnist not found"),
    (["train", *TINY, "--max-images", "8", "--data-root", "{data}", "--out", "{out}/b"],
     "8 images are too few for batch_size 16"),
    (["train", *TINY, "--data-root", "{data}", "--resume", "--out", "{empty}"], "checkpoint not found"),
    (["train", "--out", "{text}"], "is a file"),
    (["sample", "-n", "0", "--hub", "fcgan"], "0 is not in the range x>=1"),
    (["sample", "-n", "-5", "--hub", "fcgan"], "-5 is not in the range x>=1"),
    (["sample", "-n", "many", "--hub", "fcgan"], "'many' is not a valid integer"),
    (["sample", "--nrow", "0", "--hub", "fcgan"], "0 is not in the range x>=1"),
    (["sample", "--hub", "fcgan", "--seed", str(2**64)], f"{2**64} is not in the range 0<=x<={2**64 - 1}"),
    (["sample", "--hub", "fcgan", "--seed", "-1"], "-1 is not in the range 0<=x<="),
    (["train", "--seed", str(2**64)], f"invalid training config: seed={2**64}"),
    (["evaluate", "--hub", "fcgan", "--seed", str(2**64)], "is not in the range 0<=x<="),
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
    (["export", "--hub", "fcgan"], "Missing option '--out'"),
    (["export", "--hub", "fcgan", "--out", "{out}/g.onnx", "--opset", "5"], "opset 5 is not supported; choose 17"),
    (["export", "--hub", "fcgan", "--out", "{out}/g.onnx", "--opset", "99"], "opset 99 is not supported"),
    (["export", "--hub", "fcgan", "--out", "{out}/g.onnx", "--opset", "new"], "'new' is not a valid integer"),
    (["export", "--checkpoint", "{missing}", "--out", "{out}/g.onnx"], "checkpoint not found"),
    (["validate", "{missing}", "--hub", "fcgan"], "ONNX file not found"),
    (["validate", "{random_onnx}", "--hub", "fcgan"], "is not a valid ONNX model"),
    (["validate", "{dir}", "--hub", "fcgan"], "is a directory"),
    (["validate", "{onnx8}", "--hub", "fcgan"], "latent size nz differs"),
    (["validate", "{onnx8}"], "give exactly one of"),
    (["evaluate", "--hub", "dcgan64"], "judges 1 x 28 x 28 images; this generator makes 3 x 64 x 64"),
    (["frobnicate"], "No such command 'frobnicate'"),
]


@pytest.mark.parametrize("args, message", CLI_CASES, ids=[" ".join(a)[:60] for a, _ in CLI_CASES])
def test_bad_cli_input_is_one_line_naming_the_problem(args, message, paths, data_root):
    values = {**paths, "data": str(data_root)}
    result = CliRunner().invoke(main, [a.format(**values) for a in args])
    assert message in _one_error_line(result)


SMALL = {"fcgan": {"ngf": 8}, "lsgan": {"ngf": 8}, "dcgan": {"ngf": 2}, "dcgan64": {"ngf": 2}}
ODD_VALUES = st.one_of(st.integers(-3, 12), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
                       st.none(), st.booleans(), st.just([4]))
DOCUMENTED = (ValueError, TypeError)  # the package's own errors subclass these (or say so, as below)


@settings(max_examples=50, deadline=None)
@given(name=st.sampled_from(sorted(SMALL)), key=st.sampled_from(["nz", "ngf", "channels", "image_size", "dropout",
                                                                 "noise", "pretrained", "dataset", "ndf"]),
       value=ODD_VALUES)
def test_hub_generators_reject_odd_keywords_with_documented_errors(name, key, value):
    from gan_models.registry import NoPretrainedWeightsError  # a ValueError

    try:
        generator = getattr(hub, name)(**{**SMALL[name], key: value})
    except (*DOCUMENTED, NoPretrainedWeightsError):
        return
    assert generator.sample(2, seed=0).shape == (2, *generator.image_shape)


@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(sorted(SMALL)), key=st.sampled_from(["ndf", "channels", "image_size", "dropout"]),
       value=ODD_VALUES)
def test_hub_discriminators_reject_odd_keywords_with_documented_errors(name, key, value):
    try:
        getattr(hub, f"{name}_discriminator")(**{key: value})
    except DOCUMENTED:
        pass


_NETS = {name: (getattr(hub, name)(nz=4, **SMALL[name]), getattr(hub, f"{name}_discriminator")())
         for name in ("fcgan", "dcgan")}


@settings(max_examples=50, deadline=None)
@given(name=st.sampled_from(sorted(_NETS)), shape=st.one_of(st.just("right"), st.lists(st.integers(0, 4), max_size=5)),
       batch=st.integers(0, 3), dtype=st.sampled_from([torch.float32, torch.float64, torch.float16, torch.int64,
                                                        torch.uint8, torch.bool]),
       device=st.sampled_from(["cpu", "meta"]), training=st.booleans(), discriminator=st.booleans())
def test_networks_reject_wrong_inputs_with_documented_errors(name, shape, batch, dtype, device, training,
                                                             discriminator):
    net = _NETS[name][int(discriminator)].train(training)
    if shape == "right":
        shape = [batch, 1, 28, 28] if discriminator else [batch, net.nz]
    try:
        out = net(torch.zeros(shape, dtype=dtype, device=device))
    except DOCUMENTED:
        return
    assert dtype == torch.float32 and device == "cpu"
    assert out.shape == ((shape[0], 1) if discriminator else (shape[0], 1, 28, 28))


@settings(max_examples=25, deadline=None)
@given(value=st.one_of(st.just(None), st.text(max_size=2), st.lists(st.floats(), max_size=3),
                       st.builds(np.zeros, st.just((2, 4)))))
def test_generators_reject_non_tensors(value):
    with pytest.raises(TypeError):
        _NETS["fcgan"][0](value)


@settings(max_examples=50, deadline=None)
@given(n=ODD_VALUES, batch_size=st.one_of(st.integers(-2, 5), st.floats(allow_nan=True)),
       frames=st.one_of(st.integers(-2, 4), st.none()), which=st.sampled_from(["sample", "generate", "walks"]))
def test_sample_counts_give_documented_errors(n, batch_size, frames, which):
    generator = _NETS["fcgan"][0]
    try:
        if which == "sample":
            images = generator.sample(n, seed=0)
        elif which == "generate":
            images = generate(generator, n, seed=0, batch_size=batch_size)
        else:
            images = latent_walks(generator, n, frames=frames)
    except DOCUMENTED:
        return
    assert len(images) >= 1


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
                          capture_output=True, text=True, env=_env(), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr
    growth_mb = float(done.stdout.split("rss_growth_mb")[1])
    images = np.load(out, mmap_mode="r")
    assert images.shape == (100_000, 1, 28, 28) and images.dtype == np.uint8
    from gan_models.training.checkpoint import generator_from_checkpoint

    first = generate(generator_from_checkpoint(tiny_checkpoint), 300, seed=0)
    assert np.array_equal(images[:300], first.numpy())
    assert growth_mb < 40, f"peak RSS grew by {growth_mb:.0f} MB"  # about half of what the images take
    print(f"\nsample -n 100000 --out .npy: {time.monotonic() - began:.1f} s, peak RSS growth {growth_mb:.0f} MB, "
          f"file {out.stat().st_size / 2**20:.0f} MB")

"""Helpers shared by several test files: tiny configurations, exact comparisons, CLI error checks, and a
warm process that forks real training processes (tests/training/fork_worker.py)."""
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from click.testing import CliRunner
from hypothesis import strategies as st

from gan_models import hub
from gan_models.cli import main
from gan_models.registry import build_generator
from gan_models.training.checkpoint import load_checkpoint
from gan_models.training.trainer import TrainConfig

REPO = Path(__file__).resolve().parents[1]
# The tiniest FC-GAN the CLI trains: for tests of what happens around training, not of training itself.
TINY_ARGS = ["--model", "fcgan", "--nz", "8", "--ngf", "16", "--ndf", "16", "--batch-size", "16", "--diffaugment", "",
             "--no-progress"]


def child_env() -> dict:
    """Environment for child processes: this checkout's code first, one thread each (2 shared cores)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def fcgan16_config(**overrides) -> TrainConfig:
    return TrainConfig(**{"model": "fcgan", "nz": 8, "ngf": 16, "ndf": 16, "batch_size": 16, "diffaugment": "",
                          "epochs": 1, "progress": False, **overrides})


def assert_same_checkpoint(a, b, where="state") -> None:
    """Exact, recursive equality of two checkpoint states (tensors bit for bit)."""
    assert type(a) is type(b), where
    if isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same_checkpoint(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_checkpoint(x, y, f"{where}[{index}]")
    else:
        assert a == b or (a != a and b != b), where  # NaN == NaN here


def one_error_line(result) -> str:
    """Assert the CLI failed with one 'Error: ...' line (plus click's usage lines) and no traceback."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # not an escaped exception
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    assert all(line.startswith(("Usage:", "Try ")) for line in lines if line not in errors), result.output
    return errors[0]


def assert_refused(result, message: str) -> None:
    """Assert a CLI result failed, said `message`, and let no exception (or traceback) escape click."""
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


class ForkWorker:
    """Client of tests/training/fork_worker.py: each command runs in a fresh forked child, a real process."""

    def __init__(self) -> None:
        worker = REPO / "tests" / "training" / "fork_worker.py"
        self.proc = subprocess.Popen([sys.executable, str(worker)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=child_env(), cwd=REPO)
        self.running: int | None = None  # the PID of a started child not yet waited for

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        assert line, f"fork_worker exited with {self.proc.poll()}"
        return json.loads(line)

    def start(self, args: list, log: Path, nan_at_step: int | None = None,
              stall_write_at_step: int | None = None) -> int:
        """Start `gan-models ARGS` in a child (output to `log`); returns its PID (see fork_worker.py for the rest)."""
        self.proc.stdin.write(json.dumps({"args": [str(a) for a in args], "log": str(log), "nan_at_step": nan_at_step,
                                          "stall_write_at_step": stall_write_at_step}) + "\n")
        self.proc.stdin.flush()
        self.running = self._reply()["pid"]
        return self.running

    def wait(self) -> int:
        """The last child's exit code (-9 when SIGKILLed), once the worker has reaped it."""
        status = self._reply()["status"]
        self.running = None
        return status

    def finished(self) -> bool:
        """Whether the last child has exited (its status is waiting to be read), so its PID must not be signalled."""
        return bool(select.select([self.proc.stdout], [], [], 0)[0])

    def run(self, args: list, log: Path, **kwargs) -> int:
        self.start(args, log, **kwargs)
        return self.wait()

    def reap(self) -> None:
        """SIGKILL and reap a child a failed test left running, so the next test starts with none."""
        if self.running is not None:
            if not self.finished():
                os.kill(self.running, signal.SIGKILL)
            self.wait()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def logged_step(out: Path) -> int:
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


def partial_writes(out: Path) -> list[Path]:
    return sorted(out.glob(".checkpoint.pt.*.tmp"))


def wait_for(condition, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out; child output:\n{log.read_text() if log.exists() else ''}"
        time.sleep(0.001)


SMALL = {"fcgan": {"ngf": 8}, "lsgan": {"ngf": 8}, "dcgan": {"ngf": 2}, "dcgan64": {"ngf": 2}}
ODD_VALUES = st.one_of(st.integers(-3, 12), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3),
                       st.none(), st.booleans(), st.just([4]))
DOCUMENTED = (ValueError, TypeError)  # the package's own errors subclass these (or say so, as below)


SMALL_NETS = {name: (getattr(hub, name)(nz=4, **SMALL[name]), getattr(hub, f"{name}_discriminator")())
         for name in ("fcgan", "dcgan")}


# Tests train on a few dozen images, which is small data (gan_models.training.small_data): their configs give the
# augmentation (none) so that they train what they say, as they did before small data chose DiffAugment.
TINY_TRAINER = dict(model="fcgan", nz=8, ngf=32, ndf=32, batch_size=16, diffaugment="", progress=False)


def signal_after_step(trainer, step: int, monkeypatch) -> None:
    """Make `trainer` receive a SIGINT (as Ctrl-C delivers it) right after its training step `step`."""
    original_step = trainer.train_step

    def step_then_signal(*args):
        row = original_step(*args)
        if trainer.step == step:
            trainer.stop.received = signal.SIGINT
        return row

    monkeypatch.setattr(trainer, "train_step", step_then_signal)


def tiny_config(**changes) -> TrainConfig:
    return TrainConfig(**{**TINY_TRAINER, "epochs": 2, **changes})


def read_log(out) -> list[dict]:
    """log.csv rows without the timing column, values as written (so NaN rows compare equal)."""
    import csv

    with open(out / "log.csv", newline="") as file:
        return [{k: v for k, v in row.items() if k != "images_per_s"} for row in csv.DictReader(file)]


def weights(path, key="generator"):
    return load_checkpoint(path)[key]


def assert_same_state(a: dict, b: dict):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def run_cli(*args, **env):
    """Invoke `gan-models ARGS` in this process (arguments may be paths or numbers)."""
    result = CliRunner().invoke(main, list(map(str, args)), env=env or None)
    return result


def tiny_fcgan_generator(seed: int = 0):
    """An untrained FC-GAN generator (nz=4, ngf=16) initialised from `seed`."""
    torch.manual_seed(seed)
    return build_generator("fcgan", nz=4, ngf=16)


# Tiny widths that keep export tests fast.
TINY_WIDTHS = {"fcgan": {"ngf": 16}, "lsgan": {"ngf": 16}, "dcgan": {"ngf": 4}, "dcgan64": {"ngf": 4}}


def trained_like(name: str, **kwargs):
    """A generator with non-trivial BatchNorm running statistics, as after training, in train mode."""
    torch.manual_seed(0)
    generator = build_generator(name, **kwargs)
    with torch.no_grad():
        for _ in range(3):
            generator(torch.randn(16, generator.nz))  # train mode: updates running mean and var
    return generator


def two_colour_class_folders(root: Path, per_class: int = 8) -> Path:
    """An image folder of two classes, blue/ and red/, each `per_class` 28 x 28 RGB images of falling brightness."""
    from PIL import Image

    for name, colour in [("blue", (0, 0, 255)), ("red", (255, 0, 0))]:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            Image.new("RGB", (28, 28), tuple(c // (i + 1) for c in colour)).save(root / name / f"{i}.png")
    return root

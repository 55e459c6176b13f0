"""gan_models/training/runlock.py: one training per run folder; stale locks of dead owners are taken over; the lock
is released on Ctrl-C and errors."""
import os
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from gan_models.cli import main
from gan_models.training.runlock import RunLock, RunLockedError
from gan_models.training.trainer import TrainingInterrupted, train
from tests.helpers import TINY_ARGS, fcgan16_config, one_error_line, wait_for


@pytest.mark.slow
def test_a_second_training_on_the_same_folder_is_refused_and_a_stale_lock_taken_over(tmp_path, worker, data_root):
    out, log = tmp_path / "run", tmp_path / "first.log"
    args = ["train", *TINY_ARGS, "--dataset", "mnist", "--data-root", data_root, "--max-images", 64, "--epochs", 1000,
            "--checkpoint-every", 1, "--out", out]
    pid = worker.start(args, log)
    try:
        wait_for(lambda: (out / "checkpoint.pt").exists(), log)
        assert (out / ".lock").read_text().split("\n")[0] == str(pid)
        second = CliRunner().invoke(main, args + ["--resume"])
        assert f"is in use by another training (process {pid})" in one_error_line(second)
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
        train(fcgan16_config(epochs=2), tmp_path / "run", images=tiny_images)
    assert not (tmp_path / "run" / ".lock").exists()
    with pytest.raises(FileExistsError):  # an error inside fit
        train(fcgan16_config(epochs=2), tmp_path / "run", images=tiny_images)
    assert not (tmp_path / "run" / ".lock").exists()

"""Runs `gan-models` commands in forked children of one warm process, for the robustness tests.

Importing torch and gan-models takes seconds; a test that kills and restarts training twenty
times pays that once here, and each child is still a real, separate process to SIGKILL.
Nothing in this process runs a torch operation before forking, so no thread pool is forked.

Protocol, one JSON object per line. Request on stdin:
    {"args": [...CLI arguments...], "log": "path for the child's stdout and stderr",
     "nan_at_step": null or k (put a NaN into the k-th real batch),
     "stall_write_at_step": null or k (stop for good half-way through the first checkpoint write at step >= k)}
Replies on stdout: {"pid": child_pid} at once, then {"pid": ..., "status": exit code, or -signal}.
"""
import io
import json
import os
import signal
import sys

import torchvision.datasets  # noqa: F401  (imported lazily by gan_models.data; warm it here)

import gan_models.cli
import gan_models.training.checkpoint
import gan_models.training.trainer


def _inject_nan_at(step: int) -> None:
    """Make the `step`-th training step (1-based) see one NaN pixel, as a corrupt batch would."""
    train_step = gan_models.training.trainer.Trainer.train_step

    def poisoned(self, real):
        if self.step + 1 == step:
            real = real.clone()
            real[0, 0, 0, 0] = float("nan")
        return train_step(self, real)

    gan_models.training.trainer.Trainer.train_step = poisoned


def _stall_checkpoint_write_at(step: int) -> None:
    """Make the first checkpoint write at `step` or later write half its bytes and then wait for a signal for good.

    The temporary file then lies half-written beside the checkpoint, and the child says so on its output
    ("stalled writing step N"), so a test can SIGKILL it inside a write however fast the writes are.
    """
    torch = gan_models.training.checkpoint.torch
    real_save = torch.save

    def stalling(obj, file, *args, **kwargs):
        if not (isinstance(obj, dict) and obj.get("step", 0) >= step):
            return real_save(obj, file, *args, **kwargs)
        whole = io.BytesIO()
        real_save(obj, whole, *args, **kwargs)
        file.write(whole.getvalue()[: len(whole.getvalue()) // 2])
        file.flush()
        print(f"stalled writing step {obj['step']}", flush=True)
        while True:
            signal.pause()

    torch.save = stalling


def _child(request: dict) -> None:
    """Run one CLI command; never returns (os._exit skips the parent's inherited cleanup)."""
    fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    code = 1
    try:
        if request.get("nan_at_step"):
            _inject_nan_at(request["nan_at_step"])
        if request.get("stall_write_at_step"):
            _stall_checkpoint_write_at(request["stall_write_at_step"])
        gan_models.cli.main(request["args"], prog_name="gan-models")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        print(json.dumps({"pid": pid, "status": code}), flush=True)


if __name__ == "__main__":
    main()

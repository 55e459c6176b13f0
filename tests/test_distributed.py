"""Data-parallel training: two CPU processes under torchrun (gloo) stay in sync and log once."""
import csv
import os
import subprocess
import sys
from pathlib import Path

import torch

HERE = Path(__file__).parent


def test_two_process_training_keeps_ranks_in_sync(tmp_path, data_root):
    env = {**os.environ, "GAN_MODELS_DATA": str(data_root), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               str(HERE / "ddp_worker.py"), str(tmp_path)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    # 512 images split over 2 ranks, 32 per rank per step: 8 steps per epoch, 2 epochs.
    assert "rank 0 of 2: 16 steps" in done.stdout and "rank 1 of 2: 16 steps" in done.stdout
    rank0, rank1 = torch.load(tmp_path / "rank0.pt"), torch.load(tmp_path / "rank1.pt")
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key  # averaged gradients keep the replicas identical
    with open(tmp_path / "log.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["step"]) for r in rows] == list(range(1, 17))  # rank 0 alone logs
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["step"] == 16 and state["num_images"] == 512
    assert torch.equal(state["generator"]["net.0.weight"], rank0["net.0.weight"])


def test_torchrun_cli_reports_once(tmp_path, data_root):
    env = {**os.environ, "GAN_MODELS_DATA": str(data_root), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "gan_models.cli", "train", "--ngf", "16", "--ndf", "16", "--max-images", "256",
               "--batch-size", "32", "--epochs", "1",
               "--out", str(tmp_path), "--no-progress"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("done: 4 steps; errD ") == 1  # 256 / (2 * 32) steps, reported by rank 0 alone

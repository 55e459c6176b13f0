"""The training run's machinery: the loop (trainer), checkpoints, the run log, the run-folder lock, health checks and
data-parallel helpers."""

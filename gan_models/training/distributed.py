"""Where training runs: the device, and data-parallel training across processes started by `torchrun`.

Every rank holds a full copy of G and D, reads its own shard of each epoch (see
`gan_models.batches.ImageBatches`), and after each backward pass the gradients are averaged across
ranks with one all_reduce per network. That is the core of DistributedDataParallel; we call it
directly because a GAN step breaks DDP's one-forward-per-backward contract (D sees a real and a
fake batch, and WGAN-GP differentiates D's gradient, which DDP does not support). On CPU the
backend is gloo, on CUDA nccl.

Leaving the job is ordered on every path (see `shutdown`): all ranks meet at a barrier, then each
destroys its process group. Without that, a rank that exits with its group alive (as
tests/training/ddp_worker.py did) leaves gloo's threads and sockets to interpreter teardown, in no
order with its peer's; "terminate called without an active exception" (rank 1, exit -6) is what
C++ prints when a still-joinable thread is destroyed there. `init_from_env` registers `shutdown`
with atexit, so code that drives a Trainer itself leaves in order too.
"""
import atexit
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class ProcessGroup:
    """This process's place in the job: rank 0 of 1 when not launched by torchrun."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this process logs, renders grids and writes checkpoints."""
        return self.rank == 0


def pick_device(name: str) -> torch.device:
    """The device `name` says ("cpu", "cuda", "cuda:N", or "auto": CUDA when available); ValueError without CUDA."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but CUDA is not available; use --device cpu")
    return device


def init_from_env(device: torch.device) -> ProcessGroup:
    """Join the torchrun job described by RANK/WORLD_SIZE, or return a single-process group."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return ProcessGroup()
    if not dist.is_initialized():
        if device.type == "cuda" and device.index is None:
            # "cuda" is the current GPU, GPU 0 unless set: each process takes its own, or NCCL finds all on one.
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    group = ProcessGroup(rank=dist.get_rank(), world_size=dist.get_world_size())
    atexit.register(shutdown, group)  # a no-op when the caller has already shut down
    return group


def average_gradients(module: torch.nn.Module, group: ProcessGroup) -> None:
    """Replace each parameter's gradient by its mean over all ranks (one all_reduce on a flat buffer)."""
    if group.world_size == 1:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    flat = torch.cat([g.reshape(-1) for g in grads])
    dist.all_reduce(flat)
    flat /= group.world_size
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def sum_across_ranks(tensor: torch.Tensor, group: ProcessGroup) -> torch.Tensor:
    """`tensor` added up elementwise over all ranks, as a new tensor (`tensor` itself in a single process)."""
    if group.world_size == 1:
        return tensor
    total = tensor.clone()
    dist.all_reduce(total)
    return total


def barrier(group: ProcessGroup) -> None:
    """Wait for all ranks (no-op in a single process)."""
    if group.world_size > 1:
        dist.barrier()


SHUTDOWN_TIMEOUT = timedelta(seconds=30)  # how long a leaving rank waits for the others before leaving anyway


def shutdown(group: ProcessGroup, timeout: timedelta = SHUTDOWN_TIMEOUT) -> None:
    """Leave the process group in order: a barrier of all ranks, then destroy_process_group (idempotent).

    Called on every path (success, error, Ctrl-C). The barrier makes sure no peer is still inside a
    collective or about to start one when the group goes; on an error path the peers may never come,
    so it gives up after `timeout` and the group is destroyed regardless. A no-op in a single process
    or once the group is gone.
    """
    if group.world_size == 1 or not dist.is_initialized():
        return
    try:
        if dist.get_backend() == "gloo":
            dist.monitored_barrier(timeout=timeout)  # raises, naming the missing ranks, after `timeout`
        else:
            dist.barrier(timeout=timeout)
    except RuntimeError:  # a peer failed or left first: nothing left to wait for, leave anyway
        pass
    finally:
        dist.destroy_process_group()

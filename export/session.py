"""The one place that builds onnxruntime sessions, for validation and the benchmark alike.

Tuning, measured on a shared 2-core CPU with benchmarks/inference.py: full graph optimisation
(ORT_ENABLE_ALL: constant folding, node fusions, layout transforms), sequential execution with
one inter-op thread (the generators are chains: there is nothing to run in parallel), as many
intra-op threads as PyTorch uses so both runtimes get the same cores (one thread was up to 2x
slower at batch 256), and no spin-waiting between runs (see `spin_wait`).

Tried and left at their defaults, since neither helped every generator in paired rounds:
`session.dynamic_block_base` (2 or 4: DCGAN-28 at batch 256 went from 1.52x to 1.41x PyTorch) and
pinning intra-op threads to cores (`session.intra_op_thread_affinities`). At batch 256 the
generators are matrix multiplications at the CPU's throughput in both runtimes; onnxruntime's
lead there comes from fusing bias and activation into its Gemm (FusedGemm), which PyTorch eager
runs as separate passes over the activations.
"""
import os
import warnings

import onnxruntime as ort
import torch

from gan_models.errors import first_line

CPU = "CPUExecutionProvider"
CUDA = "CUDAExecutionProvider"
PROVIDERS = {"cpu": CPU, "cuda": CUDA}


class OnnxRuntimeError(RuntimeError):
    """onnxruntime cannot load a file, or will not run it on the requested provider."""


def cuda_available() -> bool:
    """Whether this onnxruntime build offers the CUDA execution provider."""
    return CUDA in ort.get_available_providers()


def make_session(model: str | os.PathLike | bytes, *, device: str = "cpu", intra_op_threads: int | None = None,
                 memory_arena: bool = True, spin_wait: bool = False) -> ort.InferenceSession:
    """An onnxruntime session for `model` (a path or serialized bytes), tuned for our generators.

    Args:
        model: the ONNX file or its bytes.
        device: "cpu" or "cuda". For "cuda", TF32 is disabled (exact float32 matmuls and
            convolutions) and the session is checked to really run on CUDAExecutionProvider.
        intra_op_threads: threads per operator; None uses torch.get_num_threads().
        memory_arena: keep onnxruntime's CPU memory arena. Validation turns it off so that many
            short-lived sessions give their memory back to the system.
        spin_wait: let idle intra-op threads spin for the next run. Off by default: spinning
            cut batch-1 latency by up to a third on an idle machine, but on a busy one (or beside
            PyTorch's own threads, as in validation) it steals the cores the work needs and made
            DCGAN-64 at batch 256 1.6x slower. Turn it on for a dedicated inference host.

    Raises:
        ValueError: unknown device.
        OnnxRuntimeError: onnxruntime cannot load the model, or CUDA was asked for but is not running it.
    """
    if device not in PROVIDERS:
        raise ValueError(f"unknown device {device!r}; choose one of {sorted(PROVIDERS)}")
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = intra_op_threads or torch.get_num_threads()
    options.enable_cpu_mem_arena = memory_arena
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin_wait else "0")
    options.log_severity_level = 3  # errors only: fp16 graphs otherwise log every cast onnxruntime inserts
    providers = [(CUDA, {"use_tf32": "0"}), CPU] if device == "cuda" else [CPU]
    source = model if isinstance(model, bytes) else os.fspath(model)
    try:
        with warnings.catch_warnings():  # a missing CUDA provider is reported below, as an error rather than a warning
            warnings.filterwarnings("ignore", message="Specified provider", category=UserWarning)
            session = ort.InferenceSession(source, options, providers=providers)
    except Exception as err:  # onnxruntime raises its own pybind exception types, not a common base
        name = "the model bytes" if isinstance(model, bytes) else str(model)
        raise OnnxRuntimeError(f"onnxruntime cannot load {name}: {first_line(err)}") from None
    if session.get_providers()[0] != PROVIDERS[device]:
        raise OnnxRuntimeError(f"asked onnxruntime for {PROVIDERS[device]} but it runs on {session.get_providers()}; "
                               "check the CUDA and cuDNN libraries onnxruntime-gpu needs")
    return session

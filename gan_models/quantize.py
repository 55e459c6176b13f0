"""Int8 storage of shipped state dicts: symmetric, one float16 scale per slice along dim 0.

A quantized state dict is still a plain dict of tensors, so `torch.load(..., weights_only=True)`
reads it. The convention, for every floating tensor `sd[key]` with two or more dims:

    qsd[key]            int8, same shape, round(w / scale) in [-127, 127]
    qsd[key + ".scale"]  float16, shape (w.shape[0],): max |w| over the other dims / 127

Dim 0 is the output channel of Linear and Conv weights (the input channel of ConvTranspose weights,
which is just as good a slice to scale). A "<key>.scale" cannot clash with a real state-dict key:
that would need a module registered under the name of a tensor. 1-D floating tensors (biases,
BatchNorm weights and running statistics) are stored as float16: they are few bytes and a running
variance needs the dynamic range. Integer tensors (num_batches_tracked) are kept as they are.

Whether a file is quantized is said by its record (`storage == "int8"`), not guessed from the
keys: see `gan_models.registry.load_shipped_state_dict`.
"""
import torch

SCALE_SUFFIX = ".scale"  # qsd[key + SCALE_SUFFIX] holds the per-slice scales of the int8 tensor qsd[key]
QMAX = 127  # symmetric range: -128 is never used, so negating a weight never overflows


def _scales(weight: torch.Tensor) -> torch.Tensor:
    """float16 scales, (weight.shape[0],), with scale * QMAX >= max |row| so no value needs clamping.

    A row of zeros gets scale 1 (any positive number would do: it quantizes to zeros).
    """
    amax = weight.detach().float().abs().flatten(1).amax(dim=1)  # (rows,)
    scale = (amax / QMAX).half()
    # float16 rounding may land just below amax / QMAX; step up one float16 where it did.
    short = scale.float() * QMAX < amax
    scale = torch.where(short, torch.nextafter(scale, torch.full_like(scale, float("inf"))), scale)
    scale = torch.where(amax == 0, torch.ones_like(scale), scale)
    if not torch.isfinite(scale).all():
        raise ValueError(f"weights up to {amax.max().item():.3g} overflow a float16 scale")
    return scale


def quantize_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`state_dict` stored as int8 with per-slice float16 scales (see the module docstring).

    Every element of a quantized tensor comes back by `dequantize_state_dict` within scale / 2 of
    its float32 value. Raises ValueError if a key is already the scale key of another tensor.
    """
    quantized = {}
    for key, tensor in state_dict.items():
        if f"{key}{SCALE_SUFFIX}" in state_dict:
            raise ValueError(f"state dict has both {key!r} and {key + SCALE_SUFFIX!r}; cannot store {key!r}'s scales")
        if not tensor.is_floating_point():
            quantized[key] = tensor
        elif tensor.dim() < 2:
            quantized[key] = tensor.detach().half()
        else:
            scale = _scales(tensor)  # (rows,)
            shape = (-1,) + (1,) * (tensor.dim() - 1)  # broadcast over the other dims
            q = torch.round(tensor.detach().float() / scale.float().view(shape)).clamp(-QMAX, QMAX)
            quantized[key] = q.to(torch.int8)
            quantized[key + SCALE_SUFFIX] = scale
    return quantized


def dequantize_state_dict(quantized: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The float32 state dict `quantize_state_dict` stored: the original keys, shapes and integer tensors.

    Raises ValueError for a scale that does not fit its tensor (not int8, or not one scale per slice of dim 0).
    """
    state_dict = {}
    for key, tensor in quantized.items():
        scale = quantized.get(key + SCALE_SUFFIX)
        if key.endswith(SCALE_SUFFIX) and key[:-len(SCALE_SUFFIX)] in quantized:
            continue  # read with its int8 tensor
        if scale is not None:
            if tensor.dtype != torch.int8 or tensor.dim() < 2 or scale.shape != tensor.shape[:1]:
                raise ValueError(f"{key + SCALE_SUFFIX!r} of shape {tuple(scale.shape)} does not scale {key!r}, "
                                 f"a {tensor.dtype} tensor of shape {tuple(tensor.shape)}")
            shape = (-1,) + (1,) * (tensor.dim() - 1)
            state_dict[key] = tensor.float() * scale.float().view(shape)
        elif tensor.is_floating_point():
            state_dict[key] = tensor.float()
        else:
            state_dict[key] = tensor
    return state_dict

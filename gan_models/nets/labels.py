"""Class labels of conditional networks: the one place that checks them and turns names into indices.

A conditional network's forward takes labels as an int64 tensor (N,) of class indices in
0 .. num_classes - 1, the layout its ONNX export has. `G.sample` is friendlier and takes a class
index, a class name ("Sneaker"), a list of either, or an integer tensor. Every mistake is one
ValueError naming it, raised before an embedding would fail with an IndexError (or, on CUDA,
a device-side assert).
"""
import numbers
from collections.abc import Sequence

import torch


def check_classes(num_classes: int | None, classes: Sequence[str] | None) -> tuple[str, ...]:
    """The class names of a conditional network, as a tuple of str.

    `classes` alone gives the names (and their number); `num_classes` alone names the classes
    "0" .. "num_classes - 1"; neither means the 10 classes of MNIST. Raises ValueError for fewer
    than 2 classes, repeated names, or a `num_classes` that disagrees with len(classes).
    """
    if classes is None:
        num_classes = 10 if num_classes is None else num_classes
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        return tuple(str(index) for index in range(num_classes))
    if isinstance(classes, str) or not all(isinstance(name, str) for name in classes):
        raise ValueError(f"classes must be a sequence of class names (str), got {classes!r}")
    classes = tuple(classes)
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValueError(f"classes must name at least 2 distinct classes, got {list(classes)}")
    if num_classes is not None and num_classes != len(classes):
        raise ValueError(f"num_classes={num_classes!r} but {len(classes)} class names were given")
    return classes


def refuse_labels(labels, what: str) -> None:
    """Raise ValueError if labels were passed to an unconditional network (`what` names it)."""
    if labels is not None:
        raise ValueError(f"this {what} is unconditional and takes no labels; build it with conditional=True "
                         "for a class-conditional one")


def check_labels(labels, n: int, num_classes: int, weight: torch.Tensor | None = None) -> None:
    """Raise ValueError unless `labels` is an int64 tensor (n,) of values in 0 .. num_classes - 1.

    With `weight` (a parameter of the network), labels must also be on its device. The value check
    needs the labels' minimum and maximum, so it is skipped while exporting (TorchScript tracing or
    torch.export): there the exported graph itself gives an all-NaN image for a label out of range
    (gan_models.export.onnx, metadata invalid_labels=nan).
    """
    if labels is None:
        raise ValueError(f"this network is conditional: pass labels, an int64 tensor ({n},) of class indices "
                         f"in 0..{num_classes - 1}")
    if not isinstance(labels, torch.Tensor):
        raise ValueError(f"labels must be an int64 tensor of shape ({n},), got {type(labels).__name__} "
                         "(G.sample also takes ints, class names and lists)")
    if labels.dtype != torch.int64:
        raise ValueError(f"labels must have dtype int64 (torch.long), got {labels.dtype}; class indices are "
                         "integers, convert with .long()")
    if tuple(labels.shape) != (n,):
        raise ValueError(f"labels must have shape ({n},), one class index per image, got {tuple(labels.shape)}")
    if weight is not None and labels.device != weight.device:
        raise ValueError(f"labels are on {labels.device} but the weights are on {weight.device}; "
                         f"move them with .to('{weight.device}')")
    if n and not (torch.jit.is_tracing() or torch.compiler.is_compiling()):  # either ONNX exporter
        low, high = labels.min().item(), labels.max().item()
        if low < 0 or high >= num_classes:
            bad = low if low < 0 else high
            raise ValueError(f"label {bad} is out of range: this network has {num_classes} classes, "
                             f"0..{num_classes - 1}")


def _index(label, classes: tuple[str, ...]) -> int:
    """One label (class index or class name, case-insensitive) as a class index; range is checked later."""
    if isinstance(label, str):
        matches = [i for i, name in enumerate(classes) if name.lower() == label.lower()]
        if not matches:
            raise ValueError(f"unknown class {label!r}; the classes are {list(classes)}")
        return matches[0]
    if isinstance(label, bool) or not isinstance(label, numbers.Integral):
        raise ValueError(f"a label must be a class index (int) or a class name (str), got {label!r}")
    return int(label)


def resolve_labels(labels, n: int, classes: tuple[str, ...], device: torch.device | str | None = None) -> torch.Tensor:
    """The labels of `n` samples as an int64 tensor (n,), checked by `check_labels`.

    Args:
        labels: a class index or name (all n images of that class), a sequence of n indices or
            names, or an integer tensor, 0-d (all n) or (n,).
        n: number of images.
        classes: the network's class names.
        device: where the tensor is created.
    """
    if isinstance(labels, torch.Tensor):
        if labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex():
            raise ValueError(f"labels must be class indices (an integer tensor), got dtype {labels.dtype}")
        values = labels.long().expand(n) if labels.dim() == 0 else labels.long()
    elif isinstance(labels, (str, numbers.Integral)):
        values = torch.full((n,), _index(labels, classes), dtype=torch.long)
    elif isinstance(labels, Sequence):
        values = torch.tensor([_index(label, classes) for label in labels], dtype=torch.long)
    else:
        raise ValueError(f"labels must be a class index, a class name, a list of them or an integer tensor, "
                         f"got {type(labels).__name__}")
    values = values.to(device)
    check_labels(values, n, len(classes))
    return values

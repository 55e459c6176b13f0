"""The two PyTorch -> ONNX exporters a generator can go through, behind one signature.

- "dynamo" (default): torch.export captures the module, onnxscript translates it
  (`torch.onnx.export(..., dynamo=True)`). It is the exporter PyTorch supports going forward.
  It implements opset 18 and later; asked for 17 it writes 18 and converts down with onnx's
  version converter, logging a warning, so we offer 18 to 20 and leave 17 to TorchScript.
  The batch axis is a torch.export `Dim`, so any batch >= 1 runs.
- "torchscript": the tracing exporter (`dynamo=False`), kept selectable for as long as torch
  ships it. torch 2.14 marks it deprecated with a DeprecationWarning, which we let through: a
  user who picks it should hear that it is going away. It writes opsets 17 to 20 natively.

Both write input names ("z", and "labels" for a conditional generator), the output "images"
and a batch axis named "batch"; validation treats their files the same.
"""
import os
from pathlib import Path

import onnx
import torch
from torch import nn

from gan_models.choices import check_opset
from gan_models.export.interface import BATCH_AXIS, OUTPUT_NAME


def to_onnx(module: nn.Module, inputs: tuple[torch.Tensor, ...], names: list[str], *, exporter: str, opset: int,
             batch_dynamic: bool, scratch: Path) -> onnx.ModelProto:
    """Export `module(*inputs)` with the given input names and output "images"; returns the model.

    `scratch` is a file path the TorchScript exporter writes through (it has no in-memory result).
    With `batch_dynamic`, axis 0 of every input and of the output is the dynamic axis "batch".
    """
    check_opset(opset, exporter)
    with torch.no_grad():
        if exporter == "dynamo":
            # z's batch axis carries the name; the labels' one is left for torch.export to infer (it equals
            # z's through the graph), since naming one symbol twice makes the exporter warn.
            shapes = ({0: torch.export.Dim(BATCH_AXIS)}, *({0: torch.export.Dim.AUTO} for _ in inputs[1:]))
            shapes = shapes if batch_dynamic else None
            program = torch.onnx.export(module, inputs, dynamo=True, input_names=names, output_names=[OUTPUT_NAME],
                                        dynamic_shapes=shapes, opset_version=opset, optimize=True, verbose=False)
            return program.model_proto
        axes = {name: {0: BATCH_AXIS} for name in [*names, OUTPUT_NAME]} if batch_dynamic else None
        torch.onnx.export(module, inputs, os.fspath(scratch), dynamo=False, export_params=True, opset_version=opset,
                          do_constant_folding=True, input_names=names, output_names=[OUTPUT_NAME], dynamic_axes=axes)
    return onnx.load(os.fspath(scratch))

"""The exponential moving average of the generator, which grids, checkpoints and exports use."""
import torch


def ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    """ema <- decay * ema + (1 - decay) * model, for parameters and floating buffers; integer buffers are copied."""
    with torch.no_grad():
        pairs = zip([*ema.parameters(), *ema.buffers()], [*model.parameters(), *model.buffers()], strict=True)
        for ema_t, t in pairs:
            if t.is_floating_point():
                ema_t.lerp_(t, 1.0 - decay)
            else:
                ema_t.copy_(t)

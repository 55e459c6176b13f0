"""What earlier gan-models versions wrote, read as this version's: the one place that knows the old formats.

- Training configs (config.json, and a checkpoint's "config"): before compute_dtype, the field was
  "precision", valued "fp32" or "bf16". Before the small-data defaults (TrainConfig.for_data), a config
  without "batch_size" or "diffaugment" meant 128 and "" (no augmentation); today unset means "chosen by
  the number of images", and every saved config holds both.
- Before the generator's `upsample` choice, a config lacked the field; it reads as None, which is the
  generator's default, "transpose", the only network there was, so nothing needs translating.
- Checkpoints of version 1 held the conditional flag twice, in "config" and in "generator_kwargs" (and
  the unread "discriminator_kwargs"); from version 2 the config alone holds it (gan_models.training.checkpoint).

Torch-free: TrainConfig reads every saved config through `upgrade_config`, and the command line
imports TrainConfig without torch.
"""
_OLD_PRECISIONS = {"fp32": "float32", "bf16": "bfloat16"}  # "precision" values -> compute_dtype values


def upgrade_config(saved: dict) -> dict:
    """A saved training config dict with old field names and values translated to today's (a new dict)."""
    saved = {"batch_size": 128, "diffaugment": "", **saved}
    if "precision" in saved and "compute_dtype" not in saved:
        old = saved.pop("precision")
        saved["compute_dtype"] = _OLD_PRECISIONS.get(old, old)
    return saved


def upgrade_checkpoint(state: dict, version: int) -> dict:
    """A checkpoint dict of format `version` (1 or later) in the current version's form (a new dict).

    Raises ValueError when a version-1 file contradicts itself (its two conditional flags differ).
    """
    state = dict(state)
    if isinstance(state.get("config"), dict):
        state["config"] = upgrade_config(state["config"])
    if version == 1:
        state.pop("discriminator_kwargs", None)
        kwargs = state.get("generator_kwargs")
        if isinstance(kwargs, dict) and isinstance(state.get("config"), dict):
            kwargs = dict(kwargs)
            flag = kwargs.pop("conditional", False)
            if flag != state["config"].get("conditional", False):
                raise ValueError(f"its generator_kwargs say conditional={flag!r} but its config says "
                                 f"{state['config'].get('conditional', False)!r}")
            state["generator_kwargs"] = kwargs
    return state

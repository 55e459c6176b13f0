"""Int8 storage of state dicts: layout, dtypes, round-trip error within half a step, strict refusals."""
import io

import pytest
import torch

from gan_models.quantize import QMAX, SCALE_SUFFIX, dequantize_state_dict, quantize_state_dict
from gan_models.registry import MODELS, build_generator


def _state_dict(name: str) -> dict:
    """A registered generator's state dict at small width, BatchNorm statistics moved off their defaults."""
    torch.manual_seed(0)
    generator = build_generator(name, ngf=8)
    generator.train()
    generator(torch.randn(4, generator.nz))  # running_mean / running_var / num_batches_tracked change
    return generator.state_dict()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_layout_and_dtypes_of_every_registered_generator(name):
    original = _state_dict(name)
    quantized = quantize_state_dict(original)
    matrices = [k for k, v in original.items() if v.is_floating_point() and v.dim() >= 2]
    assert matrices, "every generator has weight matrices to quantize"
    assert set(quantized) == set(original) | {k + SCALE_SUFFIX for k in matrices}
    for key, tensor in original.items():
        stored = quantized[key]
        assert stored.shape == tensor.shape
        if key in matrices:
            assert stored.dtype == torch.int8 and int(stored.abs().max()) <= QMAX
            assert quantized[key + SCALE_SUFFIX].dtype == torch.float16
            assert quantized[key + SCALE_SUFFIX].shape == (tensor.shape[0],)
        elif tensor.is_floating_point():  # biases, BatchNorm weights and running statistics
            assert stored.dtype == torch.float16 and torch.equal(stored, tensor.half())
        else:  # num_batches_tracked
            assert stored.dtype == tensor.dtype and torch.equal(stored, tensor)

    restored = dequantize_state_dict(quantized)
    assert list(restored) == list(original)
    for key, tensor in original.items():
        assert restored[key].shape == tensor.shape
        assert restored[key].dtype == (torch.float32 if tensor.is_floating_point() else tensor.dtype)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_error_is_at_most_half_a_step_per_element(name):
    original = _state_dict(name)
    quantized = quantize_state_dict(original)
    restored = dequantize_state_dict(quantized)
    for key, tensor in original.items():
        if key + SCALE_SUFFIX in quantized:
            scale = quantized[key + SCALE_SUFFIX].float().view((-1,) + (1,) * (tensor.dim() - 1))
            error = (restored[key] - tensor).abs()
            assert (error <= scale / 2 * (1 + 1e-5)).all(), f"{key}: error up to {error.max():.3g}"
            # The scale is as fine as float16 allows: the largest weight of each row uses (nearly) the full range.
            rows = tensor.abs().flatten(1).amax(dim=1)
            assert (rows <= scale.flatten() * QMAX).all()
            assert (rows > scale.flatten() * (QMAX - 1)).all()
        elif tensor.is_floating_point():
            assert torch.equal(restored[key], tensor.half().float())


def test_scales_are_per_row_so_a_large_row_does_not_coarsen_a_small_one():
    weight = torch.tensor([[1000.0, -500.0, 1.0], [1e-3, -2e-3, 5e-4]])
    restored = dequantize_state_dict(quantize_state_dict({"w": weight}))["w"]
    assert restored[1].tolist() == pytest.approx(weight[1].tolist(), abs=2e-3 / QMAX)
    assert restored[0, 1] == pytest.approx(-500.0, abs=1000.0 / QMAX)


def test_zero_rows_and_a_zero_tensor_come_back_as_zeros():
    weight = torch.randn(4, 3, 2, 2)
    weight[1] = 0
    quantized = quantize_state_dict({"conv.weight": weight, "zeros.weight": torch.zeros(3, 5)})
    assert torch.isfinite(quantized["conv.weight.scale"].float()).all()
    assert (quantized["conv.weight.scale"] > 0).all() and (quantized["zeros.weight.scale"] > 0).all()
    restored = dequantize_state_dict(quantized)
    assert torch.equal(restored["conv.weight"][1], torch.zeros(3, 2, 2))
    assert torch.equal(restored["zeros.weight"], torch.zeros(3, 5))
    assert torch.isfinite(restored["conv.weight"]).all()


def test_rows_too_small_or_large_for_float16_still_round_trip_or_are_refused():
    tiny = torch.full((2, 3), 1e-9)  # max / 127 underflows float16 to zero: the scale steps up instead
    quantized = quantize_state_dict({"w": tiny})
    assert (quantized["w.scale"] > 0).all()
    restored = dequantize_state_dict(quantized)["w"]
    assert ((restored - tiny).abs() <= quantized["w.scale"].float().view(-1, 1) / 2).all()
    with pytest.raises(ValueError, match="overflow a float16 scale"):
        quantize_state_dict({"w": torch.full((2, 3), 1e8)})


def test_a_quantized_state_dict_loads_with_weights_only():
    quantized = quantize_state_dict(_state_dict("dcgan"))
    buffer = io.BytesIO()
    torch.save(quantized, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=True)
    assert set(loaded) == set(quantized) and all(torch.equal(loaded[k], v) for k, v in quantized.items())


def test_dequantized_weights_load_into_a_float32_generator_and_sample_close_to_the_original():
    original = _state_dict("fcgan")
    generator = build_generator("fcgan", ngf=8).eval()
    generator.load_state_dict(dequantize_state_dict(quantize_state_dict(original)))
    reference = build_generator("fcgan", ngf=8).eval()
    reference.load_state_dict(original)
    assert all(p.dtype == torch.float32 for p in generator.parameters())
    assert (generator.sample(16, seed=0) - reference.sample(16, seed=0)).abs().max() < 0.05


def test_a_key_that_is_another_tensors_scale_key_is_refused():
    with pytest.raises(ValueError, match="has both 'a.weight' and 'a.weight.scale'"):
        quantize_state_dict({"a.weight": torch.ones(2, 2), "a.weight.scale": torch.ones(2)})


def test_a_scale_that_does_not_fit_its_tensor_is_refused():
    quantized = quantize_state_dict({"w": torch.randn(3, 4)})
    with pytest.raises(ValueError, match=r"'w.scale' of shape \(2,\) does not scale 'w', a torch.int8 tensor"):
        dequantize_state_dict({**quantized, "w.scale": quantized["w.scale"][:2]})
    with pytest.raises(ValueError, match="does not scale 'w', a torch.float32 tensor"):
        dequantize_state_dict({**quantized, "w": torch.randn(3, 4)})


def test_a_plain_state_dict_passes_through_as_float32():
    plain = {"norm.scale": torch.ones(3, dtype=torch.float16), "w": torch.randn(2, 2).half(),
             "steps": torch.tensor(7)}
    restored = dequantize_state_dict(plain)
    assert restored["norm.scale"].dtype == restored["w"].dtype == torch.float32
    assert torch.equal(restored["w"], plain["w"].float()) and torch.equal(restored["steps"], plain["steps"])

"""The AU adapter on tiny UNets built from configs (offline, CPU, seconds).

Invariants: scale 0 is the base exactly; loading keeps the base's weights and unloading gives back the
UNet byte for byte; a replaced processor is caught; save -> load round-trips; the condition moves the output.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from facecraft.rigs import EmotionCode, ParameterError
from facecraft.synth.adapter import (
    COND_DIM,
    AUAdapter,
    AUAttnProcessor,
    au_condition,
    au_unet_output,
    check_au_adapter,
    load_adapter,
    load_au_adapter,
    set_au_scale,
    unload_au_adapter,
)
from facecraft.synth.adapter_base import face_unet_config

torch.set_num_threads(1)


def tiny_unet(seed: int = 0, *, in_channels: int = 3):
    from diffusers import UNet2DConditionModel

    torch.manual_seed(seed)
    cfg = face_unet_config(resolution=16, channels=(8, 16), context_dim=16, in_channels=in_channels)
    return UNet2DConditionModel(**cfg).eval()


def tiny_adapter(unet, seed: int = 1, **kw) -> AUAdapter:
    torch.manual_seed(seed)
    adapter = AUAdapter.for_unet(unet, num_tokens=2, hidden_dim=16, **kw)
    with torch.no_grad():  # null tokens start at zero: make them matter for the tests
        adapter.au_proj.null_tokens.normal_()
    return adapter.eval()


def _inputs(batch: int = 2):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(batch, 3, 16, 16, generator=g)
    ctx = torch.randn(batch, 1, 16, generator=g)
    cond = torch.from_numpy(au_condition(EmotionCode.from_emotion("happiness", 0.9))).repeat(batch, 1)
    return x, ctx, cond


def _state_bytes(module) -> dict[str, bytes]:
    return {k: v.detach().cpu().numpy().tobytes() for k, v in module.state_dict().items()}


@torch.no_grad()
def test_scale_zero_is_the_base_exactly():
    unet = tiny_unet()
    adapter = tiny_adapter(unet)
    x, ctx, cond = _inputs()
    base = au_unet_output(unet, x, 10, ctx, None)
    load_au_adapter(unet, adapter, scale=0.0)
    tokens = adapter(cond)
    assert torch.equal(au_unet_output(unet, x, 10, ctx, tokens), base)
    set_au_scale(unet, 1.0)
    assert not torch.allclose(au_unet_output(unet, x, 10, ctx, tokens), base, atol=1e-6)


@torch.no_grad()
def test_processors_installed_on_every_cross_attention_and_kept():
    unet = tiny_unet()
    before = dict(unet.attn_processors)
    adapter = tiny_adapter(unet)
    load_au_adapter(unet, adapter)
    now = unet.attn_processors
    ours = [n for n, p in now.items() if isinstance(p, AUAttnProcessor)]
    assert ours == list(adapter.config.layer_names) and all(n.endswith("attn2.processor") for n in ours)
    assert all(now[n] is before[n] for n in now if n not in ours)  # self-attention untouched
    # the processors share the adapter's layers: training the adapter trains them
    assert now[ours[0]].to_k_ip[0] is adapter.au_attn[0].to_k
    assert check_au_adapter(unet) is adapter


@torch.no_grad()
def test_replaced_processor_is_reported():
    from diffusers.models.attention_processor import AttnProcessor2_0

    unet = tiny_unet()
    load_au_adapter(unet, tiny_adapter(unet))
    unet.set_attn_processor(AttnProcessor2_0())  # what e.g. another tool's setup does
    x, ctx, cond = _inputs()
    with pytest.raises(ParameterError, match="replaced"):
        au_unet_output(unet, x, 10, ctx, torch.zeros(2, 2, 16))


@torch.no_grad()
def test_unload_restores_the_unet_byte_for_byte():
    unet = tiny_unet()
    x, ctx, cond = _inputs()
    base = au_unet_output(unet, x, 10, ctx, None)
    keys, data = list(unet.state_dict()), _state_bytes(unet)
    procs, config = dict(unet.attn_processors), dict(unet.config)
    adapter = tiny_adapter(unet)
    load_au_adapter(unet, adapter)
    assert len(unet.state_dict()) > len(keys)  # the K/V layers show up while loaded, as in diffusers
    au_unet_output(unet, x, 10, ctx, adapter(cond))
    assert unload_au_adapter(unet) is adapter
    assert list(unet.state_dict()) == keys and _state_bytes(unet) == data
    assert all(unet.attn_processors[n] is p for n, p in procs.items()) and dict(unet.config) == config
    assert torch.equal(au_unet_output(unet, x, 10, ctx, None), base)
    with pytest.raises(ParameterError, match="no AU adapter"):
        unload_au_adapter(unet)


def test_base_weights_are_frozen_while_the_adapter_trains():
    unet = tiny_unet().requires_grad_(False)
    adapter = tiny_adapter(unet).train()
    load_au_adapter(unet, adapter)
    x, ctx, cond = _inputs()
    before = _state_bytes(unet)
    opt = torch.optim.SGD(adapter.parameters(), lr=0.1)
    loss = au_unet_output(unet, x, 10, ctx, adapter(cond, adapter.sample_dropout(2))).pow(2).mean()
    loss.backward()
    opt.step()
    assert adapter.au_attn[0].to_k.weight.grad is not None
    assert all(p.grad is None for n, p in unet.named_parameters() if "processor" not in n)
    after = {k: v for k, v in _state_bytes(unet).items() if "processor" not in k}
    assert after == {k: v for k, v in before.items() if "processor" not in k}


@torch.no_grad()
def test_save_load_round_trip(tmp_path):
    unet = tiny_unet()
    adapter = tiny_adapter(unet, cond_dropout=0.2)
    adapter.save_pretrained(tmp_path / "au")
    from safetensors.torch import load_file

    files = sorted(p.name for p in (tmp_path / "au").iterdir())
    assert files == ["config.json", "diffusion_pytorch_model.safetensors"]
    prefixes = {k.split(".")[0] for k in load_file(str(tmp_path / "au" / files[1]))}
    assert prefixes == {"au_proj", "au_attn"}  # the adapter alone, two key prefixes
    back = load_adapter(tmp_path / "au")
    public = lambda c: {k: v for k, v in dict(c).items() if not k.startswith("_")}  # noqa: E731
    assert public(back.config) == public(adapter.config) and back.config.cond_dropout == 0.2
    assert _state_bytes(back) == _state_bytes(adapter)
    x, ctx, cond = _inputs()
    load_au_adapter(unet, adapter)
    a = au_unet_output(unet, x, 10, ctx, adapter(cond))
    unload_au_adapter(unet)
    load_au_adapter(unet, back)
    assert torch.equal(au_unet_output(unet, x, 10, ctx, back(cond)), a)


def test_missing_or_mismatched_adapter(tmp_path):
    from facecraft.rigs.errors import MissingFileError

    with pytest.raises(MissingFileError, match="config.json"):
        load_adapter(tmp_path)
    other = AUAdapter.for_unet(tiny_unet(), num_tokens=2, hidden_dim=16)
    from diffusers import UNet2DConditionModel

    big = UNet2DConditionModel(**face_unet_config(resolution=16, channels=(8, 16, 16), context_dim=16))
    with pytest.raises(ParameterError, match="another UNet"):
        load_au_adapter(big, other)
    unet = tiny_unet()
    load_au_adapter(unet, tiny_adapter(unet))
    with pytest.raises(ParameterError, match="already loaded"):
        load_au_adapter(unet, tiny_adapter(unet))
    with pytest.raises(ParameterError, match="au_scale"):
        set_au_scale(unet, float("nan"))


def test_condition_layouts_agree():
    code = EmotionCode.from_emotion("surprise", 0.7)
    from_code = au_condition(code)
    assert from_code.shape == (1, COND_DIM)
    np.testing.assert_allclose(from_code[0, :50], code.to_au(), atol=1e-6)
    from_au = au_condition(code.to_au())  # AUs -> the code fitted to them, decoding to the same AUs
    np.testing.assert_allclose(from_au[0, :50], code.to_au(), atol=1e-6)
    np.testing.assert_allclose(EmotionCode(from_au[0, 50:]).to_au(), code.to_au(), atol=1e-4)
    assert au_condition({"AU12": 0.5})[0, 8] == pytest.approx(0.5)  # AU12L
    with pytest.raises(ParameterError, match="shape"):
        au_condition(np.zeros(7))
    with pytest.raises(ParameterError, match=r"\[0, 1\]"):
        au_condition(np.full(50, 2.0))


@torch.no_grad()
def test_dropped_conditions_use_the_null_tokens():
    unet = tiny_unet()
    adapter = tiny_adapter(unet)
    _, _, cond = _inputs()
    tokens = adapter(cond, torch.tensor([True, False]))
    assert torch.equal(tokens[0], adapter.null_tokens(1)[0])
    assert torch.equal(tokens[1], adapter(cond)[1])
    rate = AUAdapter.for_unet(unet, cond_dropout=0.25).sample_dropout(4000, generator=torch.Generator().manual_seed(0))
    assert 0.22 < rate.float().mean().item() < 0.28

"""Attention, LayerNorm, positions and Transformer blocks: gradient checks, PyTorch, errors."""

import warnings

import numpy as np
import pytest

from nnlearn.gradcheck import check_layer, numerical_gradient, relative_error
from nnlearn.layers import (
    DecoderBlock,
    EncoderBlock,
    LayerNorm,
    LearnedPositions,
    MultiHeadAttention,
    PositionalEncoding,
)
from nnlearn.layers.attention import (
    causal_mask,
    masked_softmax,
    padding_mask,
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)
from nnlearn.layers.positional import sinusoidal_positions

TOL = 1e-7


def randomised(layer, rng, scale=0.3):
    """The layer in float64 with every parameter (biases and gammas too) perturbed."""
    layer.astype(np.float64)
    for params, _ in layer.parameters():
        for value in params.values():
            value += scale * rng.standard_normal(value.shape)
    return layer


# -- masked softmax -------------------------------------------------------------------
def test_masked_softmax_rows_sum_to_one_and_blocked_entries_are_zero():
    rng = np.random.default_rng(0)
    scores = rng.standard_normal((2, 4, 5)) * 1e3  # large: a naive exp overflows
    mask = rng.random((2, 4, 5)) < 0.6
    mask[..., 0] = True
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = masked_softmax(scores, mask)
    assert np.all(np.isfinite(p)) and np.all(p[~mask] == 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1)


def test_fully_masked_row_gives_zeros_without_nan_or_warning():
    rng = np.random.default_rng(1)
    scores = rng.standard_normal((3, 4))
    mask = np.ones((3, 4), bool)
    mask[1] = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            p = masked_softmax(scores, mask)
            q, k, v = rng.standard_normal((1, 3, 2)), rng.standard_normal((1, 4, 2)), \
                rng.standard_normal((1, 4, 5))
            out, weights = scaled_dot_product_attention(q, k, v, mask[None])
    np.testing.assert_array_equal(p[1], 0)
    np.testing.assert_allclose(p[[0, 2]].sum(axis=-1), 1)
    np.testing.assert_array_equal(weights[0, 1], 0)
    np.testing.assert_array_equal(out[0, 1], 0)


def test_masked_softmax_without_mask_is_softmax():
    from nnlearn.activations import softmax

    x = np.random.default_rng(2).standard_normal((3, 7))
    np.testing.assert_allclose(masked_softmax(x), softmax(x, axis=-1))
    y = x.copy()
    assert masked_softmax(y, inplace=True) is y


# -- scaled dot-product attention -------------------------------------------------------
def naive_attention(q, k, v, mask=None):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -1e300)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)) @ v


@pytest.mark.parametrize("lead", [(2,), (2, 3)], ids=["(N,T,d)", "(N,h,T,d)"])
def test_attention_matches_the_formula(lead):
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal(lead + (t, d)) for t, d in ((4, 5), (6, 5), (6, 3)))
    out, weights = scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out, naive_attention(q, k, v), rtol=1e-12)
    assert weights.shape == lead + (4, 6)
    mask = padding_mask([6, 2], 6).reshape((2,) + (1,) * (len(lead) - 1) + (1, 6))  # (N, [1,] 1, T_k)
    np.testing.assert_allclose(scaled_dot_product_attention(q, k, v, mask)[0],
                               naive_attention(q, k, v, mask), rtol=1e-12)


MASKS = {
    "none": lambda: None,
    "causal": lambda: causal_mask(5),
    "padding": lambda: padding_mask([5, 3], 5)[:, None],  # (N, 1, 1, T_k)
    "fully masked row": lambda: np.array([True, False, True, True, False])[None, None, :, None]
                                & np.ones((1, 1, 5, 5), bool),
}


@pytest.mark.parametrize("mask_name", list(MASKS))
def test_attention_backward_gradcheck(mask_name):
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))  # (N, h, T, d)
    mask = MASKS[mask_name]()
    dout = rng.standard_normal((2, 3, 5, 4))

    def f():
        return float(np.sum(scaled_dot_product_attention(q, k, v, mask)[0] * dout))

    _, weights = scaled_dot_product_attention(q, k, v, mask)
    grads = scaled_dot_product_attention_backward(dout, q, k, v, weights)
    for name, x, g in zip("qkv", (q, k, v), grads, strict=True):
        error = relative_error(g, numerical_gradient(f, x))
        assert error < TOL, f"d{name}: {error:.2g}"


def test_attention_backward_writes_into_given_arrays():
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((2, 4, 3)) for _ in range(3))
    dout = rng.standard_normal((2, 4, 3))
    _, w = scaled_dot_product_attention(q, k, v)
    expected = scaled_dot_product_attention_backward(dout, q, k, v, w)
    buffers = tuple(np.empty_like(a) for a in (q, k, v))
    got = scaled_dot_product_attention_backward(dout, q, k, v, w, out=buffers)
    for e, g, b in zip(expected, got, buffers, strict=True):
        assert g is b
        np.testing.assert_allclose(g, e, rtol=1e-12)


def test_masks():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    np.testing.assert_array_equal(padding_mask([1, 3], 3)[:, 0], [[1, 0, 0], [1, 1, 1]])
    assert padding_mask([1, 3], 3).shape == (2, 1, 3)


# -- multi-head attention --------------------------------------------------------------
@pytest.mark.parametrize("mask_name", ["none", "causal", "padding", "causal+padding"])
def test_multi_head_self_attention_gradcheck(mask_name):
    rng = np.random.default_rng(6)
    causal = "causal" in mask_name
    layer = randomised(MultiHeadAttention(8, 2, causal=causal, rng=0), rng)
    x = rng.standard_normal((2, 5, 8))
    if "padding" in mask_name:
        mask = padding_mask([5, 3], 5)

        class Masked:  # gradcheck's forward(x) with the mask fixed
            params, grads = layer.params, layer.grads

            def forward(self, x):
                return layer.forward(x, mask)

            def backward(self, dout):
                return layer.backward(dout)

        result = check_layer(Masked(), x)
    else:
        result = check_layer(layer, x)
    assert result.ok, repr(result)
    assert set(result.errors) == {"dx", "dw_qkv", "db_qkv", "dw_o", "db_o"}


def test_multi_head_cross_attention_gradcheck():
    rng = np.random.default_rng(7)
    layer = randomised(MultiHeadAttention(6, 3, rng=1), rng)
    x, context = rng.standard_normal((2, 4, 6)), rng.standard_normal((2, 7, 6))
    mask = padding_mask([7, 5], 7)
    dout = rng.standard_normal((2, 4, 6))

    def f():
        return float(np.sum(layer.forward(x, mask, context=context) * dout))

    f()
    dx = layer.backward(dout)
    analytic = {"x": dx, "context": layer.dcontext,
                **{key: layer.grads[key].copy() for key in layer.params}}
    numeric = {"x": numerical_gradient(f, x), "context": numerical_gradient(f, context),
               **{key: numerical_gradient(f, p) for key, p in layer.params.items()}}
    for name in analytic:
        assert relative_error(analytic[name], numeric[name]) < TOL, name


def test_multi_head_attention_shapes_and_weights():
    layer = MultiHeadAttention(12, 3, rng=0)
    x = np.random.default_rng(8).standard_normal((2, 5, 12)).astype(np.float32)
    out = layer.forward(x, padding_mask([5, 2], 5))
    assert out.shape == (2, 5, 12) and out.dtype == np.float32
    assert layer.weights.shape == (2, 3, 5, 5)  # (N, h, T, T_k)
    np.testing.assert_allclose(layer.weights.sum(axis=-1), 1, rtol=1e-6)
    np.testing.assert_array_equal(layer.weights[1, :, :, 2:], 0)
    assert layer.num_params() == 4 * 12 * 12 + 4 * 12


def test_self_attention_is_permutation_equivariant_until_positions_are_added():
    rng = np.random.default_rng(9)
    layer = MultiHeadAttention(8, 2, rng=0).astype(np.float64)
    x = rng.standard_normal((1, 6, 8))
    perm = rng.permutation(6)
    np.testing.assert_allclose(layer.forward(x[:, perm]), layer.forward(x)[:, perm], rtol=1e-10)
    pe = PositionalEncoding(8).astype(np.float64)
    moved = layer.forward(pe.forward(x[:, perm]))
    assert not np.allclose(moved, layer.forward(pe.forward(x))[:, perm], atol=1e-3)


# -- layer norm and positions -------------------------------------------------------------
def test_layer_norm_gradcheck_and_statistics():
    rng = np.random.default_rng(10)
    layer = randomised(LayerNorm(6), rng)
    result = check_layer(layer, rng.standard_normal((3, 4, 6)) * 3 + 1)
    assert result.ok, repr(result)
    out = LayerNorm(6).forward(rng.standard_normal((5, 6)) * 10 + 4)
    np.testing.assert_allclose(out.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=-1), 1, rtol=1e-5)


def test_sinusoidal_positions():
    pe = sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16)
    np.testing.assert_allclose(pe[0, 0::2], 0)
    np.testing.assert_allclose(pe[0, 1::2], 1)
    np.testing.assert_allclose(pe[7, 2], np.sin(7 / 10000 ** (2 / 16)))
    np.testing.assert_allclose(pe[7, 3], np.cos(7 / 10000 ** (2 / 16)))
    np.testing.assert_allclose(pe[:, 0::2] ** 2 + pe[:, 1::2] ** 2, 1)


def test_positional_layers_gradcheck():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 4, 6))
    assert check_layer(PositionalEncoding(6, max_len=10).astype(np.float64), x).ok
    result = check_layer(LearnedPositions(10, 6, rng=0).astype(np.float64), x)
    assert result.ok and list(result.errors) == ["dx", "dw"]


# -- Transformer blocks ------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: EncoderBlock(8, 2, 16, rng=0),
    lambda: DecoderBlock(8, 2, 16, rng=1),
    lambda: EncoderBlock(8, 2, 16, residual=False, rng=2),
    lambda: EncoderBlock(8, 4, 16, layer_norm=False, rng=3),
], ids=["encoder", "decoder", "no residual", "no layer norm"])
def test_transformer_block_gradcheck(make):
    rng = np.random.default_rng(12)
    block = randomised(make(), rng, scale=0.1)
    result = check_layer(block, rng.standard_normal((2, 5, 8)))
    assert result.ok, repr(result)


def test_decoder_block_is_causal():
    rng = np.random.default_rng(13)
    block = DecoderBlock(8, 2, 16, rng=0).astype(np.float64)
    x = rng.standard_normal((1, 6, 8))
    changed = x.copy()
    changed[:, 4:] += 1  # the future of position 3
    np.testing.assert_allclose(block.forward(changed)[:, :4], block.forward(x)[:, :4], rtol=1e-12)


def test_block_weights_round_trip_and_count():
    block = EncoderBlock(8, 2, 32, rng=0)
    saved = block.get_weights()
    assert "1.w_qkv" in saved and "3.0.w" in saved and "0.gamma" in saved
    other = EncoderBlock(8, 2, 32, rng=1).set_weights(saved)
    x = np.random.default_rng(14).standard_normal((2, 3, 8)).astype(np.float32)
    np.testing.assert_array_equal(other.forward(x), block.forward(x))
    assert block.num_params() == (4 * 64 + 4 * 8) + (8 * 32 + 32 + 32 * 8 + 8) + 4 * 8


# -- clear errors ------------------------------------------------------------------------
def test_errors_name_expected_and_received():
    with pytest.raises(ValueError, match="d_model.*divisible by num_heads=3. Got d_model=8"):
        MultiHeadAttention(8, 3)
    layer = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"x of shape \(N, T, d_model=8\); got \(2, 5, 6\)"):
        layer.forward(np.zeros((2, 5, 6), np.float32))
    with pytest.raises(ValueError, match=r"context of shape \(N, T, d_model=8\); got \(2, 5, 4\)"):
        layer.forward(np.zeros((2, 5, 8)), context=np.zeros((2, 5, 4)))
    x = np.zeros((2, 5, 8), np.float32)
    with pytest.raises(ValueError, match="boolean ndarray.*got dtype int64"):
        layer.forward(x, np.ones((5, 5), dtype=np.int64))
    with pytest.raises(ValueError, match=r"broadcast to the scores' shape \(2, 2, 5, 5\).*got shape \(4, 4\)"):
        layer.forward(x, causal_mask(4))
    with pytest.raises(ValueError, match=r"q \(..., T_q, d\), k .*got q \(2, 4, 3\), k \(2, 4, 5\)"):
        scaled_dot_product_attention(np.zeros((2, 4, 3)), np.zeros((2, 4, 5)), np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match=r"expected q: a float array of shape \(N, T, d\)"):
        scaled_dot_product_attention(np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="lengths: a 1-D array of ints in \\[0, 3\\]"):
        padding_mask([4], 3)
    with pytest.raises(ValueError, match=r"LayerNorm\(4\) expected input of shape \(N, ..., 4\); got \(2, 3\)"):
        LayerNorm(4).forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="'d_model' parameter of sinusoidal_positions must be even"):
        sinusoidal_positions(4, 5)
    with pytest.raises(ValueError, match=r"T <= 4"):
        PositionalEncoding(8, max_len=4).forward(np.zeros((1, 5, 8)))


# -- PyTorch as the oracle -----------------------------------------------------------------
def _torch():
    return pytest.importorskip("torch")


def _load(module, state):
    torch = _torch()
    module.load_state_dict({key: torch.tensor(value) for key, value in state.items()})
    return module


@pytest.mark.parametrize("mask_name", ["none", "padding", "causal", "cross+padding"])
def test_multi_head_attention_agrees_with_torch(mask_name):
    torch = _torch()
    rng = np.random.default_rng(15)
    N, T, T_k, D, h = 3, 5, 6 if "cross" in mask_name else 5, 12, 4
    layer = randomised(MultiHeadAttention(D, h, causal=mask_name == "causal", rng=0), rng)
    ref = _load(torch.nn.MultiheadAttention(D, h, batch_first=True, dtype=torch.float64),
                layer.torch_state())
    x = rng.standard_normal((N, T, D))
    context = rng.standard_normal((N, T_k, D)) if "cross" in mask_name else None
    lengths = [T_k, T_k - 2, 1]
    mask = padding_mask(lengths, T_k) if "padding" in mask_name else None
    out = layer.forward(x, mask, context=context)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)

    xt = torch.tensor(x, requires_grad=True)
    ct = torch.tensor(context, requires_grad=True) if context is not None else xt
    kwargs = {}
    if mask is not None:  # torch: True = ignore this key (the opposite of ours)
        kwargs["key_padding_mask"] = torch.tensor(~mask[:, 0, :])
    if mask_name == "causal":
        kwargs["attn_mask"] = torch.tensor(~causal_mask(T))
    out_t, _ = ref(xt, ct, ct, need_weights=False, **kwargs)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-5, atol=1e-8)
    if context is not None:
        np.testing.assert_allclose(layer.dcontext, ct.grad.numpy(), rtol=1e-5, atol=1e-8)
    torch_grads = {"w_qkv": ref.in_proj_weight.grad.numpy().T, "b_qkv": ref.in_proj_bias.grad,
                   "w_o": ref.out_proj.weight.grad.numpy().T, "b_o": ref.out_proj.bias.grad}
    for key, expected in torch_grads.items():
        np.testing.assert_allclose(layer.grads[key], np.asarray(expected), rtol=1e-5, atol=1e-8,
                                   err_msg=key)


def test_attention_function_agrees_with_torch_boolean_mask_polarity():
    torch = _torch()
    rng = np.random.default_rng(16)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))
    mask = causal_mask(5)  # True = may attend, as in torch's scaled_dot_product_attention
    out, _ = scaled_dot_product_attention(q, k, v, mask)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-10)


def test_layer_norm_agrees_with_torch():
    torch = _torch()
    rng = np.random.default_rng(17)
    layer = randomised(LayerNorm(7), rng)
    ref = _load(torch.nn.LayerNorm(7, dtype=torch.float64),
                {"weight": layer.params["gamma"], "bias": layer.params["beta"]})
    x = rng.standard_normal((3, 4, 7)) * 2 + 1
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    out_t = ref(xt)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(layer.grads["gamma"], ref.weight.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(layer.grads["beta"], ref.bias.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("causal", [False, True], ids=["encoder", "decoder"])
def test_transformer_block_agrees_with_torch_encoder_layer(causal):
    torch = _torch()
    rng = np.random.default_rng(18)
    block = randomised((DecoderBlock if causal else EncoderBlock)(16, 4, 32, rng=0), rng, 0.1)
    ref = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True,
                                           norm_first=True, dtype=torch.float64)
    _load(ref, block.torch_state())
    x = rng.standard_normal((2, 6, 16))
    out = block.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = block.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    mask = torch.tensor(~causal_mask(6)) if causal else None
    out_t = ref(xt, src_mask=mask)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(block.attn.grads["w_qkv"], ref.self_attn.in_proj_weight.grad.numpy().T,
                               rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(block.norm1.grads["gamma"], ref.norm1.weight.grad.numpy(),
                               rtol=1e-5, atol=1e-8)


def test_split_and_merge_heads_round_trip():
    from nnlearn.layers.attention import merge_heads, split_heads

    x = np.arange(2 * 3 * 6).reshape(2, 3, 6)  # (N, T, D)
    heads = split_heads(x, 2)  # (N, h, T, d)
    assert heads.shape == (2, 2, 3, 3)
    np.testing.assert_array_equal(heads[1, 1, 2], x[1, 2, 3:])  # head 1 = the second half
    np.testing.assert_array_equal(merge_heads(heads), x)
    with pytest.raises(ValueError, match="not divisible by num_heads=4"):
        split_heads(x, 4)

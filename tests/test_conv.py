"""Conv2D and pooling: gradient checks (float64, < 1e-7), PyTorch agreement, shapes, errors."""

import numpy as np
import pytest

from nnlearn.gradcheck import check_layer
from nnlearn.layers import AvgPool2D, Conv2D, Flatten, GlobalAvgPool2D, MaxPool2D, ReLU
from nnlearn.layers.conv import col2im, conv2d_naive, conv_output_size, im2col

TOL = 1e-7

# (N, C, H, W, F, kernel, stride, padding, dilation)
CONV_CASES = [
    (2, 3, 7, 6, 4, 3, 1, 1, 1),
    (3, 2, 9, 8, 5, (3, 2), 2, (1, 2), 1),
    (2, 2, 9, 9, 3, 3, 1, 0, 2),
    (1, 3, 8, 7, 2, (2, 3), (2, 1), 2, (2, 1)),
    (2, 1, 6, 6, 2, 4, 1, "same", 1),  # odd total padding: the extra row/column at the bottom/right
    (2, 2, 7, 5, 3, 3, 1, "same", 2),
    (1, 1, 5, 5, 2, 5, 1, "valid", 1),  # the kernel covers the whole image: a 1x1 output
    (4, 1, 4, 4, 1, 1, 1, 0, 1),  # 1x1 convolution
]
CONV_IDS = ["3x3-pad1", "rect-stride2", "dilation2", "mixed", "same-even-kernel", "same-dilated",
            "full-image", "1x1"]


def conv_layer(case, rng, dtype=np.float64):
    N, C, H, W, F, k, s, p, d = case
    layer = Conv2D(C, F, k, stride=s, padding=p, dilation=d, rng=rng).astype(dtype)
    layer.params["b"][...] = rng.standard_normal(F)  # a non-zero bias
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    return layer, x


@pytest.mark.parametrize("case", CONV_CASES, ids=CONV_IDS)
def test_conv_gradcheck(case):
    rng = np.random.default_rng(0)
    layer, x = conv_layer(case, rng)
    result = check_layer(layer, x, rng=1)
    assert result.max_rel_error < TOL, repr(result)


def test_conv_without_bias_gradcheck():
    rng = np.random.default_rng(1)
    layer = Conv2D(2, 3, 3, padding=1, bias=False, rng=0).astype(np.float64)
    assert set(layer.params) == {"w"}
    assert check_layer(layer, rng.standard_normal((2, 2, 5, 5)), rng=2).max_rel_error < TOL


def test_conv_matches_naive_loops():
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
    for stride, padding in [(1, 0), (2, 1), (3, 2)]:
        layer = Conv2D(3, 4, 3, stride=stride, padding=padding).astype(np.float64)
        layer.params["w"][...], layer.params["b"][...] = w, b
        np.testing.assert_allclose(layer.forward(x), conv2d_naive(x, w, b, stride, padding), atol=1e-12)


def test_output_size_formula():
    assert conv_output_size(28, 5, padding=2) == 28  # LeNet-5 on MNIST: 28x28 stays 28x28
    assert conv_output_size(32, 5) == 28  # LeNet-5's original 32x32 input
    assert conv_output_size(32, 3, stride=2, padding=1) == 16
    assert conv_output_size(7, 3, dilation=2) == 3  # a dilated 3x3 spans 5 pixels
    for case in CONV_CASES:
        N, C, H, W, F, k, s, p, d = case
        layer = Conv2D(C, F, k, stride=s, padding=p, dilation=d)
        out = layer.forward(np.zeros((N, C, H, W), np.float32))
        assert out.shape == layer.output_shape((N, C, H, W))
        if p == "same":
            assert out.shape[2:] == (H, W)


def test_im2col_and_col2im_are_adjoint():
    """<im2col(x), c> == <x, col2im(c)>: col2im is exactly the transpose of im2col."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 8, 7))
    for kernel, stride, dilation in [((3, 3), (1, 1), (1, 1)), ((2, 3), (2, 1), (1, 2)), ((3, 2), (2, 3), (2, 1))]:
        cols = im2col(x, kernel, stride, dilation)
        c = rng.standard_normal(cols.shape)
        back = col2im(c, x.shape, kernel, stride, dilation)
        assert back.shape == x.shape
        np.testing.assert_allclose(np.sum(cols * c), np.sum(x * back), rtol=1e-12)
    cols = im2col(np.arange(16.0).reshape(1, 1, 4, 4), (2, 2))  # (4, 9): one column per patch
    np.testing.assert_array_equal(cols[:, 0], [0, 1, 4, 5])  # the top-left patch
    np.testing.assert_array_equal(cols[:, 8], [10, 11, 14, 15])  # the bottom-right patch


def test_conv_keeps_float32_and_writes_grads_in_place():
    layer = Conv2D(2, 3, 3, padding=1, rng=0)
    grad_w = layer.grads["w"]
    x = np.ones((2, 2, 5, 5))  # float64 input is cast, not upcast
    out = layer.forward(x)
    assert out.dtype == np.float32
    dx = layer.backward(np.ones(out.shape, np.float32))
    assert dx.dtype == np.float32 and dx.shape == x.shape
    assert layer.grads["w"] is grad_w and grad_w.dtype == np.float32
    assert layer.backward(np.ones(out.shape, np.float32), need_dx=False) is None


def test_conv_reuses_buffers_and_handles_changing_batch_sizes():
    rng = np.random.default_rng(4)
    layer = Conv2D(1, 2, 3, padding=1, rng=0).astype(np.float64)
    big, small = rng.standard_normal((5, 1, 6, 6)), rng.standard_normal((2, 1, 6, 6))
    expected_small = conv2d_naive(small, layer.params["w"], layer.params["b"], 1, 1)
    layer.forward(big)
    np.testing.assert_allclose(layer.forward(small), expected_small, atol=1e-12)
    out_big = layer.forward(big).copy()
    layer.forward(big)
    np.testing.assert_array_equal(layer.forward(big), out_big)  # reused buffers leave no trace


def test_conv_output_is_batch_last_and_a_following_conv_reads_it_as_is():
    rng = np.random.default_rng(13)
    first = Conv2D(2, 3, 3, rng=0).astype(np.float64)
    second = Conv2D(3, 4, 2, rng=1).astype(np.float64)  # no padding: reads the first's output directly
    x = rng.standard_normal((5, 2, 7, 6))
    h = first.forward(x)
    assert h.shape == (5, 3, 5, 4) and h.transpose(1, 2, 3, 0).flags.c_contiguous  # (C, H, W, N) in memory
    assert second._padded(h) is h
    expected = conv2d_naive(conv2d_naive(x, first.params["w"], first.params["b"]), second.params["w"],
                            second.params["b"])
    np.testing.assert_allclose(second.forward(h), expected, atol=1e-12)
    np.testing.assert_allclose(second.forward(np.ascontiguousarray(h)), expected, atol=1e-12)  # any layout


def test_conv_initialisation_variance():
    layer = Conv2D(16, 32, 3, rng=0)  # He normal: Var(w) = 2 / fan_in, fan_in = 16 * 3 * 3
    assert abs(layer.params["w"].var() * 16 * 9 / 2 - 1) < 0.05
    np.testing.assert_array_equal(Conv2D(3, 4, 3, rng=5).params["w"], Conv2D(3, 4, 3, rng=5).params["w"])


# --- pooling ---------------------------------------------------------------------------------

def distinct_values(rng, shape):
    """A random permutation of well-separated values: no ties, so finite differences are clean."""
    return rng.permutation(np.arange(np.prod(shape), dtype=np.float64)).reshape(shape) * 0.1


POOL_CASES = [
    ((2, 3, 6, 6), 2, None, 0),  # the common case: windows tile the image (reshape path)
    ((2, 2, 7, 5), 2, None, 0),  # H, W not divisible: the last row/column is dropped
    ((2, 2, 7, 7), 3, 2, 1),  # overlapping windows with padding
    ((1, 2, 6, 5), (2, 3), (1, 2), (1, 1)),
    ((2, 1, 5, 5), 3, 1, 0),  # stride 1: one input can be the maximum of several windows
]
POOL_IDS = ["tiles", "remainder", "overlap-pad", "rect", "stride1"]


@pytest.mark.parametrize("make", [MaxPool2D, AvgPool2D], ids=["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=POOL_IDS)
def test_pool_gradcheck(make, case):
    shape, k, s, p = case
    rng = np.random.default_rng(5)
    result = check_layer(make(k, s, p), distinct_values(rng, shape), rng=6)
    assert result.max_rel_error < TOL, repr(result)


def test_maxpool_gradcheck_shared_maximum():
    """One large value is the maximum of all four overlapping windows: its gradients add up."""
    x = distinct_values(np.random.default_rng(7), (1, 1, 3, 3))
    x[0, 0, 1, 1] = 10.0
    layer = MaxPool2D(2, stride=1)
    assert check_layer(layer, x, rng=8).max_rel_error < TOL
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    assert dx[0, 0, 1, 1] == 4 and dx.sum() == 4


def test_maxpool_ties_go_to_the_first_element():
    layer = MaxPool2D(2)
    x = np.zeros((1, 1, 2, 4))
    x[0, 0, :, 2:] = [[1.0, 3.0], [3.0, 3.0]]  # window 1: a three-way tie
    out = layer.forward(x)
    np.testing.assert_array_equal(out, [[[[0.0, 3.0]]]])
    dx = layer.backward(np.array([[[[5.0, 7.0]]]]))
    expected = np.zeros((1, 1, 2, 4))
    expected[0, 0, 0, 0] = 5.0  # all-zero window: the top-left element takes it all
    expected[0, 0, 0, 3] = 7.0  # the first 3 in row-major order
    np.testing.assert_array_equal(dx, expected)


def test_global_avg_pool_gradcheck_and_shape():
    rng = np.random.default_rng(9)
    layer = GlobalAvgPool2D()
    x = rng.standard_normal((3, 4, 5, 2))
    np.testing.assert_allclose(layer.forward(x), x.mean(axis=(2, 3)))
    assert check_layer(layer, x, rng=10).max_rel_error < TOL


def test_pooling_keeps_float32_and_non_contiguous_input():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 3, 6, 6)).astype(np.float32).transpose(1, 0, 2, 3)  # (3, 4, 6, 6) view
    for layer in (MaxPool2D(2), AvgPool2D(2), MaxPool2D(3, 2, 1), AvgPool2D(3, 1, 1), GlobalAvgPool2D()):
        out = layer.forward(x)
        assert out.dtype == np.float32, layer
        dx = layer.backward(np.ones_like(out))
        assert dx.dtype == np.float32 and dx.shape == x.shape, layer
    expected = np.ascontiguousarray(x).reshape(3, 4, 3, 2, 3, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(MaxPool2D(2).forward(x), expected)


def test_small_cnn_gradcheck_end_to_end():
    from nnlearn.gradcheck import check_model
    from nnlearn.layers import Dense
    from nnlearn.losses import SoftmaxCrossEntropy
    from nnlearn.model import Sequential

    rng = np.random.default_rng(12)
    model = Sequential([Conv2D(1, 2, 3, padding=1), ReLU(), MaxPool2D(2), Conv2D(2, 3, 3, padding="same"),
                        ReLU(), AvgPool2D(2), Flatten(), Dense(3 * 2 * 2, 4)], rng=0).astype(np.float64)
    x = rng.standard_normal((3, 1, 8, 8))
    y = np.array([0, 3, 1])
    assert check_model(model, SoftmaxCrossEntropy(), x, y).max_rel_error < TOL


# --- errors --------------------------------------------------------------------------------

def test_conv_rejects_wrong_rank_with_a_hint():
    layer = Conv2D(1, 6, 5)
    with pytest.raises(ValueError, match=r"expected a 4-D input of shape \(N, 1, H, W\); got shape "
                                         r"\(32, 28, 28\) \(3-D\) — .*channel axis: x\[:, None\]"):
        layer.forward(np.zeros((32, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"got shape \(32, 784\) \(2-D\)"):
        layer.forward(np.zeros((32, 784), np.float32))


def test_conv_rejects_channel_mismatch():
    with pytest.raises(ValueError, match=r"expected 3 input channel\(s\).*got 1 channels, shape \(2, 1, 8, 8\)"):
        Conv2D(3, 4, 3).forward(np.zeros((2, 1, 8, 8), np.float32))


def test_conv_rejects_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"leaves no output: its kernel spans 5x5 pixels .* padded input is only "
                                         r"3x3 \(input 3x3"):
        Conv2D(1, 1, 5).forward(np.zeros((1, 1, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"kernel spans 5x5 pixels \(kernel 3x3, dilation \(2, 2\)\)"):
        Conv2D(1, 1, 3, dilation=2, padding=0).forward(np.zeros((1, 1, 4, 4), np.float32))
    Conv2D(1, 1, 5, padding=1).forward(np.zeros((1, 1, 3, 3), np.float32))  # 3 + 2 = 5: fits


def test_conv_rejects_bad_arguments():
    with pytest.raises(ValueError, match="'stride' parameter of Conv2D must be an int >= 1. Got 0"):
        Conv2D(1, 1, 3, stride=0)
    with pytest.raises(ValueError, match="'padding' parameter of Conv2D must be an int >= 0. Got -1"):
        Conv2D(1, 1, 3, padding=-1)
    with pytest.raises(ValueError, match="'padding' parameter of Conv2D must be an int, a pair of ints, 'same' or "
                                         "'valid'. Got 'full'"):
        Conv2D(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match=r"padding='same' needs stride 1; got stride \(2, 2\)"):
        Conv2D(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="'kernel_size' parameter of Conv2D must be an int or a pair"):
        Conv2D(1, 1, (3, 3, 3))
    with pytest.raises(ValueError, match="'out_channels' parameter of Conv2D must be an int >= 1. Got 0"):
        Conv2D(1, 0, 3)


def test_pooling_errors():
    with pytest.raises(ValueError, match=r"MaxPool2D\(2x2\) expected a 4-D input .*got shape \(5, 6, 6\)"):
        MaxPool2D(2).forward(np.zeros((5, 6, 6)))
    with pytest.raises(ValueError, match=r"leaves no output: its kernel spans 3x3 .* padded input is only 2x2"):
        AvgPool2D(3).forward(np.zeros((1, 1, 2, 2)))
    with pytest.raises(ValueError, match=r"'padding' parameter of MaxPool2D must be at most half the kernel size"):
        MaxPool2D(2, padding=2)
    with pytest.raises(ValueError, match="'stride' parameter of AvgPool2D must be an int >= 1. Got 0"):
        AvgPool2D(2, stride=0)
    with pytest.raises(ValueError, match=r"GlobalAvgPool2D\(\) expected a 4-D input"):
        GlobalAvgPool2D().forward(np.zeros((2, 3)))


# --- PyTorch as an independent oracle --------------------------------------------------------

def torch_pair(value):
    return value if isinstance(value, (str, tuple)) else (value, value)


@pytest.mark.parametrize("seed", range(6))
def test_conv_matches_torch_on_random_shapes(seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(100 + seed)
    kh, kw = rng.integers(1, 5, 2)
    s, d = tuple(rng.integers(1, 3, 2)), tuple(rng.integers(1, 3, 2))
    p = tuple(rng.integers(0, 3, 2))
    if seed == 5:
        s, p = (1, 1), "same"
    N, C, F = rng.integers(1, 5, 3)
    H, W = rng.integers(d[0] * (kh - 1) + 1, 12), rng.integers(d[1] * (kw - 1) + 1, 12)
    layer = Conv2D(int(C), int(F), (int(kh), int(kw)), stride=s, padding=p, dilation=d, rng=rng).astype(np.float64)
    layer.params["b"][...] = rng.standard_normal(F)
    x = rng.standard_normal((N, C, H, W))
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(layer.params["w"].copy()).requires_grad_()
    bt = torch.from_numpy(layer.params["b"].copy()).requires_grad_()
    out_t = torch.nn.functional.conv2d(xt, wt, bt, stride=s, padding=p, dilation=d)
    dout = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(layer.forward(x), out_t.detach().numpy(), rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(layer.grads["w"], wt.grad.numpy(), rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(layer.grads["b"], bt.grad.numpy(), rtol=1e-5, atol=1e-10)


def test_conv_float32_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    layer = Conv2D(6, 16, 5, rng=0)  # LeNet's second layer, float32 throughout
    x = rng.standard_normal((8, 6, 14, 14), dtype=np.float32)
    dout = rng.standard_normal((8, 16, 10, 10), dtype=np.float32)
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(layer.params["w"].copy()).requires_grad_()
    bt = torch.from_numpy(layer.params["b"].copy()).requires_grad_()
    out_t = torch.nn.functional.conv2d(xt, wt, bt)
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(layer.forward(x), out_t.detach().numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.grads["w"], wt.grad.numpy(), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("seed", range(5))
def test_pooling_matches_torch_on_random_shapes(kind, seed):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(200 + seed)
    k = tuple(int(v) for v in rng.integers(1, 4, 2))
    s = None if seed < 2 else tuple(int(v) for v in rng.integers(1, 4, 2))
    p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 4)), int(rng.integers(k[0], 10)), int(rng.integers(k[1], 10)))
    x = np.round(rng.standard_normal(shape) * 2) / 2  # coarse values: many ties inside windows
    x = np.maximum(x, 0) if seed % 2 else x  # after a ReLU, most windows tie at 0
    layer = (MaxPool2D if kind == "max" else AvgPool2D)(k, s, p)
    xt = torch.from_numpy(x).requires_grad_()
    pool = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    out_t = pool(xt, k, s if s is not None else k, p)
    dout = rng.standard_normal(tuple(out_t.shape))
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(layer.forward(x), out_t.detach().numpy(), rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(layer.backward(dout), xt.grad.numpy(), rtol=1e-5, atol=1e-12)


def test_global_avg_pool_matches_torch():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(3).standard_normal((2, 5, 4, 3))
    xt = torch.from_numpy(x).requires_grad_()
    out_t = torch.nn.functional.adaptive_avg_pool2d(xt, 1).flatten(1)
    out_t.backward(torch.ones_like(out_t))
    layer = GlobalAvgPool2D()
    np.testing.assert_allclose(layer.forward(x), out_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(np.ones((2, 5))), xt.grad.numpy(), rtol=1e-12)

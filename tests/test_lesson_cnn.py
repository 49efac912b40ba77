"""Lesson 05 (CNN): the filters, image helpers and convolution playground of nnlearn.widgets.cnn,
and the exercise references checked against independent computations."""

import numpy as np
import pytest

from nnlearn.exercises.registry import get_exercise
from nnlearn.layers.conv import conv2d_naive
from nnlearn.widgets import cnn as W


# -- filters and images ---------------------------------------------------------------------------
def test_kernel_sums_say_what_the_filters_keep():
    for name in ("identity", "blur (box)", "blur (Gaussian)", "sharpen"):
        assert W.KERNELS[name].sum() == pytest.approx(1.0), name  # brightness kept
    for name in ("edges (Sobel x)", "edges (Sobel y)", "outline (Laplacian)"):
        assert W.KERNELS[name].sum() == pytest.approx(0.0), name  # flat regions give 0
    assert all(k.shape == (3, 3) for k in W.KERNELS.values())


def test_sample_image_ships_offline_and_is_grey():
    image = W.sample_image()
    assert image.shape == (106, 160) and image.dtype == np.float64
    assert 0 <= image.min() < 0.1 and 0.9 < image.max() <= 1
    assert W.sample_image(shrink=8).shape == (53, 80)
    with pytest.raises(ValueError, match="'shrink' parameter of sample_image"):
        W.sample_image(0)


def test_convolve_image_is_cross_correlation():
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(0)
    image, kernel = rng.random((9, 7)), rng.standard_normal((3, 2))
    np.testing.assert_allclose(W.convolve_image(image, kernel), signal.correlate2d(image, kernel, "valid"))
    padded = W.convolve_image(image, kernel, padding=1, stride=2)
    expected = conv2d_naive(image[None, None], kernel[None, None], None, stride=2, padding=1)[0, 0]
    np.testing.assert_allclose(padded, expected)
    with pytest.raises(ValueError, match=r"image must be a 2-D grey image \(H, W\); got shape \(3, 9, 7\)"):
        W.convolve_image(np.zeros((3, 9, 7)), kernel)
    with pytest.raises(ValueError, match="kernel must be a 2-D array"):
        W.convolve_image(image, np.ones(3))


def test_sobel_finds_a_vertical_edge():
    step = np.zeros((6, 6))
    step[:, 3:] = 1
    out = W.convolve_image(step, W.KERNELS["edges (Sobel x)"])
    np.testing.assert_array_equal(out, np.tile([0, 4, 4, 0], (4, 1)))
    np.testing.assert_array_equal(W.convolve_image(step, W.KERNELS["edges (Sobel y)"]), 0)


# -- drawing --------------------------------------------------------------------------------------
def test_draw_convolution_shows_input_kernel_and_output_with_its_size():
    image = np.random.default_rng(1).random((20, 30))
    axes = W.draw_convolution(image, W.KERNELS["sharpen"], stride=2, padding=1, name="sharpen")
    assert len(axes) == 3
    out = axes[2].get_images()[0].get_array()
    assert out.shape == (10, 15)
    np.testing.assert_allclose(out, W.convolve_image(image, W.KERNELS["sharpen"], stride=2, padding=1))
    assert axes[0].get_title() == "input 20x30" and axes[1].get_title() == "sharpen"
    assert axes[2].get_title().startswith("output 10x15: (20 + 2·1 − 3) // 2 + 1 = 10")
    assert [t.get_text() for t in axes[1].texts] == ["0", "-1", "0", "-1", "5", "-1", "0", "-1", "0"]


def test_plot_image_grid_lays_out_and_hides_spare_axes():
    images = np.random.default_rng(2).standard_normal((5, 4, 4))
    fig = W.plot_image_grid(images, titles=list("abcde"), ncols=3, symmetric=True, suptitle="maps")
    axes = fig.axes
    assert len(axes) == 6 and not axes[5].axison
    assert [ax.get_title() for ax in axes[:5]] == list("abcde")
    low, high = axes[0].get_images()[0].get_clim()
    assert low == -high  # centred at 0
    with pytest.raises(ValueError, match=r"images must have shape \(K, H, W\)"):
        W.plot_image_grid(np.zeros((4, 4)))


def test_widget_builds_and_presets_fill_the_kernel():
    pytest.importorskip("ipywidgets")
    widget = W.convolution_widget(image=np.random.default_rng(3).random((12, 12)), kernel="identity")
    values = lambda: np.array([[box.value for box in row] for row in widget.kernel_boxes])  # noqa: E731
    np.testing.assert_array_equal(values(), W.KERNELS["identity"])
    widget.preset.value = "blur (box)"
    np.testing.assert_allclose(values(), W.KERNELS["blur (box)"])
    widget.stride.value, widget.padding.value = 2, 1  # redraws without error
    widget.kernel_boxes[1][1].value = 3.0
    with pytest.raises(ValueError, match="'kernel' parameter of convolution_widget"):
        W.convolution_widget(kernel="blurry")


# -- the exercise references agree with independent computations ------------------------------------
def _cases(name):
    exercise = get_exercise(f"cnn.{name}")
    return exercise, exercise.cases() + exercise.cases(7)


def test_output_size_reference_counts_positions():
    exercise, cases = _cases("conv_output_size")
    for case in cases:
        span = case["dilation"] * (case["kernel"] - 1) + 1
        padded = case["size"] + 2 * case["padding"]
        positions = len(range(0, padded - span + 1, case["stride"]))
        assert exercise.reference(**case) == positions, case


def test_conv_references_match_the_naive_loops_and_im2col():
    exercise, cases = _cases("conv2d_naive")
    for case in cases:
        np.testing.assert_allclose(exercise.reference(**case), conv2d_naive(**case), atol=1e-12)
    im2col, cases = _cases("im2col")
    for case in cases:
        cols = im2col.reference(**case)
        x, kh, kw, s, p = case["x"], case["kh"], case["kw"], case["stride"], case["padding"]
        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        N, C = x.shape[:2]
        H_out, W_out = (x_pad.shape[2] - kh) // s + 1, (x_pad.shape[3] - kw) // s + 1
        column = 0
        for n in range(N):
            for i in range(H_out):
                for j in range(W_out):
                    patch = x_pad[n, :, i * s:i * s + kh, j * s:j * s + kw]
                    np.testing.assert_array_equal(cols[:, column], patch.reshape(C * kh * kw))
                    column += 1
        assert cols.shape == (C * kh * kw, column)


def test_conv_backward_reference_matches_numerical_gradients():
    from nnlearn.gradcheck import numerical_gradient, relative_error

    exercise, cases = _cases("conv2d_backward")
    for case in cases[:4]:
        dout, x, w, s, p = case["dout"], case["x"], case["w"], case["stride"], case["padding"]
        dx, dw, db = exercise.reference(**case)
        b = np.zeros(w.shape[0])
        f = lambda: np.sum(conv2d_naive(x, w, b, s, p) * dout)  # noqa: E731, B023
        assert relative_error(dx, numerical_gradient(f, x)) < 1e-7
        assert relative_error(dw, numerical_gradient(f, w)) < 1e-7
        assert relative_error(db, numerical_gradient(f, b)) < 1e-7


def test_maxpool_references_give_ties_to_the_first_element():
    forward, cases = _cases("maxpool_forward")
    backward, back_cases = _cases("maxpool_backward")
    assert any(len(np.unique(c["x"])) < c["x"].size // 2 for c in cases), "cases include ties"
    for case in back_cases:
        dout, x, k, s = case["dout"], case["x"], case["pool"], case["stride"]
        N, C, H, W = x.shape
        out = forward.reference(x=x, pool=k, stride=s)
        expected = np.zeros_like(x)
        for n in range(N):
            for c in range(C):
                for i in range(out.shape[2]):
                    for j in range(out.shape[3]):
                        window = x[n, c, i * s:i * s + k, j * s:j * s + k]
                        assert out[n, c, i, j] == window.max()
                        u, v = np.unravel_index(np.argmax(window), window.shape)  # the first maximum
                        expected[n, c, i * s + u, j * s + v] += dout[n, c, i, j]
        np.testing.assert_allclose(backward.reference(**case), expected, atol=1e-12)

"""Lesson 05 (CNN): classic filters, a real test image, feature-map grids and a convolution playground.

::

    from nnlearn.widgets.cnn import KERNELS, convolve_image, draw_convolution, sample_image

    image = sample_image()                                 # (H, W) grey values in [0, 1]
    edges = convolve_image(image, KERNELS["edges (Sobel x)"], padding=1)
    draw_convolution(image, KERNELS["sharpen"], stride=2)  # input, kernel, output, sizes

* :data:`KERNELS` — hand-made 3x3 filters (identity, blur, sharpen, edges, ...).
* :func:`sample_image` — scikit-learn's "china.jpg" photo (ships offline), grey, shrunk.
* :func:`convolve_image` — one image, one kernel, through :class:`nnlearn.layers.Conv2D`.
* :func:`draw_convolution` — the three panels the widget shows.
* :func:`plot_image_grid` — a grid of images (feature maps, learned filters).
* :func:`convolution_widget` — pick or edit a 3x3 kernel, choose stride and padding.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from nnlearn.layers import AvgPool2D, Conv2D
from nnlearn.layers.conv import conv_output_size
from nnlearn.validation import check_int

KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
    "blur (box)": np.full((3, 3), 1 / 9),
    "blur (Gaussian)": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "edges (Sobel x)": np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=float),
    "edges (Sobel y)": np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], dtype=float),
    "outline (Laplacian)": np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=float),
    "emboss": np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]], dtype=float),
}
"""Classic 3x3 filters. Blur kernels sum to 1 (brightness kept), edge kernels to 0 (flat
regions give 0), sharpen to 1 (= identity + a Laplacian edge boost)."""


def sample_image(shrink: int = 4) -> np.ndarray:
    """scikit-learn's sample photo "china.jpg" in grey, block-averaged by ``shrink``.

    The photo ships with scikit-learn (no download). The colour channels are
    averaged, values scaled to [0, 1], and ``shrink`` x ``shrink`` blocks
    averaged (an :class:`~nnlearn.layers.AvgPool2D`), so the default gives a
    (106, 160) image.

    Returns
    -------
    image : ndarray of shape (H, W), float64 in [0, 1]
    """
    from sklearn.datasets import load_sample_image

    shrink = check_int(shrink, "shrink", "sample_image")
    rgb = load_sample_image("china.jpg")  # (427, 640, 3) uint8
    grey = rgb.mean(axis=2) / 255.0  # (H, W)
    return AvgPool2D(shrink).forward(grey[None, None])[0, 0]  # (H / shrink, W / shrink)


def _check_kernel(kernel) -> np.ndarray:
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2:
        raise ValueError(f"kernel must be a 2-D array (kh, kw); got shape {kernel.shape}")
    return kernel


def _check_image(image) -> np.ndarray:
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"image must be a 2-D grey image (H, W); got shape {image.shape}")
    return image


def convolve_image(image, kernel, stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    """Filter one grey image with one kernel, using a 1-in, 1-out :class:`~nnlearn.layers.Conv2D`.

    Parameters
    ----------
    image : array of shape (H, W);  kernel : array of shape (kh, kw)
    stride, padding, dilation : as for Conv2D (zero padding)

    Returns
    -------
    out : ndarray of shape (H_out, W_out), float64
    """
    image, kernel = _check_image(image), _check_kernel(kernel)
    layer = Conv2D(1, 1, kernel.shape, stride=stride, padding=padding, dilation=dilation,
                   bias=False).astype(np.float64)
    layer.params["w"][0, 0] = kernel
    return layer.forward(image[None, None])[0, 0]  # (1, 1, H, W) -> (H_out, W_out)


def plot_image_grid(images, titles: Sequence[str] | None = None, ncols: int = 8, cmap: str = "gray",
                    size: float = 1.6, suptitle: str | None = None, symmetric: bool = False):
    """Show a stack of images (K, H, W) in a grid: feature maps, filters, digits.

    ``symmetric=True`` centres the colour scale of each image at 0 (filters and
    feature maps have signs: blue negative, red positive). Returns the figure.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"images must have shape (K, H, W); got {images.shape}")
    count = len(images)
    ncols = max(1, min(ncols, count))
    nrows = int(np.ceil(count / ncols))
    row_height = size + (0.35 if titles is not None else 0.0)  # room for the titles
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, row_height * nrows + (0.5 if suptitle else 0)),
                             squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if k >= count:
            ax.axis("off")
            continue
        if symmetric:
            limit = float(np.abs(images[k]).max()) or 1.0
            ax.imshow(images[k], cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(images[k], cmap=cmap)
        if titles is not None:
            ax.set_title(titles[k], fontsize="small")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def draw_convolution(image, kernel, stride: int = 1, padding: int = 0, axes: Sequence[Axes] | None = None,
                     name: str | None = None) -> list[Axes]:
    """Three panels: the input, the kernel (with its numbers) and the filtered output with its size.

    The output's title gives the size formula with the numbers filled in,
    ``(H + 2p - k) // s + 1``, for rows and columns. Returns the three axes.
    """
    image, kernel = _check_image(image), _check_kernel(kernel)
    out = convolve_image(image, kernel, stride=stride, padding=padding)
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(13, 3.8), gridspec_kw={"width_ratios": [3, 1.2, 3]})
    ax_in, ax_k, ax_out = axes
    H, W = image.shape
    kh, kw = kernel.shape
    ax_in.imshow(image, cmap="gray", vmin=0, vmax=1)
    ax_in.set_title(f"input {H}x{W}")
    limit = float(np.abs(kernel).max()) or 1.0
    ax_k.imshow(kernel, cmap="RdBu_r", vmin=-limit, vmax=limit)
    for (i, j), value in np.ndenumerate(kernel):
        colour = "white" if abs(value) > 0.6 * limit else "black"  # readable on dark cells
        ax_k.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize="small", color=colour)
    ax_k.set_title(name or f"kernel {kh}x{kw}")
    image_out = ax_out.imshow(out, cmap="gray")  # grey levels scaled to the output's range
    ax_out.figure.colorbar(image_out, ax=ax_out, fraction=0.046, pad=0.02)
    H_out, W_out = out.shape
    assert (H_out, W_out) == (conv_output_size(H, kh, stride, padding), conv_output_size(W, kw, stride, padding))
    ax_out.set_title(f"output {H_out}x{W_out}: ({H} + 2·{padding} − {kh}) // {stride} + 1 = {H_out}, "
                     f"({W} + 2·{padding} − {kw}) // {stride} + 1 = {W_out}", fontsize="small")
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    return list(axes)


def convolution_widget(image=None, kernel: str = "edges (Sobel x)"):
    """A convolution playground: pick a preset or type a 3x3 kernel, set stride and padding.

    Every change redraws :func:`draw_convolution`. Returns an ``ipywidgets``
    VBox (display it as a cell's last expression); its ``kernel_boxes`` (3x3
    list of FloatText), ``preset``, ``stride`` and ``padding`` controls are
    attributes, for tests and for scripting.
    """
    import ipywidgets as widgets

    if kernel not in KERNELS:
        raise ValueError(f"The 'kernel' parameter of convolution_widget must be one of {list(KERNELS)}. "
                         f"Got {kernel!r} instead.")
    image = sample_image() if image is None else _check_image(image)
    preset = widgets.Dropdown(options=list(KERNELS), value=kernel, description="preset")
    stride = widgets.IntSlider(value=1, min=1, max=4, description="stride", continuous_update=False)
    padding = widgets.IntSlider(value=0, min=0, max=3, description="padding", continuous_update=False)
    boxes = [[widgets.FloatText(value=float(KERNELS[kernel][i, j]), layout=widgets.Layout(width="70px"),
                                step=0.1) for j in range(3)] for i in range(3)]

    def load_preset(change) -> None:
        for (i, j), value in np.ndenumerate(KERNELS[change["new"]]):
            boxes[i][j].value = float(value)

    preset.observe(load_preset, names="value")

    def draw(stride, padding, **entries) -> None:
        k = np.array([[entries[f"k{i}{j}"] for j in range(3)] for i in range(3)])
        name = preset.value if np.allclose(k, KERNELS[preset.value]) else "your kernel"
        draw_convolution(image, k, stride=stride, padding=padding, name=name)
        plt.show()

    controls = {"stride": stride, "padding": padding}
    controls.update({f"k{i}{j}": boxes[i][j] for i in range(3) for j in range(3)})
    output = widgets.interactive_output(draw, controls)
    grid = widgets.VBox([widgets.HBox(row) for row in boxes])
    box = widgets.VBox([widgets.HBox([widgets.VBox([preset, stride, padding]), grid]), output])
    box.preset, box.stride, box.padding, box.kernel_boxes, box.output = preset, stride, padding, boxes, output
    return box

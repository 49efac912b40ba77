"""Shared test setup: Matplotlib draws off-screen, and each test's figures are closed after it."""

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no windows in tests

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")

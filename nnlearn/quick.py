"""Quick mode: smaller data and fewer epochs, for tests and CI.

Set the environment variable ``NNLEARN_QUICK=1`` (the test command does) and
lessons shrink their workloads; learners running the notebooks normally get the
full-size version. Lessons write their sizes as::

    EPOCHS = sized(full=2000, quick=300)
"""

from __future__ import annotations

import os

QUICK_VARIABLE = "NNLEARN_QUICK"


def is_quick() -> bool:
    """True when ``NNLEARN_QUICK`` is set to anything but "", "0" or "false"."""
    return os.environ.get(QUICK_VARIABLE, "").strip().lower() not in ("", "0", "false", "no")


def sized(full, quick):
    """``quick`` in quick mode, else ``full``."""
    return quick if is_quick() else full

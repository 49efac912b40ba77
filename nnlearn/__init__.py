"""nnlearn: neural networks from scratch in NumPy, written to be read.

The library is organised one concept per module; import what you need from it:

    from nnlearn.layers import Dense, ReLU          # forward/backward building blocks
    from nnlearn.losses import SoftmaxCrossEntropy  # losses and their gradients
    from nnlearn.model import Sequential            # fit / evaluate / predict
    from nnlearn.optim import Adam                  # parameter updates
    from nnlearn.gradcheck import check_layer       # is my backward right?

See README.md for the map of modules and the course that uses them.
"""

__version__ = "0.1.0"

"""Exercise specs, one module per lesson: ``<topic>.py`` for ``solutions/NN_<topic>.ipynb``.

Each module builds :class:`~nnlearn.exercises.registry.Exercise` objects and
calls :func:`~nnlearn.exercises.registry.register` at import time, in notebook
order. Modules are imported on demand by the registry; see the guide in
:mod:`nnlearn.exercises`.
"""

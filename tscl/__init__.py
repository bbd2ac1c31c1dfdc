"""tscl: self-supervised contrastive learning for time series.

``import tscl`` gives :class:`ContrastiveEncoder` and :func:`load`; the building
blocks live in submodules (``tscl.augment``, ``tscl.encoders``, ``tscl.losses``,
``tscl.methods``, ``tscl.datasets``, ``tscl.evaluation``, ...), which are also
reachable as attributes of ``tscl`` and imported on first use.

Examples
--------
>>> import tscl
>>> tscl.ContrastiveEncoder(n_components=64)
ContrastiveEncoder(n_components=64)
>>> tscl.augment.Jitter(sigma=0.05)
Jitter(sigma=0.05)
"""

import importlib
from types import ModuleType

from tscl._version import __version__
from tscl.estimator import ContrastiveEncoder, load

__all__ = ["ContrastiveEncoder", "__version__", "load"]

_SUBMODULES = {
    "augment",
    "checkpoint",
    "cli",
    "datasets",
    "demo",
    "distributed",
    "encoders",
    "evaluation",
    "features",
    "losses",
    "methods",
    "persistence",
    "pretrained",
    "records",
    "training",
}


def __getattr__(name: str) -> ModuleType:
    """Import a submodule on first access, e.g. ``tscl.datasets``."""
    if name in _SUBMODULES:
        return importlib.import_module(f"tscl.{name}")
    raise AttributeError(f"module 'tscl' has no attribute {name!r}")

"""tscl: self-supervised contrastive learning for time series.

Examples
--------
>>> import tscl
>>> tscl.ContrastiveEncoder(n_components=64)
ContrastiveEncoder(n_components=64)
"""

from tscl.estimator import ContrastiveEncoder
from tscl.persistence import load

__version__ = "0.1.0"
__all__ = ["ContrastiveEncoder", "__version__", "load"]

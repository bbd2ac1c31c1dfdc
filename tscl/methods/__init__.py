"""Self-supervised methods: each owns its encoder and heads; ``forward`` is the loss.

A method is a small ``nn.Module`` in the style of the moco-v3 builder:
``__init__(encoder, **params)``, ``forward(x1, x2, labels=None) -> loss`` on two
views, ``on_step_end(step, total_steps)`` for updates outside the gradient
(momentum), and an ``encoder`` attribute that downstream code uses. Where they
live:

- ``_base.py``: :class:`Method`, heads, :class:`MomentumTarget`;
- ``_contrastive.py``: SimCLR, MoCo, SupCon, Triplet (positives against negatives);
- ``_bootstrap.py``: BYOL, SimSiam (no negatives);
- ``_ts2vec.py``: TS2Vec and SoftCLT (timestamp representations);
- ``_clip.py``: CLIP-style pairs of modalities.

To add one: write the class in the module of its family and add it to
:data:`METHODS`; its loss goes in :mod:`tscl.losses`.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from tscl._validation import check_keywords, resolve_name, short_repr
from tscl.methods._base import Method, MomentumTarget, mlp, projection_head
from tscl.methods._bootstrap import BYOL, SimSiam
from tscl.methods._clip import CLIP, ChannelGroup, CLIPPair, PairEncoder, Spectrum
from tscl.methods._contrastive import MoCo, SimCLR, SupCon, Triplet
from tscl.methods._ts2vec import SoftCLT, TS2Vec

__all__ = [
    "BYOL",
    "CLIP",
    "METHODS",
    "TS2Vec",
    "CLIPPair",
    "ChannelGroup",
    "Method",
    "MoCo",
    "MomentumTarget",
    "PairEncoder",
    "SimCLR",
    "SimSiam",
    "SoftCLT",
    "Spectrum",
    "SupCon",
    "Triplet",
    "build_method",
    "method_class",
    "mlp",
    "projection_head",
]


def method_class(method: str | type[Method] | Method) -> type[Method]:
    """Return the class a ``method`` parameter stands for.

    Parameters
    ----------
    method : str, class or Method
        A name in :data:`METHODS`, a :class:`Method` subclass or an instance.

    Returns
    -------
    type

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    TypeError
        For anything else.

    Examples
    --------
    >>> method_class("moco").__name__
    'MoCo'
    """
    found = resolve_name(method, METHODS, "method", "method")
    if isinstance(found, Method):
        return type(found)
    if not (isinstance(found, type) and issubclass(found, Method)):
        raise TypeError(
            f"The 'method' parameter must be a name in {sorted(METHODS)} or a "
            f"tscl.methods.Method subclass; got {short_repr(method)}."
        )
    return found


def build_method(
    method: str | type[Method] | Method,
    encoder: nn.Module,
    params: dict[str, Any] | None = None,
) -> Method:
    """Build a method around ``encoder`` from a name or a class.

    Parameters
    ----------
    method : str, class or Method
        A name in :data:`METHODS`, a :class:`Method` subclass or an instance
        (returned as is; ``encoder`` is then ignored).
    encoder : nn.Module
        The encoder to train.
    params : dict, optional
        Extra keyword arguments for the method's class.

    Returns
    -------
    Method

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    TypeError
        For anything else, or ``params`` the class does not take.

    Examples
    --------
    >>> from tscl.encoders import CNN
    >>> type(build_method("simclr", CNN(1, 8, hidden_dim=4, depth=1))).__name__
    'SimCLR'
    """
    found = resolve_name(method, METHODS, "method", "method")
    if isinstance(found, Method):
        return found
    cls = method_class(found)
    check_keywords(cls, params or {}, "method_params", skip=1)
    try:
        return cls(encoder, **(params or {}))
    except TypeError as err:
        if "argument" not in str(err):
            raise
        raise TypeError(
            f"Could not build {cls.__name__} with method_params={short_repr(params)}: "
            f"{err}"
        ) from None


#: Methods by name. ``ContrastiveEncoder(method=...)`` takes a name or a class.
METHODS: dict[str, type[Method]] = {
    "simclr": SimCLR,
    "moco": MoCo,
    "byol": BYOL,
    "simsiam": SimSiam,
    "supcon": SupCon,
    "triplet": Triplet,
    "ts2vec": TS2Vec,
    "softclt": SoftCLT,
    "clip": CLIP,
}

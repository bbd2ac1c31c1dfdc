"""Encoders: map a batch ``(batch, channels, time)`` to representations.

Every encoder has one interface, as in timm: ``__init__(in_channels, out_dim,
**kwargs)``, ``forward_features(x) -> (batch, hidden_dim, time')``,
``forward(x) -> (batch, out_dim)``, ``forward_timestamps(x) -> (batch, out_dim,
time')`` (one representation per timestep, or per patch), and the attributes
``out_dim``, ``min_length`` (the shortest series it accepts) and
``timestamp_stride`` (timesteps per entry of ``time'``). To add one: write the
class (``forward_features``, ``timestamps`` and ``pool``) in the module of its
kind and add it to :data:`ENCODERS` at the bottom of this file.

Where things are: ``_base.py`` (the :class:`Encoder` base), ``_cnn.py``
(:class:`CNN`, :class:`TS2VecEncoder`), ``_resnet.py`` (:class:`ResNet1D`),
``_transformer.py`` (:class:`Transformer`), ``_encode.py`` (:func:`encode`,
:func:`timestamps`, :func:`output_size`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from tscl._validation import check_keywords, resolve_name, short_repr
from tscl.encoders._base import Encoder
from tscl.encoders._cnn import CNN, TS2VecEncoder
from tscl.encoders._encode import encode, encode_tensor, output_size, timestamps
from tscl.encoders._resnet import ResNet1D
from tscl.encoders._transformer import Transformer

__all__ = [
    "CNN",
    "ENCODERS",
    "Encoder",
    "ResNet1D",
    "TS2VecEncoder",
    "Transformer",
    "build_encoder",
    "encode",
    "encode_tensor",
    "output_size",
    "timestamps",
]


def build_encoder(
    encoder: str | type[nn.Module] | nn.Module,
    in_channels: int,
    out_dim: int,
    params: dict[str, Any] | None = None,
) -> nn.Module:
    """Build an encoder from a registry name or a class; pass an instance through.

    Parameters
    ----------
    encoder : str, class or nn.Module
        A name in :data:`ENCODERS`, an encoder class, or a built module.
    in_channels : int
        Input channels.
    out_dim : int
        Representation size.
    params : dict, optional
        Extra keyword arguments for the class.

    Returns
    -------
    nn.Module

    Raises
    ------
    ValueError
        For an unknown name (the message lists the valid ones).
    TypeError
        If ``encoder`` is neither a name, a class nor a module, or ``params`` are
        not accepted by the class.

    Examples
    --------
    >>> build_encoder("cnn", 1, 8, {"hidden_dim": 4, "depth": 1}).out_dim
    8
    """
    found = resolve_name(encoder, ENCODERS, "encoder", "encoder")
    if isinstance(found, nn.Module):
        return found
    if not (isinstance(found, type) and issubclass(found, nn.Module)):
        raise TypeError(
            "The 'encoder' parameter must be a name in "
            f"{sorted(ENCODERS)}, an nn.Module class or instance; got "
            f"{short_repr(encoder)}."
        )
    check_keywords(found, params or {}, "encoder_params", skip=2)
    try:
        with torch.device("meta"):  # count the weights before allocating them
            size = sum(
                p.numel()
                for p in found(in_channels, out_dim, **(params or {})).parameters()
            )
    except TypeError as err:
        raise TypeError(
            f"Could not build {found.__name__} with "
            f"encoder_params={short_repr(params)}: {err}"
        ) from None
    except (RuntimeError, NotImplementedError):
        size = 0  # an encoder that cannot be built on the meta device: not counted
    if size > MAX_PARAMETERS:
        raise ValueError(
            f"{found.__name__} with in_channels={in_channels}, out_dim={out_dim} and "
            f"encoder_params={short_repr(params)} would have {size:,} weights "
            f"({size * 4 / 2**30:.1f} GiB in float32), more than tscl builds "
            f"({MAX_PARAMETERS:,}); lower hidden_dim, depth or kernel_size."
        )
    return found(in_channels, out_dim, **(params or {}))


#: The most weights :func:`build_encoder` builds: 2^28, 1 GiB in float32 and
#: about 4 GiB with the gradients and AdamW's two moments (tscl's own encoders
#: have 0.1-2 million); a saved model may describe no more (``tscl.load``
#: checks it before reading weights).
MAX_PARAMETERS = 2**28


#: Encoders by name. ``ContrastiveEncoder(encoder=...)`` takes a name or a class.
ENCODERS: dict[str, type[Encoder]] = {
    "cnn": CNN,
    "resnet": ResNet1D,
    "transformer": Transformer,
    "ts2vec": TS2VecEncoder,
}

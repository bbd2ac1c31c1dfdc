"""Self-supervised methods: each owns its encoder and heads; ``forward`` is the loss.

A method is a small ``nn.Module`` in the style of the moco-v3 builder:
``__init__(encoder, **params)``, ``forward(x1, x2) -> loss`` on two views,
``on_step_end(step, total_steps)`` for updates outside the gradient (momentum),
and an ``encoder`` attribute that downstream code uses. To add one: write the
class and add it to :data:`METHODS`.
"""

from __future__ import annotations

import numbers
from typing import Any

from torch import Tensor, nn

from tscl import encoders, losses
from tscl._validation import check_param, resolve_name

__all__ = ["METHODS", "Method", "SimCLR", "build_method", "projection_head"]


def projection_head(
    in_dim: int, out_dim: int, hidden_dim: int | None = None
) -> nn.Module:
    """Two-layer MLP ``Linear -> ReLU -> Linear`` used on top of the encoder.

    Parameters
    ----------
    in_dim : int
        Encoder output size.
    out_dim : int
        Projection size.
    hidden_dim : int, optional
        Hidden width; defaults to ``in_dim``.

    Returns
    -------
    nn.Module

    Examples
    --------
    >>> projection_head(16, 8)
    Sequential(
      (0): Linear(in_features=16, out_features=16, bias=True)
      (1): ReLU(inplace=True)
      (2): Linear(in_features=16, out_features=8, bias=True)
    )
    """
    hidden = hidden_dim or in_dim
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, out_dim)
    )


class Method(nn.Module):
    """Base class of self-supervised methods."""

    encoder: nn.Module

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """Return the training loss for two views of one batch."""
        raise NotImplementedError  # pragma: no cover

    def on_step_end(self, step: int, total_steps: int) -> None:
        """Update state outside the gradient after each optimiser step."""


class SimCLR(Method):
    """SimCLR: an encoder, a projection head and the NT-Xent loss.

    The loss is computed on the projections; downstream tasks use the encoder's
    output (before the head), as in the paper.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(batch, channels, time)`` to ``(batch, encoder.out_dim)``.
    projection_dim : int, default=128
        Output size of the projection head.
    temperature : float, default=0.1
        NT-Xent temperature.

    References
    ----------
    .. [1] Chen et al., SimCLR, 2020, arXiv:2002.05709

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import CNN
    >>> model = SimCLR(CNN(1, out_dim=8, hidden_dim=4, depth=1), projection_dim=4)
    >>> x = torch.randn(6, 1, 32)
    >>> model(x, x + 0.01 * torch.randn_like(x)).shape
    torch.Size([])
    """

    def __init__(
        self, encoder: nn.Module, projection_dim: int = 128, temperature: float = 0.1
    ) -> None:
        super().__init__()
        check_param(
            projection_dim,
            "projection_dim",
            owner=self,
            kind=numbers.Integral,
            interval=(1, None),
            closed="left",
        )
        self.encoder = encoder
        self.head = projection_head(encoders.output_size(encoder), projection_dim)
        self.criterion = losses.NTXent(temperature)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        """NT-Xent between the projections of two views."""
        return self.criterion(self.head(self.encoder(x1)), self.head(self.encoder(x2)))


#: Methods by name. ``ContrastiveEncoder(method=...)`` takes a name or a class.
METHODS: dict[str, type[Method]] = {"simclr": SimCLR}


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
    if not (isinstance(found, type) and issubclass(found, Method)):
        raise TypeError(
            f"The 'method' parameter must be a name in {sorted(METHODS)} or a "
            f"tscl.methods.Method subclass; got {method!r}."
        )
    try:
        return found(encoder, **(params or {}))
    except TypeError as err:
        raise TypeError(
            f"Could not build {found.__name__} with method_params={params!r}: {err}"
        ) from None

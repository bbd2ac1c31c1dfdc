"""Methods without negatives: BYOL and SimSiam."""

from __future__ import annotations

from torch import Tensor, nn

from tscl import encoders, losses
from tscl._validation import MAX_SIZE, check_count
from tscl.methods._base import Method, MomentumTarget, mlp, momentum_target

__all__ = ["BYOL", "SimSiam"]


class BYOL(Method):
    """BYOL: an online network predicts a momentum target network's projection.

    The online network (encoder, projector, predictor) is trained with the
    negative cosine between its prediction for one view and the target's
    projection of the other view, both ways; the target (a copy of encoder and
    projector) follows the online one as an exponential moving average and gets
    no gradient. No negatives are used.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(batch, channels, time)`` to ``(batch, encoder.out_dim)``.
    projection_dim : int, default=128
        Output size of the projector and the predictor.
    hidden_dim : int, default=512
        Hidden width of the projector and the predictor.
    momentum : float, default=0.99
        Base momentum of the target, in [0, 1].
    momentum_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` raises the momentum to 1 over training, as in the paper.

    References
    ----------
    .. [1] Grill et al., BYOL, NeurIPS 2020, arXiv:2006.07733

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import CNN
    >>> model = BYOL(CNN(1, out_dim=8, hidden_dim=4, depth=1), projection_dim=4,
    ...              hidden_dim=16)
    >>> x = torch.randn(6, 1, 32)
    >>> model(x, x + 0.01 * torch.randn_like(x)).shape
    torch.Size([])
    """

    def __init__(
        self,
        encoder: nn.Module,
        projection_dim: int = 128,
        hidden_dim: int = 512,
        momentum: float = 0.99,
        momentum_schedule: str = "cosine",
    ) -> None:
        super().__init__()
        check_count(projection_dim, "projection_dim", owner=self, maximum=MAX_SIZE)
        check_count(hidden_dim, "hidden_dim", owner=self, maximum=MAX_SIZE)
        self.encoder = encoder
        self.projector = mlp(encoders.output_size(encoder), hidden_dim, projection_dim)
        self.predictor = mlp(projection_dim, hidden_dim, projection_dim)
        self.criterion = losses.NegativeCosine()
        self.target: nn.Module | None = self._make_target(momentum, momentum_schedule)

    def _make_target(self, momentum: float, schedule: str) -> nn.Module | None:
        return momentum_target(self.online(), momentum, schedule, owner=self)

    def online(self) -> nn.Module:
        """Return the encoder and projector as one module (sharing parameters)."""
        return nn.Sequential(self.encoder, self.projector)

    def targets(self, x: Tensor, projection: Tensor) -> Tensor:
        """Target projections of view ``x`` (online ``projection``), no gradient."""
        assert self.target is not None
        return self.target(x)

    def forward(self, x1: Tensor, x2: Tensor, labels: Tensor | None = None) -> Tensor:
        """Symmetric negative cosine between predictions and target projections."""
        online = self.online()
        z1, z2 = online(x1), online(x2)  # (batch, projection_dim)
        t1, t2 = self.targets(x1, z1), self.targets(x2, z2)
        p1, p2 = self.predictor(z1), self.predictor(z2)
        return (self.criterion(p1, t2) + self.criterion(p2, t1)) / 2

    def on_step_end(self, step: int, total_steps: int) -> None:
        """Move the target towards the online network."""
        if isinstance(self.target, MomentumTarget):
            self.target.update(self.online(), step, total_steps)


class SimSiam(BYOL):
    """SimSiam: BYOL without the momentum network (a stop-gradient instead).

    The target projection is the online projection of the other view, detached.
    Cheaper than BYOL (no second network) and as good in many settings, but
    more prone to collapse; watch ``history_["embedding_std"]``.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(batch, channels, time)`` to ``(batch, encoder.out_dim)``.
    projection_dim : int, default=128
        Output size of the projector and the predictor.
    hidden_dim : int, default=512
        Hidden width of the projector and the predictor.

    References
    ----------
    .. [1] Chen and He, SimSiam, CVPR 2021, arXiv:2011.10566

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import CNN
    >>> model = SimSiam(CNN(1, out_dim=8, hidden_dim=4, depth=1), projection_dim=4,
    ...                 hidden_dim=16)
    >>> x = torch.randn(6, 1, 32)
    >>> model(x, x + 0.01 * torch.randn_like(x)).shape
    torch.Size([])
    """

    def __init__(
        self, encoder: nn.Module, projection_dim: int = 128, hidden_dim: int = 512
    ) -> None:
        super().__init__(encoder, projection_dim, hidden_dim)

    def _make_target(self, momentum: float, schedule: str) -> nn.Module | None:
        return None

    def targets(self, x: Tensor, projection: Tensor) -> Tensor:
        """Return the online projection of the view, detached (stop-gradient)."""
        return projection.detach()

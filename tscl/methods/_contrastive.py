"""Methods that contrast positives with negatives: SimCLR, MoCo, SupCon, triplet."""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from tscl import distributed, encoders, losses
from tscl._validation import MAX_SIZE, check_count
from tscl.methods._base import Method, momentum_target, projection_head

__all__ = ["MoCo", "SimCLR", "SupCon", "Triplet"]

#: The longest MoCo queue (2^20 keys of 128 floats is 512 MiB).
MAX_QUEUE = 2**20


class _Projected(Method):
    """An encoder followed by a projection head; the loss sees the projections."""

    def __init__(self, encoder: nn.Module, projection_dim: int) -> None:
        super().__init__()
        check_count(projection_dim, "projection_dim", owner=self, maximum=MAX_SIZE)
        self.encoder = encoder
        self.head = projection_head(encoders.output_size(encoder), projection_dim)

    def project(self, x: Tensor) -> Tensor:
        """Projection of one view, shape ``(batch, projection_dim)``."""
        return self.head(self.encoder(x))


class SimCLR(_Projected):
    """SimCLR: an encoder, a projection head and the NT-Xent loss.

    The loss is computed on the projections; downstream tasks use the encoder's
    output (before the head), as in the paper. ``forward`` takes extra
    ``negatives`` (projections held by other processes in distributed training).

    With ``groups`` (the recording or patient of each series, from
    ``ContrastiveEncoder.fit(X, groups=...)``), series of the same group are
    never negatives of each other: they are positives, as in CLOCS's
    patient-specific contrast [2]_ (the SupCon loss with the groups as
    classes). Views of one window cut from a longer recording (the ``"ecg"``
    preset's random crops) then learn what stays the same along a recording,
    and no two windows of one patient are pushed apart.

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
    .. [2] Kiyasseh, Zhu and Clifton, CLOCS, ICML 2021, arXiv:2005.13249

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import CNN
    >>> model = SimCLR(CNN(1, out_dim=8, hidden_dim=4, depth=1), projection_dim=4)
    >>> x = torch.randn(6, 1, 32)
    >>> model(x, x + 0.01 * torch.randn_like(x)).shape
    torch.Size([])
    >>> model(x, x, groups=torch.tensor([0, 0, 1, 1, 2, 2])).shape  # 3 recordings
    torch.Size([])
    """

    group_use: ClassVar[bool] = True

    def __init__(
        self, encoder: nn.Module, projection_dim: int = 128, temperature: float = 0.1
    ) -> None:
        super().__init__(encoder, projection_dim)
        self.criterion = losses.NTXent(temperature)

    def forward(
        self,
        x1: Tensor,
        x2: Tensor,
        labels: Tensor | None = None,
        negatives: Tensor | None = None,
        groups: Tensor | None = None,
    ) -> Tensor:
        """NT-Xent between the projections of two views (labels are ignored).

        In distributed training the other processes' projections are
        ``negatives`` (with gradients) unless ``negatives`` are given. With
        ``groups`` of shape ``(batch,)``, same-group series are positives.
        """
        z1, z2 = self.project(x1), self.project(x2)  # (batch, projection_dim)
        if groups is not None:
            by_group = losses.SupCon(self.criterion.temperature)
            if distributed.world_size() == 1:
                return by_group(z1, z2, groups)
            others = distributed.gather_others(torch.cat([z1, z2]))
            other_groups = distributed.gather_others(groups.to(z1.device).repeat(2))
            return by_group(z1, z2, groups, others, other_groups)
        if negatives is None and distributed.world_size() > 1:
            negatives = distributed.gather_others(torch.cat([z1, z2]))
        return self.criterion(z1, z2, negatives)


class SupCon(_Projected):
    """Supervised contrastive learning, semi-supervised when labels are missing.

    As :class:`SimCLR`, but every other view of the same class is a positive
    too (Khosla et al. 2020). Samples labelled ``-1`` are unlabelled: their only
    positive is their other view, so a batch without labels gives NT-Xent.
    ``ContrastiveEncoder(method="supcon").fit(X, y)`` passes ``y``.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(batch, channels, time)`` to ``(batch, encoder.out_dim)``.
    projection_dim : int, default=128
        Output size of the projection head.
    temperature : float, default=0.1
        Softmax temperature.

    References
    ----------
    .. [1] Khosla et al., Supervised Contrastive Learning, NeurIPS 2020,
       arXiv:2004.11362

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import CNN
    >>> model = SupCon(CNN(1, out_dim=8, hidden_dim=4, depth=1), projection_dim=4)
    >>> x = torch.randn(6, 1, 32)
    >>> labels = torch.tensor([0, 0, 1, 1, -1, -1])
    >>> model(x, x + 0.01 * torch.randn_like(x), labels).shape
    torch.Size([])
    """

    label_use: ClassVar[str] = "required"

    def __init__(
        self, encoder: nn.Module, projection_dim: int = 128, temperature: float = 0.1
    ) -> None:
        super().__init__(encoder, projection_dim)
        self.criterion = losses.SupCon(temperature)

    def forward(self, x1: Tensor, x2: Tensor, labels: Tensor | None = None) -> Tensor:
        """SupCon between the projections; ``labels`` of shape ``(batch,)``.

        In distributed training the other processes' projections and labels
        join the contrast (with gradients): same-class ones are positives.
        """
        if labels is None:
            raise ValueError(
                "SupCon needs labels, one per sample (-1 for unlabelled); got None. "
                "Call fit(X, y), or use method='simclr' without labels."
            )
        z1, z2 = self.project(x1), self.project(x2)  # (batch, projection_dim)
        if distributed.world_size() == 1:
            return self.criterion(z1, z2, labels)
        others = distributed.gather_others(torch.cat([z1, z2]))
        other_labels = distributed.gather_others(labels.to(z1.device).repeat(2))
        return self.criterion(z1, z2, labels, others, other_labels)


class Triplet(_Projected):
    """Triplet margin loss on two views with hard-negative mining.

    Self-supervised, the positive of a view is the other view of its series and
    the negatives are the other series of the batch; with labels (``fit(X, y)``)
    series of the same class are positives too.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(batch, channels, time)`` to ``(batch, encoder.out_dim)``.
    projection_dim : int, default=128
        Output size of the projection head.
    margin : float, default=0.2
        Margin between positive and negative distances of unit vectors.
    miner : {"topk", "batch_hard", "semi_hard"}, default="topk"
        How triplets are mined; see :class:`tscl.losses.Triplet`. ``"topk"``
        (the ``k`` most similar negatives per anchor) suits the self-supervised
        case, where each anchor has a single positive.
    k : int, default=5
        Negatives per anchor for ``miner="topk"``.

    References
    ----------
    .. [1] Schroff et al., FaceNet, CVPR 2015, arXiv:1503.03832
    .. [2] Hermans et al., In defense of the triplet loss, 2017, arXiv:1703.07737

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import CNN
    >>> model = Triplet(CNN(1, out_dim=8, hidden_dim=4, depth=1), miner="semi_hard")
    >>> x = torch.randn(6, 1, 32)
    >>> model(x, x + 0.01 * torch.randn_like(x)).shape
    torch.Size([])
    """

    label_use: ClassVar[str] = "optional"

    def __init__(
        self,
        encoder: nn.Module,
        projection_dim: int = 128,
        margin: float = 0.2,
        miner: str = "topk",
        k: int = 5,
    ) -> None:
        super().__init__(encoder, projection_dim)
        self.criterion = losses.Triplet(margin, miner, k)

    def forward(self, x1: Tensor, x2: Tensor, labels: Tensor | None = None) -> Tensor:
        """Mined triplet loss between the projections of two views."""
        return self.criterion(self.project(x1), self.project(x2), labels)


class MoCo(_Projected):
    """MoCo v2: a momentum key encoder and a queue of negative keys.

    The query network (encoder + projection head) is trained; the key network
    is its exponential moving average and gets no gradient. Each view is a
    query against the other view's key (a symmetric loss) and the ``queue_size``
    most recent keys as negatives; after the step both batches of keys enter the
    queue, which starts with random unit vectors as in the paper.

    Parameters
    ----------
    encoder : nn.Module
        Maps ``(batch, channels, time)`` to ``(batch, encoder.out_dim)``.
    projection_dim : int, default=128
        Output size of the projection head.
    temperature : float, default=0.2
        InfoNCE temperature (MoCo v2's value).
    queue_size : int, default=1024
        Negative keys kept, at most ``MAX_QUEUE`` (2^20).
        Number of negative keys kept. Keys of the same series from earlier steps
        act as (false) negatives, so keep it below the number of training
        series when the dataset is small.
    momentum : float, default=0.99
        Base momentum of the key network, in [0, 1].
    momentum_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` raises the momentum to 1 over training (BYOL, MoCo v3);
        ``"constant"`` keeps it (MoCo v2 with 0.999).

    References
    ----------
    .. [1] He et al., MoCo, CVPR 2020, arXiv:1911.05722
    .. [2] Chen et al., MoCo v2, 2020, arXiv:2003.04297

    Examples
    --------
    >>> import torch
    >>> from tscl.encoders import CNN
    >>> model = MoCo(CNN(1, out_dim=8, hidden_dim=4, depth=1), projection_dim=4,
    ...              queue_size=16)
    >>> x = torch.randn(6, 1, 32)
    >>> model(x, x + 0.01 * torch.randn_like(x)).shape
    torch.Size([])
    >>> int(model.queue_pointer)  # both views' 6 keys entered the queue
    12
    """

    queue: Tensor
    queue_pointer: Tensor

    def __init__(
        self,
        encoder: nn.Module,
        projection_dim: int = 128,
        temperature: float = 0.2,
        queue_size: int = 1024,
        momentum: float = 0.99,
        momentum_schedule: str = "cosine",
    ) -> None:
        super().__init__(encoder, projection_dim)
        check_count(queue_size, "queue_size", owner=self, maximum=MAX_QUEUE)
        self.criterion = losses.InfoNCE(temperature)
        self.target = momentum_target(
            nn.Sequential(self.encoder, self.head), momentum, momentum_schedule, self
        )
        queue = F.normalize(torch.randn(queue_size, projection_dim), dim=1)
        self.register_buffer("queue", queue)
        self.register_buffer("queue_pointer", torch.zeros((), dtype=torch.long))

    def forward(self, x1: Tensor, x2: Tensor, labels: Tensor | None = None) -> Tensor:
        """Symmetric InfoNCE of queries against keys and the queue."""
        q1, q2 = self.project(x1), self.project(x2)  # (batch, projection_dim)
        k1, k2 = self.target(x1), self.target(x2)  # no gradient
        queue = self.queue.clone().detach()
        loss = (self.criterion(q1, k2, queue) + self.criterion(q2, k1, queue)) / 2
        if self.training:  # every process enqueues every process's keys
            self._enqueue(torch.cat([distributed.gather(k1), distributed.gather(k2)]))
        return loss

    @torch.no_grad()
    def _enqueue(self, keys: Tensor) -> None:
        """Write ``keys`` over the oldest entries of the queue (a ring buffer)."""
        size = self.queue.shape[0]
        keys = F.normalize(keys.float(), dim=1)[-size:]
        index = (
            self.queue_pointer + torch.arange(len(keys), device=keys.device)
        ) % size
        self.queue[index] = keys.to(self.queue.dtype)
        self.queue_pointer.copy_((self.queue_pointer + len(keys)) % size)

    def on_step_end(self, step: int, total_steps: int) -> None:
        """Move the key network towards the query network."""
        self.target.update(nn.Sequential(self.encoder, self.head), step, total_steps)

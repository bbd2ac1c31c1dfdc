"""Tests for tscl.losses: NT-Xent against a naive loop, and its known values."""

import math

import pytest
import torch
import torch.nn.functional as F

from tscl.losses import NTXent, check_pair


def _naive_ntxent(z1: torch.Tensor, z2: torch.Tensor, temperature: float) -> float:
    """NT-Xent written out with explicit loops, in float64."""
    z = torch.cat([z1, z2]).double()
    n2 = len(z)
    n = n2 // 2
    unit = [z[i] / z[i].norm() for i in range(n2)]
    total = 0.0
    for i in range(n2):
        positive = (i + n) % n2
        denominator = 0.0
        for k in range(n2):
            if k != i:
                denominator += math.exp(float(unit[i] @ unit[k]) / temperature)
        numerator = math.exp(float(unit[i] @ unit[positive]) / temperature)
        total += -math.log(numerator / denominator)
    return total / n2


@pytest.mark.parametrize("temperature", [0.05, 0.1, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("n", [2, 3, 8, 17])
def test_matches_naive_loop(temperature, n):
    generator = torch.Generator().manual_seed(n)
    z1 = torch.randn(n, 6, generator=generator)
    z2 = torch.randn(n, 6, generator=generator)
    got = NTXent(temperature)(z1, z2)
    assert got.shape == ()
    assert float(got) == pytest.approx(_naive_ntxent(z1, z2, temperature), rel=1e-4)


def test_matches_naive_loop_on_correlated_views():
    z1 = torch.randn(10, 4)
    z2 = z1 + 0.1 * torch.randn(10, 4)
    assert float(NTXent(0.2)(z1, z2)) == pytest.approx(
        _naive_ntxent(z1, z2, 0.2), rel=1e-4
    )


def test_symmetric_in_the_two_views():
    z1, z2 = torch.randn(12, 8), torch.randn(12, 8)
    loss = NTXent(0.3)
    torch.testing.assert_close(loss(z1, z2), loss(z2, z1))


def test_invariant_to_embedding_norms():
    z1, z2 = torch.randn(6, 5), torch.randn(6, 5)
    scale = torch.rand(6, 1) + 0.5
    torch.testing.assert_close(NTXent()(z1 * scale, z2 * 3.0), NTXent()(z1, z2))


@pytest.mark.parametrize("n", [2, 5, 32])
@pytest.mark.parametrize("temperature", [0.1, 1.0])
def test_identical_embeddings_give_log_2n_minus_1(n, temperature):
    z = torch.ones(n, 4)
    value = float(NTXent(temperature)(z, z))
    assert value == pytest.approx(math.log(2 * n - 1), rel=1e-5)


def test_lower_for_correlated_than_independent_views():
    generator = torch.Generator().manual_seed(0)
    z1 = torch.randn(64, 16, generator=generator)
    correlated = z1 + 0.1 * torch.randn(64, 16, generator=generator)
    independent = torch.randn(64, 16, generator=generator)
    loss = NTXent(0.1)
    assert loss(z1, correlated) < loss(z1, independent) - 1.0
    # Independent views are about as bad as chance, log(2n - 1).
    assert float(loss(z1, independent)) > 0.8 * math.log(127)


def test_sgd_on_free_embeddings_reduces_the_loss():
    torch.manual_seed(0)
    z1 = torch.randn(16, 8, requires_grad=True)
    z2 = torch.randn(16, 8, requires_grad=True)
    loss_fn = NTXent(0.5)
    optimizer = torch.optim.SGD([z1, z2], lr=1.0)
    values = []
    for _ in range(20):
        loss = loss_fn(z1, z2)
        values.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert values[-1] < values[0] - 0.3
    assert values[5] < values[0]


def test_finite_gradients_at_batch_size_two():
    z1 = torch.randn(2, 3, requires_grad=True)
    z2 = torch.randn(2, 3, requires_grad=True)
    NTXent(0.1)(z1, z2).backward()
    for grad in (z1.grad, z2.grad):
        assert grad is not None
        assert torch.isfinite(grad).all()
        assert grad.abs().sum() > 0


def test_finite_for_identical_and_zero_embeddings():
    z = torch.zeros(4, 3, requires_grad=True)
    loss = NTXent(0.1)(z, z)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(z.grad).all()


def test_float64_and_float16_inputs_give_float32_loss():
    z1, z2 = torch.randn(4, 3), torch.randn(4, 3)
    reference = NTXent()(z1, z2)
    torch.testing.assert_close(NTXent()(z1.double(), z2.double()), reference)
    assert NTXent()(z1.half(), z2.half()).dtype == torch.float32


def test_matches_cross_entropy_formulation():
    # A second reference: softmax over the other 2n - 1 rows for each row.
    z1, z2 = torch.randn(5, 4), torch.randn(5, 4)
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / 0.2
    rows = []
    for i in range(10):
        others = torch.cat([sim[i, :i], sim[i, i + 1 :]])
        positive = (i + 5) % 10
        index = positive if positive < i else positive - 1
        rows.append(-F.log_softmax(others, dim=0)[index])
    torch.testing.assert_close(NTXent(0.2)(z1, z2), torch.stack(rows).mean())


# ------------------------------------------------------------------------ errors


def test_batch_of_one_is_rejected():
    with pytest.raises(ValueError, match="at least 2 samples per batch; got 1"):
        NTXent()(torch.randn(1, 4), torch.randn(1, 4))


@pytest.mark.parametrize(
    ("shape1", "shape2"), [((4, 3), (4, 2)), ((4, 3), (5, 3)), ((4,), (4,))]
)
def test_shape_mismatch_is_rejected(shape1, shape2):
    with pytest.raises(ValueError, match="equal shape"):
        NTXent()(torch.randn(shape1), torch.randn(shape2))


def test_check_pair_accepts_matching_batches():
    check_pair(torch.zeros(2, 1), torch.zeros(2, 1))
    with pytest.raises(ValueError, match=r"\(4, 2, 3\)"):
        check_pair(torch.zeros(4, 2, 3), torch.zeros(4, 2, 3))


@pytest.mark.parametrize("temperature", [0, 0.0, -1.0, math.nan, -math.inf])
def test_non_positive_temperature_is_rejected(temperature):
    with pytest.raises(ValueError, match="'temperature' parameter of NTXent"):
        NTXent(temperature)


@pytest.mark.parametrize("temperature", ["0.1", None, True, [0.1]])
def test_non_number_temperature_is_rejected(temperature):
    with pytest.raises(TypeError, match="'temperature' parameter of NTXent"):
        NTXent(temperature)

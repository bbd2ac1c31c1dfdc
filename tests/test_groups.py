"""fit(X, groups=...): series of one recording or patient are never negatives."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn
import torch

from tscl import ContrastiveEncoder, losses
from tscl.encoders import build_encoder
from tscl.methods import SimCLR

TINY = {
    "n_components": 8,
    "n_epochs": 1,
    "batch_size": 8,
    "encoder_params": {"hidden_dim": 8, "depth": 2},
    "random_state": 0,
}


@pytest.fixture
def series():
    rng = np.random.default_rng(0)
    return rng.normal(size=(24, 1, 64)).astype(np.float32), np.repeat(np.arange(6), 4)


def test_simclr_with_groups_uses_them_as_positives():
    torch.manual_seed(0)
    method = SimCLR(build_encoder("cnn", 1, 8, {"hidden_dim": 8, "depth": 2}))
    x1, x2 = torch.randn(6, 1, 32), torch.randn(6, 1, 32)
    groups = torch.tensor([0, 0, 1, 1, 2, 2])
    with torch.no_grad():
        z1, z2 = method.project(x1), method.project(x2)
        expected = losses.SupCon(method.criterion.temperature)(z1, z2, groups)
        alone = method(x1, x2)
        grouped = method(x1, x2, groups=groups)
    torch.testing.assert_close(grouped, expected)
    assert not torch.isclose(grouped, alone)


def test_fit_with_groups_trains_and_depends_on_the_groups(series):
    X, groups = series
    a = ContrastiveEncoder("simclr", "cnn", **TINY).fit(X, groups=groups)
    b = ContrastiveEncoder("simclr", "cnn", **TINY).fit(X, groups=groups.astype(str))
    c = ContrastiveEncoder("simclr", "cnn", **TINY).fit(X)
    np.testing.assert_allclose(a.transform(X), b.transform(X), rtol=1e-5, atol=1e-6)
    assert not np.allclose(a.transform(X), c.transform(X))


def test_groups_errors_say_what_was_given(series):
    X, groups = series
    with pytest.raises(ValueError, match="method='byol' cannot use groups.*'simclr'"):
        ContrastiveEncoder("byol", "cnn", **TINY).fit(X, groups=groups)
    with pytest.raises(ValueError, match="one id per series; got 5 ids for 24"):
        ContrastiveEncoder("simclr", "cnn", **TINY).fit(X, groups=groups[:5])
    with pytest.raises(
        ValueError, match=r"groups must be a non-empty 1-D.*shape \(24, 1\)"
    ):
        ContrastiveEncoder("simclr", "cnn", **TINY).fit(X, groups=groups[:, None])


@pytest.mark.parametrize(
    "missing",
    [np.nan, None, float("nan")],
    ids=["numpy-nan", "none", "float-nan"],
)
def test_missing_group_ids_are_refused_not_pooled_into_one_group(series, missing):
    X, groups = series
    ids = groups.astype(object)
    ids[[3, 7]] = missing
    with pytest.raises(ValueError, match="2 missing id.*position 3"):
        ContrastiveEncoder("simclr", "cnn", **TINY).fit(X, groups=ids)
    floats = groups.astype(float)
    floats[:] = np.nan  # all missing: one group, no negatives, if accepted
    with pytest.raises(ValueError, match="24 missing id.*position 0"):
        ContrastiveEncoder("simclr", "cnn", **TINY).fit(X, groups=floats)
    times = np.array(["2020-01-01"] * 24, dtype="datetime64[D]")
    times[5] = np.datetime64("NaT")
    with pytest.raises(ValueError, match="1 missing id.*position 5"):
        ContrastiveEncoder("simclr", "cnn", **TINY).fit(X, groups=times)


def test_groups_flow_through_a_pipeline_with_metadata_routing(series):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, groups = series
    y = np.arange(24) % 2
    with sklearn.config_context(enable_metadata_routing=True):
        encoder = ContrastiveEncoder("simclr", "cnn", **TINY).set_fit_request(
            groups=True
        )
        pipe = make_pipeline(encoder, LogisticRegression())
        pipe.fit(X, y, groups=groups)
    direct = ContrastiveEncoder("simclr", "cnn", **TINY).fit(X, groups=groups)
    np.testing.assert_allclose(
        pipe[0].transform(X), direct.transform(X), rtol=1e-5, atol=1e-6
    )

from sklearn.utils.estimator_checks import parametrize_with_checks

from tscl import ContrastiveEncoder


def _tiny() -> ContrastiveEncoder:
    return ContrastiveEncoder(
        n_components=4,
        n_epochs=1,
        batch_size=8,
        encoder_params={"hidden_dim": 8, "depth": 2},
        random_state=0,
    )


@parametrize_with_checks([_tiny()])
def test_sklearn_compatible(estimator, check):
    check(estimator)

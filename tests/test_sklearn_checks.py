"""scikit-learn's estimator checks for the tscl estimators (tiny configurations)."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from tscl import ContrastiveEncoder
from tscl.evaluation import EncoderClassifier
from tscl.features import RRFeatures

TINY = {"hidden_dim": 8, "depth": 2}


@parametrize_with_checks(
    [
        ContrastiveEncoder(
            n_components=4,
            n_epochs=1,
            batch_size=8,
            encoder_params=TINY,
            random_state=0,
        ),
        # 30 epochs: the classifier checks require it to learn blob data
        # (each 2-feature row read as a 2-timestep series) above 83% accuracy.
        EncoderClassifier(
            n_components=8,
            n_epochs=30,
            batch_size=16,
            encoder_params=TINY,
            random_state=0,
            device="cpu",
        ),
        RRFeatures(fs=100.0),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)

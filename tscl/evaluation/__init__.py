"""Judge representations downstream: probes, fine-tuning and label fractions.

What lives where (import everything from ``tscl.evaluation``):

* ``_metrics``: :func:`scores`, accuracy and macro-F1, plus AUROC and AUPRC from
  probabilities or decision values.
* ``_probes``: classifiers over scikit-learn fitted on frozen representations,
  :func:`linear_probe` (logistic regression), :func:`svm_probe` (an RBF SVM,
  TS2Vec's protocol) and :func:`knn_probe` (k nearest neighbours, cosine).
* ``_finetune``: :class:`EncoderClassifier`, an encoder and a linear head
  trained end to end with early stopping on a validation split, from scratch
  (the supervised baseline that self-supervised pretraining has to beat) or
  from a pretrained encoder; :func:`fine_tune` fits one and scores it like a
  probe.
* ``_label_fraction``: :func:`subsample_labels` and
  :func:`label_fraction_study`, scores of a probe trained on 1%, 5%, ... of
  the labels over several seeds.

Every probe, :func:`fine_tune` and each row of :func:`label_fraction_study`
report ``accuracy``, ``macro_f1``, ``auroc`` and ``auprc``.
"""

from tscl.evaluation._finetune import EncoderClassifier, fine_tune
from tscl.evaluation._label_fraction import label_fraction_study, subsample_labels
from tscl.evaluation._metrics import scores
from tscl.evaluation._probes import PROBES, knn_probe, linear_probe, svm_probe

__all__ = [
    "PROBES",
    "EncoderClassifier",
    "fine_tune",
    "knn_probe",
    "label_fraction_study",
    "linear_probe",
    "scores",
    "subsample_labels",
    "svm_probe",
]

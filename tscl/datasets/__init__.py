"""Loaders for real time series: UCR archive, WFDB records, PhysioNet Challenge 2017.

Every loader returns float32 arrays in the package's layout, ``(n_samples,
n_timesteps)`` or ``(n_samples, n_channels, n_timesteps)``. The small records shipped
in the repository's ``datasets/`` folder (see its README for sources and licences)
are found with :func:`shipped_data_dir`; larger public datasets are read from a
folder the user downloads (see the dataset cards in ``datasets/README.md``).
WFDB loaders need the optional extra ``pip install tscl[ecg]``.

What lives where:

- ``_common``: shipped_data_dir, resample, sliding_windows and shared private helpers.
- ``ecg``: load_wfdb_windows, load_mitdb_windows, load_challenge2017.
- ``ucr``: load_ucr, load_ucr_file (UCR archive 2018 ``.tsv`` files).
- ``corpus``: write_corpus, load_corpus (memory-mapped corpora larger than memory).

To add a loader: put it in the submodule for its format and export it here.
"""

from tscl.datasets._common import resample, shipped_data_dir, sliding_windows
from tscl.datasets.corpus import load_corpus, write_corpus
from tscl.datasets.ecg import load_challenge2017, load_mitdb_windows, load_wfdb_windows
from tscl.datasets.ucr import load_ucr, load_ucr_file

__all__ = [
    "load_challenge2017",
    "load_corpus",
    "load_mitdb_windows",
    "load_ucr",
    "load_ucr_file",
    "load_wfdb_windows",
    "resample",
    "shipped_data_dir",
    "sliding_windows",
    "write_corpus",
]

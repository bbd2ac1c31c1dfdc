"""``python -m tscl`` runs the command line (also under ``torchrun``)."""

from tscl.cli import main

raise SystemExit(main())

"""tscl's version, in a module that imports nothing (read by setuptools too)."""

__version__ = "0.1.0"

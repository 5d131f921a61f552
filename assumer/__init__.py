"""assumer: AWS role credentials for the shell, cached in the OS keyring."""

__version__ = "0.1.0"

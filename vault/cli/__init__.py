"""The vault command line: argument parsing and printing only; all work is the service's."""

from vault.cli.main import main

__all__ = ["main"]

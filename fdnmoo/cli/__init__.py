"""Command-line interface: ``fdnmoo cases``, ``fdnmoo case import``, ``fdnmoo pf``, ``fdnmoo bench``, ``fdnmoo run``."""

from .app import main

__all__ = ["main"]

"""County B: a second synthetic county for fundwatch's tests, with its own conventions."""

from .generate import generate

__all__ = ["generate"]

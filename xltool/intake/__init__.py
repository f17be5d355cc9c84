"""Intake: recognise each return and check every cell.

The only stage that reads untrusted returns (through :mod:`xltool.reading`,
in isolated workers). ``read_returns`` reads many files, ``read_return`` one;
each yields a :class:`Return` whose issues say everything that was found.
"""
from .discover import discover
from .read import read_return, read_returns, return_bounds
from .returns import Made, Return, Row

__all__ = ["Made", "Return", "Row", "discover", "read_return", "read_returns", "return_bounds"]

import os

import pytest
from stdnum.cn import ric, uscc

from fundwatch.workspace import Workspace

os.environ.setdefault("MPLBACKEND", "Agg")


def make_id(n: int, birth: str = "19800101", county: str = "110105") -> str:
    """A valid 18-character resident ID (distinct for distinct n < 1000)."""
    body = f"{county}{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def make_code(n: int) -> str:
    """A valid unified social credit code."""
    body = f"93330122{n:09d}"
    return body + uscc.calc_check_digit(body)


@pytest.fixture
def ws():
    w = Workspace()
    yield w
    w.close()

"""Shared by the network lab tests (tests/net/lab.py); each module skips itself without root."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest

Figure = Callable[..., None]


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Figure:
    """Record a scenario's figures: printed, and appended as a JSON line to the file named by
    ``PEERMEET_LAB_FIGURES`` (docs/reliability.md is written from them)."""

    def record(**values: Any) -> None:
        row = {"scenario": request.node.name, **values}
        print("FIGURES", json.dumps(row))
        target = os.environ.get("PEERMEET_LAB_FIGURES")
        if target:
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(row) + "\n")

    return record

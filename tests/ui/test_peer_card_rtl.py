"""A person's card in the people panel: their name at the left whichever way it reads (a right-
to-left name went to the right end, against the state beside it: "שרה כהן Waiting…")."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.ui import style
from app.ui.peer_panel import PeerCard


def _ink_columns(card: PeerCard) -> tuple[int, int]:
    """The first and last column of the name's letters (light on the card's dark), in the
    name label."""
    image = card.grab(card.name.geometry()).toImage().convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    pixels = rows[:, : image.width() * 4].reshape(image.height(), image.width(), 4)
    xs = np.nonzero((pixels[..., :3].min(axis=2) > 140).any(axis=0))[0]
    assert len(xs), "no letters"
    return int(xs.min()), int(xs.max())


@pytest.mark.parametrize("name", ["שרה כהן", "محمد", "שרה Sara", "Olga"])
def test_a_name_starts_at_the_left_of_its_card(qtbot: QtBot, qapp: QApplication, name: str) -> None:
    card = PeerCard(name)
    qtbot.addWidget(card)
    card.setStyleSheet(style.sheet())  # (as in the call window: its own sheet)
    card.setFixedWidth(320)
    card.show()
    qtbot.waitExposed(card)
    if card.devicePixelRatioF() != 1:
        pytest.skip("pixel positions assume a device pixel ratio of 1")
    left, right = _ink_columns(card)
    assert left <= 3, (name, left)  # (no more than a letter's side bearing)
    gap = card.state.x() - (card.name.x() + right)
    assert gap >= card.name.width() // 3, (name, gap)  # not up against "Waiting…"

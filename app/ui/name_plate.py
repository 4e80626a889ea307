"""A video tile's name plate: the name and the microphone badge on a dark pill.

It reads the way the name does. A right-to-left name (Hebrew, Arabic; "שרה Sara" too, its first
strong letter is Hebrew) starts at the right: the badge is at the plate's right end and the name
ends (or is cut short, "…") at its left, away from the badge. Laid out left to right, the right-
to-left name had its end, or the "…" of a long one, against the muted badge. The text's box is
as wide as its ink (an Arabic name's joined letters reach past their advance), and the text is
clipped to it, so it never runs under the badge whatever the font.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics, QFontMetricsF, QImage, QPainter, QPen, QTextOption

from app.ui import style

PAD = 8  # px between the plate's ends and what they hold
INSET = 3  # px around the muted badge (a red disc as high as the plate allows)
RIM = 5  # px above and below the (unmuted) microphone
LEAST = 40  # px the name keeps, however little room there is


def reads_right_to_left(text: str) -> bool:
    """Whether ``text`` starts right to left: its first strong letter is (Unicode's P2)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def paint_mic(
    p: QPainter, r: QRectF, muted: bool, colour: str = style.TEXT, slash: str = style.DANGER
) -> None:
    """A microphone glyph in ``r``; struck through (in red) when muted."""
    p.save()
    w, h = r.width(), r.height()
    pen = QPen(
        style.color(colour), max(1.4, w / 10), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap
    )
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawRoundedRect(QRectF(r.x() + w * 0.34, r.y(), w * 0.32, h * 0.6), w * 0.16, w * 0.16)
    p.drawArc(QRectF(r.x() + w * 0.18, r.y() + h * 0.2, w * 0.64, h * 0.58), 200 * 16, 140 * 16)
    p.drawLine(QPointF(r.center().x(), r.y() + h * 0.78), QPointF(r.center().x(), r.bottom()))
    if muted:
        stroke = style.color(slash)
        p.setPen(QPen(stroke, max(1.8, w / 8), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(r.x() + w * 0.12, r.y() + h * 0.05), r.bottomRight())
    p.restore()


@dataclass(frozen=True)
class PlateLayout:
    """Where things go in a plate (its own coordinates, in px)."""

    width: float
    height: float
    text: str  # as shown: cut short ("…") to fit, a caption after the name
    rtl: bool  # read from the right: the badge at the right end
    text_box: QRectF  # the text's ink, all of it (nothing is drawn outside)
    run: QRectF  # the text's advance (where it is laid out), within text_box
    icon: QRectF | None  # the badge: the red disc (muted) or the microphone; a screen: none
    muted: bool


def shown_text(fm: QFontMetricsF, name: str, caption: str, limit: float) -> str:
    """``name`` (and `` (caption)``) in ``limit`` px: the name cut short, the caption kept
    whole while there is room for some of the name. The name is held apart from the caption
    (an isolate), so that it reads whole in its own direction."""
    if not caption:
        return fm.elidedText(name, Qt.TextElideMode.ElideRight, limit)
    tail = f" ({caption})"
    room = limit - fm.horizontalAdvance(tail)
    if room < fm.horizontalAdvance("W…"):  # (too little for any of the name: cut the whole)
        return fm.elidedText(name + tail, Qt.TextElideMode.ElideRight, limit)
    return style.isolated(fm.elidedText(name, Qt.TextElideMode.ElideRight, room)) + tail


def lay_out(
    font: QFont, name: str, caption: str, mic_on: bool, limit: float, most: float
) -> PlateLayout:
    """The plate of ``name``: the text in ``limit`` px, the whole plate in ``most`` px (what
    the tile has room for), never less than LEAST px for the text."""
    fm, line = QFontMetricsF(font), QFontMetrics(font).height()
    rtl = reads_right_to_left(name)
    h = line + 10
    badge = h - 2 * INSET  # muted: a red disc behind the microphone, seen at a glance
    icon = 0 if caption.endswith("screen") else line if mic_on else badge + 1
    text = shown_text(fm, name, caption, max(LEAST, min(limit, most - 2 * PAD - icon)))
    advance = fm.horizontalAdvance(text)
    ink = fm.tightBoundingRect(text)
    lead, tail = max(0.0, -ink.left()) + 1, max(0.0, ink.right() - advance) + 1
    start = PAD + icon
    text_box = QRectF(start - 1, 0, lead + advance + tail, h)  # (1 px of each side is slack)
    width = math.ceil(text_box.right() + PAD - 1)
    run = QRectF(start - 1 + lead, 0, advance, h)
    where: QRectF | None = None
    if icon and mic_on:
        where = QRectF(PAD - 1, RIM, icon * 0.8, h - 2 * RIM)
    elif icon:
        where = QRectF(INSET, INSET, badge, badge)
    if rtl:  # the same, mirrored: it starts at the right
        text_box, run = _mirrored(text_box, width), _mirrored(run, width)
        where = _mirrored(where, width) if where is not None else None
    return PlateLayout(width, h, text, rtl, text_box, run, where, not mic_on)


def _mirrored(r: QRectF, width: float) -> QRectF:
    return QRectF(width - r.right(), r.y(), r.width(), r.height())


def paint(layout: PlateLayout, font: QFont, dpr: float) -> QImage:
    """The plate as an image (drawn once per change: text layout is not cheap)."""
    w, h = layout.width, layout.height
    plate = QImage(round(w * dpr), round(h * dpr), QImage.Format.Format_ARGB32_Premultiplied)
    plate.setDevicePixelRatio(dpr)
    plate.fill(Qt.GlobalColor.transparent)
    p = QPainter(plate)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(style.color("#000000", 150))
    p.drawRoundedRect(QRectF(0, 0, w, h), 8, 8)
    if layout.icon is not None and not layout.muted:
        paint_mic(p, layout.icon, False)
    elif layout.icon is not None:
        p.setBrush(style.color(style.DANGER))
        p.drawEllipse(layout.icon)
        inset = layout.icon.width() * 0.2
        paint_mic(p, layout.icon.adjusted(inset, inset, -inset, -inset), True, slash=style.TEXT)
    p.setClipRect(layout.text_box)
    p.setFont(font)
    p.setPen(style.color(style.TEXT))
    option = QTextOption(Qt.AlignmentFlag.AlignCenter)
    option.setWrapMode(QTextOption.WrapMode.NoWrap)
    rtl = Qt.LayoutDirection.RightToLeft
    option.setTextDirection(rtl if layout.rtl else Qt.LayoutDirection.LeftToRight)
    p.drawText(layout.run, layout.text, option)
    p.end()
    return plate

"""One participant's picture: video (or their initials), name, mic badge, speaking ring, state.

The tile polls its frame source when the grid ticks, hands new frames to its FrameConverter and
repaints when a converted image is ready. Painting is a 1:1 blit plus a few overlays.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QFocusEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QWidget

from app.ui import name_plate, style
from app.ui.frames import Converted, FrameConverter, cover_size, fit_size, frame_key

FrameSource = Callable[[], Any]  # returns the newest av.VideoFrame or None
#: the state badges of a person's tile (none while connected)
CONNECTING, RECONNECTING, FAILED = "connecting…", "reconnecting…", "connection failed"
SPEAKING_LEVEL = 0.02  # RMS above which someone counts as speaking
SPEAKING_HOLD_S = 0.4
AVATAR_GAP, AVATAR_LEAST = 4, 14  # px around the initials' disc; the smallest disc drawn
_AVATAR_COLOURS = ["#5b6ee1", "#c05bd6", "#e0744a", "#2fa38c", "#d4a72c", "#4c8dff", "#e5484d"]


def initials(name: str) -> str:
    parts = [p for p in name.replace("-", " ").replace("_", " ").split() if p]
    if not parts:
        return "?"
    return (parts[0][0] + (parts[1][0] if len(parts) > 1 else "")).upper()


class VideoTile(QWidget):
    _ready = Signal()  # emitted by the converter thread; delivered on the GUI thread
    doubleClicked = Signal()  # (the grid puts the tile on the stage, or takes it back)

    def __init__(
        self,
        name: str,
        source: FrameSource,
        *,
        mirror: bool = False,
        fit: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self.mic_on, self.cam_on = True, True
        self.state = ""  # "", CONNECTING, RECONNECTING (yellow) or FAILED (red)
        self.caption = ""  # e.g. "you", "screen", "your screen" (a screen has no mic badge)
        self.framed = False  # outlined, to stand out when floating over another picture
        self.frames_shown = 0
        self._source, self._fit = source, fit
        self._converter = FrameConverter(self._ready.emit, mirror=mirror, name=name[:12])
        self._ready.connect(self._take)
        self._converted: Converted | None = None
        self._image: QImage | None = None
        self._key: object = None
        self._last: Any = None  # the frame object last looked at
        self._size = (0, 0)
        self._box = (2, 2)  # our size in device pixels
        self._corners: tuple[QSize, QPainterPath] | None = None
        self._plate_key: tuple[object, ...] = ()
        self._plate = QImage()
        self.plate: name_plate.PlateLayout | None = None  # where its parts are (in the plate)
        self._plate_clear = 0  # px at the right of the bottom edge that something covers
        self._speaking_until = 0.0
        self._closed = False
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)  # Enter: on the stage (as a double click)
        self.setAccessibleDescription("Enter shows it large, and back")
        self._describe()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.doubleClicked.emit()

    def set_fit(self, fit: bool) -> None:
        """Show the whole picture, letterboxed (a screen; a picture on the stage), or cover
        the tile with it, cropped (a face in the grid)."""
        if fit != self._fit:
            self._fit, self._last = fit, None  # (converted again for the new way)
            self.update()

    # --- state from the window -------------------------------------------------------------------
    def keep_clear(self, right: int) -> None:
        """The name plate stays out of the ``right`` px at the right of the bottom edge (where
        the self-view floats), so a long name is cut short instead of hidden under it."""
        if right != self._plate_clear:
            self._plate_clear = right
            self.update()

    def set_caption(self, text: str) -> None:
        self.caption = text
        self._describe()
        self.update()

    def set_name(self, name: str) -> None:
        self.name = name
        self._describe()
        self.update()

    def set_media(self, mic: bool, cam: bool) -> None:
        if (mic, cam) != (self.mic_on, self.cam_on):
            if not cam:  # its picture is not shown again when the camera comes back
                self._image = self._converted = self._key = self._last = None
            self.mic_on, self.cam_on = mic, cam
            self._describe()
            self.update()

    def set_framed(self, on: bool) -> None:
        """Float over another picture: rounded by clipping (what is below shows in the corners)
        and outlined. Costs more per frame, so only for the small self-view."""
        if on != self.framed:
            self.framed = on
            self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, not on)
            self.update()

    def set_state(self, text: str) -> None:
        if text != self.state:
            self.state = text
            self._describe()
            self.update()

    def set_level(self, level: float) -> None:
        was = self.speaking
        if level >= SPEAKING_LEVEL and self.mic_on:
            self._speaking_until = time.monotonic() + SPEAKING_HOLD_S
        if self.speaking != was:
            self.update()

    @property
    def speaking(self) -> bool:
        return time.monotonic() < self._speaking_until

    @property
    def showing_video(self) -> bool:
        return self.cam_on and self._image is not None

    # --- frames ----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Hand the newest frame (if new, or if our size changed) to the converter."""
        if self._closed or not self.isVisible() or not self.cam_on:
            return
        frame = self._source()
        if frame is None or frame is self._last:
            return
        self._last = frame
        size = (fit_size if self._fit else cover_size)(frame.width, frame.height, *self._box)
        key = frame_key(frame)
        if key == self._key and size == self._size:
            return
        self._key, self._size = key, size
        self._converter.submit(frame, *size)

    def resizeEvent(self, event: QResizeEvent) -> None:
        dpr = self.devicePixelRatioF()
        self._box = (max(2, round(self.width() * dpr)), max(2, round(self.height() * dpr)))
        self._last = None  # convert the current frame again, for the new size

    def _take(self) -> None:
        converted = self._converter.take()
        if converted is None or self._closed or not self.cam_on:  # (one under way when it went off)
            return
        self._converted = converted  # keeps the image's buffer alive
        self._image = converted.image()
        self._image.setDevicePixelRatio(self.devicePixelRatioF())
        self.update()

    def close_tile(self) -> None:
        """Stop the converter thread; the tile paints nothing new afterwards. Idempotent."""
        self._closed = True
        self._converter.close()

    # --- painting --------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        rect = QRectF(self.rect())
        if self.framed:
            rounded = QPainterPath()
            rounded.addRoundedRect(rect, style.RADIUS, style.RADIUS)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setClipPath(rounded)
        plate = self._name_plate(rect)
        plate_top = rect.height() - plate.deviceIndependentSize().height() - 10
        if self.showing_video and self._image is not None:
            self._paint_image(p, self._image)
            self.frames_shown += 1
        else:
            p.fillRect(self.rect(), style.color(style.SURFACE))
            self._paint_avatar(p, rect, plate_top)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.framed:
            self._paint_corners(p, rect)
        p.drawImage(QPointF(10, plate_top), plate)
        if self.state:
            self._paint_state(p, rect)
        if self.framed and not self.speaking:
            p.setPen(QPen(style.color("#ffffff", 90), 1.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(0.75, 0.75, -0.75, -0.75), style.RADIUS, style.RADIUS)
        ring = style.ACCENT if self.hasFocus() else style.SPEAKING if self.speaking else ""
        if ring:  # (the keyboard's focus, else who is speaking)
            p.setPen(QPen(style.color(ring), 3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(rect.adjusted(1.5, 1.5, -1.5, -1.5), style.RADIUS, style.RADIUS)
        p.end()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter or Space does what a double click does (the stage, or back)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.doubleClicked.emit()
        else:
            super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def _describe(self) -> None:
        """What a screen reader says of the tile: the name, then what is off or going on."""
        said = [self.caption] if self.caption else []
        said += [] if self.mic_on or self.caption.endswith("screen") else ["muted"]
        said += [] if self.cam_on else ["camera off"]
        self.setAccessibleName(", ".join([self.name, *said, *([self.state] if self.state else [])]))

    def _paint_image(self, p: QPainter, image: QImage) -> None:
        dpr = image.devicePixelRatio()
        iw, ih = image.width() / dpr, image.height() / dpr
        w, h = self.width(), self.height()
        exact = abs(iw - w) < 1.5 or abs(ih - h) < 1.5
        if self._fit:
            exact = exact and iw <= w + 1.5 and ih <= h + 1.5
            p.fillRect(self.rect(), style.color("#000000"))
        else:
            exact = exact and iw >= w - 1.5 and ih >= h - 1.5
            if not exact:
                p.fillRect(self.rect(), style.color(style.SURFACE))
        if exact:  # converted for this size: a 1:1 blit, no scaling
            # whole device pixels, so every pixel lands on one pixel (no resampling)
            bw, bh = round(w * dpr), round(h * dpr)
            sx, sy = max(0, (image.width() - bw) // 2), max(0, (image.height() - bh) // 2)
            dx, dy = max(0, (bw - image.width()) // 2), max(0, (bh - image.height()) // 2)
            src = QRectF(sx, sy, min(image.width(), bw), min(image.height(), bh))
            p.drawImage(QPointF(dx / dpr, dy / dpr), image, src)
        else:  # resized since: scale the old picture until the next one arrives
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            fw, fh = (fit_size if self._fit else cover_size)(round(iw), round(ih), w, h)
            p.drawImage(QRectF((w - fw) / 2, (h - fh) / 2, fw, fh), image, QRectF(image.rect()))

    def _paint_corners(self, p: QPainter, rect: QRectF) -> None:
        """Round the corners by painting the window colour over them (cheaper than clipping)."""
        if self._corners is None or self._corners[0] != self.size():
            outside, inside = QPainterPath(), QPainterPath()
            outside.addRect(rect)
            inside.addRoundedRect(rect, style.RADIUS, style.RADIUS)
            self._corners = (self.size(), outside.subtracted(inside))
        p.fillPath(self._corners[1], style.color(style.BG))

    def _paint_avatar(self, p: QPainter, rect: QRectF, plate_top: float) -> None:
        """The initials on a disc, in the middle unless the name plate would cover part of it
        (a short tile): then above the plate, smaller if need be (none where nothing fits)."""
        room = plate_top - 2 * AVATAR_GAP  # between the top edge and the plate, with gaps
        d = min(min(rect.width(), rect.height()) * 0.36, room)
        if d < AVATAR_LEAST:
            return
        middle = min(rect.center().y(), AVATAR_GAP + room - d / 2)
        circle = QRectF(rect.center().x() - d / 2, middle - d / 2, d, d)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        hue = _AVATAR_COLOURS[zlib.crc32(self.name.encode()) % len(_AVATAR_COLOURS)]
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(style.color(hue))
        p.drawEllipse(circle)
        p.setPen(style.color(style.TEXT))
        p.setFont(style.font(max(8.0, d / 4.2), bold=True))
        p.drawText(circle, Qt.AlignmentFlag.AlignCenter, initials(self.name))

    def _name_plate(self, rect: QRectF) -> QImage:
        """Name and mic badge on a dark pill (app.ui.name_plate), drawn once per change, and
        again at a new text size (Settings, during the call)."""
        big, dpr = rect.height() > 200, self.devicePixelRatioF()
        limit = int(rect.width() * 0.7)  # for the text (the plate's width: see below)
        scale = style.text_scale()
        key = (self.name, self.caption, self.mic_on, big, limit, self._plate_clear, dpr, scale)
        if key == self._plate_key:
            return self._plate
        font = style.font(10.5 if big else 9, bold=True)
        # the whole plate 10 px from the left edge and 10 px short of the right one (of what
        # covers us there): in a small tile 70 % for the name ran the plate over the edge
        most = int(rect.width()) - self._plate_clear - 20
        self.plate = name_plate.lay_out(font, self.name, self.caption, self.mic_on, limit, most)
        self._plate_key, self._plate = key, name_plate.paint(self.plate, font, dpr)
        return self._plate

    def _paint_state(self, p: QPainter, rect: QRectF) -> None:
        p.setFont(style.font(9.5, bold=True))
        fm = p.fontMetrics()
        w, h = fm.horizontalAdvance(self.state) + 24.0, fm.height() + 10.0
        pill = QRectF(rect.center().x() - w / 2, 12, w, h)
        warn, failed = self.state == RECONNECTING, self.state == FAILED
        back = style.DANGER if failed else style.WARNING if warn else "#000000"
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(style.color(back, 200 if warn or failed else 150))
        p.drawRoundedRect(pill, h / 2, h / 2)
        p.setPen(style.color("#1a1200" if warn else style.TEXT))
        p.drawText(pill, Qt.AlignmentFlag.AlignCenter, self.state)

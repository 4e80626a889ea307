"""Lays out video tiles: an even grid sized for the window's aspect, or a shared screen large with
the people beside it. In a 1:1 call your own picture floats small in a corner of the other's;
with more people it is a tile like theirs (never over someone's face). Double-clicking a tile
puts it on the stage (the spotlight), large, like a shared screen; again, and it goes back.
A shared screen is on the stage already: double-clicked, it fills the grid alone (to read it).

The grid owns the display timer: each tick, every visible tile looks for a newer frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QEvent, QRect, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QWidget

from app.ui import style
from app.ui.video_tile import FrameSource, VideoTile

TileKey = tuple[str, str]  # (peer_id, kind): kind is "video" or "screen"
MY_SCREEN: TileKey = ("", "screen")  # the preview of what we share
ASPECT = 16 / 9
WIDEST, TALLEST = 16 / 9, 4 / 3
GAP, MARGIN = 10, 12  # MARGIN: left and right (the window spaces top and bottom)
STRIP_BESIDE_FROM = 640  # px of width from which the people sit beside the stage, not under it
DISPLAY_MS = 16  # look for new frames at display rate (~60 Hz); frames are never queued
LEVEL_EVERY = 6  # ticks between speaking-level polls (~10 Hz)
PLATE_BAND = 48  # px at the bottom of a tile where its name plate is drawn (by the text size)


def grid_shape(n: int, width: float, height: float, aspect: float = ASPECT) -> tuple[int, int]:
    """(columns, rows) that make n tiles of the given aspect as large as possible in the area."""
    best, best_w = (1, max(n, 1)), -1.0
    for cols in range(1, max(n, 1) + 1):
        rows = math.ceil(n / cols)
        w = min((width - GAP * (cols - 1)) / cols, (height - GAP * (rows - 1)) / rows * aspect)
        if w > best_w + 0.5:
            best, best_w = (cols, rows), w
    return best


def grid_rects(n: int, area: QRect, aspect: float = ASPECT) -> list[QRect]:
    """Tile rectangles, centred; the last row is centred too when it is not full."""
    if n <= 0:
        return []
    cols, rows = grid_shape(n, area.width(), area.height(), aspect)
    w = (area.width() - GAP * (cols - 1)) / cols
    h = (area.height() - GAP * (rows - 1)) / rows
    w = min(w, h * max(aspect, WIDEST))  # tiles stretch between 4:3 and 16:9 to use the space
    h = min(h, w / min(aspect, TALLEST))
    top = area.y() + (area.height() - rows * h - (rows - 1) * GAP) / 2
    rects = []
    for i in range(n):
        row, col = divmod(i, cols)
        in_row = min(cols, n - row * cols)
        left = area.x() + (area.width() - in_row * w - (in_row - 1) * GAP) / 2
        x, y = left + col * (w + GAP), top + row * (h + GAP)
        rects.append(QRect(round(x), round(y), round(w), round(h)))
    return rects


class VideoGrid(QWidget):
    def __init__(self, level: Callable[[str], float], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._level = level  # peer_id ("" for me) -> audio level 0..1
        self.tiles: dict[TileKey, VideoTile] = {}
        self.me: VideoTile | None = None
        self._ticks = 0
        self._timer = QTimer(self)
        self._timer.setInterval(DISPLAY_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._layout_pending = False
        self.spotlight: TileKey | None = None  # the tile a person put on the stage

    # --- tiles -------------------------------------------------------------------------------
    def set_me(self, name: str, source: FrameSource) -> VideoTile:
        if self.me is None:
            self.me = VideoTile(name, source, mirror=True, parent=self)
            self.me.set_caption("you")
            self.me.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # (it never takes the stage)
            self.me.setAccessibleDescription("")
            self.me.show()
        self.relayout()
        return self.me

    def add(self, key: TileKey, name: str, source: FrameSource) -> VideoTile:
        tile = self.tiles.get(key)
        if tile is None:
            tile = VideoTile(name, source, fit=key[1] == "screen", parent=self)
            if key[1] == "screen":
                tile.set_caption("your screen" if key == MY_SCREEN else "screen")
            self.tiles[key] = tile
            if key[1] == "screen" and key != MY_SCREEN and self.spotlight is not None:
                # a new share takes the stage (the spotlight's own screen, if theirs)
                self.spotlight = key if self.spotlight == (key[0], "video") else None
            tile.doubleClicked.connect(partial(self.toggle_spotlight, key))
            tile.show()
            self.relayout()
        return tile

    def clear_me(self) -> None:
        """Take our own tile away (the call is over: nothing is sent any more)."""
        me, self.me = self.me, None
        if me is not None:
            me.close_tile()
            me.hide()
            me.deleteLater()
            self.relayout()

    def toggle_spotlight(self, key: TileKey) -> None:
        """Put ``key``'s tile on the stage, everyone else beside it; if it is there: back."""
        self.spotlight = None if self.spotlight == key or key not in self.tiles else key
        self.relayout()

    def remove(self, key: TileKey) -> None:
        if key == self.spotlight:
            self.spotlight = None
        tile = self.tiles.pop(key, None)
        if tile is not None:
            tile.close_tile()
            tile.hide()
            tile.deleteLater()
            self.relayout()

    def tile(self, peer_id: str, kind: str = "video") -> VideoTile | None:
        return self.tiles.get((peer_id, kind))

    def stop(self) -> None:
        """Stop the display timer and every tile's converter thread. Idempotent."""
        self._timer.stop()
        for tile in [*self.tiles.values(), *([self.me] if self.me else [])]:
            tile.close_tile()

    # --- layout ------------------------------------------------------------------------------
    def relayout(self) -> None:
        """Lay out on the next turn of the loop, so a burst of changes moves tiles once."""
        if not self._layout_pending:
            self._layout_pending = True
            QTimer.singleShot(0, self, self._do_layout)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._do_layout()

    def changeEvent(self, event: QEvent) -> None:  # a new text size: taller name plates
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.relayout()

    def _do_layout(self) -> None:
        self._layout_pending = False
        area = self.rect().adjusted(MARGIN, 0, -MARGIN, 0)
        # the spotlight, else others' screens take the stage; the rest sit among the people
        # (with the preview of our own screen)
        stage = [k for k in self.tiles if k[1] == "screen" and k != MY_SCREEN]
        if self.spotlight in self.tiles:
            stage = [self.spotlight]
        spot = self.spotlight
        alone = (
            spot in self.tiles and spot is not None and spot[1] == "screen" and spot != MY_SCREEN
        )
        screens = [self.tiles[k] for k in stage]
        people = [t for k, t in self.tiles.items() if k not in stage]
        for key, tile in self.tiles.items():  # on the stage, a face is shown whole too
            tile.set_fit(key[1] == "screen" or key in stage)
        me = self.me
        # one other person: me small over their picture; more: me a tile like the others
        # (floating in a corner of the grid, it covered whoever sat there)
        floating = me is not None and len(people) == 1 and not screens
        if me is not None and not floating:
            people.append(me)
        if screens:
            if alone:  # the people out of the way (hidden: zero height)
                main, rects = area, [QRect(area.x(), area.y(), 0, 0) for _ in people]
            elif people and area.width() < STRIP_BESIDE_FROM:  # a small window: people under it
                strip = max(72, area.height() // 4)
                main = area.adjusted(0, 0, 0, -(strip + GAP))
                below = QRect(area.x(), main.bottom() + GAP, area.width(), strip)
                rects = grid_rects(len(people), below)
            else:
                strip = max(180, area.width() // 5) if len(people) + len(screens) > 1 else 0
                main = area.adjusted(0, 0, -(strip + GAP if strip else 0), 0)
                side = QRect(main.right() + GAP, area.y(), strip, area.height())
                rects = _column(len(people), side)
            for tile, rect in zip(screens, grid_rects(len(screens), main, 16 / 10), strict=True):
                tile.setGeometry(rect)
        else:
            rects = grid_rects(len(people), area)
        for tile, rect in zip(people, rects, strict=True):
            tile.setGeometry(rect)
            tile.setVisible(rect.height() > 20)
        if me is not None:
            me.set_framed(floating)
        if me is not None and floating:  # bottom-right corner of the other's picture
            corner = rects[0]
            w = max(160, min(280, corner.width() // 4))
            h = round(w / ASPECT)
            me.setGeometry(corner.right() - w - 12, corner.bottom() - h - 12, w, h)
            me.show()  # (it may have been out of the way)
            me.raise_()
        over = me.geometry() if me is not None and floating else None
        for tile in people:
            tile.keep_clear(_covered_right(tile.geometry(), over) if over is not None else 0)

    def _tick(self) -> None:
        self._ticks += 1
        poll_levels = self._ticks % LEVEL_EVERY == 0
        for (peer_id, kind), tile in self.tiles.items():
            tile.tick()
            if poll_levels and kind == "video":
                tile.set_level(self._level(peer_id))
        if self.me is not None:
            self.me.tick()
            if poll_levels:
                self.me.set_level(self._level(""))


def _column(n: int, area: QRect) -> list[QRect]:
    """n tiles stacked in a side strip (those that do not fit get zero height)."""
    h = min(round(area.width() / ASPECT), (area.height() - GAP * max(n - 1, 0)) // max(n, 1))
    fits = max(1, (area.height() + GAP) // (h + GAP)) if h > 0 else 0
    return [
        QRect(area.x(), area.y() + i * (h + GAP), area.width(), h if i < fits else 0)
        for i in range(n)
    ]


def _covered_right(tile: QRect, over: QRect) -> int:
    """How many px at the right of ``tile``'s bottom band (where its name plate sits) ``over``
    covers: 0 if it does not reach that band."""
    high = style.by_text(PLATE_BAND)
    band = QRect(tile.left(), tile.bottom() - high, tile.width(), high + 1)
    if not band.intersects(over):
        return 0
    return max(0, tile.right() - over.left() + 1)

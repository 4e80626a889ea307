"""Where Tab goes in the call window: as the window reads, not as its widgets were made.

Qt's order is the order the widgets were created in: each person's tile and their card in the
people panel were made one after the other as they joined, so Tab jumped from the video to the
side panel and back, person by person, and the side panel (made with the window) came before
the toolbar. Here it is: the video, a notice over it, the toolbar's buttons left to right, the
open side panel top to bottom, the people's tiles row by row as they are laid out, and round.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QWidget


def _stop(widget: QWidget) -> bool:
    """Tab may put the keyboard on ``widget`` now."""
    tab = Qt.FocusPolicy.TabFocus.value
    return widget.isVisible() and widget.isEnabled() and bool(widget.focusPolicy().value & tab)


def _in_order(group: QWidget, by_row: bool) -> list[QWidget]:
    """``group``'s stops, left to right (``by_row``: row by row, top to bottom, each row left
    to right)."""

    def place(widget: QWidget) -> list[tuple[int, int]]:
        """Where it is, in each of the widgets it is in, from ``group`` down (not where it is
        in ``group``: a card scrolled up out of sight is not above what stands over it)."""
        path: list[tuple[int, int]] = []
        inside: QWidget | None = widget
        while inside is not None and inside is not group:
            at = inside.pos()
            path.insert(0, (at.y(), at.x()) if by_row else (0, at.x()))
            inside = inside.parentWidget()
        return path

    return sorted((w for w in group.findChildren(QWidget) if _stop(w)), key=place)


def tab_stops(window: QWidget, video: QWidget, bar: QWidget, *panels: QWidget) -> list[QWidget]:
    """Every stop of ``window`` in Tab's order: ``video`` itself (where the keyboard rests,
    out of Tab's way), then ``panels[0]`` (a notice floating over the video), the toolbar
    ``bar``, the other ``panels`` (those shown), the tiles in ``video``, and whatever else
    takes the keyboard, in Qt's order."""
    notice, *sides = panels
    stops = [video]  # (where the keyboard rests; Tab goes on from it, never back to it)
    stops += _in_order(notice, True) + _in_order(bar, False)
    for panel in sides:
        stops += _in_order(panel, True) if panel.isVisible() else []
    stops += _in_order(video, True)
    rest, seen = [], set(stops)
    widget = window.nextInFocusChain()
    while widget is not window and widget is not None:  # (the chain is a ring)
        if widget not in seen and _stop(widget) and window.isAncestorOf(widget):
            rest.append(widget)
            seen.add(widget)
        widget = widget.nextInFocusChain()
    return list(dict.fromkeys(stops + rest))  # (each once)


def tab_on(window: QWidget, forward: bool, stops: list[QWidget]) -> bool:
    """Tab (``forward``) or Shift+Tab in ``window``: the keyboard to the next or previous stop
    (scrolled into view); False where the keyboard is on none of them (Qt's order then)."""
    focus = window.focusWidget()
    if focus not in stops:
        return False
    step, at = (1 if forward else -1), stops.index(focus)
    for _ in stops:  # the next one that takes Tab (not the video, where Qt's Tab never goes)
        at = (at + step) % len(stops)
        if _stop(stops[at]):
            break
    else:
        return False
    target = stops[at]
    reason = Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason
    target.setFocus(reason)
    scroll = target.parentWidget()
    while scroll is not None and not isinstance(scroll, QScrollArea):
        scroll = scroll.parentWidget()
    if scroll is not None:  # (a card below the panel's fold)
        scroll.ensureWidgetVisible(target)
    return True

"""The shared look: a dark call UI. Colours as constants (for QPainter code), one QSS string
(the one shared notice widget, Banner, is in app.ui.banner).

Widgets pick their style with an object name or a ``role`` property, never with inline colours,
so the main window and the call window look like one app.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QAccessibleEvent,
    QColor,
    QFont,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import QApplication, QLabel, QWidget

BG = "#0f1115"  # window
SURFACE = "#1a1d23"  # tiles, panels
SURFACE_HI = "#252a32"  # buttons, inputs
BORDER = "#2c313a"
TEXT = "#e9ecf1"
TEXT_DIM = "#9aa3af"
ACCENT = "#4c8dff"
FOCUS_ON_ACCENT = "#ffffff"  # the keyboard focus ring on a button that is accent-blue itself
SPEAKING = "#3ecf8e"
WARNING = "#f5a524"
DANGER = "#e5484d"
DANGER_HI = "#f0666a"
RADIUS = 12  # tiles and panels

_FAMILIES = ["Inter", "Cantarell", "Noto Sans", "Ubuntu", "DejaVu Sans", "Sans Serif"]
#: every font size of the style sheets and of painted text is multiplied by this: the text size
#: the person picked, over the system's (app.ui.theme.set_text_size); 1.0 is the design size
_text_scale = [1.0]
_OWN_SHEET = "peermeetOwnSheet"  # a window that carries the shared sheet itself (own_sheet)


def text_scale() -> float:
    return _text_scale[0]


def set_text_scale(scale: float) -> None:
    """Set the text size (see app.ui.theme.set_text_size, which also restyles what is open)."""
    _text_scale[0] = min(max(scale, 0.5), 3.0)


def by_text(px: int) -> int:
    """A width in pixels that holds text (designed at the design's text size), grown with the
    text size."""
    return round(px * max(1.0, _text_scale[0]))


def by_text_size(width: int, height: int) -> QSize:
    """A size that holds text, grown with the text size (see by_text)."""
    return QSize(by_text(width), by_text(height))


def pt(size: float) -> str:
    """A style sheet's font size of ``size`` points at the design text size."""
    return f"{size * _text_scale[0]:.2f}pt"


#: a ticked check box's mark (a file: style sheets take images by path)
CHECK = (Path(__file__).resolve().parents[2] / "resources" / "check.svg").as_posix()
BOX_EDGE = "#6b7483"  # a check box's or radio button's edge: seen on the dark background


def color(name: str, alpha: int = 255) -> QColor:
    c = QColor(name)
    c.setAlpha(alpha)
    return c


def font(point_size: float = 10.0, bold: bool = False, mono: bool = False) -> QFont:
    f = QFont()
    f.setFamilies(["DejaVu Sans Mono", "Monospace"] if mono else _FAMILIES)
    f.setPointSizeF(point_size * _text_scale[0])
    f.setBold(bold)
    return f


FSI, PDI = "\u2068", "\u2069"  # first-strong isolate, pop directional isolate
NAME_SHOWN = 32  # characters of a person's name in a sentence (a name may have no spaces)


def isolated(text: str) -> str:
    """``text`` held apart from the sentence around it, whichever way it reads: a right-to-left
    name cannot reorder the words around it."""
    return f"{FSI}{text}{PDI}"


def shortened(name: str, most: int = NAME_SHOWN) -> str:
    """``name`` cut to ``most`` characters, "…" ending what was cut."""
    return name if len(name) <= most else name[: most - 1] + "…"


def plain_tip(text: str) -> str:
    """A tooltip that shows ``text`` as it is: Qt renders a tooltip that looks like HTML as
    HTML, and names come from other people."""
    return f"<p>{html.escape(text)}</p>" if text else ""


def sheet() -> str:
    """The call window's style sheet (shared with the home window), at the current text size."""
    return f"""
QWidget {{ color: {TEXT}; font-size: {pt(10)}; }}
#CallWindow {{ background: {BG}; }}
QToolTip {{ background: {SURFACE_HI}; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
QMenu {{ background: {SURFACE_HI}; color: {TEXT}; border: 1px solid {BORDER}; padding: 4px; }}
QMenu::item {{ padding: 8px 18px; border-radius: 6px; }}
QMenu::item:selected {{ background: #343b47; }}
QMenu::item:disabled {{ color: {TEXT_DIM}; }}
QMenu::separator {{ height: 1px; background: {BORDER}; margin: 4px 6px; }}
QLabel[role="dim"] {{ color: {TEXT_DIM}; }}
QLabel[role="title"] {{ font-size: {pt(12)}; font-weight: 600; }}
QLabel[role="safety"] {{ font-family: "DejaVu Sans Mono"; font-size: {pt(18)}; font-weight: 700;
    color: {TEXT}; letter-spacing: 2px; }}
QPushButton {{ background: {SURFACE_HI}; border: 1px solid {BORDER}; border-radius: 8px;
    padding: 7px 14px; outline: none; }}
QPushButton:hover {{ background: #2f3540; }}
QPushButton:disabled {{ color: {TEXT_DIM}; }}
QPushButton[role="tool"] {{ min-width: 76px; min-height: 40px; border-radius: 20px;
    padding: 4px 16px; font-weight: 600; }}
QPushButton[role="tool"][compact="true"] {{ min-width: 48px; padding: 4px 8px; }}
QPushButton[role="tool"][off="true"] {{ background: {DANGER}; border-color: {DANGER}; }}
QPushButton[role="tool"]:checked {{ background: {ACCENT}; border-color: {ACCENT}; }}
QPushButton[role="more"] {{ min-width: 22px; max-width: 22px; min-height: 40px; padding: 0;
    border-radius: 11px; color: {TEXT_DIM}; }}
QPushButton[role="more"]:hover {{ color: {TEXT}; }}
QPushButton[role="leave"] {{ background: {DANGER}; border-color: {DANGER}; min-height: 40px;
    border-radius: 20px; padding: 4px 22px; font-weight: 700; }}
QPushButton[role="leave"]:hover {{ background: {DANGER_HI}; }}
QPushButton[role="again"] {{ background: {ACCENT}; border-color: {ACCENT}; min-height: 40px;
    border-radius: 20px; padding: 4px 22px; font-weight: 700; }}
QPushButton[role="flat"] {{ background: transparent; border: none; padding: 2px 6px;
    color: {TEXT_DIM}; }}
#SidePanel, #PeerCard {{ background: {SURFACE}; border-radius: {RADIUS}px; }}
#PeerCard {{ border: 1px solid {BORDER}; }}
#PeerCard:focus {{ border: 2px solid {ACCENT}; }}
#Toolbar {{ background: {BG}; }}
#Banner {{ background: #3a2d12; border: 1px solid {WARNING}; border-radius: 8px; }}
#Banner[level="ended"] {{ background: #3b1719; border-color: {DANGER}; }}
QLineEdit {{ background: {SURFACE_HI}; border: 1px solid {BORDER}; border-radius: 8px;
    padding: 8px 10px; selection-background-color: {ACCENT}; }}
QLineEdit:focus {{ border-color: {ACCENT}; }}
QLineEdit:disabled {{ color: {TEXT_DIM}; background: {SURFACE}; }}
#ChatEntry {{ background: {SURFACE_HI}; border: 1px solid {BORDER}; border-radius: 8px;
    padding: 6px 8px; selection-background-color: {ACCENT}; }}
#ChatEntry:focus {{ border-color: {ACCENT}; }}
#ChatEntry:disabled {{ color: {TEXT_DIM}; background: {SURFACE}; }}
QLabel[role="warning"] {{ color: {WARNING}; }}
QPushButton:focus {{ border: 2px solid {ACCENT}; }}
QPushButton[role="tool"]:focus, QPushButton[role="leave"]:focus {{ border: 2px solid {ACCENT}; }}
QPushButton[role="tool"]:checked:focus, QPushButton[role="again"]:focus {{
    border: 2px solid {FOCUS_ON_ACCENT}; }}
QTextBrowser:focus {{ border: 1px solid {ACCENT}; border-radius: 6px; }}
QTextBrowser, QScrollArea {{ background: transparent; border: none; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
QCheckBox, QRadioButton {{ spacing: 8px; }}
QCheckBox:disabled, QRadioButton:disabled, QLabel[role="boxwords"]:disabled {{ color: {TEXT_DIM}; }}
QCheckBox::indicator, QRadioButton::indicator {{ width: {by_text(16)}px; height: {by_text(16)}px; }}
QCheckBox::indicator, QRadioButton::indicator {{ border: 1px solid {BOX_EDGE};
    background: {SURFACE_HI}; }}
QCheckBox::indicator {{ border-radius: 4px; }}
QRadioButton::indicator {{ border-radius: {by_text(16) // 2}px; }}
QCheckBox::indicator:hover, QRadioButton::indicator:hover {{ border-color: {ACCENT}; }}
QCheckBox::indicator:checked {{ background: {ACCENT}; border-color: {ACCENT};
    image: url({CHECK}); }}
QRadioButton::indicator:checked {{ border-color: {ACCENT}; background: qradialgradient(
    cx: 0.5, cy: 0.5, radius: 0.5, fx: 0.5, fy: 0.5, stop: 0 #ffffff, stop: 0.4 #ffffff,
    stop: 0.5 {ACCENT}, stop: 1 {ACCENT}); }}
QCheckBox::indicator:disabled, QRadioButton::indicator:disabled {{
    border-color: {BORDER}; background: {SURFACE}; }}
QCheckBox::indicator:checked:disabled {{ background: #3a4150; }}
QScrollBar:vertical {{ background: transparent; width: 8px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {BORDER}; border-radius: 3px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; }}
"""


def apply(app: QApplication, more: str = "") -> None:
    """Install the font and style sheet (plus ``more``) on the whole application; again after
    the text size changed (windows that carry the sheet themselves, see own_sheet, too)."""
    app.setFont(font(10))
    app.setStyleSheet(sheet() + more)
    for window in app.topLevelWidgets():
        if window.property(_OWN_SHEET):
            window.setStyleSheet(sheet())


def own_sheet(window: QWidget) -> None:
    """Give ``window`` the shared sheet itself (it works without the app's), kept in step
    with the text size by apply."""
    window.setProperty(_OWN_SHEET, True)
    window.setStyleSheet(sheet())


_GROWN = "peermeetGrownFrom"  # (height before, height after) of show_note


def grow_to_fit(window: QWidget, *, wider: bool = False) -> None:
    """Grow ``window`` (never shrink it) to its size hint after its text changed, instead of
    squeezing what it shows; only in height unless ``wider``."""
    layout = window.layout()
    if layout is not None:
        layout.activate()  # (the hint of a window whose layout has not run yet is stale)
    hint = window.sizeHint()
    width = max(window.width(), hint.width()) if wider else window.width()
    window.resize(width, max(window.height(), hint.height()))


def announce(widget: QWidget, text: str = "", *, urgent: bool = False) -> None:
    """Have a screen reader say ``text`` (default: the words of ``widget``, a label: a notice
    or an error just shown) without moving the keyboard; ``urgent``: at once, interrupting.
    (An Alert event alone is dropped by Linux's AT-SPI bridge, so Orca said nothing; it still
    sounds the system's alert on Windows.)"""
    if not text and isinstance(widget, QLabel):
        text = widget.text()
        if widget.textFormat() != Qt.TextFormat.PlainText and "<" in text:  # (markup)
            text = QTextDocumentFragment.fromHtml(text).toPlainText()
    if text.strip():
        event = QAccessibleAnnouncementEvent(widget, " ".join(text.split()))
        if urgent:
            event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive)
        QAccessible.updateAccessibility(event)
    QAccessible.updateAccessibility(QAccessibleEvent(widget, QAccessible.Event.Alert))


def show_note(
    window: QWidget, note: QLabel, text: str, grow: Callable[[], None] | None = None
) -> None:
    """Show ``text`` in ``note`` (an error under a form), growing ``window`` for it (``grow``:
    how, default grow_to_fit); hide_note gives the height back."""
    first, before = note.isHidden() and window.property(_GROWN) is None, window.height()
    note.setText(text)
    note.show()
    announce(note, urgent=True)
    grow() if grow is not None else grow_to_fit(window)
    if first:
        window.setProperty(_GROWN, (before, window.height()))


def hide_note(window: QWidget, note: QWidget) -> None:
    """Hide ``note`` (shown with show_note) and give back the height the window grew for
    it, unless the person has resized the window since."""
    note.hide()
    grown = window.property(_GROWN)
    window.setProperty(_GROWN, None)
    if isinstance(grown, tuple) and window.height() == grown[1]:
        widget: QWidget | None = note.parentWidget()
        while widget is not None:  # (a note in a page of a stack: each level's hint is cached)
            layout = widget.layout()
            if layout is not None:
                layout.invalidate()
                layout.activate()
            widget = None if widget is window else widget.parentWidget()
        window.resize(window.width(), max(grown[0], window.minimumSizeHint().height()))


def restyle(widget: QWidget, prop: str, value: object) -> None:
    """Set a property the style sheet selects on, and re-apply the style."""
    widget.setProperty(prop, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)

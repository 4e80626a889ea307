"""The app's look: the shared call-window style (app.ui.style) plus the home window's and the
dialogs', on a dark Fusion palette, and the window icon."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from app.meeting.settings import text_scale
from app.ui import style

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ICON, CHEVRON = RESOURCES / "peermeet.svg", RESOURCES / "chevron-down.svg"


#: text sizes offered in Settings, in per cent of the design size (over the system's; see
#: set_text_size)
TEXT_SIZES = {100: "Normal", 115: "Large", 130: "Larger", 150: "Largest"}
_system_pt: list[float] = []  # the system's font size, read before ours replaced it


def home_sheet() -> str:
    """The home window and dialogs, on top of the call window's shared look (app.ui.style)."""
    pt = style.pt
    return f"""
#Home, QDialog {{ background: {style.BG}; }}
#Card {{ background: {style.SURFACE}; border: 1px solid {style.BORDER};
    border-radius: {style.RADIUS}px; }}
#Card QLabel, #ActionCard QLabel {{ background: transparent; }}
QLabel[role="hero"] {{ font-size: {pt(20)}; font-weight: 700; }}
QLabel[role="heading"] {{ font-size: {pt(12)}; font-weight: 600; }}
QLabel[role="warning"] {{ color: {style.WARNING}; }}
QLabel#Hint, QLabel#EmptyState {{ color: {style.TEXT_DIM}; }}
QLabel#EmptyState {{ padding: 0 12px; }}  /* (air above and below: home_parts.Placeholder) */
QPushButton[role="primary"] {{ background: {style.ACCENT}; border-color: {style.ACCENT};
    color: white; font-weight: 600; padding: 9px 20px; }}
QPushButton[role="primary"]:hover {{ background: #6aa0ff; }}
QPushButton[role="primary"]:disabled {{ background: #34507f; color: #b8c6de; }}
QPushButton[role="outline"] {{ border-color: {style.ACCENT}; color: #9cc0ff; font-weight: 600; }}
QPushButton[role="segment"] {{ padding: 7px 16px; min-width: 64px; font-weight: 600; }}
QPushButton[role="segment"]:checked {{ background: {style.ACCENT}; border-color: {style.ACCENT};
    color: white; font-weight: 600; }}
#ActionCard {{ background: {style.SURFACE}; border: 1px solid {style.BORDER};
    border-radius: {style.RADIUS}px; padding: 0; text-align: left; }}
#ActionCard:hover {{ border-color: {style.ACCENT}; background: #1f242c; }}
#ActionCard[accent="true"] {{ background: #1d3157; border-color: #2f5db0; }}
#ActionCard[accent="true"]:hover {{ background: #22396a; border-color: {style.ACCENT}; }}
QLabel#ActionTitle {{ font-size: {pt(14)}; font-weight: 700; }}
QLabel#ActionGlyph {{ font-size: {pt(22)}; font-weight: 700; color: {style.ACCENT};
    background: {style.BG}; border-radius: {style.by_text(20)}px; }}
#ActionCard[accent="true"] QLabel#ActionGlyph {{ background: {style.ACCENT}; color: white; }}
#MeetingRow {{ background: {style.SURFACE_HI}; border: 1px solid {style.BORDER};
    border-radius: 10px; }}
#MeetingRow[state="ended"], #MeetingRow[state="expired"] {{ background: {style.SURFACE}; }}
#MeetingRow QLabel {{ background: transparent; }}
QLabel#RowTitle {{ font-size: {pt(11)}; font-weight: 600; }}
QLabel#RowStatus {{ color: {style.TEXT_DIM}; }}
QLabel#RowStatus[role="warning"] {{ color: {style.WARNING}; }}
QLabel#Countdown {{ font-family: "DejaVu Sans Mono"; font-size: {pt(13)}; font-weight: 600;
    padding-left: 10px; }}
#MeetingRow[state="ended"] QLabel#Countdown, #MeetingRow[state="expired"] QLabel#Countdown,
#MeetingRow[state="ended"] QLabel#RowTitle, #MeetingRow[state="expired"] QLabel#RowTitle {{
    color: {style.TEXT_DIM}; }}
#MeetingRow[state="unavailable"] QLabel#Countdown, #MeetingRow[state="taken"] QLabel#Countdown {{
    color: {style.WARNING}; }}
QPushButton#RowEnd {{ color: {style.DANGER_HI}; }}
QPushButton#RowEnter {{ background: {style.ACCENT}; border-color: {style.ACCENT}; color: white;
    font-weight: 600; }}
QLabel#RoomName {{ font-size: {pt(24)}; font-weight: 700; }}
QLabel#ShareLink {{ font-family: "DejaVu Sans Mono"; font-size: {pt(11)}; background: {style.BG};
    border: 1px solid {style.BORDER}; border-radius: 8px; padding: 12px 14px; }}
QLabel#QrCode {{ background: white; border-radius: 10px; }}
QLabel#ErrorBox {{ background: #3b1719; border: 1px solid {style.DANGER}; border-radius: 8px;
    padding: 10px 12px; }}
#StepsPanel {{ background: {style.SURFACE}; border-radius: 10px; }}
QLabel#StepText, QLabel#StepIcon {{ color: {style.TEXT_DIM}; }}
QLabel#StepText[state="now"], QLabel#StepIcon[state="now"] {{ color: {style.ACCENT};
    font-weight: 600; }}
QLabel#StepText[state="done"] {{ color: {style.TEXT}; }}
QLabel#StepIcon[state="done"] {{ color: {style.SPEAKING}; font-weight: 700; }}
QLabel#StepText[state="failed"], QLabel#StepIcon[state="failed"] {{ color: {style.DANGER_HI};
    font-weight: 600; }}
QComboBox {{ background: {style.SURFACE_HI}; border: 1px solid {style.BORDER};
    border-radius: 8px; padding: 7px 10px; }}
QComboBox:focus, QComboBox:on {{ border-color: {style.ACCENT}; }}
QComboBox::drop-down {{ border: none; width: 28px; }}
QComboBox::down-arrow {{ image: url({CHEVRON.as_posix()}); width: 12px; height: 12px; }}
QComboBox QAbstractItemView {{ background: {style.SURFACE_HI}; border: 1px solid {style.BORDER};
    selection-background-color: {style.ACCENT}; }}
QListWidget {{ background: {style.SURFACE_HI}; border: 1px solid {style.BORDER};
    border-radius: 8px; padding: 4px; }}
QTableWidget#LanTable {{ background: transparent; border: none; }}
QTableWidget#LanTable::item {{ border-bottom: 1px solid {style.BORDER}; padding: 0 2px; }}
QTableWidget#LanTable QHeaderView, QTableWidget#LanTable QHeaderView::section {{
    background: transparent; color: {style.TEXT_DIM}; border: none; padding: 0 2px; }}
QTableWidget#LanTable QPushButton {{ margin: 6px 2px; padding: 4px 14px;
    border-color: {style.ACCENT}; color: #9cc0ff; font-weight: 600; }}
QTableWidget#LanTable QPushButton:disabled {{ border-color: {style.BORDER};
    color: {style.TEXT_DIM}; }}
QProgressBar#MicMeter {{ background: {style.SURFACE_HI}; border: none; border-radius: 4px; }}
QProgressBar#MicMeter::chunk {{ background: {style.SPEAKING}; border-radius: 4px; }}
QPushButton:focus {{ border: 2px solid {style.ACCENT}; }}
QPushButton[role="primary"]:focus, QPushButton[role="segment"]:checked:focus,
QPushButton#RowEnter:focus {{ border: 2px solid {style.FOCUS_ON_ACCENT}; }}
#ActionCard:focus {{ border: 2px solid {style.ACCENT}; }}
#ActionCard[accent="true"]:focus {{ border: 2px solid {style.FOCUS_ON_ACCENT}; }}
QListWidget:focus {{ border-color: {style.ACCENT}; }}
QTableWidget#LanTable QPushButton:focus, QPushButton[role="outline"]:focus {{
    border: 2px solid {style.FOCUS_ON_ACCENT}; }}
"""


def set_text_size(app: QApplication, percent: int) -> None:
    """Draw every window's text at ``percent`` (Settings' text size) of the design size, over
    the system's; windows already open follow at once."""
    if not _system_pt:
        _system_pt.append(app.font().pointSizeF())
    style.set_text_scale(text_scale(percent, _system_pt[0]))
    style.apply(app, home_sheet())


def apply_theme(app: QApplication, text_percent: int = 100) -> None:
    """The shared look plus the home window's, on a dark Fusion palette, with text at
    ``text_percent`` (set_text_size)."""
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, style.BG),
        (QPalette.ColorRole.WindowText, style.TEXT),
        (QPalette.ColorRole.Base, style.SURFACE_HI),
        (QPalette.ColorRole.AlternateBase, style.SURFACE),
        (QPalette.ColorRole.Text, style.TEXT),
        (QPalette.ColorRole.Button, style.SURFACE_HI),
        (QPalette.ColorRole.ButtonText, style.TEXT),
        (QPalette.ColorRole.Highlight, style.ACCENT),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.PlaceholderText, style.TEXT_DIM),
        (QPalette.ColorRole.ToolTipBase, style.SURFACE_HI),
        (QPalette.ColorRole.ToolTipText, style.TEXT),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)
    set_text_size(app, text_percent)
    if ICON.exists():
        app.setWindowIcon(QIcon(str(ICON)))

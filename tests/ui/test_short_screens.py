"""Dialogs on a short screen at the largest text size (a 1000 px high monitor at 150 %): the
whole dialog shows, title first, rather than a scrolled body with its title cut off."""

from __future__ import annotations

from app.ui.geometry import FRAME_PX
from app.ui.preview import PREVIEW_SIZE
from tests.ui.test_narrow_screens import on_screen

FAILED_JOIN = """
import asyncio, json, sys, tempfile
from pathlib import Path
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
from app.config import EngineConfig
from app.meeting.headless import MediaOptions, build_media
from app.meeting.settings import Settings, SettingsStore
from app.ui.bridge import Bridge
from app.ui.geometry import screen_of
from app.ui.join_dialog import JoinDialog
from app.ui.qt_loop import run_in_qt_loop
from app.ui.theme import apply_theme
apply_theme(app, int(sys.argv[1]))
store = SettingsStore(Path(tempfile.mkdtemp()) / "s.json")
store.save(Settings(display_name="Ada"))
media = lambda loop: build_media(MediaOptions(True, 160, 120, 5), loop=loop)
bridge = Bridge(EngineConfig("Ada"), media)
link = "peermeet://127.0.0.1:9/team-sync#k=" + "A" * 22  # (nothing answers there)

async def main():
    dialog = JoinDialog(bridge, store, lambda: None, link, preview=False)
    dialog.show()
    await asyncio.sleep(0.3)
    dialog.start_join()
    while dialog.joining:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # (laid out, and scrolled to the error if it had to)
    body = dialog._body
    title = next(w for w in body.body.findChildren(QLabel) if w.property("role") == "hero")
    top = title.mapTo(body.scroll.viewport(), title.rect().topLeft()).y()
    free = screen_of(dialog).availableGeometry()
    out = {"free": free.height(), "dialog": dialog.height(), "title_top": top,
           "scrolls": body.scroll.verticalScrollBar().maximum(), "error": dialog.error.isVisible(),
           "preview": dialog.preview.box.size().toTuple(),
           "bar": dialog.preview.meter.bar.width()}
    dialog.reject()
    return out

print(json.dumps(run_in_qt_loop(app, main())))
"""


def test_a_failed_join_fits_a_short_screen_at_the_largest_text() -> None:
    """At 150 % on a screen 1000 px high, the Join dialog with an error was taller than the
    screen: its body scrolled to the error and the title was half cut off, the camera
    preview still 480 x 270. The preview is smaller there now (16:9 still, the microphone's
    level as wide), and all of it shows; at the normal size it keeps its designed size."""
    for percent in (150, 100):
        got = on_screen(1600, 1000, FAILED_JOIN, str(percent))
        assert got["error"], got
        assert got["scrolls"] == 0 and got["title_top"] >= 0, got
        assert got["dialog"] <= got["free"] - FRAME_PX, got
        width, height = got["preview"]
        assert abs(width * 9 - height * 16) <= 16 and got["bar"] == width, got
        if percent == 100:
            assert (width, height) == PREVIEW_SIZE, got
        else:
            assert height < PREVIEW_SIZE[1] * 1.5, got

"""Qt + asyncio for UI tests: one qasync loop on the Qt thread, as the app runs it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from app.meeting.hosting import HostService
from app.meeting.store import MeetingStore
from app.ui.qt_loop import qt_loop


@pytest.fixture(autouse=True)
def _deleted_after(qapp: QApplication) -> Iterator[None]:
    """The windows a test left are deleted when it ends: those pytest-qt closed (it calls
    deleteLater, but no loop at that level ran for them) and those it never knew of. Left alive,
    every window of every test made restyling the app (a text size) slower along the suite."""
    yield
    for widget in qapp.topLevelWidgets():  # (the call windows, panels it did not register)
        if widget.parent() is None and shiboken6.createdByPython(widget):  # (not Qt's own)
            widget.hide()
            widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync event loop over pytest-qt's QApplication; run coroutines with run_until_complete."""
    qapp.setQuitOnLastWindowClosed(False)  # closing a test window must not stop the loop
    with qt_loop(qapp) as loop:  # torn down as the app does it: Qt objects die on this thread
        yield loop


async def until(check: Callable[[], Any], within: float = 10.0, what: str = "") -> None:
    """Wait (letting Qt and asyncio run) until check() is truthy."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out: {what or check}"
        await asyncio.sleep(0.05)


def run(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], within: float) -> Any:
    return loop.run_until_complete(asyncio.wait_for(coro, within))


def closed(widget: Any) -> bool:
    """Closed, or already deleted (the app deletes a call window or dialog once closed)."""
    return not shiboken6.isValid(widget) or not widget.isVisible()


@pytest.fixture
def host(tmp_path: Path, qloop: qasync.QEventLoop, qapp: QApplication) -> Iterator[HostService]:
    """Meetings hosted on this computer, on loopback (a test file may have its own)."""
    qapp.setQuitOnLastWindowClosed(False)
    svc = HostService(
        MeetingStore(tmp_path / "meetings.json"), bind="127.0.0.1", advertise="127.0.0.1",
        preferred_port=0,
    )  # fmt: skip
    yield svc
    qloop.run_until_complete(svc.close())
    qapp.setQuitOnLastWindowClosed(True)

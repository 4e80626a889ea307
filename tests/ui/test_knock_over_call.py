"""A knock that comes while the host is in a call: its prompt sits over the call window."""

from __future__ import annotations

import asyncio
from pathlib import Path

import qasync
import shiboken6
from pytestqt.qtbot import QtBot

from app.net.knockdesk import KnockRequest
from app.ui.knock_dialogs import HostKnockPrompt, ask_host
from app.ui.main_window import MainWindow
from tests.ui.conftest import run, until
from tests.ui.test_lan_desktop import host_service, make_bridge, settings_for, shown


def test_the_prompt_outlives_the_call_window_it_was_shown_over(
    qloop: qasync.QEventLoop, qtbot: QtBot, tmp_path: Path, loopback: None
) -> None:
    """The host leaves the call while someone knocks: the call window is closed and deleted,
    and the prompt, its child, went with it. Nobody could admit the guest any more, and the
    knock's end raised "already deleted" when it withdrew the prompt."""
    host = host_service(tmp_path, "alice")
    bridge = make_bridge("Alice")
    window = MainWindow(host, bridge, settings_for(tmp_path, "Alice"))
    qtbot.addWidget(window)
    window.show()

    async def scenario() -> None:
        here = await host.start("here", "small", 600)
        window.open_join(here.link, auto=True)
        await until(lambda: window.call_window is not None and window.call_window.isVisible(), 15)
        call = window.call_window
        assert call is not None and window.knock_parent() is call
        request = KnockRequest("ui-test", "Bob", b"k" * 32, b"n" * 16, "4 8 2 1", "10.0.0.9")
        knock = asyncio.ensure_future(ask_host(window.knock_parent(), request))
        await until(lambda: shown(HostKnockPrompt) is not None, 5, "the prompt")
        prompt = shown(HostKnockPrompt)
        await call.leave()  # type: ignore[attr-defined]
        await until(lambda: not shiboken6.isValid(call), 5, "the call window deleted")
        await asyncio.sleep(0.3)
        assert shiboken6.isValid(prompt) and prompt.isVisible(), "the knock can't be answered"
        prompt.admit_button.click()
        assert await asyncio.wait_for(knock, 5) is True

    try:
        run(qloop, scenario(), 40)
    finally:
        window.close()

        async def cleanup() -> None:
            await bridge.leave()
            await host.close()

        run(qloop, cleanup(), 15)

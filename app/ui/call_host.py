"""The host's part of the call window: Leave offers to end the meeting for everyone, for as
long as it is theirs to end. It follows the meeting while the window is open (My meetings'
changes, app.ui.host_controls.Ending): once someone else opened it again after its server lost
it (their owner token now), or it ended or expired, Leave just leaves, and a Leave menu still
open closes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from PySide6.QtWidgets import QMenu, QWidget

from app.errors import PeerMeetError
from app.ui.banner import Banner
from app.ui.call_toolbar import CallToolbar, leave_menu
from app.ui.host_controls import Ending
from app.ui.task_set import TaskSet

log = logging.getLogger(__name__)
EndMeeting = Callable[[], Awaitable[object]]


class HostLeave:
    """``end``: ends the meeting for everyone (None: not this person's meeting; an Ending is
    followed, anything else is theirs to end for good); ``close``: leave and close the window;
    ``leave``: start leaving (once the meeting is ended); ``done``: the call is over, or being
    left."""

    def __init__(
        self,
        window: QWidget,
        toolbar: CallToolbar,
        banner: Banner,
        tasks: TaskSet,
        end: EndMeeting | None,
        *,
        close: Callable[[], object],
        leave: Callable[[], object],
        done: Callable[[], bool],
    ) -> None:
        self._window, self._toolbar, self._banner, self._tasks = window, toolbar, banner, tasks
        self._end, self._close, self._leave, self._done = end, close, leave, done
        self.menu: QMenu | None = None  # the host's choice: leave, or end for everyone
        self.ending = False  # ending the meeting for everyone, before leaving
        self._unfollow = end.follow(self._changed) if isinstance(end, Ending) else None

    @property
    def host(self) -> bool:
        """This person hosts the meeting (what they are told: "You ended the meeting", "Give
        it more time"): not once someone else opened it again."""
        return self._end is not None and not (isinstance(self._end, Ending) and self._end.taken)

    def may_end(self) -> bool:
        """The meeting is this person's to end for everyone, now."""
        end = self._end
        return end is not None and (end.ours() if isinstance(end, Ending) else True)

    def leave_clicked(self) -> None:
        """Leave; the host chooses between leaving (the meeting stays open) and ending it."""
        if not self.may_end() or self._done():
            self._close()
            return
        if self.menu is None:
            self.menu = leave_menu(self._window, self._close, self.end_for_everyone)
        self._toolbar.pop_up(self.menu)

    def end_for_everyone(self) -> None:
        """End the meeting for everyone in it (host only), then leave and close; if it cannot
        be ended, say why and stay."""
        if self._end is not None and self.may_end() and not self._done() and not self.ending:
            self.ending = True
            self._toolbar.leave_button.setEnabled(False)
            self._tasks.spawn(self._end_then_leave(self._end))

    async def _end_then_leave(self, end: EndMeeting) -> None:
        try:
            await end()
        except PeerMeetError as exc:
            self.ending = False
            self._toolbar.leave_button.setEnabled(True)
            self._banner.show_message(f"Could not end the meeting: {exc}", "ended", 0)
            return
        self._leave()

    def _changed(self) -> None:
        """My meetings changed: no longer this person's to end, the Leave menu goes."""
        if self.menu is not None and not self.may_end() and not self.ending:
            menu, self.menu = self.menu, None
            menu.close()
            menu.deleteLater()

    def stop(self) -> None:
        """Stop following the meeting (the window is closing). Idempotent."""
        unfollow, self._unfollow = self._unfollow, None
        if unfollow is not None:
            unfollow()

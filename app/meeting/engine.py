"""EngineThread: a call's engine on an asyncio loop of its own, on a thread of its own.

The desktop app runs one per call, so the GUI thread (painting, dialogs, Qt's audio devices) and
the call (packets, codecs, audio clocks) never wait for each other's work: a video frame's encode
(2-3 ms at 480p) and each decode (~1 ms) run on the engine's loop, not between paint events. The
engine's loop is asyncio's own, as in a headless peer.

Everything the engine owns is created and used on its loop: hand work over with ``run``
(awaited from another loop), ``submit`` (from any thread) or ``call`` (fire and forget).
``close()`` stops the loop, cancels whatever is still running on it, and joins the thread (it
can block while a cancelled task winds down: call it off a GUI thread); it is idempotent and
safe from any thread but the engine's own.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
JOIN_TIMEOUT_S = 10.0


class EngineThread:
    def __init__(self, name: str = "peermeet-engine") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._started = self._closed = False

    def start(self) -> None:
        if not self._started and not self._closed:
            self._started = True
            self._thread.start()

    @property
    def running(self) -> bool:
        return self._started and not self._closed

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the engine; from any thread."""
        if not self.running:
            coro.close()
            raise RuntimeError("the engine thread is not running")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` run on the engine, from another loop; cancelling this cancels it."""
        return await asyncio.wrap_future(self.submit(coro))

    def call(self, fn: Callable[..., object], *args: object) -> None:
        """Call ``fn(*args)`` on the engine soon; dropped once the engine is closed."""
        if self.running:
            call_soon_on(self.loop, fn, *args)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self._started:
            self.loop.close()
            return
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(JOIN_TIMEOUT_S)
        if self._thread.is_alive():
            log.warning("the call engine did not stop within %.0f s", JOIN_TIMEOUT_S)

    def _main(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            _cancel_all(loop)
            loop.run_until_complete(loop.shutdown_asyncgens())
            # not shutdown_default_executor(): it would wait for a blocking call still running
            # there (a slow DNS lookup); loop.close() lets the pool finish it on its own
        except Exception:
            log.exception("the call engine's loop failed")
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def call_soon_on(loop: asyncio.AbstractEventLoop, fn: Callable[..., object], *args: object) -> None:
    """Call ``fn(*args)`` soon on ``loop``, from any thread; dropped if the loop is closed."""
    if not loop.is_closed():
        with contextlib.suppress(RuntimeError):  # closed in between
            loop.call_soon_threadsafe(fn, *args)


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = asyncio.all_tasks(loop)
    if not tasks:
        return
    log.debug("cancelling %d engine task(s) left at close", len(tasks))
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))

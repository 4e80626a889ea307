"""Network stand-ins for integration tests: real sockets on 127.0.0.1, nothing mocked."""

from __future__ import annotations

import asyncio


class _Relay:
    """A plain TCP relay in front of a rendezvous on this computer (``upstream``, its port):
    each connection has its own connection upstream, closed with it; ``_pipe`` moves the
    bytes both ways."""

    def __init__(self, upstream: int) -> None:
        self.upstream, self.port = upstream, 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"peermeet://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _refused(self) -> bool:
        return False  # (a new connection is closed at once)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if self._refused():
            writer.close()
            return
        self._tasks.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)
        except OSError:  # (the server is away: so is this connection)
            writer.close()
            self._tasks.discard(task)
            return
        try:
            await self._pipe(task, (reader, writer), (up_reader, up_writer))
        finally:
            writer.close()
            up_writer.close()
            self._tasks.discard(task)

    async def _pipe(self, task: asyncio.Task[None], client: _Ends, up: _Ends) -> None:
        raise NotImplementedError


_Ends = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class FarAway(_Relay):
    """A relay whose answers take ``delay`` seconds to come back, as from a server far away;
    what the client sends goes straight through."""

    def __init__(self, upstream: int, delay: float) -> None:
        super().__init__(upstream)
        self.delay = delay

    async def _pipe(self, task: asyncio.Task[None], client: _Ends, up: _Ends) -> None:
        await asyncio.gather(
            self._copy(client[0], up[1], 0.0), self._copy(up[0], client[1], self.delay)
        )

    @staticmethod
    async def _copy(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
    ) -> None:
        loop, late = asyncio.get_running_loop(), asyncio.Queue[tuple[float, bytes]]()

        async def deliver() -> None:
            while (item := await late.get())[1]:
                await asyncio.sleep(item[0] - loop.time())
                writer.write(item[1])
            writer.close()

        delivering = asyncio.ensure_future(deliver())
        try:
            while data := await reader.read(65536):
                late.put_nowait((loop.time() + delay, data))
            late.put_nowait((loop.time() + delay, b""))  # (the end, as late as the rest)
            await delivering
        finally:
            delivering.cancel()
            writer.close()


class Freezer(_Relay):
    """A relay whose connections can be made to go silent both ways (``freeze``), the sockets
    left open: a path gone dead without a word (a network change, a server that lost power).
    Connections made after the freeze go through, unless ``down``."""

    def __init__(self, upstream: int) -> None:
        super().__init__(upstream)
        self._frozen: set[asyncio.Task[None]] = set()  # connections gone silent
        self.down = False  # new connections are closed at once (no network to make them on)

    def freeze(self) -> int:
        """Silence every connection open now; how many."""
        self._frozen |= self._tasks
        return len(self._tasks)

    def cut(self) -> int:
        """Close every connection open now, both ways (a reset: not a silent path); how many."""
        for task in self._tasks:
            task.cancel()
        return len(self._tasks)

    def _refused(self) -> bool:
        return self.down

    async def _pipe(self, task: asyncio.Task[None], client: _Ends, up: _Ends) -> None:
        await asyncio.gather(self._copy(task, client[0], up[1]), self._copy(task, up[0], client[1]))

    async def _copy(
        self, task: asyncio.Task[None], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while data := await reader.read(65536):
            if task not in self._frozen:  # (frozen: read and dropped, as by a dead path)
                writer.write(data)
        if task not in self._frozen:
            writer.close()

"""Reading a store iterator from async code, on the one thread pyoxigraph allows.

pyoxigraph's iterators (``Store.quads_for_pattern``, query solutions, parsers) are bound to the thread that
created them: advancing one from another thread panics and aborts the whole process ("QuadIter is unsendable,
but sent to another thread"). Starlette advances a plain generator handed to ``StreamingResponse`` on whichever
thread-pool thread is free, so such an iterator must never be handed over like that.

:func:`iterate_on_one_thread` creates the iterator on a dedicated thread, consumes it there to the end (or until the
reader goes away, then closes it there too), and hands each item to the event loop through a small bounded queue:
the store is read no faster than the client takes the bytes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import TypeVar, cast

import anyio.to_thread

T = TypeVar("T")

#: Items produced ahead of the reader.
BUFFER_ITEMS = 4
#: How often a waiting producer or reader checks whether the other side has gone (seconds).
POLL_SECONDS = 0.2

_ITEM, _END, _ERROR = "item", "end", "error"


async def iterate_on_one_thread(
    make: Callable[[], Iterator[T]], *, name: str = "ioir-stream", buffer: int = BUFFER_ITEMS
) -> AsyncGenerator[T, None]:
    """Every item of ``make()``, where ``make`` runs, and its iterator is advanced and closed, on one new thread.

    An exception raised by the iterator is raised here; when the reader stops early (a client that disconnects),
    the thread closes the iterator and ends within :data:`POLL_SECONDS`.
    """
    items: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=max(1, buffer))
    gone = threading.Event()

    def put(tag: str, value: object) -> bool:
        while not gone.is_set():
            try:
                items.put((tag, value), timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        iterator: Iterator[T] | None = None
        try:
            iterator = make()
            for item in iterator:
                if not put(_ITEM, item):
                    return
            put(_END, None)
        except Exception as exc:
            put(_ERROR, exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # a generator's frame, and the store iterator it holds, end on this thread
            del iterator

    def take() -> tuple[str, object] | None:
        try:
            return items.get(timeout=POLL_SECONDS)
        except queue.Empty:
            return None

    threading.Thread(target=produce, name=name, daemon=True).start()
    try:
        while True:
            try:
                entry: tuple[str, object] | None = items.get_nowait()
            except queue.Empty:
                entry = await anyio.to_thread.run_sync(take, abandon_on_cancel=True)
            if entry is None:
                continue
            tag, value = entry
            if tag == _END:
                return
            if tag == _ERROR:
                assert isinstance(value, Exception)
                raise value
            yield cast(T, value)
    finally:
        gone.set()

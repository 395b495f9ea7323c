"""``iterate_on_one_thread``: a pyoxigraph iterator is made, advanced and closed on one thread, whoever reads it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import anyio
import pytest
from pyoxigraph import Literal, NamedNode, Quad, Store

from ioir_kg.store.threads import iterate_on_one_thread


def _store(count: int) -> Store:
    store = Store()
    predicate = NamedNode("urn:p")
    store.extend(Quad(NamedNode(f"urn:s{i}"), predicate, Literal(i)) for i in range(count))
    return store


def test_every_item_comes_from_the_same_thread_in_order() -> None:
    store = _store(500)
    threads: set[int] = set()

    def quads() -> Iterator[str]:
        for quad in store.quads_for_pattern(None, None, None):
            threads.add(threading.get_ident())
            yield str(quad.subject)

    async def main() -> list[str]:
        return [value async for value in iterate_on_one_thread(quads, buffer=2)]

    got = anyio.run(main)
    assert sorted(got) == sorted(f"<urn:s{i}>" for i in range(500))
    assert len(threads) == 1
    assert threading.get_ident() not in threads


def test_a_reader_that_stops_early_closes_the_iterator_on_its_thread() -> None:
    store = _store(5000)
    closed_on: list[int] = []
    made_on: list[int] = []

    def quads() -> Iterator[Quad]:
        made_on.append(threading.get_ident())
        try:
            yield from store.quads_for_pattern(None, None, None)
        finally:
            closed_on.append(threading.get_ident())

    async def main() -> int:
        stream = iterate_on_one_thread(quads, buffer=2)
        taken = 0
        async for _ in stream:
            taken += 1
            if taken == 3:
                break
        await stream.aclose()
        with anyio.fail_after(5):
            while not closed_on:
                await anyio.sleep(0.05)
        return taken

    assert anyio.run(main) == 3
    assert closed_on == made_on


def test_an_error_of_the_iterator_reaches_the_reader() -> None:
    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("broken store")

    async def main() -> list[int]:
        return [value async for value in iterate_on_one_thread(failing)]

    with pytest.raises(ValueError, match="broken store"):
        anyio.run(main)

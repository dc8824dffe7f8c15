"""Answers of the directory kept for a few minutes, and one request for many askers.

A decision about access is reused for ``seconds`` (ACCESS_CACHE_MINUTES), so a dialogue's
card verbs do not each ask Graph; two turns that ask the same question at the same moment
share one request. Failures are never kept: the next turn asks again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

MAX_ENTRIES = 10_000


class AnswerCache:
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self._answers: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._asking: dict[Hashable, asyncio.Future[Any]] = {}
        #: Questions answered from the cache and sent on, for the benchmark and the tests.
        self.hits = 0
        self.misses = 0

    def kept(self, key: Hashable) -> tuple[bool, Any]:
        """(True, the answer) while one is kept for ``key``, else (False, None); counted as a
        hit or a miss like ``get``, for a caller that asks for many keys at once."""
        kept = self._answers.get(key)
        if kept is not None and kept[0] > self.clock():
            self.hits += 1
            return True, kept[1]
        self.misses += 1
        return False, None

    def keep(self, key: Hashable, answer: Any) -> None:
        """Keep an answer the caller got itself (one part of a batch) for ``seconds``."""
        if self.seconds <= 0:
            return
        self._answers[key] = (self.clock() + self.seconds, answer)
        self._answers.move_to_end(key)
        while len(self._answers) > MAX_ENTRIES:
            self._answers.popitem(last=False)

    async def get(self, key: Hashable, ask: Callable[[], Awaitable[Any]]) -> Any:
        kept = self._answers.get(key)
        if kept is not None and kept[0] > self.clock():
            self.hits += 1
            return kept[1]
        waiting = self._asking.get(key)
        if waiting is not None:
            self.hits += 1
            return await asyncio.shield(waiting)
        self.misses += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._asking[key] = future
        try:
            answer = await ask()
        except BaseException as error:
            future.set_exception(error)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        else:
            future.set_result(answer)
            self.keep(key, answer)
            return answer
        finally:
            del self._asking[key]

    def clear(self) -> None:
        self._answers.clear()

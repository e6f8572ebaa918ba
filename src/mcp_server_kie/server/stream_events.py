"""Resumable /mcp streams: the SDK's EventStore, holding the latest messages of each stream.

Every message the server sends on a streamable-HTTP SSE stream gets an event id; a client
whose stream dropped reconnects with ``Last-Event-ID`` and receives what followed on that
stream. The messages live in memory (a bounded window per process): a tool result that is
lost with a restart is not lost to the user, because the job itself is in the store and
``get_status`` answers from it.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque

from mcp.server.streamable_http import (
    EventCallback,
    EventId,
    EventMessage,
    EventStore,
    StreamId,
)
from mcp.types import JSONRPCMessage

# Events kept per stream, and streams kept: enough for a reconnect, bounded for a long run.
EVENTS_PER_STREAM = 200
STREAMS_KEPT = 1000


class MemoryEventStore(EventStore):
    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._streams: OrderedDict[StreamId, deque[tuple[int, JSONRPCMessage | None]]] = (
            OrderedDict()
        )
        self._stream_of: dict[int, StreamId] = {}

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        number = next(self._counter)
        events = self._streams.get(stream_id)
        if events is None:
            events = self._streams[stream_id] = deque()
            if len(self._streams) > STREAMS_KEPT:
                _, dropped = self._streams.popitem(last=False)
                for old, _message in dropped:
                    self._stream_of.pop(old, None)
        self._streams.move_to_end(stream_id)
        if len(events) >= EVENTS_PER_STREAM:
            old, _message = events.popleft()
            self._stream_of.pop(old, None)
        events.append((number, message))
        self._stream_of[number] = stream_id
        return str(number)

    async def replay_events_after(
        self, last_event_id: EventId, send_callback: EventCallback
    ) -> StreamId | None:
        if not last_event_id.isdigit():
            return None
        after = int(last_event_id)
        stream_id = self._stream_of.get(after)
        if stream_id is None:
            return None
        for number, message in self._streams.get(stream_id, ()):
            if number > after and message is not None:
                await send_callback(EventMessage(message, str(number)))
        return stream_id

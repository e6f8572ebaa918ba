"""Background processing lets the callbacks being accepted go first, and is never starved:
a worker waits for the acceptances in flight to end, or for its bound, whichever is first."""

from __future__ import annotations

import asyncio

from mcp_server_kie.jobs.ack_gate import AckGate


async def test_a_worker_waits_while_a_callback_is_being_accepted() -> None:
    gate = AckGate(quiet=0.0, max_hold=3600.0)
    with gate.accepting_one():
        waiting = asyncio.create_task(gate.quiet())
        for _ in range(100):  # the loop goes round; the worker is still held
            await asyncio.sleep(0)
        assert not waiting.done()
    await asyncio.wait_for(waiting, timeout=10)
    assert gate.accepting == 0


async def test_a_worker_is_never_held_past_its_bound() -> None:
    gate = AckGate(quiet=3600.0, max_hold=0.01)
    with gate.accepting_one():
        await asyncio.wait_for(gate.quiet(), timeout=10)  # returns though one is in flight


async def test_nothing_in_flight_lets_a_worker_start_at_once() -> None:
    gate = AckGate(quiet=3600.0, max_hold=3600.0)
    await asyncio.wait_for(gate.quiet(), timeout=10)  # never accepted anything: quiet already


async def test_a_lone_callbacks_processing_starts_at_once() -> None:
    """One acknowledgement, then nothing: its processing does not wait out a quiet spell."""
    gate = AckGate(quiet=3600.0, max_hold=3600.0)
    with gate.accepting_one():
        pass
    await asyncio.wait_for(gate.quiet(), timeout=10)


async def test_a_burst_holds_processing_for_the_quiet_spell() -> None:
    """Acknowledgements ending close together are a burst: processing waits for a pause."""
    gate = AckGate(quiet=3600.0, max_hold=3600.0)
    for _ in range(2):
        with gate.accepting_one():
            pass
    waiting = asyncio.create_task(gate.quiet())
    for _ in range(100):
        await asyncio.sleep(0)
    assert not waiting.done()
    waiting.cancel()


async def test_a_few_callbacks_together_start_at_once_and_a_burst_does_not() -> None:
    """Up to a few acceptances in flight together are calm: each one's processing may start
    at once. One more, or acceptances that ended close together (a burst), are not."""
    gate = AckGate(quiet=3600.0, max_hold=3600.0, few=3)
    with gate.accepting_one():
        assert gate.calm()
        with gate.accepting_one(), gate.accepting_one():
            assert gate.calm()  # three in flight: a few
            with gate.accepting_one():
                assert not gate.calm()  # four: more than a few
    with gate.accepting_one():  # the four ended close together: a burst
        assert not gate.calm()

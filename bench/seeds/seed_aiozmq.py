"""aiozmq streams, the seed of zflow streams: COUNT messages of SIZE bytes
from a PUSH stream to a PULL stream over TCP on 127.0.0.1, in one asyncio
loop (a writer task: write() then await drain(), as aiozmq's docs show; the
reader: await read()). Prints "rate <messages per second>".

    seed_aiozmq.py SIZE COUNT"""
import asyncio
import sys
import time

import aiozmq
import zmq


async def run(size, count):
    pull = await aiozmq.create_zmq_stream(zmq.PULL, bind="tcp://127.0.0.1:*")
    address = list(pull.transport.bindings())[0]
    push = await aiozmq.create_zmq_stream(zmq.PUSH, connect=address)
    payload = b"x" * size
    #  one message first: the TCP connection is up before the clock starts
    push.write((payload,))
    await pull.read()

    async def writer():
        for _ in range(count):
            push.write((payload,))
            await push.drain()

    start = time.perf_counter()
    task = asyncio.ensure_future(writer())
    for _ in range(count):
        (data,) = await pull.read()
        if len(data) != size:
            raise SystemExit(f"seed_aiozmq: got {len(data)} bytes, sent {size}")
    elapsed = time.perf_counter() - start
    await task
    push.close()
    pull.close()
    return count / elapsed


def main():
    if len(sys.argv) != 3:
        print("usage: seed_aiozmq.py SIZE COUNT", file=sys.stderr)
        return 2
    rate = asyncio.run(run(int(sys.argv[1]), int(sys.argv[2])))
    print(f"rate {rate:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

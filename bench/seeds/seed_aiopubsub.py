"""aiopubsub, the seed of the zflow hub, in the shape of the hub figure
(bench/zflow_bench_hub.c): SUBS subscriptions, each a Subscriber with one
sync listener, of which MATCHING (spread evenly among the others) are on the
published key ("bench", "topic", "k") and the rest on ("bench", "topic",
"n<i>"); a Publisher publishes COUNT messages of 16 bytes to that key.
Prints "rate <listener calls per second>" and checks the count.

    seed_aiopubsub.py SUBS MATCHING COUNT"""
import asyncio
import sys
import time

import aiopubsub


def counter(calls):
    #  one function object per listener: the hub keeps one entry per
    #  (key, callback) and ignores a repeated subscription
    def count(key, message):
        calls[0] += 1

    return count


async def run(subs, matching, count):
    hub = aiopubsub.Hub()
    calls = [0]
    subscribers = []
    for i in range(subs):
        match = (i * matching) // subs != ((i + 1) * matching) // subs
        key = aiopubsub.Key("bench", "topic", "k" if match else f"n{i}")
        subscriber = aiopubsub.Subscriber(hub, f"s{i}")
        subscriber.add_sync_listener(key, counter(calls))
        subscribers.append(subscriber)
    publisher = aiopubsub.Publisher(hub, prefix=aiopubsub.Key("bench"))
    key = aiopubsub.Key("topic", "k")
    payload = b"0123456789abcdef"
    start = time.perf_counter()
    for _ in range(count):
        publisher.publish(key, payload)
    elapsed = time.perf_counter() - start
    if calls[0] != count * matching:
        raise SystemExit(f"seed_aiopubsub: {calls[0]} calls, expected {count * matching}")
    for subscriber in subscribers:
        await subscriber.remove_all_listeners()
    return calls[0] / elapsed


def main():
    if len(sys.argv) != 4:
        print("usage: seed_aiopubsub.py SUBS MATCHING COUNT", file=sys.stderr)
        return 2
    subs, matching, count = (int(a) for a in sys.argv[1:])
    rate = asyncio.run(run(subs, matching, count))
    print(f"rate {rate:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

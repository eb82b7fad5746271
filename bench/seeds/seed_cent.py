"""cent, the Python client of Centrifugo's server HTTP API (the seed of the
zflow Centrifugo sink): publishes COUNT messages {"n": i, "text": "hello
world"} to channel "bench" of the server at API_URL, BATCH commands per
request: 1 is one publish request per message (Client.publish), more is
Client.batch with that many publish commands. One requests.Session (kept
alive), as cent makes it. Prints "rate <messages per second>".

    seed_cent.py API_URL API_KEY COUNT BATCH"""
import sys
import time

from cent import BatchRequest, Client, PublishRequest


def run(url, key, count, batch):
    client = Client(url, api_key=key, timeout=10)
    #  one publish first: the connection is open before the clock starts
    client.publish(PublishRequest(channel="bench", data={"n": -1, "text": "hello world"}))
    start = time.perf_counter()
    sent = 0
    while sent < count:
        if batch == 1:
            client.publish(PublishRequest(channel="bench",
                                          data={"n": sent, "text": "hello world"}))
            sent += 1
        else:
            n = min(batch, count - sent)
            result = client.batch(BatchRequest(requests=[
                PublishRequest(channel="bench", data={"n": sent + i, "text": "hello world"})
                for i in range(n)]))
            if len(result.replies) != n:
                raise SystemExit(f"seed_cent: {len(result.replies)} replies to {n} commands")
            sent += n
    elapsed = time.perf_counter() - start
    client.close()
    return count / elapsed


def main():
    if len(sys.argv) != 5:
        print("usage: seed_cent.py API_URL API_KEY COUNT BATCH", file=sys.stderr)
        return 2
    rate = run(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    print(f"rate {rate:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

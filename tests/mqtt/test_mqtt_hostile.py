#!/usr/bin/env python3
"""Bad input for the MQTT adapter through the zflow command, against a real
mosquitto: a wrong password (exit 1 at once with the broker's words, for
pub and sub), the broker stopped mid-stream (sub reconnects and subscribes
again; with QoS 1 and a persistent session the message published while it
was away still arrives), an oversize payload (dropped, counted, said;
exit 1), a broker that closes the connection on an oversize packet (the
sink gives up instead of resending it for ever), no broker at all, and bad URLs and options (exit 2).

    test_mqtt_hostile.py ZFLOW MOSQUITTO"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqttbroker  # noqa: E402

ZFLOW, MOSQUITTO = sys.argv[1], sys.argv[2]
check = mqttbroker.Checks()
broker = mqttbroker.Broker(MOSQUITTO, users={"alice": "secret"},
                           extra="persistence true\nautosave_interval 0").start()
HOST = f"127.0.0.1:{broker.port}"


def run(args, data="", timeout=30):
    p = subprocess.run([ZFLOW] + args, input=data, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stderr.strip()


try:
    start = time.time()
    rc, err = run(["pub", f"mqtt://alice:wrong@{HOST}/t"], '"x"\n')
    check(rc == 1 and "not authorised" in err and time.time() - start < 5,
          f"pub with a wrong password: exit 1 at once, the broker's words ({rc}, {err!r})")
    rc, err = run(["sub", f"mqtt://alice:wrong@{HOST}/t"])
    check(rc == 1 and "not authorised" in err,
          f"sub with a wrong password: exit 1, the broker's words ({rc}, {err!r})")
    rc, err = run(["sub", f"mqtt://nobody@{HOST}/t"])
    check(rc == 1 and "refused" in err, f"sub without a password: refused ({rc}, {err!r})")

    # oversize: dropped, counted, said
    rc, err = run(["pub", f"mqtt://alice:secret@{HOST}/t", "--max-payload", "10", "--qos", "1"],
                  '"short"\n"' + "x" * 100 + '"\n')
    check(rc == 1 and "1 of 2" in err and "max_payload" in err,
          f"pub of a payload over --max-payload: exit 1, 1 of 2 taken, says why ({err!r})")

    # a broker that closes the connection on a packet over its max_packet_size:
    # the sink would resend the message for ever; it gives up, says so, exits 1
    small = mqttbroker.Broker(MOSQUITTO, extra="max_packet_size 100").start()
    try:
        start = time.time()
        rc, err = run(["pub", f"mqtt://127.0.0.1:{small.port}/t", "--qos", "1"],
                      '"' + "y" * 200 + '"\n')
        check(rc == 1 and "max_packet_size" in err and "given up" in err and
              time.time() - start < 15,
              f"pub QoS 1 of a packet the broker closes on: exit 1, given up, said ({err!r})")
    finally:
        small.close()

    # the broker stopped mid-stream: a persistent QoS 1 session loses nothing
    before = broker.subscriptions("live/#")
    s = subprocess.Popen([ZFLOW, "sub", f"mqtt://alice:secret@{HOST}/live/#", "--count", "3",
                          "--qos", "1", "--clean-session", "false", "--client-id",
                          "zflow-hostile-sub", "--timeout", "5000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(broker.wait_subscribed("live/#", before), "zflow sub subscribed to live/#")
    rc, err = run(["pub", f"mqtt://alice:secret@{HOST}/live/a", "--qos", "1"], '"before"\n')
    check(rc == 0, f"pub before the restart ({err!r})")
    broker.stop()
    time.sleep(0.3)
    broker.start()
    # published before the subscriber is back: the broker keeps it in its session
    rc, err = run(["pub", f"mqtt://alice:secret@{HOST}/live/b", "--qos", "1"], '"while away"\n')
    check(rc == 0, f"pub while the sub reconnects ({err!r})")
    check(broker.wait_subscribed("live/#", before + 1), "zflow sub reconnected and subscribed again")
    rc, err = run(["pub", f"mqtt://alice:secret@{HOST}/live/c", "--qos", "1"], '"after"\n')
    try:
        out, err = s.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        s.kill()
        out, err = s.communicate()
    check(s.returncode == 0 and out.splitlines() == ['"before"', '"while away"', '"after"'],
          f"sub across the broker restart got all three (exit {s.returncode}, {out!r}, "
          f"{err[-300:]!r})")

    # no broker at all
    port = mqttbroker.free_port()
    rc, err = run(["pub", f"mqtt://127.0.0.1:{port}/t", "--timeout", "1000"], '"x"\n')
    check(rc == 1, f"pub with no broker: exit 1 ({err!r})")

    # bad URLs and options: usage errors
    for args, what in [(["pub", "mqtt://"], "no host"),
                       (["sub", f"mqtt://{HOST}"], "sub without a topic filter"),
                       (["sub", f"mqtt://{HOST}/a/#/b"], "a bad filter"),
                       (["pub", f"mqtt://{HOST}/a/+"], "a wildcard topic for pub"),
                       (["pub", f"mqtt://{HOST}/t", "--qos", "3"], "qos 3"),
                       (["pub", f"mqtt://{HOST}/t", "--max-inflight", "x"], "a non-number"),
                       (["sub", f"mqtt://{HOST}:99999/t"], "a port out of range")]:
        rc, err = run(args, '"x"\n', timeout=15)
        check(rc == 2 and err, f"{what}: a usage error with a message (exit {rc}, {err[:160]!r})")
finally:
    broker.close()
check.done()

#!/usr/bin/env python3
"""MQTT through the zflow command against a real mosquitto: zflow pub and
zflow sub with user name and password (topic a/b/c is key mqtt/a/b/c, and
--key selects by it), QoS 1, mqtts:// with a CA file, and a pipeline file
with type = mqtt_pub fed by a synthetic source.

    test_mqtt_cli.py ZFLOW MOSQUITTO"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mqttbroker  # noqa: E402

ZFLOW, MOSQUITTO = sys.argv[1], sys.argv[2]
check = mqttbroker.Checks()
broker = mqttbroker.Broker(MOSQUITTO, users={"alice": "secret"}, tls=True).start()
URL = f"mqtt://alice:secret@127.0.0.1:{broker.port}"


def sub(path, *options, url=URL):
    """Starts zflow sub on url + path; returns once the broker logged its
    SUBSCRIBE (to the first filter of path)."""
    first = path[1:].split(",")[0]
    before = broker.subscriptions(first)
    p = subprocess.Popen([ZFLOW, "sub", url + path, "-q", "--timeout", "5000"] + list(options),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check(broker.wait_subscribed(first, before), f"zflow sub subscribed to {first}")
    return p


def pub(url, lines, *options):
    p = subprocess.run([ZFLOW, "pub", url] + list(options), input=lines, capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stderr.strip()


try:
    s = sub("/a/+/c", "--key", "mqtt/a/b/c", "--count", "3", "--qos", "1")
    rc, err = pub(URL + "/a/x/c", '"not this key"\n')
    check(rc == 0, f"zflow pub to a/x/c: exit 0 ({err!r})")
    rc, err = pub(URL + "/a/b/c", '"one"\n"two"\n"three"\n', "--qos", "1")
    check(rc == 0, f"zflow pub of three lines to a/b/c with QoS 1: exit 0 ({err!r})")
    out, err = s.communicate(timeout=20)
    check(s.returncode == 0 and out.split() == ['"one"', '"two"', '"three"'],
          f"zflow sub a/+/c --key mqtt/a/b/c got the three, in order, and not a/x/c "
          f"(exit {s.returncode}, {out!r}, {err!r})")

    # key -> topic: without a topic in the URL, the key after "mqtt" is the topic
    s = sub("/from/key/#", "--count", "1")
    rc, err = pub(URL, '"by key"\n', "--key", "mqtt/from/key/x")
    out, err2 = s.communicate(timeout=20)
    check(rc == 0 and out.strip() == '"by key"',
          f"zflow pub --key mqtt/from/key/x publishes to from/key/x ({rc}, {err!r}, {out!r})")

    # TLS: mqtts:// with the broker's certificate as the CA
    tls_url = f"mqtts://alice:secret@127.0.0.1:{broker.tls_port}"
    tls = tls_url + "/secure/t"
    s = sub("/secure/t", "--ca", broker.cert, "--count", "2", url=tls_url)
    rc, err = pub(tls, "\"s1\"\n\"s2\"\n", "--ca", broker.cert, "--qos", "2")
    out, err2 = s.communicate(timeout=20)
    check(rc == 0 and out.split() == ['"s1"', '"s2"'],
          f"mqtts:// with --ca: pub QoS 2 and sub over TLS ({rc}, {err!r}, {out!r}, {err2!r})")

    # a pipeline file: synthetic events -> type = mqtt_pub
    conf = os.path.join(broker.dir, "bridge.zpl")
    with open(conf, "w") as f:
        f.write(f"""zflow
    mode = lossless
events
    type = synthetic
    rate = 0
    count = 200
out
    type = mqtt_pub
    input = events
    port = {broker.port}
    username = alice
    password = secret
    topic = synth/events
    qos = 1
""")
    s = sub("/synth/#", "--count", "200")
    run = subprocess.Popen([ZFLOW, "run", conf], stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    out, err = s.communicate(timeout=30)
    run.terminate()
    run.wait(timeout=10)
    lines = out.splitlines()
    check(s.returncode == 0 and len(lines) == 200 and '"eventid"' in lines[0],
          f"zflow run with type = mqtt_pub: the 200 synthetic events arrive "
          f"({len(lines)}, exit {s.returncode}, {err[-300:]!r})")
finally:
    broker.close()
check.done()

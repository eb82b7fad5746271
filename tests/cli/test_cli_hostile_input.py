#!/usr/bin/env python3
"""Hostile configuration files and URLs (issue 14, item 10): each gets a
clear error with its line number (exit 3) or a usage error (exit 2), at
once, and never hangs; a 2,000-stage chain written backwards checks in
linear time; IPv6 literals in brackets reach ::1 for every URL-taking
adapter. Loopback only; every run is bounded by a timeout."""
import os
import socket
import subprocess
import sys
import tempfile
import time

ZFLOW = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="zflow-test-hostile-input-")
failures = 0


def run(args, timeout=10, stdin=subprocess.DEVNULL):
    start = time.monotonic()
    try:
        p = subprocess.run([ZFLOW] + args, capture_output=True, text=True, timeout=timeout,
                           stdin=stdin)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - start
    except subprocess.TimeoutExpired:
        return None, "", "(hung: killed after %d s)" % timeout, timeout


def report(name, ok, detail):
    global failures
    if ok:
        print(f"ok   {name}")
    else:
        failures += 1
        print(f"FAIL {name}: {detail}")


def check_file(name, data, want_rc, *wants):
    path = os.path.join(TMP, name + ".zpl")
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    rc, out, err, _ = run(["check", path, "--quiet"])
    wants = [w.replace("FILE", path) for w in wants]
    missing = [w for w in wants if w not in err]
    report(name, rc == want_rc and not missing,
           f"rc={rc} (want {want_rc}), missing {missing!r}\n  stderr: {err!r}")


TAIL = "out\n    type = file\n    input = in\n"

# --- configuration files: every error has FILE:LINE, exit 3 ---
check_file("nul_byte", b"in\n    type = synthetic\n\x00" + b"junk\n    type = bogus\n" + TAIL.encode(),
           3, "FILE:3: not valid ZPL: a NUL byte")
check_file("nul_mid_line", b"in\n    type = synth\x00etic\n" + TAIL.encode(), 3,
           "FILE:2: not valid ZPL: a NUL byte")
check_file("bom", b"\xef\xbb\xbfin\n    type = synthetic\n" + TAIL.encode(), 3,
           "FILE:1: not valid ZPL: a UTF-8 byte order mark")
check_file("section_with_space", "in\n    type = synthetic\nmy out\n    type = file\n"
           "    input = in\n", 3, "FILE:3: not valid ZPL: a name with a space")
check_file("option_with_space", "in\n    type = synthetic\n    my rate = 5\n" + TAIL, 3,
           "FILE:3: not valid ZPL: a name with a space")
check_file("bad_name_char", "in\n    type = synthetic\nou!t\n    type = file\n    input = in\n",
           3, "FILE:3: not valid ZPL: a name with a space or a character zconfig does not take")
check_file("name_slash", "in\n    type = synthetic\n/out\n    type = file\n    input = in\n", 3,
           "FILE:3: not valid ZPL: a name cannot start or end with '/'")
check_file("junk_after_quote", "in\n    type = synthetic\n" + TAIL + '    path = "a" b\n', 3,
           "FILE:6: not valid ZPL: text after the closing quote of a value")
check_file("long_line", "in\n    type = synthetic\n    # " + "x" * 1100 + "\n" + TAIL, 3,
           "FILE:3: not valid ZPL: a line longer than 1024 bytes")
check_file("centrifugo_ftp", "in\n    type = synthetic\nout\n    type = centrifugo\n"
           "    input = in\n    address = ftp://x\n", 3,
           "FILE:3: section 'out': stage 'out': 'ftp://x' is not http:// or https://")
check_file("centrifugo_api_port", "in\n    type = synthetic\nout\n    type = centrifugo_pub\n"
           "    input = in\n    address = http://127.0.0.1:99999/api\n", 3,
           "FILE:3: section 'out': stage 'out': 'http://127.0.0.1:99999/api': port 99999 is out of "
           "range (1-65535)")
check_file("centrifugo_source_url", "in\n    type = centrifugo_sub\n"
           "    url = ws://127.0.0.1:70000/connection/websocket\n    channel = c\n" + TAIL, 3,
           "FILE:1: section 'in': 'ws://127.0.0.1:70000/connection/websocket': port 70000 is out of "
           "range (1-65535)")
check_file("ws_url_space", "in\n    type = ws_sub\n    url = ws://a b/\n" + TAIL, 3,
           "FILE:1: section 'in': stage 'in': 'ws://a b/': a space at character 7")
check_file("zmq_connect_port", "in\n    type = sub\n"
           "    connect = tcp://127.0.0.1:5555, tcp://127.0.0.1:99999\n" + TAIL, 3,
           "FILE:1: section 'in': 'tcp://127.0.0.1:99999': port 99999 is out of range (1-65535)")
check_file("zmq_connect_ok", "in\n    type = sub\n"
           "    connect = tcp://127.0.0.1:5555,tcp://[::1]:5556, tcp://127.0.0.1;localhost:5557, "
           "ipc:///tmp/x\n" + TAIL, 0)
check_file("ws_ipv6_ok", "in\n    type = ws_sub\n    url = ws://[::1]:8080/x\n" + TAIL, 0)

# --- a chain of 2,000 stages written in reverse: linear time ---
N = 2000
parts = [f"out\n    type = file\n    input = s{N - 1}\n"]
for i in reversed(range(1, N)):
    parts.append(f"s{i}\n    type = nonempty\n    input = s{i - 1}\n    field = x\n")
parts.append("s0\n    type = synthetic\n")
path = os.path.join(TMP, "reversed.zpl")
with open(path, "w") as f:
    f.write("".join(parts))
rc, out, err, seconds = run(["check", path], timeout=60)
print(f"zflow check, {N} stages in reverse order: {seconds * 1000:.0f} ms (was about 29 s)")
report("reversed_chain", rc == 0 and f"ok, {N + 1} stages" in err and seconds < 5,
       f"rc={rc} {seconds:.1f} s {err[-200:]!r}")
# and a cycle in a big file is still found, on the right line
with open(path, "w") as f:
    f.write("".join(parts).replace("s0\n    type = synthetic\n",
                                   f"s0\n    type = nonempty\n    input = s{N - 1}\n    field = x\n"
                                   f"src\n    type = synthetic\nend\n    type = file\n"
                                   f"    input = src\n"))
rc, out, err, seconds = run(["check", path], timeout=60)
report("reversed_cycle", rc == 3 and "its inputs form a cycle" in err and seconds < 5,
       f"rc={rc} {seconds:.1f} s {err[-300:]!r}")

# --- URLs on the command line: usage errors, exit 2, at once ---
LONG_CHANNEL = "c" * 1100
for args, want in [
        (["sub", f"hpfeeds://a:b@127.0.0.1:1/{LONG_CHANNEL}"], "longer than 1024 bytes (1126)"),
        (["pub", f"hpfeeds://a:b@127.0.0.1:1/{LONG_CHANNEL}"], "longer than 1024 bytes (1126)"),
        (["sub", "tcp://127.0.0.1:99999"],
         "'tcp://127.0.0.1:99999': port 99999 is out of range (1-65535)"),
        (["pub", "tcp://127.0.0.1:0"], "port 0 is out of range (1-65535)"),
        (["sub", "hpfeeds://a:b@127.0.0.1:99999/ch"], "port 99999 is out of range"),
        (["sub", "hpfeeds://a:b@[::1]:99999/ch"], "port 99999 is out of range"),
        (["sub", "ws://127.0.0.1:99999/x"], "port 99999 is out of range"),
        (["pub", "wss://127.0.0.1:65536/x"], "port 65536 is out of range"),
        (["sub", "centrifugo+ws://127.0.0.1:99999/connection/websocket", "--channel", "c"],
         "port 99999 is out of range"),
        (["pub", "http://127.0.0.1:99999/api"], "port 99999 is out of range"),
        (["sub", "ws://a b/"], "'ws://a b/': a space at character 7"),
        (["sub", "ws://::1:80/"], "an IPv6 address must be in brackets"),
        (["sub", "hpfeeds://a:b@[::1/ch"], "bad IPv6 address in brackets"),
        (["sub", "ws://a(b/"], "bad character '(' in the host"),
        (["sub", "tcp://127.0.0.1"], "is not tcp://HOST:PORT (no :PORT)"),
]:
    rc, out, err, seconds = run(args + ["--timeout", "3000"], timeout=10)
    report(" ".join(a[:60] for a in args), rc == 2 and want in err and seconds < 2.5,
           f"rc={rc} in {seconds:.1f} s, want 2 and {want!r}\n  stderr: {err[-300:]!r}")

# --metrics takes HOST:PORT with a port 0-65535 (it used to listen on
# 99999 mod 65536): a usage error before anything starts
for address in ["127.0.0.1:99999", "127.0.0.1:", "127.0.0.1:123456789012345678901234"]:
    rc, out, err, seconds = run(["run", "--metrics", address, "--duration", "1"], timeout=10)
    report(f"run --metrics {address[:30]}", rc == 2 and "not HOST:PORT" in err and seconds < 2.5,
           f"rc={rc} in {seconds:.1f} s\n  stderr: {err[-300:]!r}")

# --- IPv6 literals in brackets reach ::1, for every URL-taking adapter ---
def ipv6_listener():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.listen(4)
        s.settimeout(5)
        return s
    except OSError:
        return None


if ipv6_listener() is None:
    print("skip ipv6: no ::1 on this machine")
else:
    for command, url, extra in [
            ("sub", "tcp://[::1]:{port}", []),
            ("sub", "hpfeeds://a:b@[::1]:{port}/ch", []),
            ("pub", "hpfeeds://a:b@[::1]:{port}/ch", []),
            ("sub", "ws://[::1]:{port}/x", []),
            ("sub", "centrifugo+ws://[::1]:{port}/connection/websocket", ["--channel", "c"]),
            ("pub", "http://[::1]:{port}/api", [])]:
        listener = ipv6_listener()
        target = url.format(port=listener.getsockname()[1])
        stdin = subprocess.PIPE if command == "pub" else subprocess.DEVNULL
        proc = subprocess.Popen([ZFLOW, command, target, "--timeout", "3000"] + extra,
                                stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        if command == "pub":
            proc.stdin.write("hello\n")
            proc.stdin.flush()
        try:
            conn, _ = listener.accept()
            conn.close()
            reached = True
        except socket.timeout:
            reached = False
        listener.close()
        proc.kill()
        _, err = proc.communicate(timeout=10)
        report(f"ipv6 {command} {target}", reached, f"no connection to ::1; stderr {err[-300:]!r}")

print(f"failures: {failures}")
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""zflow check / zflow run on configuration files: every error names the
file, the line and the option, exits 3 and starts nothing."""
import os
import subprocess
import sys
import tempfile

ZFLOW = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="zflow-test-config-")
failures = 0


def run(args, timeout=10):
    p = subprocess.run([ZFLOW] + args, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def write(name, text):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def expect(name, text, want_rc, *wants, command="check"):
    global failures
    path = write(name + ".zpl", text)
    rc, out, err = run([command, path, "--quiet"])
    wants = [w.replace("FILE", path) for w in wants]
    missing = [w for w in wants if w not in err]
    if rc != want_rc or missing:
        failures += 1
        print(f"FAIL {name}: rc={rc} (want {want_rc}), missing {missing!r}\n  stderr: {err!r}")
    else:
        print(f"ok   {name}")
    return out, err


GOOD = """# a good file
zflow
    mode = lossy
    hwm = 50

in
    type = pull
    bind = tcp://127.0.0.1:*
hashes
    type = nonempty
    input = in
    field = hashes
out
    type = file
    input = hashes
"""
expect("good", GOOD, 0)
rc, out, err = run(["check", write("good2.zpl", GOOD)])
assert rc == 0 and "ok, 3 stages" in err, err

# thread = own keeps a stage off the chain; any other value than own or shared is an error
expect("thread_own", GOOD.replace("    field = hashes\n", "    field = hashes\n    thread = own\n"), 0)
expect("thread_bad", GOOD.replace("    field = hashes\n", "    field = hashes\n    thread = mine\n"),
       3, "FILE:13: section 'hashes': option 'thread': 'mine' is not own or shared")

expect("unknown_option", """in
    type = pull
    bind = tcp://127.0.0.1:*

    colour = blue
out
    type = file
    input = in
""", 3, "FILE:5: section 'in': unknown option 'colour' for type 'pull'")

expect("wrong_type_int", """zflow
    # comment line
    hwm = lots
in
    type = synthetic
out
    type = file
    input = in
""", 3, "FILE:3: section 'zflow': option 'hwm': 'lots' is not an integer")

expect("wrong_type_negative", """in
    type = synthetic
    rate = -5
out
    type = file
    input = in
""", 3, "FILE:3: section 'in': option 'rate': '-5' must not be negative")

expect("wrong_type_choice", """in
    type = synthetic
enc
    type = encode
    input = in
    encoding = yaml
out
    type = file
    input = enc
""", 3, "FILE:6: section 'enc': option 'encoding': 'yaml' is not one of the choices json|msgpack")

expect("missing_required", """in
    type = synthetic

hashes
    type = nonempty
    input = in
out
    type = file
    input = hashes
""", 3, "FILE:4: section 'hashes': missing required option 'field'")

expect("unknown_adapter", """in
    type = synthetic
out
    input = in
    type = kafka
""", 3, "FILE:5: section 'out': unknown type 'kafka'")

expect("missing_type", """in
    type = synthetic
out
    input = in
""", 3, "FILE:3: section 'out': missing required option 'type'")

expect("link_to_nothing", """in
    type = synthetic
out
    type = file
    input = in, nowhere
""", 3, "FILE:5: section 'out': option 'input': 'nowhere' names no section")

expect("link_to_sink", """in
    type = synthetic
out
    type = file
    input = in
more
    type = file
    input = out
""", 3, "FILE:8: section 'more': option 'input': 'out' is a sink")

expect("source_with_input", """a
    type = synthetic
b
    type = synthetic
    input = a
out
    type = file
    input = a, b
""", 3, "FILE:5: section 'b': a source (type 'synthetic') takes no 'input'")

expect("missing_input", """a
    type = synthetic
out
    type = file
""", 3, "FILE:3: section 'out': missing required option 'input'")

expect("nothing_reads", """a
    type = synthetic
b
    type = synthetic
out
    type = file
    input = a
""", 3, "FILE:3: section 'b': nothing reads its output")

expect("duplicate", """a
    type = synthetic
out
    type = file
    input = a
a
    type = synthetic
""", 3, "FILE:6: section 'a' is declared twice")

expect("cycle", """a
    type = synthetic
m1
    type = merge
    input = a, m2
m2
    type = merge
    input = m1
out
    type = file
    input = m2
""", 3, "its inputs form a cycle")

expect("bind_and_connect", """a
    type = pull
out
    type = file
    input = a
""", 3, "FILE:1: section 'a': needs exactly one of 'bind' or 'connect'")

expect("missing_cert", """a
    type = pull
    bind = tcp://127.0.0.1:*
    server_cert = /nonexistent/server.cert
out
    type = file
    input = a
""", 3, "FILE:1: section 'a': 'server_cert': no such zcert file '/nonexistent/server.cert'")

expect("bad_match_json", """a
    type = synthetic
f
    type = filter
    input = a
    match = '[1, 2]'
out
    type = file
    input = f
""", 3, "FILE:3: section 'f': stage 'f': match is not a JSON list of objects")

expect("bad_indent", "a\n   type = synthetic\n", 3,
       "FILE:2: not valid ZPL: indentation is not a multiple of 4 spaces")
expect("bad_quote", "a\n    type = \"synthetic\n", 3,
       "FILE:2: not valid ZPL: a quoted value with no closing quote")
expect("empty", "# nothing here\n", 3, "FILE:1: no stage sections")
expect("several_errors", """a
    type = synthetic
    colour = red
b
    type = nope
""", 3, "FILE:3: section 'a': unknown option 'colour'", "FILE:5: section 'b': unknown type 'nope'")

# the same errors from zflow run: exit 3 and nothing started (no output,
# no control endpoint left behind)
out, err = expect("run_invalid", """a
    type = synthetic
    count = 5
out
    type = file
    input = a
    colour = red
""", 3, "FILE:7: section 'out': unknown option 'colour' for type 'file'", command="run")
if out or "control endpoint" in err:
    failures += 1
    print("FAIL run_invalid started something:", out, err)

rc, out, err = run(["check", os.path.join(TMP, "does-not-exist.zpl")])
if rc != 3 or "cannot read the file" not in err:
    failures += 1
    print("FAIL missing file", rc, err)
else:
    print("ok   missing_file")

# a valid file whose bind fails at start: runtime error, exit 1
path = write("runtime.zpl", """a
    type = pull
    bind = tcp://256.0.0.1:1
out
    type = file
    input = a
""")
rc, out, err = run(["run", path, "--quiet"])
if rc != 1 or "'a' failed to start" not in err:
    failures += 1
    print("FAIL runtime bind error", rc, err)
else:
    print("ok   runtime_error")

# usage errors exit 2; --help exits 0 on every command
for args, want in [(["run", "--count"], 2), (["run", "--duration", "x"], 2), (["bogus"], 2),
                   (["check"], 2), (["help", "nosuchtype"], 2), (["stats", "--nope"], 2)]:
    rc, out, err = run(args)
    if rc != want:
        failures += 1
        print("FAIL usage", args, rc, err)
for command in ["run", "check", "help", "stats", "pub", "sub", "broker", "keygen"]:
    rc, out, err = run([command, "--help"])
    if rc != 0 or "usage: zflow " + command not in out:
        failures += 1
        print("FAIL --help", command, rc, out)
rc, out, err = run(["help", "pull"])
assert rc == 0 and "server_key" in out and "REQUIRED" in out

# adapters: one descriptor each, listed and printed from the registry
rc, out, err = run(["help"])
assert rc == 0 and all(name in out for name in ["hpfeeds", "ws_sub", "centrifugo_pub", "pull"]), out
rc, out, err = run(["help", "hpfeeds"])
assert rc == 0 and "hpfeeds://IDENT:SECRET@HOST:PORT/CHANNEL" in out and "channels" in out, out
rc, out, err = run(["help", "wss", "--markdown"])
assert rc == 0 and out.startswith("`ws` (source, sink)") and "| `subprotocol` | string |" in out, out
rc, out, err = run(["help", "--markdown"])
assert rc == 0 and "| `centrifugo` |" in out, out

# a section of an adapter with two roles is a sink when it has input
expect("role_from_input", """src
    type = synthetic
    count = 1
out
    type = hpfeeds
    input = src
    port = 10000
    ident = a
    secret = b
    channel = c
""", 0)
expect("role_option", """src
    type = hpfeeds_sub
    port = 10000
    ident = a
    secret = b
    channel = c
out
    type = file
    input = src
""", 3, "FILE:6: section 'src': unknown option 'channel' for type 'hpfeeds_sub' (see: zflow help hpfeeds)")

# zflow pub / sub: the adapter's options on the command line, checked the same way (exit 2)
for args, want in [
        (["sub", "hpfeeds://a:b@127.0.0.1:x/c"],
         "zflow sub: 'hpfeeds://a:b@127.0.0.1:x/c': port 'x' is not a number"),
        (["sub", "tcp://127.0.0.1:1", "--nope", "1"],
         "zflow sub: unknown option '--nope' for sub (see: zflow help sub)"),
        (["pub", "http://127.0.0.1:1/api", "--format", "old"],
         "zflow pub: option 'format': 'old' is not one of the choices modern|legacy"),
        (["pub", "http://127.0.0.1:1/api", "--batch-max", "0"], "zflow pub: http://127.0.0.1:1/api: batch_max must be 1-10000"),
        (["sub", "centrifugo+ws://127.0.0.1:1/c"],
         "zflow sub: missing required option 'channel'"),
        (["pub", "nosuch://x"], "zflow pub: no adapter serves 'nosuch://x'"),
        (["pub", "--type", "synthetic", "x"], "zflow pub: synthetic has no sink"),
        (["sub", "ws://127.0.0.1:1/x", "--timeout", "soon"], "zflow sub: bad argument 'soon'")]:
    rc, out, err = run(args)
    if rc != 2 or want not in err:
        failures += 1
        print("FAIL", args, rc, err)
    else:
        print("ok  ", " ".join(args))

# the example files in examples/ are valid
examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples")
for name in sorted(os.listdir(examples)):
    if name.endswith(".zpl"):
        rc, out, err = run(["check", os.path.join(examples, name)])
        if rc != 0:
            failures += 1
            print("FAIL example", name, err)
        else:
            print("ok   example", name)

for name in os.listdir(TMP):
    os.unlink(os.path.join(TMP, name))
os.rmdir(TMP)
print("failures:", failures)
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""zflow's hpfeeds client through its C API (include/zflow_hpfeeds.h)
against the reference broker (hpfeeds-broker, PyPI hpfeeds 3.1.0):
tests/real/real_hpfeeds_api.c does the checks (binary payloads of 0 B,
1 B, 64 KiB and up to the 1 MiB frame limit byte for byte, the limit
passed, a wrong secret, ACL refusals of publish and subscribe); this
script starts the broker and restarts it on the same port when the program
asks (RESTART on its stdout), mid-stream.

    test_real_hpfeeds_api.py REAL_HPFEEDS_API"""
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realpeers  # noqa: E402

realpeers.use_peers_python()
realpeers.need_hpfeeds()
from hpfeeds_peers import RefBroker  # noqa: E402

PROGRAM = sys.argv[1]
check = realpeers.Checks()
broker = RefBroker().start()
print(f"reference broker on 127.0.0.1:{broker.port}", flush=True)
proc = subprocess.Popen([PROGRAM, str(broker.port)], stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
err = []
threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True).start()
timer = threading.Timer(60, proc.kill)
timer.start()
restarted = False
for line in proc.stdout:
    print(line.rstrip(), flush=True)
    if line.strip() == "RESTART":
        broker.restart()
        restarted = broker.port is not None
        proc.stdin.write("restarted\n")
        proc.stdin.flush()
rc = proc.wait()
timer.cancel()
check(restarted, "the reference broker was restarted mid-stream on the same port")
check(rc == 0, f"the C API against the reference broker: all checks (exit {rc}, "
      f"{''.join(err)[-400:]!r})")
broker.close()
check.finish()

"""wstest with fewer messages in the compression cases (Python 2.7).

    python2 wstest_limited.py COUNT wstest-arguments...

Autobahn|Testsuite's cases 12.* and 13.* each echo 1000 messages of up to
128 KiB one after the other, which takes a quarter of an hour on two
loaded cores (most of it in the suite's own Python). This runs wstest with
every such case sending at most COUNT messages; the sizes, fragmentations,
deflate offers and checks stay those of the suite. Run by
tests/ws/test_autobahn.py with the Python of the autobahntestsuite venv.
"""
import sys

from autobahntestsuite.case import case12_x_x
from autobahntestsuite.wstest import run

if __name__ == "__main__":
    count = int(sys.argv[1])
    for case in case12_x_x.Case12_X_X + case12_x_x.Case13_X_X:
        case.COUNT = min(case.COUNT, count)
    sys.argv = ["wstest"] + sys.argv[2:]
    sys.exit(run())

#!/usr/bin/env python3
"""The man page zflow.1: the build produced it from the program's help, it
renders without warnings (groff and man when present; a syntax check of our
own always), it names every command and stage type, docs/cli.md holds the
same reference, and md2man.py refuses input it cannot convert.

usage: test_man.py ZFLOW MAN_PAGE SOURCE_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ZFLOW, PAGE, SOURCE = sys.argv[1], sys.argv[2], sys.argv[3]
SCRIPTS = os.path.join(SOURCE, "scripts")
TMP = tempfile.mkdtemp(prefix="zflow-test-man-")
ENV = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
failures = 0


def check(name, ok, detail=""):
    global failures
    if ok:
        print(f"ok   {name}")
    else:
        failures += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def run(args, stdin=None):
    p = subprocess.run(args, input=stdin, capture_output=True, text=True, timeout=30, env=ENV)
    return p.returncode, p.stdout, p.stderr


def script(name, *args, stdin=None):
    return run([sys.executable, os.path.join(SCRIPTS, name), *args], stdin=stdin)


#  Escapes and requests md2man writes; anything else in a page is a mistake.
ESCAPES = re.compile(r"\\(e|-|&|f[BIR]|\(bu|\[u[0-9A-F]{4}\])")
REQUESTS = {"TH", "SH", "SS", "PP", "TP", "IP", "RS", "RE", "nf", "fi", "br"}


def sanity(page):
    """Problems found in roff text by a check of its own (empty: none)."""
    problems = []
    lines = page.split("\n")
    if not lines[0].startswith('.TH "'):
        problems.append("line 1 is not .TH")
    depth = {"nf": 0, "RS": 0}
    for number, line in enumerate(lines, start=1):
        if line.startswith("'"):
            problems.append(f"line {number}: starts with a quote (a control line)")
        if line.startswith("."):
            request = line[1:].split(" ")[0]
            if request not in REQUESTS:
                problems.append(f"line {number}: unknown request .{request}")
            for opener, closer in (("nf", "fi"), ("RS", "RE")):
                depth[opener] += (request == opener) - (request == closer)
                if depth[opener] not in (0, 1):
                    problems.append(f"line {number}: .{opener}/.{closer} unbalanced")
        rest = ESCAPES.sub("", line)
        if "\\" in rest:
            problems.append(f"line {number}: unknown escape in {line!r}")
        if line.endswith("\\"):
            problems.append(f"line {number}: ends with a backslash")
    if depth["nf"] or depth["RS"]:
        problems.append("a .nf or .RS block is never closed")
    return problems


#  1. The build made the page, and it is what the current program gives.
check("man page exists", os.path.isfile(PAGE) and os.path.getsize(PAGE) > 1000, PAGE)
with open(PAGE, encoding="utf-8") as f:
    page = f.read()
check("man page title", page.startswith('.TH "ZFLOW" "1"'), page[:60])
for section in ("NAME", "SYNOPSIS", "COMMANDS", "CONFIGURATION FILE"):
    check(f"section {section}", f'.SH "{section}"' in page)
check("NAME line for whatis", "zflow \\- " in page)
fresh_md = os.path.join(TMP, "zflow.1.md")
rc, _, err = script("cli-reference.py", ZFLOW, "--output", fresh_md)
check("cli-reference.py runs", rc == 0, err)
rc, fresh, err = script("md2man.py", "--source", page.split('"')[7], fresh_md, "-")
check("the built page is the current program's", rc == 0 and fresh == page, err)

#  2. It renders without warnings.
problems = sanity(page)
check("syntax check of the page", not problems, "; ".join(problems[:5]))
check("the syntax check finds a bad page",
      len(sanity(page + ".XY bad\n\\q\n.nf\n")) == 3, sanity(page + ".XY bad\n\\q\n.nf\n"))
rendered = None
if shutil.which("groff"):
    rc, rendered, err = run(["groff", "-man", "-Tutf8", "-ww", PAGE])
    check("groff -man -ww renders it without warnings", rc == 0 and not err.strip(), err)
else:
    print("skip groff (not installed)")
if shutil.which("man"):
    rc, out, err = run(["man", "--warnings", "-l", PAGE])
    check("man -l renders it without warnings", rc == 0 and not err.strip() and out, err)
    rendered = rendered or out
else:
    print("skip man (not installed)")

#  3. It names every command and every stage type the program knows.
_, usage, _ = run([ZFLOW, "--help"])
_, types, _ = run([ZFLOW, "help"])
names = re.findall(r"^  ([a-z][a-z0-9-]*) {2,}\S", usage, re.MULTILINE)
stage_types = re.findall(r"^  ([a-z_]+) +(?:source|stage|sink) ", types, re.MULTILINE)
check("commands and types listed", len(names) >= 8 and len(stage_types) >= 10,
      f"{names} {stage_types}")
text = rendered if rendered is not None else page
plain = re.sub(r".\x08", "", text)  # no overstriking
for name in names:
    check(f"command {name} has its section", f"zflow {name}\n" in plain or f"zflow {name} " in plain)
with open(fresh_md, encoding="utf-8") as f:
    reference = f.read()
for name in names:
    _, text, _ = run([ZFLOW, name, "--help"])
    for form in re.findall(r"\(zflow %s (\S+) -h\)" % name, text):
        check(f"zflow {name} {form} has its section", f"### zflow {name} {form}\n" in reference)
missing = [t for t in stage_types if t not in plain]
check("every stage type is described", not missing, missing)

#  4. docs/cli.md holds the same reference as the program.
rc, _, err = script("cli-reference.py", ZFLOW, "--check", os.path.join(SOURCE, "docs", "cli.md"))
check("docs/cli.md matches the program", rc == 0, err)
stale = os.path.join(TMP, "stale.md")
with open(os.path.join(SOURCE, "docs", "cli.md"), encoding="utf-8") as f:
    doc = f.read()
with open(stale, "w", encoding="utf-8") as f:
    f.write(doc.replace("## SYNOPSIS", "## SYNOPSIS\n\nan edit by hand", 1))
rc, _, err = script("cli-reference.py", ZFLOW, "--check", stale)
check("a hand edit is caught", rc == 1 and "an edit by hand" in err, err)
with open(stale, "w", encoding="utf-8") as f:
    f.write("no markers here\n")
rc, _, err = script("cli-reference.py", ZFLOW, "--check", stale)
check("a file without markers is refused", rc != 0 and "marker" in err, err)

#  5. md2man refuses what it cannot convert, naming the line.
cases = [
    ("unclosed fence", "## A\n\n```\ncode\n", "line 3"),
    ("table row with a missing cell", "## A\n\n| a | b |\n|---|---|\n| x |\n", "line 5"),
    ("table without its rule", "## A\n\n| a | b |\n| x | y |\n", "line 4"),
    ("heading level 4", "## A\n\n#### deep\n", "line 3"),
]
for name, text, where in cases:
    rc, out, err = script("md2man.py", "-", "-", stdin=text)
    check(f"md2man refuses: {name}", rc == 1 and where in err and not out, f"rc={rc} {err!r}")
rc, _, err = script("md2man.py")
check("md2man usage error", rc == 2 and "usage" in err, err)
rc, out, err = script("md2man.py", "-", "-", stdin="## Options\n\n- `--x` and .dot \\ back\n")
check("md2man escapes", rc == 0 and "\\fB\\-\\-x\\fR" in out and "\\e back" in out, out)
check("md2man output passes the syntax check", not sanity(out), sanity(out))

shutil.rmtree(TMP, ignore_errors=True)
print(f"{'all passed' if not failures else f'{failures} failed'}")
sys.exit(1 if failures else 0)

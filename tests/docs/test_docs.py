#!/usr/bin/env python3
"""README.md and docs/ say what the code does: the README's C example is
examples/hello_pipeline.c and prints what the README says, its
configuration example passes `zflow check`, the README keeps its two
commands, and every relative link (and #anchor) in README.md, CHANGELOG.md
and docs/*.md points to something that exists.

usage: test_docs.py SOURCE_DIR ZFLOW [HELLO_PIPELINE]
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

SOURCE, ZFLOW = sys.argv[1], sys.argv[2]
HELLO = sys.argv[3] if len(sys.argv) > 3 else None
failures = 0


def check(name, ok, detail=""):
    global failures
    if ok:
        print(f"ok   {name}")
    else:
        failures += 1
        print(f"FAIL {name}" + (f": {detail}" if detail else ""))


def read(path):
    with open(os.path.join(SOURCE, path), encoding="utf-8") as f:
        return f.read()


def blocks(text, lang):
    """The fenced code blocks of a language in Markdown text."""
    return re.findall(r"^```%s\n(.*?)^```" % lang, text, re.MULTILINE | re.DOTALL)


readme = read("README.md")

#  1. The two commands CI and users run, exactly.
check("README: the build-and-run command",
      "    bash scripts/install-deps.sh && cmake -S . -B build && cmake --build build -j && "
      "./build/zflow run --duration 10\n" in readme)
check("README: the test command", "    bash scripts/install-deps.sh && bash scripts/test.sh\n" in readme)
check("README: under 300 lines", readme.count("\n") < 300, readme.count("\n"))

#  2. The C example is the program in examples/, which compiles and runs.
c_blocks = blocks(readme, "c")
example = read("examples/hello_pipeline.c")
body = example[example.index("#include <zflow.h>"):]
check("README: one C example", len(c_blocks) == 1, len(c_blocks))
check("README: the C example is examples/hello_pipeline.c", c_blocks and c_blocks[0] == body,
      "copy the program's text from #include on into the README")
if HELLO:
    p = subprocess.run([HELLO], capture_output=True, text=True, timeout=30)
    lines = p.stdout.splitlines()
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    check("hello_pipeline: exit 0", p.returncode == 0, p.stderr)
    check("hello_pipeline: 10 JSON lines out of 30 events", len(lines) == 10 == len(events),
          lines[:3])
    check("hello_pipeline: each kept event has hashes",
          events and all(e.get("hashes") for e in events))
    check("hello_pipeline: in order", [e.get("seq") for e in events] == list(range(0, 30, 3)),
          [e.get("seq") for e in events])
else:
    print("skip hello_pipeline (examples not built)")

#  3. The configuration example is a valid file; a broken copy is refused.
zpl = blocks(readme, "zpl")
check("README: one configuration example", len(zpl) == 1, len(zpl))
with tempfile.TemporaryDirectory() as tmp:
    for name, text, want in (("readme.zpl", zpl[0] if zpl else "", 0),
                             ("broken.zpl", (zpl[0] if zpl else "") + "x\n    type = kafka\n", 3)):
        path = os.path.join(tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        p = subprocess.run([ZFLOW, "check", path], capture_output=True, text=True, timeout=30)
        check(f"zflow check {name} exits {want}", p.returncode == want, p.stderr.strip())


#  4. Links: files exist, anchors are headings of the page they point to.
def slug(heading):
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path):
    with open(path, encoding="utf-8") as f:
        text = re.sub(r"^```.*?^```", "", f.read(), flags=re.MULTILINE | re.DOTALL)
    return {slug(h) for h in re.findall(r"^#+ (.*)$", text, re.MULTILINE)}


def bad_links(page):
    """Relative links of a Markdown page that lead nowhere."""
    bad = []
    with open(page, encoding="utf-8") as f:
        text = re.sub(r"^```.*?^```", "", f.read(), flags=re.MULTILINE | re.DOTALL)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        full = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        if not os.path.exists(full):
            bad.append(target)
        elif anchor and full.endswith(".md") and anchor not in anchors(full):
            bad.append(target)
    return bad


pages = [os.path.join(SOURCE, "README.md"), os.path.join(SOURCE, "CHANGELOG.md")]
pages += sorted(glob.glob(os.path.join(SOURCE, "docs", "*.md")))
for page in pages:
    check(f"links in {os.path.relpath(page, SOURCE)}", os.path.exists(page) and not bad_links(page),
          os.path.exists(page) and bad_links(page))
with tempfile.TemporaryDirectory() as tmp:
    broken = os.path.join(tmp, "broken.md")
    with open(broken, "w", encoding="utf-8") as f:
        f.write("# Title\n\n[a](nowhere.md) [b](#title) [c](#no-such-heading) [d](https://x.org)\n")
    check("the link check finds broken links", bad_links(broken) == ["nowhere.md", "#no-such-heading"],
          bad_links(broken))

for module in ("core", "hub", "hpfeeds", "websocket", "centrifugo", "pipeline", "cli",
               "performance", "writing-a-stage"):
    check(f"README links docs/{module}.md", f"(docs/{module}.md" in readme)

print(f"{'all passed' if not failures else f'{failures} failed'}")
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""Compares what libzflow.so exports with what include/*.h declares.

Usage: test_exports.py LIBZFLOW_SO INCLUDE_DIR [KNOWN_LIST]
(the environment variable NM names the nm program; default nm)

Three checks, each printed as a list of differences:
  - exported but not declared: a symbol `nm -D --defined-only` lists that no
    public header declares (an internal function leaking, or a renamed one);
  - declared but not exported: a function a public header declares that the
    library does not export (never defined, or defined under another name);
  - named outside its class: a function declared in include/zflow_<class>.h
    whose name does not start with zflow_<class>_ (docs/conventions.md).
KNOWN_LIST (optional) names differences that are known and owned by another
change, one "check symbol" per line ('#' starts a comment): they are printed
but do not fail the test. Exit status 0 when nothing else differs, 1 if it
does, 2 on usage errors.
"""
import os
import re
import subprocess
import sys


def exported_symbols(lib):
    nm = os.environ.get("NM") or "nm"
    run = subprocess.run([nm, "-D", "--defined-only", lib], capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit("%s: cannot list its symbols (is the shared library built?): %s"
                 % (lib, run.stderr.strip()))
    out = run.stdout
    symbols = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, name = parts[-2], parts[-1]
        if kind == "A":  # version nodes, not symbols
            continue
        symbols.add(name.split("@")[0])
    return symbols


def strip_header(text):
    """Removes comments, C++ guards and preprocessor lines."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"#ifdef __cplusplus.*?#endif", " ", text, flags=re.S)
    text = re.sub(r"\\\n", " ", text)  # continued lines
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))


def declared_functions(path):
    """Names of the functions path declares (not typedefs, not static)."""
    text = strip_header(open(path, encoding="utf-8").read())
    names = []
    depth = 0
    statement = ""
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif depth == 0:
            if ch == ";":
                statement = " ".join(statement.split())
                if not re.match(r"(typedef|static|extern\s+\w+\s+\w+\s*;)", statement):
                    match = re.search(r"\b([A-Za-z_]\w*)\s*\(", statement)
                    if match:
                        names.append(match.group(1))
                statement = ""
            else:
                statement += ch
        if depth > 0:
            statement = ""  # a struct body or a typedef'd type: not a prototype
    return names


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    lib, include = sys.argv[1], sys.argv[2]
    known = set()
    if len(sys.argv) > 3 and os.path.exists(sys.argv[3]):
        for line in open(sys.argv[3], encoding="utf-8"):
            line = line.split("#")[0].strip()
            if line:
                known.add(tuple(line.split()[:2]))
    exported = exported_symbols(lib)
    declared = {}
    misnamed = []
    for name in sorted(os.listdir(include)):
        if not (name.startswith("zflow") and name.endswith(".h")):
            continue
        prefix = name[:-2] + "_"
        for function in declared_functions(os.path.join(include, name)):
            declared[function] = name
            if name != "zflow.h" and not function.startswith(prefix):
                misnamed.append((function, name))
    checks = [
        ("exported-undeclared", "exported but not declared in a public header",
         sorted(exported - set(declared))),
        ("declared-unexported", "declared in a public header but not exported",
         sorted(f + " (" + declared[f] + ")" for f in set(declared) - exported)),
        ("misnamed", "declared in include/zflow_<class>.h without the zflow_<class>_ prefix",
         sorted(f + " (" + h + ")" for f, h in misnamed)),
    ]
    print("%d exported symbols, %d declared functions" % (len(exported), len(declared)))
    failed = False
    seen = set()
    for check, title, items in checks:
        new = [i for i in items if (check, i.split()[0]) not in known]
        old = [i for i in items if (check, i.split()[0]) in known]
        seen.update((check, i.split()[0]) for i in items)
        if new:
            failed = True
            print("\n%s (%d):" % (title, len(new)))
            for item in new:
                print("    " + item)
        if old:
            print("\n%s, known (%d):" % (title, len(old)))
            for item in old:
                print("    " + item)
    stale = sorted(known - seen)
    if stale:
        print("\nknown differences no longer found (remove them from the list):")
        for check, symbol in stale:
            print("    %s %s" % (check, symbol))
    print("\n" + ("FAILED" if failed else "OK"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

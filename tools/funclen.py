#!/usr/bin/python3
"""funclen: the C functions longer than a limit, longest first.

    /usr/bin/python3 tools/funclen.py [--max N] [PATH...]     (default 80, the tree's C files)

House style puts a function's opening and closing braces at column 0, so a function is a
line "{" at column 0 whose previous line closes the signature's ")", up to the next "}" at
column 0. Its length counts from the "{" to the "}", both included. Prints
"LINES file:line name" for each one over the limit and a count, and exits 0 (a report,
not a gate).
"""
import argparse
import pathlib
import re

SKIP = ("build", "build-san", "build-fuzz", "var", ".git")
NAME = re.compile(r"^\**([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def functions(path):
    """(line of the name, name, length) of each function in path."""
    lines = path.read_text(errors="replace").split("\n")
    i = 0
    while i < len(lines):
        if lines[i].rstrip() != "{" or i == 0 or not lines[i - 1].rstrip().endswith(")"):
            i += 1
            continue
        # The signature may wrap: walk back to the line that starts with its name.
        j = i - 1
        while j > 0 and not NAME.match(lines[j]) and lines[j][:1] in (" ", "\t"):
            j -= 1
        m = NAME.match(lines[j])
        end = i + 1
        while end < len(lines) and not lines[end].startswith("}"):
            end += 1
        if m:
            yield j + 1, m.group(1), end - i + 1
        i = end + 1


def sources(paths):
    for p in paths:
        p = pathlib.Path(p)
        if p.is_file():
            yield p
            continue
        for f in sorted(p.rglob("*.c")):
            if not any(part in SKIP for part in f.parts):
                yield f


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--max", type=int, default=80)
    ap.add_argument("paths", nargs="*", default=["."])
    args = ap.parse_args()
    rows = [(n, f"{f}:{line}", name)
            for f in sources(args.paths)
            for line, name, n in functions(f) if n > args.max]
    for n, where, name in sorted(rows, key=lambda r: (-r[0], r[1])):
        print(f"{n:5d} {where} {name}")
    print(f"{len(rows)} functions over {args.max} lines")


if __name__ == "__main__":
    main()

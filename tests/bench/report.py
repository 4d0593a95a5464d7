#!/usr/bin/python3
"""Prints the benchmark table from run.sh's results and writes it into docs/BENCHMARKS.md
between the RESULTS markers (the rest of that file is written by hand)."""
import datetime, json, os, platform, subprocess, sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]


def cpu():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


mem = int(open("/proc/meminfo").readline().split()[1]) // 1024 // 1024
head = (f"Machine: {os.cpu_count()} cores, {cpu()}, {mem} GiB, {platform.platform()}. "
        f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}. "
        f"Load generators pinned with `taskset -c {os.environ.get('LOADGEN_CPU', '1')}`; "
        f"the system runs on both cores.")
lines = ["| id | measure | ticketd | baseline | ratio | target | met | 1-min load | notes |",
         "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
for r in rows:
    lines.append(f"| {r['id']} | {r['measure']} | {r['value']} | {r['baseline']} | {r['ratio']} |"
                 f" {r['target']} | {'yes' if r['met'] else '**no**'} | {r['load']} | {r['detail']} |")
cmds = ["", "Commands:", ""]
for r in rows:
    for c in r["commands"]:
        cmds.append(f"- {r['id']}: `{c}`")
text = "\n".join([head, ""] + lines + cmds) + "\n"
print(text)
if "--no-doc" not in sys.argv:
    path = os.path.join(ROOT, "docs", "BENCHMARKS.md")
    doc = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n<!-- RESULTS -->\n<!-- /RESULTS -->\n"
    a, b = "<!-- RESULTS -->", "<!-- /RESULTS -->"
    if a in doc and b in doc:
        doc = doc[:doc.index(a) + len(a)] + "\n" + text + doc[doc.index(b):]
    else:
        doc += f"\n{a}\n{text}{b}\n"
    open(path, "w").write(doc)
    print(f"written to {path}")

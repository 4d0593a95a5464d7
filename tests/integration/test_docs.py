"""The repository's documents stand alone: a clone is all a user has, so no document points
outside it, and every relative link in the Markdown documents reaches a file of the clone."""
import os
import re
import subprocess

from conftest import ROOT

TEXT = (".md", ".yaml", ".json", ".c", ".h", ".py", ".js", ".sh", ".sql", ".html", ".css")
#  Spelled in two pieces, so that this file does not find itself.
OUTSIDE = "../" + "shared"


def tracked(suffixes):
    out = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True,
                         check=True).stdout.split()
    return [p for p in out if p.endswith(suffixes) and not p.startswith("tests/e2e/node_modules")]


def test_no_document_or_source_points_outside_the_repository():
    found = []
    for path in tracked(TEXT):
        with open(os.path.join(ROOT, path), errors="replace") as f:
            for n, line in enumerate(f, 1):
                if OUTSIDE in line:
                    found.append(f"{path}:{n}: {line.strip()[:120]}")
    assert not found, "\n".join(found)


def test_every_relative_link_of_the_markdown_documents_reaches_a_file():
    broken = []
    for path in tracked((".md",)):
        with open(os.path.join(ROOT, path), errors="replace") as f:
            text = f.read()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue
            file = target.split("#", 1)[0]
            if not os.path.exists(os.path.normpath(os.path.join(ROOT, os.path.dirname(path), file))):
                broken.append(f"{path}: {target}")
    assert not broken, "\n".join(broken)

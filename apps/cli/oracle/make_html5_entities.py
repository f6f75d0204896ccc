"""Writes apps/cli/src/text/html5-entities.json: Python's html.entities.html5 (the WHATWG HTML5 named character
references, 2231 names; names without ';' are the legacy ones that also decode without it), which both ftfy's
unescape_html and Python's html.unescape read. The CLI's text cleaning (src/text/) reproduces those two functions over
this table. Run from the repository root: python3 apps/cli/oracle/make_html5_entities.py
"""
import html.entities
import json
import pathlib
import sys

out = pathlib.Path(__file__).resolve().parent.parent / "src" / "text" / "html5-entities.json"
table = dict(sorted(html.entities.html5.items()))
out.write_text(json.dumps(table, ensure_ascii=True, separators=(",", ":")) + "\n")
print(f"{out}: {len(table)} names (Python {sys.version.split()[0]})")

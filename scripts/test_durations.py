"""Write tests/durations.json (seconds per test file) from a pytest JUnit XML report:

    bash scripts/test.sh --junitxml=/tmp/junit.xml && python scripts/test_durations.py /tmp/junit.xml

tests/conftest.py hands the files to the xdist workers slowest first (longest-processing-time order), so the
last files to start are short ones and no worker is left alone with a long file at the end.
"""

from __future__ import annotations

import collections
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "durations.json"


def per_file(junit: str) -> dict[str, int]:
    seconds: collections.Counter = collections.Counter()
    for case in ET.parse(junit).iter("testcase"):
        parts = [p for p in case.get("classname", "").split(".") if not p[:1].isupper()]  # drop a test class
        seconds["/".join(parts) + ".py"] += float(case.get("time") or 0)
    return {name: round(s) for name, s in sorted(seconds.items(), key=lambda kv: -kv[1])}


if __name__ == "__main__":
    OUT.write_text(json.dumps(per_file(sys.argv[1]), indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(json.loads(OUT.read_text()))} files")

"""ARCHITECTURE.md's promise, tried on a copy of the code: a data column shown in the map's popup takes
three files — the field in the schema (marked for the popup) and its label in each catalogue."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from dashboard.core import paths

PROBE = """
import json
from dashboard.atlasmap.builder import selection_data
from dashboard.core.data import load_atlas
atlas = load_atlas()
data = selection_data(atlas.points, "en", atlas=atlas)
rows = {r["field"]: r["label"] for r in data["popup"]}
col = data["columns"]["phone"]
values = [col["dict"][c] for c in col["codes"]]
print(json.dumps({"label": rows.get("phone"), "bonn": values[data["columns"]["id"].index("iclei-bonn")]}))
"""


def test_a_new_popup_column_takes_the_schema_and_the_two_catalogues(tmp_path):
    copy = tmp_path / "atlas"
    for part in ("dashboard", "geocoding", "data"):
        shutil.copytree(
            paths.ROOT / part, copy / part, ignore=shutil.ignore_patterns("static", "__pycache__")
        )
    # 1. the schema: the field, marked for the popup
    schema = copy / "dashboard" / "core" / "schema.py"
    text = schema.read_text(encoding="utf-8")
    anchor = '    names_by: Literal["source", "atlas"] = "source"'
    assert anchor in text
    text = text.replace(
        anchor, anchor + '\n    phone: str | None = Field(default=None, json_schema_extra={"popup": True})', 1
    )
    schema.write_text(text, encoding="utf-8")
    # 2 and 3. its label in each catalogue
    for lang, label in (("en", "Telephone"), ("ja", "電話")):
        cat = copy / "dashboard" / "core" / "locales" / f"{lang}.yaml"
        cat.write_text(cat.read_text(encoding="utf-8") + f'field_phone: "{label}"\n', encoding="utf-8")
    # the data: a column in offices.csv
    offices = copy / "data" / "offices.csv"
    lines = offices.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",phone"] + [
        line + (",+49 228 97 62 99-00" if line.startswith("iclei-bonn,") else ",") for line in lines[1:]
    ]
    offices.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=copy, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(copy)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"label": "Telephone", "bonn": "+49 228 97 62 99-00"}

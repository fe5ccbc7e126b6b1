#!/usr/bin/env python3
"""Lists the SNOMED CT codes of FHIR Conditions and whether data/vocab/snomed_icd10.tsv maps them.

The table is curated by hand (its header names the sources: no SNOMED CT -> ICD-10 map is
packaged by Debian or held in the shared data). This script is what it was curated from: run it
over FHIR exports (Bulk Data NDJSON files, Bundles, or folders of them) to see every SNOMED CT
Condition code with its display and count, marked "mapped ICD10" or "unmapped", and which
unmapped ones look like neoplasms by their name (candidates for a row).

  scripts/snomed-conditions.py ../shared/data/fhir [--table data/vocab/snomed_icd10.tsv]
"""
import argparse
import collections
import json
import os
import re
import sys

SNOMED = "http://snomed.info/sct"
NEOPLASM_WORDS = re.compile(
    r"malignan|carcinoma|cancer|neoplas|tumou?r|sarcoma|lymphoma|leuka?emia|melanoma|myeloma",
    re.I)


def resources(path):
    if os.path.isdir(path):
        for root, _, files in os.walk(path):
            for name in sorted(files):
                if name.endswith((".ndjson", ".json")):
                    yield from resources(os.path.join(root, name))
        return
    with open(path, encoding="utf-8") as f:
        if path.endswith(".ndjson"):
            for line in f:
                if line.strip():
                    yield json.loads(line)
            return
        doc = json.load(f)
    if doc.get("resourceType") == "Bundle":
        for entry in doc.get("entry", []):
            yield entry.get("resource", {})
    else:
        yield doc


def read_table(path):
    mapped = {}
    header = True
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            if header:
                header = False
                continue
            snomed, icd10, _ = line.rstrip("\n").split("\t")
            mapped[snomed] = icd10
    return mapped


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--table", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "data", "vocab", "snomed_icd10.tsv"))
    args = parser.parse_args()
    mapped = read_table(args.table)
    seen = collections.Counter()
    display = {}
    for path in args.paths:
        for r in resources(path):
            if r.get("resourceType") != "Condition":
                continue
            for c in r.get("code", {}).get("coding", []):
                if c.get("system") == SNOMED and c.get("code"):
                    seen[c["code"]] += 1
                    display.setdefault(c["code"], c.get("display", ""))
    for code, n in sorted(seen.items(), key=lambda kv: (kv[0] not in mapped, kv[0])):
        name = display[code]
        if code in mapped:
            state = "mapped " + mapped[code]
        elif NEOPLASM_WORDS.search(name) and name.endswith("(disorder)"):
            state = "unmapped, looks like a neoplasm"
        else:
            state = "unmapped"
        print(f"{code}\t{n}\t{state}\t{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Build corpora/sadc-smart-cities/ from ../shared/data (run by `make corpus`; output is committed).

The files are copied unchanged so they stay what their authors published; attribution and
licences go beside them. The demo reads only corpora/, never ../shared.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
from pathlib import Path

ATTRIBUTION = """# Demo corpus: smart cities governance in the SADC region

Built by `scripts/build_corpus.py` from `../shared/data` (files copied unchanged).

## academic.jsonl
37 real publications on smart cities in Africa (25 on SADC countries), read from their public
landing pages: title, authors, year, DOI, venue, URL, type. `abstract` is present only where the
publisher states a CC BY licence (named in `abstract_licence`; `abstract_complete: false` marks an
abstract cut short on the page); other records carry metadata only. Bibliographic metadata are facts
and not subject to copyright; abstracts remain under their CC BY licences, attributed to their authors
through the record's DOI.

## gray/undp/*.md
176 pages of the UNDP Accelerator Labs' SDG Innovation Commons tagged with a SADC country, from
UNDP-Accelerator-Labs/sdg-innovation-commons @ 777eeb24, MIT licence (see gray/undp/LICENSE). Each
page starts with `[[type:…]] [[source:URL]] [[year:…]] [[date:…]] [[country:…]]` tags followed by the
scraped page text, navigation boilerplate included.
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--shared", default="../shared/data", type=Path)
    ap.add_argument("--out", default="corpora/sadc-smart-cities", type=Path)
    args = ap.parse_args()
    shared: Path = args.shared
    out: Path = args.out
    if not shared.is_dir():
        raise SystemExit(f"{shared}: not found (the shared data folder)")
    if out.exists():
        shutil.rmtree(out)
    (out / "gray" / "undp").mkdir(parents=True)
    shutil.copy2(shared / "demo" / "smart-cities-africa-academic.jsonl", out / "academic.jsonl")
    pages = sorted((shared / "graylit" / "pages").glob("*.md"))
    for p in pages:
        shutil.copy2(p, out / "gray" / "undp" / p.name)
    shutil.copy2(shared / "graylit" / "LICENSE", out / "gray" / "undp" / "LICENSE")
    (out / "README.md").write_text(ATTRIBUTION, encoding="utf-8")
    manifest = {
        "academic.jsonl": sha256(out / "academic.jsonl"),
        "gray/undp": {p.name: sha256(out / "gray" / "undp" / p.name) for p in pages},
    }
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    n = sum(1 for _ in open(out / "academic.jsonl", encoding="utf-8"))
    print(f"{out}: {n} academic records, {len(pages)} gray-literature pages")


if __name__ == "__main__":
    main()

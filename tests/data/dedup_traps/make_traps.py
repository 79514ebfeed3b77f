"""Write the labelled dedup trap sets (deterministic; run to regenerate the CSVs beside it).

    .venv/bin/python tests/data/dedup_traps/make_traps.py

Each set is a folder in the bib-dedupe layout: ``records_pre_merged.csv`` (input, with extra
columns doi, isbn, pmid, arxiv, language, abstract) and ``merged_record_ids.csv`` (gold: one row
per group of records that ARE one publication and should merge). An optional ``queue_pairs.csv``
lists pairs a reviewer should see (one study, two publications: a preprint and its journal
version): neither merging them nor leaving them apart counts as an error.

The records are synthetic but shaped on what real exports carry (Embase/Ovid supplement
abstracts with the supplement's DOI, recurring editor's columns, edited books whose chapters all
carry the book's ISBN, arXiv versions, MEDLINE's bracketed English translations of titles).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
COLS = (
    "ID ENTRYTYPE title author year journal volume number pages doi isbn pmid arxiv language abstract"
).split()

TOPICS = [
    "metformin",
    "vitamin D supplementation",
    "remote ischaemic conditioning",
    "early mobilisation",
    "telemonitoring",
    "proton pump inhibitors",
    "high-flow nasal oxygen",
    "probiotics",
    "tranexamic acid",
    "cognitive behavioural therapy",
    "statin loading",
    "fecal calprotectin",
    "liver stiffness measurement",
    "hepatitis B vaccination",
    "endoscopic ultrasound",
    "capsule endoscopy",
    "biologic therapy",
    "low-FODMAP diet",
    "helicobacter eradication",
    "colonoscopy bowel preparation",
    "direct-acting antivirals",
    "albumin infusion",
    "non-selective beta blockers",
    "transjugular shunt",
    "fecal microbiota transplantation",
    "budesonide",
    "vedolizumab",
    "anti-TNF drug monitoring",
    "exercise training",
    "smartphone coaching",
]
POPS = [
    "adults with cirrhosis",
    "children with Crohn's disease",
    "older inpatients",
    "pregnant women",
    "patients after liver transplantation",
    "outpatients with ulcerative colitis",
]
DESIGNS = [
    "a randomised controlled trial",
    "a multicentre cohort study",
    "a pilot study",
    "a retrospective analysis",
    "a systematic review",
    "results from a national registry",
]
SURNAMES = [
    "Smith",
    "Nguyen",
    "Garcia",
    "Muller",
    "Rossi",
    "Kowalski",
    "Tanaka",
    "Okafor",
    "Silva",
    "Johansson",
    "Dubois",
    "Haddad",
    "Chen",
    "Patel",
    "Moreau",
    "Novak",
    "Ibrahim",
    "Kim",
    "Fischer",
    "Costa",
    "Andersen",
    "Lopez",
    "Wang",
    "Mensah",
    "Petrov",
    "Ahmed",
    "Brown",
    "Sato",
    "Ferrari",
    "Jones",
    "Khan",
    "Larsen",
]


def authors(rng: random.Random, n: int = 3) -> str:
    return " and ".join(f"{s}, {rng.choice('ABCDEFGHJKLMNPRST')}." for s in rng.sample(SURNAMES, n))


def write(name: str, rows: list[dict], groups: list[list[str]], queue: list[tuple[str, str]] = ()):
    folder = HERE / name
    folder.mkdir(exist_ok=True)
    with open(folder / "records_pre_merged.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, COLS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLS})
    with open(folder / "merged_record_ids.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["merged_ids"])
        for g in groups:
            w.writerow([";".join(g)])
    if queue:
        with open(folder / "queue_pairs.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["record_a", "record_b"])
            w.writerows(queue)


def supplement() -> None:
    """30 conference abstracts in one journal supplement, all carrying the supplement's DOI;
    5 of them exported again by a second database (case, punctuation, author initials vary)."""
    rng = random.Random(1)
    rows: list[dict] = []
    groups = []
    for k in range(30):
        title = (
            f"{TOPICS[k][0].upper()}{TOPICS[k][1:]} in {rng.choice(POPS)}: {rng.choice(DESIGNS)}"
        )
        page = f"S{101 + 2 * k}"
        rec = {
            "ID": f"emb{k:02d}",
            "ENTRYTYPE": "article",
            "title": title,
            "author": authors(rng),
            "year": "2019",
            "journal": "Journal of Gastroenterology and Hepatology",
            "volume": "34",
            "number": "Suppl 2",
            "pages": page,
            "doi": "10.1111/jgh.14861",
            "language": "English",
            "abstract": f"Background: {TOPICS[k]} was studied. Methods: {rng.randrange(40, 900)}"
            f" participants. Results: outcome {k} improved (p={rng.randrange(1, 50) / 1000}).",
        }
        rows.append(rec)
        if k % 6 == 0:  # the same abstract, exported by Web of Science
            copy = dict(rec, ID=f"wos{k:02d}", title=title.upper() if k % 12 else title + ".")
            copy["author"] = " and ".join(
                a.split(",")[0] + ", X" for a in rec["author"].split(" and ")
            )
            copy["journal"] = "J Gastroenterol Hepatol"
            copy["number"] = "S2"
            if k == 12:
                copy["doi"] = ""  # the second database has no DOI for it
            rows.append(copy)
            groups.append([rec["ID"], copy["ID"]])
    write("supplement_doi", rows, groups)


def editorials() -> None:
    """Recurring titles in one journal: 10 'Editor's comments' across issues, 'Erratum' notices,
    an 'Erratum: <title>' notice beside its article, 'Introduction' of two special issues;
    two of the columns exported twice (same volume, issue and pages)."""
    rng = random.Random(2)
    rows: list[dict] = []
    groups = []
    for k in range(10):
        vol, issue = 12 + k // 6, k % 6 + 1
        rows.append(
            {
                "ID": f"ed{k:02d}",
                "ENTRYTYPE": "article",
                "title": "Editor's comments",
                "author": "Jones, R.",
                "year": str(2015 + k // 6),
                "journal": "Journal of Advanced Nursing Practice",
                "volume": str(vol),
                "number": str(issue),
                "pages": f"{1 + 120 * (issue - 1)}-{2 + 120 * (issue - 1)}",
                "doi": f"10.5555/janp.{vol}.{issue}.001" if k % 2 else "",
            }
        )
    for k in (3, 7):  # the same column from a second database
        rows.append(dict(rows[k], ID=f"ed{k:02d}b", title="Editor's Comments.", doi=""))
        groups.append([f"ed{k:02d}", f"ed{k:02d}b"])
    for k in range(4):
        rows.append(
            {
                "ID": f"err{k}",
                "ENTRYTYPE": "article",
                "title": "Erratum",
                "author": "",
                "year": "2016",
                "journal": "Journal of Advanced Nursing Practice",
                "volume": "13",
                "number": str(k + 1),
                "pages": str(200 + 120 * k),
            }
        )
    for k in range(4):
        rows.append(
            {
                "ID": f"rem{k}",
                "ENTRYTYPE": "article",
                "title": "Remarks from the editor",
                "author": "Okafor, N.",
                "year": "2018",
                "journal": "Nursing Science Quarterly",
                "volume": "31",
                "number": str(k + 1),
                "pages": "",
            }
        )
    article = "Nurse-led telephone follow-up after day surgery: a randomised trial"
    rows.append(
        {
            "ID": "art1",
            "ENTRYTYPE": "article",
            "title": article,
            "author": authors(rng),
            "year": "2016",
            "journal": "Journal of Advanced Nursing Practice",
            "volume": "13",
            "number": "2",
            "pages": "133-141",
            "doi": "10.5555/janp.13.2.133",
        }
    )
    rows.append(
        {
            "ID": "art1err",
            "ENTRYTYPE": "article",
            "title": "Erratum: " + article,
            "author": rows[-1]["author"],
            "year": "2016",
            "journal": "Journal of Advanced Nursing Practice",
            "volume": "13",
            "number": "4",
            "pages": "455",
            "doi": "10.5555/janp.13.4.455",
        }
    )
    for k in range(2):
        rows.append(
            {
                "ID": f"intro{k}",
                "ENTRYTYPE": "article",
                "title": "Introduction",
                "author": "Rossi, L.",
                "year": "2017",
                "journal": "Nursing Science Quarterly",
                "volume": "30",
                "number": str(2 + k),
                "pages": str(5 + 100 * k),
            }
        )
    rows.append(
        {
            "ID": "meet1",
            "ENTRYTYPE": "article",
            "title": "Meeting report",
            "author": "",
            "year": "2017",
            "journal": "Nursing Science Quarterly",
            "volume": "30",
            "number": "2",
            "pages": "188-189",
        }
    )
    rows.append(
        {
            "ID": "meet2",
            "ENTRYTYPE": "article",
            "title": "Meeting report",
            "author": "",
            "year": "2017",
            "journal": "Nursing Science Quarterly",
            "volume": "30",
            "number": "2",
            "pages": "190-191",
        }
    )
    write("editorials", rows, groups)


def book() -> None:
    """An edited book and its 12 chapters, all with the book's ISBN; the book record and two
    chapters exported again by a second database."""
    rng = random.Random(3)
    isbn = "978-3-030-12345-6"
    book_title = "Digital Health in Low- and Middle-Income Countries"
    rows = [
        {
            "ID": "book",
            "ENTRYTYPE": "book",
            "title": book_title,
            "author": "Mensah, K. and Silva, P.",
            "year": "2020",
            "journal": "",
            "isbn": isbn,
            "pages": "",
        }
    ]
    for k in range(12):
        rows.append(
            {
                "ID": f"ch{k:02d}",
                "ENTRYTYPE": "incollection",
                "title": f"{TOPICS[k + 10][0].upper()}{TOPICS[k + 10][1:]} delivered by mobile phone"
                f" in {rng.choice(['Ghana', 'Zambia', 'Peru', 'Nepal', 'Kenya', 'Vietnam'])}",
                "author": authors(rng, 2),
                "year": "2020",
                "journal": book_title,
                "pages": f"{1 + 20 * k}-{18 + 20 * k}",
                "isbn": isbn.replace("-", ""),
            }
        )
    groups = []
    rows.append(dict(rows[0], ID="book_b", isbn=isbn.replace("-", ""), title=book_title + "."))
    groups.append(["book", "book_b"])
    for k in (2, 9):
        rows.append(dict(rows[k + 1], ID=f"ch{k:02d}b", title=rows[k + 1]["title"].lower()))
        groups.append([f"ch{k:02d}", f"ch{k:02d}b"])
    write("book_isbn", rows, groups)


def preprints() -> None:
    """arXiv versions (v1, v2) of a paper and its journal version; a medRxiv preprint and its
    journal version; two different preprints by the same group with similar titles."""
    rows = [
        {
            "ID": "ax1v1",
            "ENTRYTYPE": "misc",
            "title": "Federated learning for chest X-ray triage across twelve hospitals",
            "author": "Chen, L. and Patel, R. and Kim, S.",
            "year": "2021",
            "journal": "arXiv",
            "arxiv": "arXiv:2103.01234v1",
            "doi": "10.48550/arXiv.2103.01234",
        },
        {
            "ID": "ax1v2",
            "ENTRYTYPE": "misc",
            "title": "Federated Learning for Chest X-Ray Triage Across Twelve Hospitals",
            "author": "Chen, L. and Patel, R. and Kim, S. and Wang, Y.",
            "year": "2021",
            "journal": "arXiv",
            "arxiv": "2103.01234v2",
        },
        {
            "ID": "ax1pub",
            "ENTRYTYPE": "article",
            "title": "Federated learning for chest X-ray triage across twelve hospitals",
            "author": "Chen, L. and Patel, R. and Kim, S. and Wang, Y.",
            "year": "2022",
            "journal": "Radiology: Artificial Intelligence",
            "volume": "4",
            "number": "2",
            "pages": "e210123",
            "doi": "10.1148/ryai.210123",
        },
        {
            "ID": "mx1",
            "ENTRYTYPE": "misc",
            "title": "Household transmission of influenza B in"
            " rural Bangladesh: a prospective cohort",
            "author": "Ahmed, F. and Khan, M.",
            "year": "2020",
            "journal": "medRxiv",
            "doi": "10.1101/2020.05.11.20098123",
        },
        {
            "ID": "mx1pub",
            "ENTRYTYPE": "article",
            "title": "Household transmission of influenza B"
            " in rural Bangladesh: a prospective cohort study",
            "author": "Ahmed, F. and Khan, M. and Haddad, S.",
            "year": "2021",
            "journal": "Lancet Global Health",
            "volume": "9",
            "number": "3",
            "pages": "e301-e309",
            "doi": "10.1016/S2214-109X(20)30512-3",
        },
        {
            "ID": "ax2",
            "ENTRYTYPE": "misc",
            "title": "Federated learning for chest CT triage across twelve hospitals",
            "author": "Chen, L. and Patel, R.",
            "year": "2022",
            "journal": "arXiv",
            "arxiv": "arXiv:2204.05678v1",
        },
    ]
    write(
        "preprints",
        rows,
        [["ax1v1", "ax1v2"]],
        [("ax1v1", "ax1pub"), ("ax1v2", "ax1pub"), ("mx1", "mx1pub")],
    )


def translated() -> None:
    """Non-English articles as MEDLINE gives them (English translation in brackets, language
    tag) and as a regional database gives them (original title); two different articles by one
    author in one volume of one journal."""
    pairs = [
        (
            "[Early mobilisation after hip fracture surgery in nursing home residents]",
            "Frühmobilisation nach Hüftfrakturoperation bei Pflegeheimbewohnern",
            "ger",
            "Fischer, H. and Muller, A.",
            "Z Gerontol Geriatr",
            "52",
            "4",
            "345-351",
            "10.1007/s00391-019-01234-5",
        ),
        (
            "[Hepatitis B vaccination coverage among health care workers in Lyon]",
            "Couverture vaccinale contre l'hépatite B chez les soignants à Lyon",
            "fre",
            "Dubois, M. and Moreau, C.",
            "Presse Med",
            "47",
            "2",
            "e11-e19",
            "",
        ),
        (
            "[Adherence to antihypertensive treatment in primary care: a cross-sectional study]",
            "Adherencia al tratamiento antihipertensivo en atención primaria: estudio transversal",
            "spa",
            "Lopez, J. and Garcia, M. and Costa, R.",
            "Aten Primaria",
            "50",
            "6",
            "331-338",
            "10.1016/j.aprim.2017.03.012",
        ),
        (
            "[Burnout among intensive care nurses]",
            "Burnout tra gli infermieri di terapia intensiva",
            "ita",
            "Rossi, G. and Ferrari, L.",
            "Assist Inferm Ric",
            "38",
            "1",
            "20-27",
            "",
        ),
        (
            "[Telemedicine consultations in rural Poland during the pandemic]",
            "Teleporady w wiejskich gminach Polski w czasie pandemii",
            "pol",
            "Kowalski, J. and Novak, P.",
            "Pol Merkur Lekarski",
            "49",
            "290",
            "101-105",
            "",
        ),
        (
            "[Antibiotic prescribing for children with otitis media]",
            "Antibiotikaförskrivning till barn med akut mediaotit",
            "swe",
            "Johansson, E. and Larsen, K.",
            "Lakartidningen",
            "116",
            "",
            "FHRS",
            "",
        ),
    ]
    rows, groups = [], []
    for k, (en, orig, lang, au, journal, vol, iss, pages, doi) in enumerate(pairs):
        a = {
            "ID": f"med{k}",
            "ENTRYTYPE": "article",
            "title": en,
            "author": au,
            "year": "2019",
            "journal": journal,
            "volume": vol,
            "number": iss,
            "pages": pages,
            "doi": doi,
            "language": lang,
            "pmid": str(30100000 + k),
        }
        b = dict(a, ID=f"reg{k}", title=orig, pmid="", journal=journal.upper())
        rows += [a, b]
        groups.append([a["ID"], b["ID"]])
    rows.append(
        {
            "ID": "med_other",
            "ENTRYTYPE": "article",
            "title": "[Late mobilisation after knee replacement in nursing home residents]",
            "author": "Fischer, H. and Costa, R.",
            "year": "2019",
            "journal": "Z Gerontol Geriatr",
            "volume": "52",
            "number": "4",
            "pages": "352-358",
            "language": "ger",
            "pmid": "30100099",
        }
    )
    write("translated", rows, groups)


if __name__ == "__main__":
    supplement()
    editorials()
    book()
    preprints()
    translated()

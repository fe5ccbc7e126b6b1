#!/usr/bin/env python3
"""Regenerates data/duo/duo_terms.tsv, the GA4GH Data Use Ontology terms the DUO matcher
(src/auth/duo.h) reasons over.

Source: the DUO release file duo.owl (EBISPOT/DUO at commit
81f5c3d9cc5a3e13614fdeaed53ace2496d7c095, release 2021-02-23, CC BY 4.0), kept in the shared
folder (shared/data/MANIFEST.md). Only the standard library is used:

    scripts/extract-duo.py ../shared/data/duo/duo.owl > data/duo/duo_terms.tsv

Every owl:Class whose oboInOwl:id is a DUO CURIE becomes one row. A term's id is its
oboInOwl:id, not its IRI: the release spells NPOA's IRI DUO_00000044 (one zero too many) while
its id is DUO:0000044.
"""
import re
import sys
import xml.etree.ElementTree as ET

NS = {
    "owl": "http://www.w3.org/2002/07/owl#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "oboInOwl": "http://www.geneontology.org/formats/oboInOwl#",
}
RDF_ABOUT = "{%s}about" % NS["rdf"]
RDF_RESOURCE = "{%s}resource" % NS["rdf"]
OBO = "http://purl.obolibrary.org/obo/"
OBSOLETE_CLASS = NS["oboInOwl"] + "ObsoleteClass"
IS_RESTRICTED_TO = OBO + "DUO_0000010"


def curie_of_iri(iri, ids_by_iri):
    """DUO IRIs map to the class's own oboInOwl:id; OBO-style IRIs (PREFIX_DIGITS, prefix in
    capitals) to PREFIX:DIGITS; anything else (e.g. EDAM's topic_0003) stays a full IRI."""
    if iri in ids_by_iri:
        return ids_by_iri[iri]
    match = re.fullmatch(re.escape(OBO) + r"([A-Z][A-Za-z]*)_(\d+)", iri)
    return match.group(1) + ":" + match.group(2) if match else iri


def one_line(text):
    return " ".join((text or "").split())


def main(path):
    root = ET.parse(path).getroot()
    classes = root.findall("owl:Class", NS)
    ids_by_iri = {}
    for c in classes:
        oid = c.find("oboInOwl:id", NS)
        if oid is not None and oid.text and oid.text.startswith("DUO:"):
            ids_by_iri[c.get(RDF_ABOUT)] = oid.text.strip()

    rows = []
    for c in classes:
        iri = c.get(RDF_ABOUT)
        if iri not in ids_by_iri:
            continue
        term_id = ids_by_iri[iri]
        shorthand = one_line(getattr(c.find("oboInOwl:shorthand", NS), "text", ""))
        label = one_line(getattr(c.find("rdfs:label", NS), "text", ""))
        parents, restricted_to = [], []
        obsolete = False
        for sub in c.findall("rdfs:subClassOf", NS):
            target = sub.get(RDF_RESOURCE)
            if target == OBSOLETE_CLASS:
                obsolete = True
            elif target is not None:
                parent = curie_of_iri(target, ids_by_iri)
                if parent.startswith("DUO:"):
                    parents.append(parent)
            else:
                # An anonymous superclass: 'is restricted to' (DUO:0000010) some FILLER.
                restriction = sub.find("owl:Restriction", NS)
                if restriction is None:
                    continue
                prop = restriction.find("owl:onProperty", NS)
                filler = restriction.find("owl:someValuesFrom", NS)
                if prop is not None and filler is not None and \
                        prop.get(RDF_RESOURCE) == IS_RESTRICTED_TO:
                    restricted_to.append(curie_of_iri(filler.get(RDF_RESOURCE), ids_by_iri))
        deprecated = c.find("owl:deprecated", NS)
        if deprecated is not None and (deprecated.text or "").strip() == "true":
            obsolete = True
        if "\t" in label or "\t" in shorthand:
            sys.exit("extract-duo: a tab in the label or shorthand of " + term_id)
        rows.append((term_id, shorthand, label, ",".join(sorted(parents)),
                     ",".join(sorted(restricted_to)), "true" if obsolete else "false"))

    if not rows:
        sys.exit("extract-duo: no DUO classes in " + path)
    print("# GA4GH Data Use Ontology (DUO) terms: every owl:Class of the DUO release with a DUO id.")
    print("# Source: EBISPOT/DUO duo.owl at commit 81f5c3d9cc5a3e13614fdeaed53ace2496d7c095")
    print("# (release 2021-02-23), CC BY 4.0. Regenerate with scripts/extract-duo.py.")
    print("# parents: the named rdfs:subClassOf targets that are DUO terms (comma-separated);")
    print("# restricted_to: the fillers of 'is restricted to' (DUO:0000010) some X superclasses;")
    print("# obsolete: subClassOf oboInOwl:ObsoleteClass or owl:deprecated true.")
    print("id\tshorthand\tlabel\tparents\trestricted_to\tobsolete")
    for row in sorted(rows):
        print("\t".join(row))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: extract-duo.py DUO.owl > data/duo/duo_terms.tsv")
    main(sys.argv[1])

#!/usr/bin/env python3
"""Regenerates data/genes/grch38_genes.tsv, the gene coordinates behind Beacon `geneId` queries.

Source: Debian 12's r-bioc-org.hs.eg.db 3.16.0-1 (Bioconductor's org.Hs.eg.db: NCBI Entrez
Gene 2022-Sep-12; chromosome locations from UCSC's RefSeq transcripts on hg38 (GRCh38),
2022-Aug-31). A gene's span is the union of its RefSeq transcripts on the primary assembly.
Only a Debian package is read; nothing is downloaded from elsewhere:

    apt-get download r-bioc-org.hs.eg.db && dpkg -x r-bioc-org.hs.eg.db_*_all.deb pkg
    scripts/gene-table.py pkg/usr/lib/R/site-library/org.Hs.eg.db/extdata/org.Hs.eg.sqlite \
        > data/genes/grch38_genes.tsv
"""
import sqlite3
import sys

# Genes of cancer panels (germline predisposition and somatic drivers), HGNC symbols.
GENES = """ABL1 AKT1 ALK APC AR ARID1A ARID2 ATM ATR BAP1 BARD1 BRAF BRCA1 BRCA2 BRIP1 CCND1
CDH1 CDK12 CDK4 CDKN2A CHEK2 CTNNB1 DNMT3A EGFR ERBB2 ESR1 EZH2 FBXW7 FGFR1 FGFR2 FGFR3 FLT3
GNA11 GNAQ HRAS IDH1 IDH2 JAK2 KIT KMT2D KRAS MAP2K1 MET MLH1 MSH2 MSH6 MTOR MYC NF1 NOTCH1
NPM1 NRAS NTRK1 NTRK2 NTRK3 PALB2 PDGFRA PIK3CA PMS2 POLE PTEN RAD51C RAD51D RB1 RET ROS1
SMAD4 SMARCB1 STK11 TERT TP53 TSC1 TSC2 VHL""".split()

db = sqlite3.connect(sys.argv[1])
print("# GRCh38 gene spans, 1-based inclusive: union of each gene's RefSeq transcripts.")
print("# Source: Debian r-bioc-org.hs.eg.db 3.16.0-1 (NCBI Entrez Gene 2022-Sep-12; UCSC hg38")
print("# RefSeq transcript locations 2022-Aug-31). Regenerate with scripts/gene-table.py.")
print("symbol\tentrez\tchrom\tstart\tend\tstrand")
for symbol in sorted(GENES):
    rows = db.execute(
        """select g.gene_id, l.seqname, l.start_location, l.end_location
           from genes g join gene_info i on g._id = i._id
           join chromosome_locations l on g._id = l._id
           where i.symbol = ? and l.seqname not like '%\\_%' escape '\\'""", (symbol,)).fetchall()
    if not rows:
        sys.exit(f"gene-table: no location for {symbol}")
    chroms = {r[1] for r in rows}
    if len(chroms) != 1:
        sys.exit(f"gene-table: {symbol} on several chromosomes {sorted(chroms)}")
    # Locations are UCSC txStart/txEnd (0-based start, exclusive end); negative on the minus strand.
    start0 = min(abs(r[2]) for r in rows)
    end = max(abs(r[3]) for r in rows)
    strand = "-" if rows[0][2] < 0 else "+"
    print(f"{symbol}\t{rows[0][0]}\t{rows[0][1]}\t{start0 + 1}\t{end}\t{strand}")

// genomes.vcf.gz as htslib's own tools read it: bcftools, tabix. Checks the VCF against the FHIR
// Observations written beside it, recomputes AC/AN/AF from the genotypes, and checks
// determinism and the allele-frequency spectrum.
#include "synth/genomes.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "genomics/reference.h"
#include "support/process.h"
#include "support/suite_fixture.h"
#include "synth/synth.h"

namespace oncomesh::synth {
namespace {

namespace fs = std::filesystem;
using internal::KnownVariant;
using internal::KnownVariants;
using internal::VariantOrigin;
using nlohmann::json;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// Runs a shell command line; expects exit 0 and returns its stdout (stderr is shown on failure).
std::string Shell(const std::string& command, const fs::path& scratch) {
  const std::string out = (scratch / "shell.out").string();
  std::string diagnostics;
  const int code =
      oncomesh::testing::RunCommand({"/usr/bin/sh", "-c", command + " > " + out}, &diagnostics);
  EXPECT_EQ(code, 0) << command << "\n" << diagnostics;
  return ReadFile(out);
}

struct Site {
  fs::path dir;
  SynthReport report;
  fs::path vcf() const { return dir / "genomes.vcf.gz"; }
};

Site Make(const fs::path& root, const std::string& name, int64_t individuals, int64_t genomes,
          int64_t sites, uint64_t seed, int threads = 0) {
  SynthOptions options;
  options.site = "gsite";
  options.individuals = individuals;
  options.seed = seed;
  options.out_dir = (root / name).string();
  options.genomes = genomes;
  options.genome_sites = sites;
  options.threads = threads;
  Site site;
  site.dir = options.out_dir;
  const Status status = WriteSyntheticSite(options, &site.report);
  EXPECT_TRUE(status.ok()) << status.ToString();
  return site;
}

// One VCF record as `bcftools query` prints it.
struct Row {
  std::string chrom;
  int64_t pos = 0;
  std::string ref;
  std::vector<std::string> alts;
  std::vector<int> ac;
  int an = 0;
  std::vector<double> af;
  std::vector<std::string> gt;  // per sample
};

std::vector<Row> ReadRows(const fs::path& vcf, const fs::path& scratch) {
  const std::string text = Shell(
      "/usr/bin/bcftools query -f '%CHROM\\t%POS\\t%REF\\t%ALT\\t%INFO/AC\\t%INFO/AN\\t"
      "%INFO/AF[\\t%GT]\\n' " +
          vcf.string(),
      scratch);
  std::vector<Row> rows;
  for (const std::string& line : Lines(text)) {
    const std::vector<std::string> f = Split(line, '\t');
    Row r;
    r.chrom = f[0];
    r.pos = std::stoll(f[1]);
    r.ref = f[2];
    r.alts = Split(f[3], ',');
    for (const std::string& x : Split(f[4], ',')) r.ac.push_back(std::stoi(x));
    r.an = std::stoi(f[5]);
    for (const std::string& x : Split(f[6], ',')) r.af.push_back(std::stod(x));
    r.gt.assign(f.begin() + 7, f.end());
    rows.push_back(std::move(r));
  }
  return rows;
}

// The ALT allele numbers of a GT string ("0/1" -> {1}, "./." -> {}).
std::vector<int> AltAlleles(const std::string& gt) {
  std::vector<int> out;
  for (const std::string& a : Split(gt, '/')) {
    if (a != "." && a != "0") out.push_back(std::stoi(a));
  }
  return out;
}

bool IsKnown(const Row& r, const KnownVariant& v) {
  return r.chrom == v.chrom && r.pos == v.pos && r.ref == v.ref && r.alts.size() == 1 &&
         r.alts[0] == v.alt;
}

std::vector<std::string> SampleNames(const fs::path& vcf, const fs::path& scratch) {
  return Lines(Shell("/usr/bin/bcftools query -l " + vcf.string(), scratch));
}

// Patient id -> the "HGNC:n p.X" genomic findings of Observation.ndjson.
std::map<std::string, std::set<std::string>> Findings(const fs::path& dir) {
  std::map<std::string, std::set<std::string>> out;
  std::ifstream in(dir / "Observation.ndjson");
  std::string line;
  while (std::getline(in, line)) {
    const json r = json::parse(line);
    if (r["code"]["coding"][0]["code"] != "69548-6") continue;
    std::string gene, change = "*";
    for (const json& component : r["component"]) {
      const std::string code = component["code"]["coding"][0]["code"];
      const std::string value = component["valueCodeableConcept"]["coding"][0]["code"];
      if (code == "48018-6") gene = value;
      if (code == "48005-3") change = value;
    }
    out[r["subject"]["reference"].get<std::string>().substr(8)].insert(gene + " " + change);
  }
  return out;
}

// Patient id -> ICD-10 category of the primary cancer ("C50").
std::map<std::string, std::string> Cancers(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::ifstream in(dir / "Condition.ndjson");
  std::string line;
  while (std::getline(in, line)) {
    const json r = json::parse(line);
    out[r["subject"]["reference"].get<std::string>().substr(8)] =
        r["code"]["coding"][0]["code"].get<std::string>().substr(0, 3);
  }
  return out;
}

class SynthGenomesTest : public ::oncomesh::testing::SuiteFixture<SynthGenomesTest> {
  friend class ::oncomesh::testing::SuiteFixture<SynthGenomesTest>;  // calls SetUpSuite

 protected:
  static void SetUpSuite() {
    root_ = new oncomesh::testing::TempDir();
    site_ = new Site(Make(root_->path(), "main", 4000, 1500, 3000, 11));
    rows_ = new std::vector<Row>(ReadRows(site_->vcf(), root_->path()));
    samples_ = new std::vector<std::string>(SampleNames(site_->vcf(), root_->path()));
  }
  static void TearDownTestSuite() {
    delete samples_;
    delete rows_;
    delete site_;
    delete root_;
  }
  static oncomesh::testing::TempDir* root_;
  static Site* site_;
  static std::vector<Row>* rows_;
  static std::vector<std::string>* samples_;
};
oncomesh::testing::TempDir* SynthGenomesTest::root_ = nullptr;
Site* SynthGenomesTest::site_ = nullptr;
std::vector<Row>* SynthGenomesTest::rows_ = nullptr;
std::vector<std::string>* SynthGenomesTest::samples_ = nullptr;

TEST_F(SynthGenomesTest, BcftoolsReadsHeaderAndEveryRecord) {
  ASSERT_TRUE(fs::exists(site_->vcf()));
  ASSERT_TRUE(fs::exists(site_->dir / "genomes.vcf.gz.tbi"));
  const std::string header =
      Shell("/usr/bin/bcftools view -h " + site_->vcf().string(), root_->path());
  EXPECT_EQ(header.rfind("##fileformat=VCFv4.2\n", 0), 0u) << header.substr(0, 200);
  EXPECT_NE(header.find("##reference=GRCh38\n"), std::string::npos);
  EXPECT_NE(header.find("##contig=<ID=chr1,length=248956422,assembly=GRCh38>"), std::string::npos);
  EXPECT_NE(header.find("##contig=<ID=chr12,length=133275309,assembly=GRCh38>"), std::string::npos);
  EXPECT_NE(header.find("##contig=<ID=chr17,length=83257441,assembly=GRCh38>"), std::string::npos);
  EXPECT_NE(header.find("##FORMAT=<ID=GT,"), std::string::npos);
  const std::string count =
      Shell("/usr/bin/bcftools view -H " + site_->vcf().string() + " | wc -l", root_->path());
  EXPECT_EQ(std::stoll(count), site_->report.genome_records);
  EXPECT_EQ(static_cast<int64_t>(rows_->size()), site_->report.genome_records);
  EXPECT_GE(site_->report.genome_records, 3000);
  EXPECT_EQ(site_->report.genome_records - site_->report.known_variant_records, 3000);
}

TEST_F(SynthGenomesTest, SamplesAreThePatientIdsOfTheIndividualsWithAGenome) {
  ASSERT_EQ(samples_->size(), 1500u);
  EXPECT_EQ(site_->report.genomes, 1500);
  std::set<std::string> patients;
  std::ifstream in(site_->dir / "Patient.ndjson");
  std::string line;
  while (std::getline(in, line)) patients.insert(json::parse(line)["id"].get<std::string>());
  int64_t previous = 0;
  for (const std::string& s : *samples_) {
    EXPECT_TRUE(patients.count(s)) << s << " is not a Patient.id";
    ASSERT_EQ(s.rfind("gsite-pat-", 0), 0u) << s;
    const int64_t n = std::stoll(s.substr(10));
    EXPECT_GT(n, previous) << "samples are in patient order, without repeats";
    previous = n;
  }
  // With as many genomes as individuals, the samples are exactly the patients.
  const Site all = Make(root_->path(), "all", 120, 120, 50, 3);
  const std::vector<std::string> names = SampleNames(all.vcf(), root_->path());
  std::set<std::string> all_patients;
  std::ifstream all_in(all.dir / "Patient.ndjson");
  while (std::getline(all_in, line))
    all_patients.insert(json::parse(line)["id"].get<std::string>());
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()), all_patients);
}

TEST_F(SynthGenomesTest, TabixFindsTheKrasG12cRecord) {
  const std::string text =
      Shell("/usr/bin/tabix " + site_->vcf().string() + " chr12:25245351-25245351", root_->path());
  const std::vector<std::string> lines = Lines(text);
  ASSERT_EQ(lines.size(), 1u) << text.substr(0, 300);
  const std::vector<std::string> f = Split(lines[0], '\t');
  EXPECT_EQ(f[0], "chr12");
  EXPECT_EQ(f[1], "25245351");
  EXPECT_EQ(f[3], "C");
  EXPECT_EQ(f[4], "A");
  EXPECT_NE(f[7].find("GENE=KRAS"), std::string::npos) << f[7];
  EXPECT_NE(f[7].find("HGVSP=p.Gly12Cys"), std::string::npos) << f[7];
  EXPECT_EQ(f[8], "GT");
}

TEST_F(SynthGenomesTest, InfoCountsMatchTheGenotypes) {
  int checked = 0;
  for (const Row& r : *rows_) {
    ASSERT_EQ(r.gt.size(), samples_->size());
    std::vector<int> ac(r.alts.size(), 0);
    int an = 0;
    for (const std::string& gt : r.gt) {
      for (const std::string& a : Split(gt, '/')) {
        if (a == ".") continue;
        ++an;
        const int allele = std::stoi(a);
        ASSERT_LE(allele, static_cast<int>(r.alts.size())) << r.chrom << ":" << r.pos;
        if (allele > 0) ++ac[static_cast<size_t>(allele - 1)];
      }
    }
    ASSERT_EQ(r.ac, ac) << r.chrom << ":" << r.pos;
    ASSERT_EQ(r.an, an) << r.chrom << ":" << r.pos;
    ASSERT_EQ(r.af.size(), ac.size());
    for (size_t a = 0; a < ac.size(); ++a) {
      EXPECT_GT(ac[a], 0) << "no AC=0 allele at " << r.chrom << ":" << r.pos;
      EXPECT_NEAR(r.af[a], static_cast<double>(ac[a]) / an, 1e-5) << r.chrom << ":" << r.pos;
    }
    ++checked;
  }
  EXPECT_GE(checked, 3000);
}

TEST_F(SynthGenomesTest, RecordsAreSortedAndKeepClearOfTheKnownVariants) {
  auto contig_number = [](const std::string& chrom) { return std::stoi(chrom.substr(3)); };
  for (size_t i = 1; i < rows_->size(); ++i) {
    const Row& a = (*rows_)[i - 1];
    const Row& b = (*rows_)[i];
    ASSERT_TRUE(contig_number(a.chrom) < contig_number(b.chrom) ||
                (a.chrom == b.chrom && a.pos <= b.pos))
        << a.chrom << ":" << a.pos << " before " << b.chrom << ":" << b.pos;
  }
  for (const Row& r : *rows_) {
    bool known = false;
    for (const KnownVariant& v : KnownVariants()) known |= IsKnown(r, v);
    if (known) continue;
    for (const KnownVariant& v : KnownVariants()) {
      if (r.chrom != v.chrom) continue;
      EXPECT_GE(std::abs(r.pos - v.pos), 100)
          << "background site " << r.chrom << ":" << r.pos << " near " << v.gene << " " << v.hgvs_p;
    }
  }
}

// Every genomic finding of the clinical record is in the VCF for that patient (heterozygous),
// and nobody without the finding carries it.
TEST_F(SynthGenomesTest, KnownVariantsMatchTheClinicalObservations) {
  const auto findings = Findings(site_->dir);
  const std::set<std::string> samples(samples_->begin(), samples_->end());
  int carriers_seen = 0;
  for (const KnownVariant& v : KnownVariants()) {
    if (v.origin != VariantOrigin::kClinicalFinding) continue;
    const std::string key = std::string(v.hgnc) + " " + v.hgvs_p;
    std::set<std::string> expected;
    for (const auto& [patient, keys] : findings) {
      if (keys.count(key) && samples.count(patient)) expected.insert(patient);
    }
    std::set<std::string> actual;
    int records = 0;
    for (const Row& r : *rows_) {
      if (!IsKnown(r, v)) continue;
      ++records;
      for (size_t s = 0; s < r.gt.size(); ++s) {
        if (AltAlleles(r.gt[s]).empty()) continue;
        EXPECT_EQ(r.gt[s], "0/1") << v.gene << " " << v.hgvs_p << " " << (*samples_)[s];
        actual.insert((*samples_)[s]);
      }
    }
    EXPECT_EQ(records, expected.empty() ? 0 : 1) << v.gene << " " << v.hgvs_p;
    EXPECT_EQ(actual, expected) << v.gene << " " << v.hgvs_p;
    carriers_seen += static_cast<int>(actual.size());
    if (std::string_view(v.hgvs_p) == "p.Gly12Cys") {
      EXPECT_GT(actual.size(), 0u) << "the fixture should hold KRAS G12C carriers";
    }
  }
  EXPECT_GT(carriers_seen, 20);
  // Every finding with an amino acid change that a genome individual has is a known variant.
  for (const auto& [patient, keys] : findings) {
    if (!samples.count(patient)) continue;
    for (const std::string& key : keys) {
      if (key.ends_with(" *")) continue;  // ALK rearrangement: not a small variant
      bool found = false;
      for (const KnownVariant& v : KnownVariants()) {
        found |= key == std::string(v.hgnc) + " " + v.hgvs_p;
      }
      EXPECT_TRUE(found) << patient << ": " << key;
    }
  }
}

TEST_F(SynthGenomesTest, UnrecordedCancerVariantsFollowTheCancerType) {
  const auto cancers = Cancers(site_->dir);
  for (const Row& r : *rows_) {
    for (const KnownVariant& v : KnownVariants()) {
      if (!IsKnown(r, v) || v.origin == VariantOrigin::kClinicalFinding) continue;
      for (size_t s = 0; s < r.gt.size(); ++s) {
        if (AltAlleles(r.gt[s]).empty()) continue;
        EXPECT_EQ(r.gt[s], "0/1");
        if (std::string_view(v.gene) == "PIK3CA") {
          EXPECT_EQ(cancers.at((*samples_)[s]), "C50") << "PIK3CA hotspots only in breast cancer";
        }
      }
    }
  }
}

// The generator's known variants are the ones the index annotates (data/genes/
// grch38_known_variants.tsv), so Beacon's aminoacidChange and HGVS queries find them.
TEST(SynthGenomesKnownVariantsTest, AgreeWithTheNodesKnownVariantTable) {
  const genomics::GenomeReference& ref = genomics::GenomeReference::Get();
  for (const internal::KnownVariant& v : internal::KnownVariants()) {
    SCOPED_TRACE(std::string(v.gene) + " " + v.hgvs_c);
    const std::string chrom = genomics::GenomeReference::NormalizeChrom(v.chrom);
    const genomics::KnownVariant* k = ref.FindKnown("GRCh38", chrom, v.pos, v.ref, v.alt);
    ASSERT_NE(k, nullptr);
    EXPECT_EQ(k->gene, v.gene);
    EXPECT_NE(k->hgvs_c.find(std::string(":") + v.hgvs_c), std::string::npos);
  }
}

TEST(SynthGenomesRatesTest, BrcaCarriersAreCommonestInOvarianCancer) {
  oncomesh::testing::TempDir root;
  const Site site = Make(root.path(), "rates", 20000, 20000, 0, 5);
  const std::vector<Row> rows = ReadRows(site.vcf(), root.path());
  const std::vector<std::string> samples = SampleNames(site.vcf(), root.path());
  const auto cancers = Cancers(site.dir);
  std::map<std::string, int> patients_by_cancer, brca_by_cancer, pik3ca_by_cancer;
  for (const std::string& s : samples) ++patients_by_cancer[cancers.at(s)];
  std::set<std::string> brca;
  for (const Row& r : rows) {
    for (const KnownVariant& v : KnownVariants()) {
      if (!IsKnown(r, v)) continue;
      const std::string gene = v.gene;
      for (size_t s = 0; s < r.gt.size(); ++s) {
        if (AltAlleles(r.gt[s]).empty()) continue;
        if (gene == "BRCA1" || gene == "BRCA2") brca.insert(samples[s]);
        if (gene == "PIK3CA") ++pik3ca_by_cancer[cancers.at(samples[s])];
      }
    }
  }
  for (const std::string& s : brca) ++brca_by_cancer[cancers.at(s)];
  auto share = [&](std::map<std::string, int>& count, const std::string& icd) {
    return static_cast<double>(count[icd]) / patients_by_cancer[icd];
  };
  ASSERT_GT(patients_by_cancer["C56"], 200);
  // Ovary: BRCA1 8% + BRCA2 5%; breast 2.5%; colorectal 0.5% (docs/synth.md).
  EXPECT_GT(share(brca_by_cancer, "C56"), 0.08);
  EXPECT_LT(share(brca_by_cancer, "C56"), 0.19);
  EXPECT_GT(share(brca_by_cancer, "C50"), 0.012);
  EXPECT_LT(share(brca_by_cancer, "C50"), 0.04);
  EXPECT_LT(share(brca_by_cancer, "C18"), 0.02);
  // Breast PIK3CA H1047R or E545K: about 18% of breast cancers, nowhere else.
  EXPECT_GT(share(pik3ca_by_cancer, "C50"), 0.13);
  EXPECT_LT(share(pik3ca_by_cancer, "C50"), 0.23);
  EXPECT_EQ(pik3ca_by_cancer.size(), 1u);
}

// Background allele frequencies: density 1/x on [0.001, 0.5], so about 37% of ALT alleles
// below 1% and 26% above 10% in the population; in 500 samples, forcing AC >= 1 moves a few
// rare ones up. Bounds documented in docs/synth.md.
TEST(SynthGenomesSpectrumTest, MostSitesAreRareAndAMinorityCommon) {
  oncomesh::testing::TempDir root;
  const Site site = Make(root.path(), "spectrum", 600, 500, 5000, 9);
  const std::vector<Row> rows = ReadRows(site.vcf(), root.path());
  int alleles = 0, rare = 0, common = 0, multiallelic = 0, indels = 0, missing = 0;
  for (const Row& r : rows) {
    bool known = false;
    for (const KnownVariant& v : KnownVariants()) known |= IsKnown(r, v);
    if (known) continue;
    multiallelic += r.alts.size() > 1;
    indels += r.ref.size() != r.alts[0].size();
    for (const std::string& gt : r.gt) missing += gt == "./.";
    for (size_t a = 0; a < r.alts.size(); ++a) {
      const double af = static_cast<double>(r.ac[a]) / r.an;
      ++alleles;
      rare += af < 0.01;
      common += af > 0.1;
    }
  }
  ASSERT_GE(alleles, 5000);
  const double rare_share = static_cast<double>(rare) / alleles;
  const double common_share = static_cast<double>(common) / alleles;
  EXPECT_GT(rare_share, 0.30);
  EXPECT_LT(rare_share, 0.45);
  EXPECT_GT(common_share, 0.20);
  EXPECT_LT(common_share, 0.32);
  EXPECT_GT(multiallelic, 30);  // ~2% of sites
  EXPECT_GT(indels, 300);       // ~12% of sites
  EXPECT_GT(missing, 1000);     // 10% of sites, 5% of their genotypes
}

TEST(SynthGenomesDeterminismTest, SameSeedSameBytesWhateverTheThreads) {
  oncomesh::testing::TempDir root;
  const Site a = Make(root.path(), "a", 2000, 300, 5000, 21, 1);
  const Site b = Make(root.path(), "b", 2000, 300, 5000, 21, 2);
  const Site c = Make(root.path(), "c", 2000, 300, 5000, 22, 2);
  const std::string vcf_a = ReadFile(a.vcf());
  ASSERT_GT(vcf_a.size(), 1000u);
  EXPECT_TRUE(vcf_a == ReadFile(b.vcf())) << "threads changed genomes.vcf.gz";
  EXPECT_TRUE(ReadFile(a.dir / "genomes.vcf.gz.tbi") == ReadFile(b.dir / "genomes.vcf.gz.tbi"));
  EXPECT_FALSE(vcf_a == ReadFile(c.vcf())) << "another seed gave the same genomes";
}

TEST(SynthGenomesDeterminismTest, GenomesLeaveTheFhirFilesUnchanged) {
  oncomesh::testing::TempDir root;
  const Site with = Make(root.path(), "with", 1500, 400, 1000, 4);
  const Site without = Make(root.path(), "without", 1500, 0, 1000, 4);
  EXPECT_TRUE(fs::exists(with.vcf()));
  EXPECT_FALSE(fs::exists(without.vcf()));
  for (const fs::directory_entry& e : fs::directory_iterator(with.dir)) {
    if (e.path().extension() != ".ndjson") continue;
    EXPECT_TRUE(ReadFile(e.path()) == ReadFile(without.dir / e.path().filename()))
        << e.path().filename();
  }
}

TEST(SynthGenomesOptionsTest, ZeroGenomesRemovesAnEarlierVcfAndBadCountsAreRejected) {
  oncomesh::testing::TempDir root;
  const Site first = Make(root.path(), "site", 100, 20, 100, 1);
  ASSERT_TRUE(fs::exists(first.vcf()));
  EXPECT_EQ(first.report.genomes, 20);
  const Site second = Make(root.path(), "site", 100, 0, 100, 1);
  EXPECT_FALSE(fs::exists(second.vcf()));
  EXPECT_FALSE(fs::exists(second.dir / "genomes.vcf.gz.tbi"));
  EXPECT_EQ(second.report.genomes, 0);
  EXPECT_EQ(second.report.genome_records, 0);

  SynthOptions options;
  options.site = "x";
  options.individuals = 100;
  options.out_dir = (fs::path(root.path()) / "bad").string();
  options.genomes = 101;
  EXPECT_EQ(WriteSyntheticSite(options).code(), StatusCode::kInvalidArgument);
  options.genomes = -2;
  EXPECT_EQ(WriteSyntheticSite(options).code(), StatusCode::kInvalidArgument);
  options.genomes = 10;
  options.genome_sites = -1;
  EXPECT_EQ(WriteSyntheticSite(options).code(), StatusCode::kInvalidArgument);
  // Default: min(individuals, 500).
  options.genome_sites = 10;
  SynthReport report;
  options.genomes = -1;
  ASSERT_TRUE(WriteSyntheticSite(options, &report).ok());
  EXPECT_EQ(report.genomes, 100);
}

// The benchmark size (200,000 sites x 100 samples): written and readable. Not a timing test.
TEST(SynthGenomesScaleTest, TwoHundredThousandSitesByHundredSamples) {
  oncomesh::testing::TempDir root;
  const auto start = std::chrono::steady_clock::now();
  const Site site = Make(root.path(), "scale", 100, 100, 200000, 17);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string count =
      Shell("/usr/bin/bcftools view -H " + site.vcf().string() + " | wc -l", root.path());
  EXPECT_EQ(std::stoll(count), site.report.genome_records);
  EXPECT_GE(site.report.genome_records, 200000);
  EXPECT_EQ(SampleNames(site.vcf(), root.path()).size(), 100u);
  std::cout << "[ info ] 200000 sites x 100 samples written and indexed in " << seconds << " s\n";
}

}  // namespace
}  // namespace oncomesh::synth

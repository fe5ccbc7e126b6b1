// VCF ingest against the shared test files, with bcftools (run as a subprocess) as the
// independent reading of each file's variants and genotypes.
#include "ingest/vcf/vcf_ingest.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "index/cohort_index.h"
#include "ingest/fhir/fhir_ingest.h"
#include "query/beacon_request.h"
#include "support/process.h"

namespace oncomesh::ingest {
namespace {

namespace fs = std::filesystem;

const std::string kVcf = std::string(ONCOMESH_SHARED_DIR) + "/data/vcf";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) out.push_back(item);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

// ---- The oracle: bcftools prints the records and genotypes; the documented normalisation
// (vcf_ingest.h) is applied here independently of the code under test.

std::string OracleChrom(std::string c) {
  if (c.size() > 3 && c.compare(0, 3, "chr") == 0) c = c.substr(3);
  return c == "M" ? "MT" : c;
}

// "CHROM:POS:REF:ALT" after trimming, or "" when the allele is not a variant.
std::string OracleVariant(const std::string& chrom, int64_t pos, std::string ref, std::string alt) {
  for (char& c : ref) c = static_cast<char>(toupper(c));
  if (alt == "." || alt == "*" || alt == "<*>" || alt == "<NON_REF>" || alt == "<X>") return "";
  if (alt[0] != '<' && alt.find_first_of("[]") == std::string::npos) {
    for (char& c : alt) c = static_cast<char>(toupper(c));
    if (alt == ref) return "";
    while (ref.size() > 1 && alt.size() > 1 && ref.back() == alt.back()) {
      ref.pop_back();
      alt.pop_back();
    }
    while (ref.size() > 1 && alt.size() > 1 && ref[0] == alt[0]) {
      ref.erase(0, 1);
      alt.erase(0, 1);
      ++pos;
    }
  }
  return OracleChrom(chrom) + ":" + std::to_string(pos) + ":" + ref + ":" + alt;
}

struct Reading {
  std::set<std::string> variants;
  // (variant, sample) -> zygosity (1 het, 2 hom, 3 hemi); the first record wins, as in the store.
  std::map<std::pair<std::string, std::string>, int> calls;
};

// `bcftools query` prints each record's ALT alleles (comma-separated) and each sample's GT;
// the split into one allele per ALT is done here: allele k's copies are the GT entries equal
// to k. (`bcftools norm -m-` would split too, but refuses some of the shared files — INFO
// Number=A fields of the wrong length, GT written twice — that htslib itself reads.)
Reading BcftoolsReading(const std::string& file) {
  std::string out;
  // Files without a GT column (or without samples) make bcftools query fail on %GT.
  const bool has_gt =
      testing::RunCommand(
          {"sh", "-c", "bcftools query -f '[%GT]\\n' '" + file + "' >/dev/null 2>&1"}, &out) == 0;
  const int rc = testing::RunCommand(
      {"sh", "-c",
       "bcftools query -f '%CHROM\\t%POS\\t%REF\\t%ALT" +
           std::string(has_gt ? "[\\t%SAMPLE=%GT]" : "") + "\\n' '" + file + "' 2>/dev/null"},
      &out);
  EXPECT_EQ(rc, 0) << out;
  Reading r;
  for (const std::string& line : Split(out, '\n')) {
    if (line.empty()) continue;
    const std::vector<std::string> f = Split(line, '\t');
    if (f.size() < 4) {
      ADD_FAILURE() << "unexpected bcftools line: " << line;
      continue;
    }
    const std::vector<std::string> alts = Split(f[3], ',');
    for (size_t k = 1; k <= alts.size(); ++k) {
      const std::string v = OracleVariant(f[0], std::stoll(f[1]), f[2], alts[k - 1]);
      if (v.empty()) continue;
      r.variants.insert(v);
      for (size_t i = 4; i < f.size(); ++i) {
        const size_t eq = f[i].rfind('=');
        const std::string sample = f[i].substr(0, eq);
        const std::string gt = f[i].substr(eq + 1);
        int ploidy = 0, copies = 0;
        for (const std::string& a : Split(gt, '/')) {
          for (const std::string& b : Split(a, '|')) {
            if (b.empty()) continue;
            ++ploidy;
            copies += b == std::to_string(k) ? 1 : 0;
          }
        }
        if (copies == 0) continue;
        const int zygosity = ploidy == 1 ? 3 : copies == ploidy ? 2 : 1;
        r.calls.emplace(std::make_pair(v, sample), zygosity);
      }
    }
  }
  return r;
}

class VcfIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/oncomesh-vcf-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    Result<node::NodeDir> node = node::NodeDir::Init(tmp_ + "/node", node::NodeConfig{});
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::make_unique<node::NodeDir>(std::move(*node));
    Result<std::unique_ptr<store::Store>> store = node_->OpenStore();
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(tmp_);
  }

  // Individuals for these patient ids, as a clinical ingest would have stored them.
  void AddIndividuals(const std::vector<std::string>& patient_ids) {
    model::RecordBatch batch;
    std::string key;
    for (const std::string& p : patient_ids) {
      model::Individual ind;
      ind.id = node_->pseudonymizer().IndividualPseudonym(p);
      batch.individuals.push_back(ind);
      key += p + ",";
    }
    Result<store::IngestCounts> c =
        store_->IngestBatch({"individuals", "test-" + key, "test"}, batch);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }

  IngestReport Ingest(const std::vector<std::string>& paths, VcfIngestOptions options = {}) {
    Result<IngestReport> report = IngestVcf(*node_, *store_, paths, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : IngestReport{};
  }

  // The one file's outcome; fails the test if there is not exactly one.
  FileOutcome IngestOne(const std::string& path, VcfIngestOptions options = {}) {
    IngestReport r = Ingest({path}, options);
    EXPECT_EQ(r.files.size(), 1u);
    return r.files.empty() ? FileOutcome{} : r.files[0];
  }

  std::vector<std::string> SampleNames(const std::string& file) {
    std::string out;
    EXPECT_EQ(
        testing::RunCommand({"sh", "-c", "bcftools query -l '" + file + "' 2>/dev/null"}, &out), 0);
    std::vector<std::string> names;
    for (const std::string& n : Split(out, '\n')) {
      if (!n.empty()) names.push_back(n);
    }
    return names;
  }

  // What the store holds, in the oracle's terms (samples named by their individual id).
  Reading StoredReading() {
    Reading r;
    EXPECT_TRUE(
        store::ScanStoredVariants(*store_, [&](const model::Variant& v,
                                               const std::vector<model::VariantCall>& calls) {
          const std::string k =
              v.chrom + ":" + std::to_string(v.position) + ":" + v.ref + ":" + v.alt;
          r.variants.insert(k);
          for (const model::VariantCall& c : calls) {
            r.calls.emplace(std::make_pair(k, c.individual_id), static_cast<int>(c.zygosity));
          }
        }).ok());
    return r;
  }

  // Distinct variants (the same variant from two files is one).
  int64_t CountVariants() {
    std::set<std::string> ids;
    EXPECT_TRUE(store::ScanStoredVariants(*store_, [&](const model::Variant& v, const auto&) {
                  ids.insert(v.id);
                }).ok());
    return static_cast<int64_t>(ids.size());
  }
  std::vector<model::VariantCall> Calls() {
    std::vector<model::VariantCall> out;
    EXPECT_TRUE(store::ScanStoredVariants(*store_, [&](const model::Variant&, const auto& calls) {
                  out.insert(out.end(), calls.begin(), calls.end());
                }).ok());
    return out;
  }
  std::set<std::string> VariantDirFiles() {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(node_->variants_dir(), ec)) {
      out.insert(e.path().filename().string());
    }
    return out;
  }

  // Everything that must not change when a file is refused.
  std::tuple<store::Seq, size_t, std::set<std::string>> Snapshot() {
    Result<store::Seq> seq = store_->LastSeq();
    Result<std::vector<store::SourceFile>> files = store_->ListSourceFiles();
    EXPECT_TRUE(seq.ok() && files.ok());
    return {seq.ok() ? *seq : -1, files.ok() ? files->size() : 0, VariantDirFiles()};
  }

  std::string tmp_;
  std::unique_ptr<node::NodeDir> node_;
  std::unique_ptr<store::Store> store_;
};

struct SharedFile {
  const char* name;
  const char* assembly;  // --assembly, or "" to let the file tell
  const char* refused;   // "" when the file must go in, else a part of the expected error
};

// Every file of shared/data/vcf. spec-v4.3 is NCBI36 (B36) and says so: there is no GRCh37 or
// GRCh38 mention, so it needs --assembly (the test gives one to exercise the rest). vcf44_1
// uses VCF 4.4 phasing prefixes ("/0|1") that htslib 1.16 cannot parse (bcftools 1.16 refuses
// it too), so it is refused, naming its line.
const SharedFile kSharedFiles[] = {
    {"index.vcf", "", ""},
    {"tabix_vcf_file.vcf", "", ""},
    {"tabix_vcf_file.bcf", "", ""},
    {"spec-v4.3.vcf.gz", "GRCh37", ""},
    {"spec-v4.3.bcf", "GRCh37", ""},
    {"candig-test.vcf.gz", "", ""},
    {"vcf44_1.vcf", "GRCh37", "vcf44_1.vcf:8: "},
    {"formatmissing.vcf", "GRCh38", ""},
    {"bcf-sr_weird-chr-names.vcf", "GRCh38", ""},
    {"longrefs_index.vcf", "GRCh38", ""},
    {"tabix_large_chr.vcf", "GRCh38", ""},
    {"noroundtrip.vcf", "GRCh38", ""},
    {"modhdr.vcf.gz", "GRCh37", ""},
};

TEST_F(VcfIngestTest, EverySharedFileAgainstBcftools) {
  for (const SharedFile& f : kSharedFiles) {
    SCOPED_TRACE(f.name);
    TearDown();
    SetUp();
    const std::string path = kVcf + "/" + f.name;
    const std::vector<std::string> samples = SampleNames(path);
    AddIndividuals(samples);
    VcfIngestOptions options;
    options.assembly = f.assembly;
    const auto before = Snapshot();
    const FileOutcome out = IngestOne(path, options);
    if (*f.refused) {
      EXPECT_FALSE(out.status.ok());
      EXPECT_NE(out.status.message().find(f.refused), std::string::npos) << out.status.message();
      EXPECT_EQ(Snapshot(), before);
      continue;
    }
    ASSERT_TRUE(out.status.ok()) << out.status.message();
    EXPECT_FALSE(out.already_ingested);
    if (std::string(f.name) == "longrefs_index.vcf") {
      // bcftools 1.16 prints POS modulo 2^32 (query shows this record at 1420065518), so it
      // cannot be the oracle here. The file's only alleles other than <*> (checked with awk):
      EXPECT_EQ(StoredReading().variants, std::set<std::string>{"1:10010000110:G:<DEL>"});
      EXPECT_TRUE(Calls().empty());  // PL only, no GT
      continue;
    }
    Reading oracle = BcftoolsReading(path);
    // Samples in the oracle are names; in the store, individuals.
    std::map<std::pair<std::string, std::string>, int> by_individual;
    for (const auto& [k, z] : oracle.calls) {
      by_individual.emplace(
          std::make_pair(k.first, node_->pseudonymizer().IndividualPseudonym(k.second)), z);
    }
    const Reading stored = StoredReading();
    EXPECT_EQ(stored.variants, oracle.variants);
    EXPECT_EQ(stored.calls, by_individual);
    // The kept copy, its index and its record.
    Result<std::vector<model::VariantFile>> files = store_->ListVariantFiles();
    ASSERT_TRUE(files.ok());
    ASSERT_EQ(files->size(), 1u);
    const model::VariantFile& vf = (*files)[0];
    EXPECT_EQ(vf.samples, static_cast<int64_t>(samples.size()));
    EXPECT_TRUE(fs::exists(node_->dir() + "/" + vf.path)) << vf.path;
    const bool bcf = std::string(f.name).ends_with(".bcf");
    EXPECT_EQ(vf.format, bcf ? "BCF" : "VCF");
    EXPECT_TRUE(fs::exists(node_->dir() + "/" + vf.path + ".csi") ||
                (!bcf && fs::exists(node_->dir() + "/" + vf.path + ".tbi")));
    Result<model::VariantFile> found = store_->FindVariantFile(vf.id);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->content_sha256, vf.content_sha256);
  }
}

TEST_F(VcfIngestTest, CountsOfTheSpecExample) {
  AddIndividuals({"NA00001", "NA00002", "NA00003"});
  VcfIngestOptions options;
  options.assembly = "GRCh37";
  const FileOutcome out = IngestOne(kVcf + "/spec-v4.3.vcf.gz", options);
  ASSERT_TRUE(out.status.ok()) << out.status.message();
  EXPECT_EQ(out.resources, 5);
  // 20:14370 G>A, 17330 T>A, 1110696 A>G and A>T, 1234567 GTC>G and GTC>GTCT (C>CT at
  // 1234569); 1230237 T>. is no variant.
  EXPECT_EQ(CountVariants(), 6);
  const Reading stored = StoredReading();
  EXPECT_TRUE(stored.variants.count("20:1234569:C:CT"));
  EXPECT_TRUE(stored.variants.count("20:1234567:GTC:G"));
  const std::string na3 = node_->pseudonymizer().IndividualPseudonym("NA00003");
  EXPECT_EQ(stored.calls.at({"20:14370:G:A", na3}), 2);      // 1/1
  EXPECT_EQ(stored.calls.at({"20:1110696:A:T", na3}), 2);    // 2/2
  EXPECT_EQ(stored.calls.at({"20:1234567:GTC:G", na3}), 2);  // 1/1
  for (const model::VariantCall& c : Calls()) {
    EXPECT_EQ(c.origin, model::VariantOrigin::kGermline);
  }
}

TEST_F(VcfIngestTest, TumourNormalPairGivesSomaticCallsForTheTumourOnly) {
  AddIndividuals({"sample_normal", "sample_tumour"});
  const FileOutcome out = IngestOne(kVcf + "/candig-test.vcf.gz");
  ASSERT_TRUE(out.status.ok()) << out.status.message();
  const std::string tumour = node_->pseudonymizer().IndividualPseudonym("sample_tumour");
  int somatic = 0;
  for (const model::VariantCall& c : Calls()) {
    EXPECT_EQ(c.origin == model::VariantOrigin::kSomatic, c.individual_id == tumour);
    somatic += c.origin == model::VariantOrigin::kSomatic ? 1 : 0;
  }
  EXPECT_GT(somatic, 0);
  Result<std::vector<model::VariantFile>> files = store_->ListVariantFiles();
  ASSERT_TRUE(files.ok() && files->size() == 1u);
  EXPECT_EQ((*files)[0].assembly, "GRCh38");  // from chr1's length
  // Its htsget id is a keyed digest of its content, nothing of its name.
  EXPECT_EQ((*files)[0].id,
            node_->pseudonymizer().Pseudonym("VariantFile", (*files)[0].content_sha256));
  EXPECT_EQ(out.served_as, (*files)[0].id);
  int tumour_biosamples = 0;
  ASSERT_TRUE(store_
                  ->ScanBiosamples(0,
                                   [&](store::Seq, const model::Biosample& b) {
                                     tumour_biosamples += b.tumour ? 1 : 0;
                                     EXPECT_EQ(b.tumour, b.individual_id == tumour);
                                   })
                  .ok());
  EXPECT_EQ(tumour_biosamples, 1);
  // The kept copy names the tumour sample by its pseudonym only.
  std::string text;
  ASSERT_EQ(
      testing::RunCommand(
          {"sh", "-c", "bcftools view -h '" + node_->dir() + "/" + (*files)[0].path + "'"}, &text),
      0);
  EXPECT_EQ(text.find("sample_tumour"), std::string::npos);
  EXPECT_EQ(text.find("sample_normal"), std::string::npos);
  const std::string tumour_biosample = node_->pseudonymizer().Pseudonym(
      "VcfSample", std::string("sample_tumour") + '\0' + "sample_tumour");
  EXPECT_NE(text.find("##tumor_sample=" + tumour_biosample + "\n"), std::string::npos) << text;
}

TEST_F(VcfIngestTest, SomaticInfoFlagAndSampleLines) {
  AddIndividuals({"P1", "P2"});
  const std::string vcf = tmp_ + "/somatic.vcf";
  WriteAll(vcf,
           "##fileformat=VCFv4.3\n##contig=<ID=1,length=248956422>\n"
           "##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description=\"Somatic\">\n"
           "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
           "##SAMPLE=<ID=P1,Genomes=Germline,Description=\"Blood\">\n"
           "##SAMPLE=<ID=P2,Genomes=Germline;Tumor,Description=\"Biopsy\">\n"
           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP1\tP2\n"
           "1\t100\t.\tA\tT\t.\tPASS\tSOMATIC\tGT\t0/1\t0/1\n"
           "1\t200\t.\tC\tG\t.\tPASS\t.\tGT\t0/1\t1/1\n");
  ASSERT_TRUE(IngestOne(vcf).status.ok());
  const std::string p2 = node_->pseudonymizer().IndividualPseudonym("P2");
  int n = 0;
  for (const model::VariantCall& c : Calls()) {
    ++n;
    EXPECT_EQ(c.origin == model::VariantOrigin::kSomatic, c.individual_id == p2);
  }
  EXPECT_EQ(n, 4);

  // A single-sample file: INFO/SOMATIC alone makes the call somatic.
  const std::string single = tmp_ + "/single.vcf";
  WriteAll(single,
           "##fileformat=VCFv4.3\n##contig=<ID=1,length=248956422>\n"
           "##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description=\"Somatic\">\n"
           "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
           "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tP1\n"
           "1\t300\t.\tA\tT\t.\tPASS\tSOMATIC\tGT\t0/1\n"
           "1\t400\t.\tC\tG\t.\tPASS\t.\tGT\t1\n");
  ASSERT_TRUE(IngestOne(single).status.ok());
  const std::string p1 = node_->pseudonymizer().IndividualPseudonym("P1");
  std::map<std::string, model::VariantCall> p1_calls;
  for (const model::VariantCall& c : Calls()) {
    if (c.individual_id == p1) p1_calls[c.variant_id] = c;
  }
  EXPECT_EQ(p1_calls.at("GRCh38:1:300:A:T").origin, model::VariantOrigin::kSomatic);
  EXPECT_EQ(p1_calls.at("GRCh38:1:400:C:G").origin, model::VariantOrigin::kGermline);
  EXPECT_EQ(p1_calls.at("GRCh38:1:400:C:G").zygosity, model::Zygosity::kHemizygous);
}

// A sample named after a FHIR Patient.id links to that Patient's Individual.
TEST_F(VcfIngestTest, SamplesLinkToFhirPatients) {
  const std::string ndjson = tmp_ + "/Patient.000.ndjson";
  WriteAll(ndjson,
           "{\"resourceType\":\"Patient\",\"id\":\"NA00001\",\"gender\":\"female\"}\n"
           "{\"resourceType\":\"Patient\",\"id\":\"NA00002\",\"gender\":\"male\"}\n");
  Result<IngestReport> fhir = IngestFhir(*node_, *store_, {ndjson});
  ASSERT_TRUE(fhir.ok());
  ASSERT_TRUE(fhir->files[0].status.ok()) << fhir->files[0].status.message();
  std::set<std::string> individuals;
  ASSERT_TRUE(store_
                  ->ScanIndividuals(
                      0, [&](store::Seq, const model::Individual& i) { individuals.insert(i.id); })
                  .ok());
  ASSERT_EQ(individuals.size(), 2u);

  VcfIngestOptions options;
  options.assembly = "GRCh37";
  // NA00003 has no Patient: strict refuses the file, naming the sample.
  options.strict_references = true;
  const auto before = Snapshot();
  FileOutcome strict = IngestOne(kVcf + "/spec-v4.3.vcf.gz", options);
  ASSERT_FALSE(strict.status.ok());
  EXPECT_NE(strict.status.message().find("sample 'NA00003': no individual with patient id "
                                         "'NA00003' in the store"),
            std::string::npos)
      << strict.status.message();
  EXPECT_EQ(Snapshot(), before);

  // By default it is left out and reported.
  options.strict_references = false;
  IngestReport report = Ingest({kVcf + "/spec-v4.3.vcf.gz"}, options);
  ASSERT_TRUE(report.files[0].status.ok()) << report.files[0].status.message();
  ASSERT_EQ(report.skipped_unresolved_subjects.size(), 1u);
  const auto& [key, left_out] = *report.skipped_unresolved_subjects.begin();
  EXPECT_NE(key.find("sample NA00003"), std::string::npos) << key;
  EXPECT_EQ(left_out, 3);  // NA00003: 1/1 at 14370, 2/2 at 1110696, 1/1 at 1234567
  std::set<std::string> linked;
  for (const model::VariantCall& c : Calls()) {
    EXPECT_TRUE(individuals.count(c.individual_id)) << c.individual_id;
    linked.insert(c.individual_id);
  }
  EXPECT_EQ(linked, individuals);
}

TEST_F(VcfIngestTest, SamplesMapLinksLikeNames) {
  AddIndividuals({"patient-1", "patient-2", "patient-3"});
  const std::string map = tmp_ + "/samples.tsv";
  WriteAll(map,
           "vcf_sample\tpatient_id\tbiosample_id\n# comment\n"
           "NA00001\tpatient-1\tspecimen-1\nNA00002\tpatient-2\n\nNA00003\tpatient-3\n");
  VcfIngestOptions options;
  options.assembly = "GRCh37";
  options.samples_map = map;
  options.strict_references = true;
  const FileOutcome out = IngestOne(kVcf + "/spec-v4.3.bcf", options);
  ASSERT_TRUE(out.status.ok()) << out.status.message();
  const deid::Pseudonymizer& p = node_->pseudonymizer();
  const Reading oracle = BcftoolsReading(kVcf + "/spec-v4.3.bcf");
  std::map<std::string, std::string> patient_of = {
      {"NA00001", "patient-1"}, {"NA00002", "patient-2"}, {"NA00003", "patient-3"}};
  std::map<std::pair<std::string, std::string>, int> expected;
  for (const auto& [k, z] : oracle.calls) {
    expected.emplace(std::make_pair(k.first, p.IndividualPseudonym(patient_of.at(k.second))), z);
  }
  EXPECT_EQ(StoredReading().calls, expected);
  for (const model::VariantCall& c : Calls()) {
    if (c.individual_id == p.IndividualPseudonym("patient-1")) {
      EXPECT_EQ(c.biosample_id, p.Pseudonym("Specimen", "specimen-1"));
    }
  }
}

TEST_F(VcfIngestTest, BadSamplesMapRefusesEverything) {
  const std::string map = tmp_ + "/samples.tsv";
  WriteAll(map, "NA00001\tpatient-1\nNA00002 patient-2\n");
  VcfIngestOptions options;
  options.assembly = "GRCh37";
  options.samples_map = map;
  const auto before = Snapshot();
  Result<IngestReport> r = IngestVcf(*node_, *store_, {kVcf + "/spec-v4.3.vcf.gz"}, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            map + ":2: expected vcf_sample<TAB>patient_id[<TAB>biosample_id], found 1 field(s)");
  EXPECT_EQ(Snapshot(), before);
  WriteAll(map, "NA00001\tpatient-1\nNA00001\tpatient-2\n");
  r = IngestVcf(*node_, *store_, {kVcf + "/spec-v4.3.vcf.gz"}, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(":2: sample 'NA00001' is mapped twice"), std::string::npos);
}

const char kHeader[] =
    "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621>\n"
    "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n";

TEST_F(VcfIngestTest, BadInputIsRefusedAndChangesNothing) {
  AddIndividuals({"S1"});
  // One good file first, so "unchanged" means something.
  const std::string good = tmp_ + "/good.vcf";
  WriteAll(good, std::string(kHeader) + "1\t10\t.\tA\tC\t.\t.\t.\tGT\t0/1\n");
  ASSERT_TRUE(IngestOne(good).status.ok());

  struct Bad {
    std::string name;
    std::string content;
    std::string error;  // the whole message after the path
  };
  std::string truncated = ReadAll(kVcf + "/spec-v4.3.vcf.gz");
  truncated.resize(truncated.size() - 40);
  std::string corrupt = ReadAll(kVcf + "/candig-test.vcf.gz");
  for (size_t i = 200; i < 1200; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5a);
  const std::vector<Bad> cases = {
      {"pos.vcf",
       std::string(kHeader) +
           "1\t10\t.\tA\tC\t.\t.\t.\tGT\t0/1\n1\tabc\t.\tA\tC\t.\t.\t.\tGT\t0/1\n",
       ":6: POS 'abc' is not a positive number"},
      // Longer than int64 holds: found by the vcf fuzz target (signed overflow, UBSan).
      {"longpos.vcf", std::string(kHeader) + "1\t76155555555555555610\t.\tA\tC\t.\t.\t.\tGT\t0/1\n",
       ":5: POS '76155555555555555610' is not a positive number"},
      {"columns.vcf", std::string(kHeader) + "1\t10\t.\tA\n",
       ":5: expected at least 8 tab-separated columns, found 4"},
      {"contig.vcf",
       std::string(kHeader) +
           "1\t10\t.\tA\tC\t.\t.\t.\tGT\t0/1\n2\t10\t.\tA\tC\t.\t.\t.\tGT\t0/1\n",
       ":6: contig '2' is not declared in the header (no ##contig=<ID=2>)"},
      {"truncated.vcf.gz", truncated,
       ": truncated bgzip file (the BGZF end-of-file marker is missing)"},
      {"corrupt.vcf.gz", corrupt, ""},
      {"notvcf.vcf", "hello, this is not a VCF\n", ": not a VCF or BCF file"},
      {"gt.vcf", std::string(kHeader) + "1\t10\t.\tA\tC\t.\t.\t.\tGT\t0/x\n", ":5: "},
  };
  for (const Bad& b : cases) {
    SCOPED_TRACE(b.name);
    const std::string path = tmp_ + "/" + b.name;
    WriteAll(path, b.content);
    const auto before = Snapshot();
    const FileOutcome out = IngestOne(path);
    ASSERT_FALSE(out.status.ok());
    EXPECT_EQ(out.status.message().rfind(path + b.error, 0), 0u) << out.status.message();
    EXPECT_EQ(Snapshot(), before);
  }
}

TEST_F(VcfIngestTest, ReferenceCheck) {
  AddIndividuals({"S1"});
  const std::string fasta = tmp_ + "/ref.fa";
  // 1-based: position 1 A, 2 C, 3 G, 4 T, ...
  WriteAll(fasta, ">1\nACGTACGTACGTACGTACGT\nACGTACGTAC\n>2\nTTTTTTTTTT\n");
  VcfIngestOptions options;
  options.reference_fasta = fasta;
  const std::string good = tmp_ + "/good.vcf";
  WriteAll(good, std::string(kHeader) +
                     "1\t3\t.\tG\tT\t.\t.\t.\tGT\t0/1\n"
                     "1\t21\t.\tacgN\tA\t.\t.\t.\tGT\t1/1\n");
  ASSERT_TRUE(IngestOne(good, options).status.ok()) << IngestOne(good, options).status.message();
  EXPECT_TRUE(fs::exists(fasta + ".fai"));

  const std::string bad = tmp_ + "/bad.vcf";
  WriteAll(bad, std::string(kHeader) +
                    "1\t3\t.\tG\tT\t.\t.\t.\tGT\t0/1\n"
                    "1\t4\t.\tTA\tT\t.\t.\t.\tGT\t0/1\n"
                    "1\t6\t.\tG\tT\t.\t.\t.\tGT\t0/1\n");
  const auto before = Snapshot();
  FileOutcome out = IngestOne(bad, options);
  ASSERT_FALSE(out.status.ok());
  EXPECT_EQ(out.status.message(), bad + ":7: REF 'G' does not match the reference at 1:6 ('C')");
  EXPECT_EQ(Snapshot(), before);

  // BCF has no lines: the record is named by its number and CHROM:POS.
  const std::string fasta20 = tmp_ + "/ref20.fa";
  WriteAll(fasta20, ">20\n" + std::string(1300000, 'A') + "\n");
  VcfIngestOptions bcf_options;
  bcf_options.assembly = "GRCh37";
  bcf_options.reference_fasta = fasta20;
  out = IngestOne(kVcf + "/spec-v4.3.bcf", bcf_options);
  ASSERT_FALSE(out.status.ok());
  EXPECT_EQ(out.status.message(), kVcf +
                                      "/spec-v4.3.bcf: record 1 (20:14370): REF 'G' does not "
                                      "match the reference at 20:14370 ('A')");
  // A contig the FASTA does not have.
  VcfIngestOptions fasta20_only;
  fasta20_only.reference_fasta = fasta20;
  out = IngestOne(kVcf + "/candig-test.vcf.gz", fasta20_only);
  ASSERT_FALSE(out.status.ok());
  EXPECT_NE(out.status.message().find(":71: contig 'chr1' is not in the reference FASTA"),
            std::string::npos)
      << out.status.message();
  EXPECT_EQ(Snapshot(), before);

  // From node.yaml: genomics.reference_fasta, relative to the node directory.
  fs::copy_file(fasta, node_->dir() + "/ref.fa");
  node_->mutable_config().reference_fasta = "ref.fa";
  out = IngestOne(bad);
  ASSERT_FALSE(out.status.ok());
  EXPECT_NE(out.status.message().find("does not match the reference"), std::string::npos);
}

TEST_F(VcfIngestTest, AssemblyMustBeKnown) {
  const FileOutcome out = IngestOne(kVcf + "/spec-v4.3.vcf.gz");
  ASSERT_FALSE(out.status.ok());
  EXPECT_NE(out.status.message().find("cannot tell the assembly"), std::string::npos);
  EXPECT_NE(out.status.message().find("--assembly GRCh37|GRCh38"), std::string::npos);
  // Contig 1 of GRCh37's length contradicts --assembly GRCh38.
  VcfIngestOptions options;
  options.assembly = "GRCh38";
  const FileOutcome contradiction = IngestOne(kVcf + "/index.vcf", options);
  ASSERT_FALSE(contradiction.status.ok());
  EXPECT_NE(contradiction.status.message().find("which is GRCh37's, not GRCh38's"),
            std::string::npos)
      << contradiction.status.message();
  options.assembly = "hg19";
  EXPECT_FALSE(IngestVcf(*node_, *store_, {kVcf + "/index.vcf"}, options).ok());
}

TEST_F(VcfIngestTest, IdempotentAndTheSameCallsFromVcfAndBcf) {
  AddIndividuals({"NA00001", "NA00002", "NA00003"});
  VcfIngestOptions options;
  options.assembly = "GRCh37";
  const FileOutcome first = IngestOne(kVcf + "/spec-v4.3.vcf.gz", options);
  ASSERT_TRUE(first.status.ok());
  EXPECT_GT(first.records_added, 0);
  const Reading after_first = StoredReading();
  const auto snapshot = Snapshot();

  const FileOutcome again = IngestOne(kVcf + "/spec-v4.3.vcf.gz", options);
  ASSERT_TRUE(again.status.ok());
  EXPECT_TRUE(again.already_ingested);
  EXPECT_EQ(again.records_added, 0);
  EXPECT_EQ(Snapshot(), snapshot);

  // The same content as BCF: a new file (kept for htsget) with its own sample columns and
  // blocks, the same biosamples (not added again), the same variants and calls.
  const FileOutcome bcf = IngestOne(kVcf + "/spec-v4.3.bcf", options);
  ASSERT_TRUE(bcf.status.ok()) << bcf.status.message();
  EXPECT_EQ(bcf.records_added, first.records_added - 3);  // all but the three biosamples
  EXPECT_EQ(StoredReading().variants, after_first.variants);
  EXPECT_EQ(StoredReading().calls, after_first.calls);
  Result<std::vector<model::VariantFile>> files = store_->ListVariantFiles();
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 2u);
  EXPECT_EQ((*files)[0].id, first.served_as);
  EXPECT_EQ((*files)[1].id, bcf.served_as);
  EXPECT_EQ(again.served_as, first.served_as);  // "already ingested" names it too
  EXPECT_NE((*files)[0].id, (*files)[1].id);
  for (const model::VariantFile& f : *files) {
    EXPECT_EQ(f.id, node_->pseudonymizer().Pseudonym("VariantFile", f.content_sha256));
    EXPECT_EQ(f.id.find("spec"), std::string::npos);
  }
  Result<std::vector<store::SourceFile>> sources = store_->ListSourceFiles();
  ASSERT_TRUE(sources.ok());
  for (const store::SourceFile& f : *sources) {
    EXPECT_EQ(f.name.find("spec"), std::string::npos) << f.name;
  }
  EXPECT_EQ((*files)[1].format, "BCF");
  EXPECT_EQ((*files)[0].records, 5);
  EXPECT_EQ((*files)[0].path, "variants/" + (*files)[0].content_sha256 + ".vcf.gz");
  // Both copies: the same records as their source, sample columns named by pseudonyms (the
  // biosample ids of the calls), no source sample name left anywhere.
  std::set<std::string> biosamples;
  for (const model::VariantCall& c : Calls()) biosamples.insert(c.biosample_id);
  EXPECT_EQ(biosamples.size(), 3u);
  for (int i = 0; i < 2; ++i) {
    const std::string copy = node_->dir() + "/" + (*files)[i].path;
    const std::string source = kVcf + (i == 0 ? "/spec-v4.3.vcf.gz" : "/spec-v4.3.bcf");
    std::string copy_records, source_records, names, text;
    ASSERT_EQ(testing::RunCommand({"sh", "-c", "bcftools view -H '" + copy + "'"}, &copy_records),
              0);
    ASSERT_EQ(
        testing::RunCommand({"sh", "-c", "bcftools view -H '" + source + "'"}, &source_records), 0);
    EXPECT_EQ(copy_records, source_records);
    ASSERT_EQ(testing::RunCommand({"sh", "-c", "bcftools query -l '" + copy + "'"}, &names), 0);
    std::set<std::string> copy_samples;
    for (const std::string& n : Split(names, '\n')) {
      if (!n.empty()) copy_samples.insert(n);
    }
    EXPECT_EQ(copy_samples, biosamples);
    ASSERT_EQ(testing::RunCommand({"sh", "-c", "bcftools view '" + copy + "'"}, &text), 0);
    EXPECT_EQ(text.find("NA0000"), std::string::npos);
  }
  EXPECT_TRUE(fs::exists(node_->dir() + "/" + (*files)[0].path + ".tbi"));
  EXPECT_TRUE(fs::exists(node_->dir() + "/" + (*files)[1].path + ".csi"));
}

TEST_F(VcfIngestTest, PlainVcfIsKeptBgzippedWithItsDataLinesUnchanged) {
  const FileOutcome out = IngestOne(kVcf + "/tabix_vcf_file.vcf");
  ASSERT_TRUE(out.status.ok()) << out.status.message();
  Result<std::vector<model::VariantFile>> files = store_->ListVariantFiles();
  ASSERT_TRUE(files.ok() && files->size() == 1u);
  const std::string copy = node_->dir() + "/" + (*files)[0].path;
  std::string text, expected;
  ASSERT_EQ(testing::RunCommand({"sh", "-c", "bgzip -dc '" + copy + "' | grep -v '^#'"}, &text), 0);
  ASSERT_EQ(testing::RunCommand({"sh", "-c", "grep -v '^#' '" + kVcf + "/tabix_vcf_file.vcf'"},
                                &expected),
            0);
  EXPECT_EQ(text, expected);
  // The header keeps its lines but the command-line provenance; samples A and B are renamed.
  std::string header;
  ASSERT_EQ(testing::RunCommand({"sh", "-c", "bgzip -dc '" + copy + "' | grep '^#'"}, &header), 0);
  EXPECT_NE(header.find("##readme=AAAAAA\n"), std::string::npos);
  EXPECT_EQ(header.find("bcftools_viewCommand"), std::string::npos);
  const std::string p =
      node_->pseudonymizer().Pseudonym("VcfSample", std::string("A") + '\0' + "A");
  EXPECT_NE(header.find("\tFORMAT\t" + p + "\t"), std::string::npos) << header;
  // tabix can query it.
  std::string region;
  ASSERT_EQ(
      testing::RunCommand({"sh", "-c", "tabix '" + copy + "' 1:3062915-3062915 | wc -l"}, &region),
      0);
  EXPECT_EQ(region, "2\n");
  // Nothing is linked (no individuals yet), so the samples are reported and no call counts.
  EXPECT_TRUE(Calls().empty());
  EXPECT_GT(CountVariants(), 0);
}

// Genomes ingested before their patients (issue 12): the calls are kept, and the samples link
// once the Patients are ingested, with no second VCF ingest (which would add nothing: the file
// is already ingested). Carriers then count with clinical filters.
TEST_F(VcfIngestTest, VcfBeforeItsPatientsLinksWhenTheyArrive) {
  const std::string vcf = kVcf + "/spec-v4.3.vcf.gz";
  VcfIngestOptions options;
  options.assembly = "GRCh37";
  IngestReport report = Ingest({vcf}, options);
  ASSERT_TRUE(report.files.at(0).status.ok()) << report.files[0].status.message();
  const std::string file_id = report.files[0].served_as;
  EXPECT_EQ(report.skipped_unresolved_subjects.size(), 3u);  // NA00001-3, not linked yet
  EXPECT_TRUE(Calls().empty());
  Result<model::VariantFile> file = store_->FindVariantFile(file_id);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->unlinked_samples, 3);
  EXPECT_TRUE(file->datasets.empty());

  const std::string ndjson = tmp_ + "/Patient.000.ndjson";
  WriteAll(ndjson,
           "{\"resourceType\":\"Patient\",\"id\":\"NA00001\",\"gender\":\"female\"}\n"
           "{\"resourceType\":\"Patient\",\"id\":\"NA00002\",\"gender\":\"male\"}\n"
           "{\"resourceType\":\"Patient\",\"id\":\"NA00003\",\"gender\":\"female\"}\n");
  Result<IngestReport> fhir = IngestFhir(*node_, *store_, {ndjson});
  ASSERT_TRUE(fhir.ok());
  ASSERT_TRUE(fhir->files[0].status.ok()) << fhir->files[0].status.message();

  // Every call of the file, as bcftools reads it, now belongs to its sample's individual.
  const Reading oracle = BcftoolsReading(vcf);
  std::map<std::pair<std::string, std::string>, int> by_individual;
  for (const auto& [k, z] : oracle.calls) {
    by_individual.emplace(
        std::make_pair(k.first, node_->pseudonymizer().IndividualPseudonym(k.second)), z);
  }
  ASSERT_FALSE(by_individual.empty());
  EXPECT_EQ(StoredReading().calls, by_individual);
  file = store_->FindVariantFile(file_id);
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->unlinked_samples, 0);
  EXPECT_EQ(file->datasets.size(), 1u);  // the node's one dataset

  // The index counts the carriers with a clinical filter: women carrying 20:14370 G>A.
  Result<index::Vocabulary> vocab = index::Vocabulary::LoadEmbedded();
  ASSERT_TRUE(vocab.ok());
  Result<std::unique_ptr<index::CohortIndex>> idx = index::CohortIndex::Build(*store_, *vocab);
  ASSERT_TRUE(idx.ok()) << idx.status().ToString();
  EXPECT_EQ((*idx)->stats().biosamples, 3u);
  int64_t women_carrying = 0;
  for (const char* woman : {"NA00001", "NA00003"}) {
    women_carrying += oracle.calls.count({"20:14370:G:A", woman});
  }
  ASSERT_GT(women_carrying, 0);
  auto request = query::ParseBeaconGet({{"assemblyId", "GRCh37"},
                                        {"referenceName", "20"},
                                        {"start", "14369"},
                                        {"referenceBases", "G"},
                                        {"alternateBases", "A"},
                                        {"filters", "NCIT:C16576"}});
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  Result<index::Plan> plan = query::BuildRequestPlan(*request, **idx);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(static_cast<int64_t>((*idx)->Count(*plan)), women_carrying);

  // Ingesting the file again adds nothing, and changes nothing of the links.
  const FileOutcome again = IngestOne(vcf, options);
  EXPECT_TRUE(again.already_ingested);
  EXPECT_EQ(again.served_as, file_id);
  EXPECT_EQ(StoredReading().calls, by_individual);
}

// A samples map given after the file: --relink links the samples it names now (their calls
// were kept); ingesting the file again without it adds nothing.
TEST_F(VcfIngestTest, RelinkLinksSamplesAMapNamesLater) {
  AddIndividuals({"patient-1", "patient-2", "patient-3"});
  const std::string vcf = kVcf + "/spec-v4.3.vcf.gz";
  const std::string first_map = tmp_ + "/first.tsv";
  WriteAll(first_map, "NA00001\tpatient-1\n");
  VcfIngestOptions options;
  options.assembly = "GRCh37";
  options.samples_map = first_map;
  const FileOutcome first = IngestOne(vcf, options);
  ASSERT_TRUE(first.status.ok()) << first.status.message();
  const Reading oracle = BcftoolsReading(vcf);
  auto expected_for = [&](const std::map<std::string, std::string>& patient_of) {
    std::map<std::pair<std::string, std::string>, int> out;
    for (const auto& [k, z] : oracle.calls) {
      const auto it = patient_of.find(k.second);
      if (it == patient_of.end()) continue;
      out.emplace(std::make_pair(k.first, node_->pseudonymizer().IndividualPseudonym(it->second)),
                  z);
    }
    return out;
  };
  const std::map<std::string, std::string> one = {{"NA00001", "patient-1"}};
  const std::map<std::string, std::string> all = {
      {"NA00001", "patient-1"}, {"NA00002", "patient-2"}, {"NA00003", "patient-3"}};
  EXPECT_EQ(StoredReading().calls, expected_for(one));

  const std::string full_map = tmp_ + "/full.tsv";
  WriteAll(full_map, "NA00001\tpatient-1\nNA00002\tpatient-2\nNA00003\tpatient-3\n");
  options.samples_map = full_map;
  const FileOutcome plain = IngestOne(vcf, options);
  EXPECT_TRUE(plain.already_ingested);
  EXPECT_EQ(StoredReading().calls, expected_for(one));

  options.relink = true;
  const FileOutcome relinked = IngestOne(vcf, options);
  ASSERT_TRUE(relinked.status.ok()) << relinked.status.message();
  EXPECT_FALSE(relinked.already_ingested);
  EXPECT_EQ(relinked.records_added, 4);  // two sample rows, two biosamples
  EXPECT_EQ(relinked.served_as, first.served_as);
  EXPECT_EQ(StoredReading().calls, expected_for(all));
  const FileOutcome again = IngestOne(vcf, options);
  EXPECT_TRUE(again.already_ingested);
  EXPECT_EQ(StoredReading().calls, expected_for(all));
}

}  // namespace
}  // namespace oncomesh::ingest

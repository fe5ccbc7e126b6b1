#include "synth/synth.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string_view>
#include <thread>

#include "model/date.h"
#include "synth/case_mix.h"
#include "synth/genomes.h"
#include "synth/images.h"
#include "synth/random.h"

namespace oncomesh::synth {
namespace {

using internal::Cancer;
using internal::CancerType;
using internal::Profile;
using internal::Rng;
using model::Date;

constexpr int kChunk = 8192;  // individuals per work unit
// Mixed with (seed, site) for the genome's streams. Larger than any individual index, so the
// genome never shares a stream with an individual's FHIR resources.
constexpr uint64_t kGenomeStreamTag = 0x67656e6f6d6573ULL;  // "genomes"
constexpr uint64_t kImageStreamTag = 0x696d61676573ULL;     // "images", likewise

// Bulk Data output files, in this order.
enum FileIndex {
  kPatient,
  kCondition,
  kObservation,
  kProcedure,
  kMedicationStatement,
  kMedicationAdministration,
  kSpecimen,
  kImagingStudy,
  kFileCount,
};
constexpr std::array<const char*, kFileCount> kFileNames = {
    "Patient.ndjson",   "Condition.ndjson",           "Observation.ndjson",
    "Procedure.ndjson", "MedicationStatement.ndjson", "MedicationAdministration.ndjson",
    "Specimen.ndjson",  "ImagingStudy.ndjson"};

constexpr const char* kIcdO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3";
constexpr const char* kSnomed = "http://snomed.info/sct";
constexpr const char* kNcit = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl";

// ---------------------------------------------------------------- identities (fictitious)
constexpr std::array<const char*, 30> kFemaleNames = {
    "Anna",      "Maria",   "Sofia", "Emma",  "Julia",  "Laura", "Elena",  "Clara",
    "Ines",      "Marta",   "Eva",   "Lena",  "Chiara", "Sara",  "Hanna",  "Ingrid",
    "Agnieszka", "Camille", "Lucia", "Nora",  "Alice",  "Rosa",  "Helena", "Petra",
    "Katarina",  "Ana",     "Greta", "Paula", "Irene",  "Zofia"};
constexpr std::array<const char*, 30> kMaleNames = {
    "Jan",    "Lukas", "Marco",  "Pierre",  "Javier", "Tomas",   "Piotr",  "Johan",
    "Matteo", "David", "Pedro",  "Andreas", "Nikos",  "Lars",    "Mikael", "Stefan",
    "Luca",   "Hugo",  "Karel",  "Erik",    "Paul",   "Antonio", "Jakub",  "Felix",
    "Henrik", "Louis", "Miguel", "Bruno",   "Viktor", "Simon"};
constexpr std::array<const char*, 40> kFamilyNames = {
    "Muller",   "Schmidt",      "Rossi",     "Bianchi", "Garcia",   "Martinez", "Dubois",
    "Lefevre",  "Nowak",        "Kowalski",  "Jansen",  "de Vries", "Novak",    "Horvat",
    "Nagy",     "Popescu",      "Johansson", "Nielsen", "Virtanen", "Silva",    "Santos",
    "Ferreira", "Papadopoulos", "Murphy",    "O'Brien", "Weber",    "Fischer",  "Romano",
    "Lopez",    "Moreau",       "Wojcik",    "Peeters", "Svoboda",  "Kovacs",   "Andersen",
    "Berg",     "Costa",        "Keller",    "Meyer",   "Laurent"};
constexpr std::array<const char*, 16> kStreets = {
    "Main Street", "Church Road", "Station Road",  "Park Avenue", "Mill Lane",  "High Street",
    "Rose Street", "Lake View",   "Market Square", "Oak Avenue",  "River Road", "Hill Street",
    "School Lane", "Garden Way",  "Bridge Street", "Castle Road"};
struct City {
  const char* name;
  const char* country;
  const char* phone_prefix;
};
constexpr std::array<City, 12> kCities = {{
    {"Heidelberg", "DE", "+49 6221"},
    {"Lyon", "FR", "+33 4"},
    {"Milano", "IT", "+39 02"},
    {"Barcelona", "ES", "+34 93"},
    {"Leuven", "BE", "+32 16"},
    {"Utrecht", "NL", "+31 30"},
    {"Krakow", "PL", "+48 12"},
    {"Uppsala", "SE", "+46 18"},
    {"Porto", "PT", "+351 22"},
    {"Brno", "CZ", "+420 5"},
    {"Tartu", "EE", "+372 7"},
    {"Graz", "AT", "+43 316"},
}};

// ---------------------------------------------------------------- therapy catalogue
struct Drug {
  const char* atc;
  const char* name;
  bool oral;  // oral drugs are MedicationStatements, infusions MedicationAdministrations
};
enum DrugId {
  kCyclophosphamide,
  kCytarabine,
  kFluorouracil,
  kGemcitabine,
  kCapecitabine,
  kVincristine,
  kPaclitaxel,
  kDocetaxel,
  kDoxorubicin,
  kOsimertinib,
  kDabrafenib,
  kAlectinib,
  kTrametinib,
  kIbrutinib,
  kSunitinib,
  kRituximab,
  kTrastuzumab,
  kCetuximab,
  kNivolumab,
  kPembrolizumab,
  kBevacizumab,
  kCisplatin,
  kCarboplatin,
  kOxaliplatin,
  kSotorasib,
  kLeuprorelin,
  kTamoxifen,
  kEnzalutamide,
  kAnastrozole,
  kLetrozole,
};
// WHOCC ATC/DDD Index 2024.
constexpr Drug kDrugs[] = {
    {"L01AA01", "cyclophosphamide", false}, {"L01BC01", "cytarabine", false},
    {"L01BC02", "fluorouracil", false},     {"L01BC05", "gemcitabine", false},
    {"L01BC06", "capecitabine", true},      {"L01CA02", "vincristine", false},
    {"L01CD01", "paclitaxel", false},       {"L01CD02", "docetaxel", false},
    {"L01DB01", "doxorubicin", false},      {"L01EB04", "osimertinib", true},
    {"L01EC02", "dabrafenib", true},        {"L01ED03", "alectinib", true},
    {"L01EE01", "trametinib", true},        {"L01EL01", "ibrutinib", true},
    {"L01EX01", "sunitinib", true},         {"L01FA01", "rituximab", false},
    {"L01FD01", "trastuzumab", false},      {"L01FE01", "cetuximab", false},
    {"L01FF01", "nivolumab", false},        {"L01FF02", "pembrolizumab", false},
    {"L01FG01", "bevacizumab", false},      {"L01XA01", "cisplatin", false},
    {"L01XA02", "carboplatin", false},      {"L01XA03", "oxaliplatin", false},
    {"L01XX73", "sotorasib", true},         {"L02AE02", "leuprorelin", false},
    {"L02BA01", "tamoxifen", true},         {"L02BB04", "enzalutamide", true},
    {"L02BG03", "anastrozole", true},       {"L02BG04", "letrozole", true},
};

struct SurgeryCode {
  const char* code;
  const char* display;
};
// SNOMED CT; data/vocab/procedure_terms.tsv.
constexpr SurgeryCode kLumpectomy = {"392021009", "Lumpectomy of breast"};
constexpr SurgeryCode kBreastExcision = {"69031006", "Excision of breast tissue"};
constexpr SurgeryCode kLobectomy = {"173171007", "Lobectomy of lung"};
constexpr SurgeryCode kColonResection = {"43075005", "Partial resection of colon"};
constexpr SurgeryCode kProstatectomy = {"90470006", "Prostatectomy"};
constexpr SurgeryCode kSurgery = {"387713003", "Surgical procedure"};
constexpr SurgeryCode kTeleradiotherapy = {"33195004", "Teleradiotherapy procedure"};

// ---------------------------------------------------------------- one synthetic case
enum class Marker : int8_t { kNotTested = -1, kNegative = 0, kPositive = 1 };

struct Event {
  enum Kind : uint8_t { kSurgeryEvent, kRadiotherapyEvent, kDrugEvent } kind;
  const SurgeryCode* procedure = nullptr;
  const Drug* drug = nullptr;
  Date start = 0;
  Date end = 0;
};

struct Case {
  const CancerType* type = nullptr;
  bool female = false;
  Date birth = 0;
  Date diagnosis = 0;
  const internal::CodedSite* site = nullptr;
  const internal::Morphology* morphology = nullptr;
  int stage_main = 0;  // 0 = unstaged, else 1..4
  const internal::StageGroup* stage = nullptr;
  bool pathological_stage = false;
  int grade = 0;  // 0 = not reported, else 1..3
  Marker er = Marker::kNotTested, pr = Marker::kNotTested, her2 = Marker::kNotTested;
  // Molecular state: drives treatment and is written as Observations (genomic findings only
  // when present; MSI and PD-L1 when tested).
  bool egfr = false, alk = false, kras_g12c = false, kras = false, braf_v600e = false;
  bool egfr_exon19 = false;  // with egfr: exon 19 deletion, else L858R
  bool kras_g12d = false;    // with kras and not kras_g12c: G12D, else another KRAS change
  bool msi_tested = false, msi_high = false;
  bool pdl1_tested = false, pdl1_high = false;  // PD-L1 tumour proportion score >= 50%
  // TNM categories consistent with the stage group (0 = not staged).
  int8_t t_category = -1, n_category = -1, m_category = -1;
  bool dead = false;
  Date death = 0;
  Date last_contact = 0;
  Date progression = 0;  // 0 = none
  std::vector<Event> events;
};

// What Write draws for a case after Simulate, in the order it draws it. Records and the image
// writer's subjects take the same draws, so every output of one individual agrees.
struct Details {
  const City* city = nullptr;
  const char* given = nullptr;
  const char* family = nullptr;
  int phone = 0;  // after the city's prefix
  int house = 0;
  const char* street = nullptr;
  int postal_code = 0;
  bool specimen = false;
  Date specimen_date = 0;
  bool imaging = false;
  int series = 0;
  int instances = 0;
  uint64_t study_uid = 0;  // 2.25.{study_uid}
  Date imaging_started = 0;
  uint64_t series_uid = 0;  // 2.25.{series_uid}
};

// ---------------------------------------------------------------- JSON text
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  Writer& operator<<(std::string_view s) {
    out_.append(s);
    return *this;
  }
  Writer& operator<<(char c) {
    out_.push_back(c);
    return *this;
  }
  Writer& Int(int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  Writer& Uint(uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, r.ptr);
    return *this;
  }
  // A quoted JSON string; escapes what JSON requires.
  Writer& Str(std::string_view s) {
    out_.push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') {
        out_.push_back('\\');
        out_.push_back(c);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
        out_.append(buf);
      } else {
        out_.push_back(c);
      }
    }
    out_.push_back('"');
    return *this;
  }
  // "YYYY-MM-DD" with quotes.
  Writer& DateStr(Date date) {
    const model::Civil civil = model::CivilFromDays(date);
    const int y = civil.year;
    const unsigned m = civil.month, d = civil.day;
    char buf[16];
    buf[0] = '"';
    buf[1] = static_cast<char>('0' + y / 1000);
    buf[2] = static_cast<char>('0' + y / 100 % 10);
    buf[3] = static_cast<char>('0' + y / 10 % 10);
    buf[4] = static_cast<char>('0' + y % 10);
    buf[5] = '-';
    buf[6] = static_cast<char>('0' + m / 10);
    buf[7] = static_cast<char>('0' + m % 10);
    buf[8] = '-';
    buf[9] = static_cast<char>('0' + d / 10);
    buf[10] = static_cast<char>('0' + d % 10);
    buf[11] = '"';
    out_.append(buf, 12);
    return *this;
  }
  // {"coding":[{"system":..,"code":..,"display":..}]}
  Writer& Concept(std::string_view system, std::string_view code, std::string_view display) {
    *this << R"({"coding":[{"system":")" << system << R"(","code":)";
    Str(code);
    if (!display.empty()) {
      *this << R"(,"display":)";
      Str(display);
    }
    return *this << "}]}";
  }

 private:
  std::string& out_;
};

struct Buffers {
  std::array<std::string, kFileCount> text;
};

// ---------------------------------------------------------------- generation
template <typename T>
const T& Pick(Rng& rng, const std::vector<T>& items) {
  double total = 0;
  for (const T& item : items) total += item.weight;
  double u = rng.Uniform() * total;
  for (const T& item : items) {
    if (u < item.weight) return item;
    u -= item.weight;
  }
  return items.back();
}

class Generator {
 public:
  Generator(const SynthOptions& options, const Profile& profile)
      : options_(options), profile_(profile) {
    const auto& types = internal::CancerTypes();
    double total = 0;
    for (size_t i = 0; i < types.size(); ++i) {
      total += types[i].weight * profile.type_multiplier[i];
      cumulative_.push_back(total);
    }
    for (double& c : cumulative_) c /= total;
    site_key_ = 1469598103934665603ULL;  // FNV-1a of the site name
    for (char c : options.site)
      site_key_ = (site_key_ ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    mrn_system_ = "https://" + options.site + ".hospital.example/mrn";
  }

  void GenerateChunk(int64_t first, int64_t last, Buffers& out) const {
    Case c;
    for (int64_t i = first; i < last; ++i) {
      Rng rng(
          internal::MixKey(internal::MixKey(options_.seed, site_key_), static_cast<uint64_t>(i)));
      c = Case();
      Simulate(rng, c);
      Write(rng, i + 1, c, out);
    }
  }

  // What the genome writer needs of individual index i: the case GenerateChunk writes for it,
  // simulated again from the same stream (nothing is written, no other stream is touched).
  internal::GenomeSubject Subject(int64_t i) const {
    Rng rng(internal::MixKey(internal::MixKey(options_.seed, site_key_), static_cast<uint64_t>(i)));
    Case c;
    Simulate(rng, c);
    internal::GenomeSubject s;
    s.number = i + 1;
    s.cancer = c.type->cancer;
    s.er = static_cast<int8_t>(c.er);
    // The genomic variant Observations Write writes, in the same terms.
    if (c.egfr) {
      s.findings.push_back(c.egfr_exon19 ? internal::kEgfrE746A750del : internal::kEgfrL858R);
    }
    if (c.kras) {
      s.findings.push_back(c.kras_g12c ? internal::kKrasG12C
                                       : (c.kras_g12d ? internal::kKrasG12D : internal::kKrasG12V));
    }
    if (c.braf_v600e) s.findings.push_back(internal::kBrafV600E);
    return s;
  }

  uint64_t GenomeKey() const {
    return internal::MixKey(internal::MixKey(options_.seed, site_key_), kGenomeStreamTag);
  }
  uint64_t ImageKey() const {
    return internal::MixKey(internal::MixKey(options_.seed, site_key_), kImageStreamTag);
  }

  // Whether individual index i has an ImagingStudy the image writer can write (CT, MR, MG).
  bool HasWritableImagingStudy(int64_t i) const {
    Rng rng(internal::MixKey(internal::MixKey(options_.seed, site_key_), static_cast<uint64_t>(i)));
    Case c;
    Simulate(rng, c);
    return Draw(rng, c).imaging && internal::CanWriteImages(c.type->imaging_modality);
  }

  // The individuals (sorted indices) whose ImagingStudy is written as DICOM: Write and Records
  // then declare the written study for them.
  void SetImaged(std::vector<int64_t> imaged) { imaged_ = std::move(imaged); }

  // What the image writer needs of imaged individual index i (the case and draws of Write).
  internal::ImagingSubject ImageSubject(int64_t i) const {
    Rng rng(internal::MixKey(internal::MixKey(options_.seed, site_key_), static_cast<uint64_t>(i)));
    Case c;
    Simulate(rng, c);
    const Details d = Draw(rng, c);
    internal::ImagingSubject s;
    s.number = i + 1;
    s.patient_id = options_.site + "-pat-" + std::to_string(i + 1);
    s.mrn = "M" + std::to_string(10000000 + i + 1);
    s.mrn_system = mrn_system_;
    s.family_name = d.family;
    s.given_name = d.given;
    s.female = c.female;
    s.birth_date = c.birth;
    s.address = std::to_string(d.house) + " " + d.street + ", " + d.city->name + " " +
                std::to_string(d.postal_code) + ", " + d.city->country;
    s.phone = std::string(d.city->phone_prefix) + " " + std::to_string(d.phone);
    s.topography = c.site->topography;
    s.started = d.imaging_started;
    s.plan = internal::PlanImagingStudy(c.type->imaging_modality, d.study_uid, d.series_uid);
    return s;
  }

  // The site's hospital: in a city fixed by the site name.
  std::string InstitutionAddress() const {
    const City& city = kCities[site_key_ % kCities.size()];
    return std::string("1 Hospital Road, ") + city.name + ", " + city.country;
  }

  // As GenerateChunk, appending model records instead of FHIR text.
  void GenerateRecordsChunk(int64_t first, int64_t last, model::RecordBatch& out) const {
    Case c;
    for (int64_t i = first; i < last; ++i) {
      Rng rng(
          internal::MixKey(internal::MixKey(options_.seed, site_key_), static_cast<uint64_t>(i)));
      c = Case();
      Simulate(rng, c);
      Records(rng, i + 1, c, out);
    }
  }

 private:
  void Simulate(Rng& rng, Case& c) const;
  Details Draw(Rng& rng, const Case& c) const;
  bool IsImaged(int64_t n) const {
    return std::binary_search(imaged_.begin(), imaged_.end(), n - 1);
  }
  void PlanTreatment(Rng& rng, Case& c) const;
  void Write(Rng& rng, int64_t n, const Case& c, Buffers& out) const;
  void WriteImagedStudy(int64_t n, const Case& c, const Details& d, const std::string& patient_id,
                        Buffers& out) const;
  // The records `oncomesh ingest fhir` makes of what Write writes (FHIR ids, unshifted dates).
  // Draws from `rng` exactly as Write does, so that the optional resources match.
  void Records(Rng& rng, int64_t n, const Case& c, model::RecordBatch& out) const;

  const SynthOptions& options_;
  const Profile& profile_;
  std::vector<double> cumulative_;
  uint64_t site_key_ = 0;
  std::string mrn_system_;
  std::vector<int64_t> imaged_;  // sorted individual indices
};

const Date kFirstDiagnosis = model::DateFromCivil(2000, 1, 1);
const Date kLastDiagnosis = model::DateFromCivil(2024, 12, 31);
const Date kDataCutoff = model::DateFromCivil(2025, 6, 30);

// T, N and M categories consistent with the AJCC stage group: a generic pattern (stage I
// T1-2 N0, II T2-4 N0, III node-positive or T4, IV M1), not each cancer's own AJCC table.
void DrawTnm(Rng& rng, std::string_view group, Case& c) {
  const double y = rng.Uniform();
  const int main = group[0] - '0';
  const char sub = group.size() > 1 ? group[1] : ' ';
  int t = 1, n = 0, m = 0;
  switch (main) {
    case 1:
      t = sub == 'B' ? 2 : 1;
      break;
    case 2:
      t = sub == 'C' ? 4 : (sub == 'B' ? 3 : (y < 0.6 ? 2 : 3));
      break;
    case 3:
      if (sub == 'A') {
        t = 1 + static_cast<int>(y * 3);  // T1-T3
        n = 1;
      } else if (sub == 'B') {
        t = y < 0.5 ? 3 : 4;
        n = y < 0.25 ? 1 : 2;
      } else {
        t = 2 + static_cast<int>(y * 3);  // T2-T4
        n = y < 0.5 ? 2 : 3;
      }
      break;
    default:
      t = 1 + static_cast<int>(y * 4);  // T1-T4
      n = static_cast<int>(rng.Uniform() * 4);
      m = 1;
      break;
  }
  c.t_category = static_cast<int8_t>(t);
  c.n_category = static_cast<int8_t>(n);
  c.m_category = static_cast<int8_t>(m);
}

void Generator::Simulate(Rng& rng, Case& c) const {
  const auto& types = internal::CancerTypes();
  const double u = rng.Uniform();
  size_t t = 0;
  while (t + 1 < cumulative_.size() && u >= cumulative_[t]) ++t;
  const CancerType& type = types[t];
  c.type = &type;
  c.female = rng.Bernoulli(type.female_fraction);

  double age = type.age_mean + profile_.age_offset + type.age_sd * rng.Normal();
  age = std::clamp(age, 18.0, 95.0);
  // Registrations grow over time: half uniform, half with density rising linearly.
  const double span = kLastDiagnosis - kFirstDiagnosis;
  const double v = rng.Bernoulli(0.5) ? rng.Uniform() : std::sqrt(rng.Uniform());
  c.diagnosis = kFirstDiagnosis + static_cast<Date>(v * span);
  c.birth = c.diagnosis - static_cast<Date>(age * 365.25) - rng.Below(365);

  c.site = &Pick(rng, type.sites);
  c.morphology = &Pick(rng, type.morphologies);

  if (type.staged) {
    std::array<double, 4> w{};
    double total = 0;
    for (int s = 0; s < 4; ++s) total += w[s] = type.stage[s] * profile_.stage_multiplier[s];
    double x = rng.Uniform() * total;
    int s = 0;
    while (s < 3 && x >= w[s]) x -= w[s++];
    c.stage_main = s + 1;
    // Substage split within the main group.
    const auto& groups = internal::StageGroups();
    const double y = rng.Uniform();
    const char* code = "1";
    switch (c.stage_main) {
      case 1:
        code = y < 0.75 ? "1A" : "1B";
        break;
      case 2:
        code = (type.cancer == Cancer::kColorectal || type.cancer == Cancer::kMelanoma) && y < 0.1
                   ? "2C"
                   : (y < 0.55 ? "2A" : "2B");
        break;
      case 3:
        code = y < 0.45 ? "3A" : (y < 0.75 ? "3B" : "3C");
        break;
      default:
        code = type.cancer == Cancer::kLung ? (y < 0.4 ? "4A" : "4B") : "4";
        break;
    }
    for (const auto& g : groups) {
      if (std::string_view(g.code) == code) c.stage = &g;
    }
    DrawTnm(rng, code, c);
  }
  if (type.graded) {
    const double y = rng.Uniform();
    const double high =
        0.25 + 0.1 * c.stage_main;  // higher stage, more often poorly differentiated
    c.grade = y < 0.2 ? 1 : (y < 1.0 - high ? 2 : 3);
  }

  // Receptors and molecular findings (prevalences: docs/synth.md).
  const bool tested = rng.Bernoulli(profile_.biomarker_testing);
  switch (type.cancer) {
    case Cancer::kBreast: {
      const bool er = rng.Bernoulli(0.78);
      const bool pr = er ? rng.Bernoulli(0.85) : rng.Bernoulli(0.05);
      const bool her2 = rng.Bernoulli(er ? 0.14 : 0.28);  // ~17% overall
      // Receptor status is routine for breast cancer: tested unless the site tests little.
      if (tested || rng.Bernoulli(0.9)) {
        c.er = er ? Marker::kPositive : Marker::kNegative;
        c.pr = pr ? Marker::kPositive : Marker::kNegative;
        c.her2 = her2 ? Marker::kPositive : Marker::kNegative;
      }
      break;
    }
    case Cancer::kLung:
      if (tested) {
        if (c.morphology->code == std::string_view("8140/3")) {
          const double y = rng.Uniform();
          c.egfr = y < 0.12;
          c.egfr_exon19 = c.egfr && y < 0.066;  // exon 19 deletions ~55% of EGFR mutations
          c.alk = y >= 0.12 && y < 0.16;
          c.kras_g12c = y >= 0.16 && y < 0.28;
          c.kras_g12d = y >= 0.28 && y < 0.33;
          c.kras = c.kras_g12c || (y >= 0.28 && y < 0.48);
        }
        c.pdl1_tested = true;
        c.pdl1_high = rng.Bernoulli(0.30);
      }
      break;
    case Cancer::kColorectal:
      if (tested) {
        c.msi_tested = true;
        c.msi_high = rng.Bernoulli(c.stage_main == 4 ? 0.05 : 0.17);
        const double y = rng.Uniform();
        c.kras = y < 0.40;
        c.kras_g12c = y < 0.012;               // ~3% of KRAS-mutant colorectal cancers
        c.kras_g12d = y >= 0.012 && y < 0.14;  // ~32%
        c.braf_v600e = !c.kras && rng.Bernoulli(0.14);
      }
      break;
    case Cancer::kMelanoma:
      if (tested) c.braf_v600e = rng.Bernoulli(0.47);
      break;
    case Cancer::kUterus:
      if (tested) {
        c.msi_tested = true;
        c.msi_high = rng.Bernoulli(0.28);
      }
      break;
    default:
      break;
  }

  // Survival: a cured share, the rest die of the cancer after a Weibull time (shape 1.1) with
  // the stage's median; everyone also faces background mortality (Gompertz, hazard
  // 3.7e-5 * exp(0.09 * age) per year, about 2%/year at 70).
  const int s = c.stage_main == 0 ? 0 : c.stage_main - 1;
  double death_years = 1e9;
  if (!rng.Bernoulli(type.cured[s])) {
    const double shape = 1.1;
    const double scale = type.median_months[s] / 12.0 / std::pow(std::log(2.0), 1.0 / shape);
    death_years = scale * std::pow(rng.Exponential(), 1.0 / shape);
    // Progression precedes cancer death.
    const double progression_years = death_years * (0.35 + 0.45 * rng.Uniform());
    c.progression = c.diagnosis + std::max<Date>(30, static_cast<Date>(progression_years * 365.25));
  }
  const double a0 = 3.7e-5, b = 0.09;
  const double background = std::log(1.0 + rng.Exponential() * b / (a0 * std::exp(b * age))) / b;
  death_years = std::min(death_years, background);
  const Date death = c.diagnosis + std::max<Date>(1, static_cast<Date>(death_years * 365.25));

  // Follow-up: 8% are lost to follow-up at a random time; the rest are seen up to the cut-off.
  Date contact = kDataCutoff - rng.Below(180);
  if (rng.Bernoulli(0.08))
    contact = c.diagnosis + static_cast<Date>(rng.Uniform() * (kDataCutoff - c.diagnosis));
  contact = std::max(contact, c.diagnosis);
  if (death <= contact) {
    c.dead = true;
    c.death = death;
    c.last_contact = death;
  } else {
    c.last_contact = contact;
  }
  if (c.progression != 0 && c.progression >= c.last_contact) c.progression = 0;

  PlanTreatment(rng, c);
}

void Generator::PlanTreatment(Rng& rng, Case& c) const {
  auto surgery = [&](const SurgeryCode& code, Date day) {
    c.events.push_back({Event::kSurgeryEvent, &code, nullptr, day, day});
  };
  auto radiotherapy = [&](Date start, int days) {
    c.events.push_back(
        {Event::kRadiotherapyEvent, &kTeleradiotherapy, nullptr, start, start + days});
  };
  auto drug = [&](DrugId id, Date start, int days) {
    c.events.push_back({Event::kDrugEvent, nullptr, &kDrugs[id], start, start + days});
  };
  const Date d = c.diagnosis;
  const Date op = d + 14 + rng.Below(35);
  const Date adj = op + 28 + rng.Below(28);
  const int stage = c.stage_main;
  const bool early = stage >= 1 && stage <= 3;
  const int age = model::WholeYearsBetween(c.birth, d);

  switch (c.type->cancer) {
    case Cancer::kBreast: {
      if (early) {
        const bool conserving = stage <= 2 && rng.Bernoulli(0.7);
        surgery(conserving ? kLumpectomy : kBreastExcision, op);
        if (conserving || stage == 3) radiotherapy(adj + 120, 35);
      }
      const bool chemo = stage >= 3 || c.her2 == Marker::kPositive ||
                         (c.er == Marker::kNegative && stage >= 2) ||
                         (stage == 2 && rng.Bernoulli(0.4));
      const Date t0 = early ? adj : d + 21;
      if (chemo) {
        if (c.her2 == Marker::kPositive) {
          drug(rng.Bernoulli(0.5) ? kPaclitaxel : kDocetaxel, t0, 84);
        } else {
          drug(kDoxorubicin, t0, 63);
          drug(kCyclophosphamide, t0, 63);
          drug(kPaclitaxel, t0 + 63, 84);
        }
      }
      if (c.her2 == Marker::kPositive) drug(kTrastuzumab, t0, 365);
      if (c.er == Marker::kPositive) {
        const DrugId endocrine =
            age < 50 ? kTamoxifen : (rng.Bernoulli(0.5) ? kLetrozole : kAnastrozole);
        drug(endocrine, t0 + (chemo ? 150 : 0), 5 * 365);
      }
      break;
    }
    case Cancer::kProstate:
      if (stage <= 2) {
        const double y = rng.Uniform();
        if (y < 0.5)
          surgery(kProstatectomy, op + 30);
        else if (y < 0.85)
          radiotherapy(op + 30, 50);
      } else {
        drug(kLeuprorelin, d + 21, 2 * 365);
        if (stage == 3) radiotherapy(d + 90, 50);
        if (stage == 4) {
          if (rng.Bernoulli(0.5)) drug(kDocetaxel, d + 28, 126);
          drug(kEnzalutamide, d + 60, 365);
        }
      }
      break;
    case Cancer::kLung:
      if (stage <= 2) {
        surgery(kLobectomy, op);
        if (stage == 2) {
          drug(kCisplatin, adj, 84);
          drug(kDocetaxel, adj, 84);
        }
      } else if (stage == 3) {
        drug(kCisplatin, d + 28, 42);
        drug(kDocetaxel, d + 28, 42);
        radiotherapy(d + 28, 42);
        if (rng.Bernoulli(0.6)) drug(kNivolumab, d + 100, 365);
      } else {
        const Date t0 = d + 21;
        if (c.egfr) {
          drug(kOsimertinib, t0, 540);
        } else if (c.alk) {
          drug(kAlectinib, t0, 720);
        } else if (c.pdl1_high) {
          drug(kPembrolizumab, t0, 365);
        } else {
          drug(kCarboplatin, t0, 84);
          drug(kPaclitaxel, t0, 84);
          if (rng.Bernoulli(0.5)) drug(kPembrolizumab, t0, 365);
        }
        if (c.kras_g12c && c.progression != 0) drug(kSotorasib, c.progression + 21, 180);
      }
      break;
    case Cancer::kColorectal:
      if (early) {
        surgery(c.site->icd10[1] == '1' && c.site->icd10[2] == '8' ? kColonResection : kSurgery,
                op);
        if (c.site->icd10 == std::string_view("C20") && stage >= 2) radiotherapy(d + 21, 35);
        if (stage == 3) {
          drug(kOxaliplatin, adj, 84);
          drug(kCapecitabine, adj, 84);
        }
      } else if (stage == 4) {
        const Date t0 = d + 21;
        if (c.msi_high) {
          drug(kPembrolizumab, t0, 365);
        } else {
          drug(kFluorouracil, t0, 168);
          drug(kOxaliplatin, t0, 168);
          drug(c.kras || c.braf_v600e ? kBevacizumab : kCetuximab, t0, 168);
        }
      }
      break;
    case Cancer::kMelanoma:
      if (early) surgery(kSurgery, op);
      if (stage >= 3) {
        const Date t0 = stage == 3 ? adj : d + 21;
        if (c.braf_v600e && rng.Bernoulli(0.6)) {
          drug(kDabrafenib, t0, 365);
          drug(kTrametinib, t0, 365);
        } else {
          drug(rng.Bernoulli(0.5) ? kNivolumab : kPembrolizumab, t0, 365);
        }
      }
      break;
    case Cancer::kKidney:
      if (early) surgery(kSurgery, op);
      if (stage == 4) drug(rng.Bernoulli(0.5) ? kSunitinib : kNivolumab, d + 28, 365);
      break;
    case Cancer::kPancreas:
      if (stage <= 2 && rng.Bernoulli(0.6)) surgery(kSurgery, op);
      if (rng.Bernoulli(stage <= 2 ? 0.5 : 0.7)) {
        const Date t0 = stage <= 2 ? adj : d + 21;
        if (rng.Bernoulli(0.5)) {
          drug(kFluorouracil, t0, 168);
          drug(kOxaliplatin, t0, 168);
        } else {
          drug(kGemcitabine, t0, 168);
        }
      }
      break;
    case Cancer::kBladder:
      if (early) surgery(kSurgery, op);
      if (stage >= 3) {
        drug(kCisplatin, d + 21, 84);
        drug(kGemcitabine, d + 21, 84);
        if (stage == 4 && rng.Bernoulli(0.5)) drug(kPembrolizumab, d + 120, 365);
      }
      break;
    case Cancer::kUterus:
    case Cancer::kOvary:
      if (early || c.type->cancer == Cancer::kOvary) surgery(kSurgery, op);
      if (c.type->cancer == Cancer::kUterus && stage >= 2) radiotherapy(adj, 35);
      if (stage >= 3 || (c.type->cancer == Cancer::kOvary && stage >= 2)) {
        drug(kCarboplatin, adj, 126);
        drug(kPaclitaxel, adj, 126);
        if (c.type->cancer == Cancer::kOvary && stage == 4) drug(kBevacizumab, adj, 365);
      }
      break;
    case Cancer::kStomach:
      if (early) surgery(kSurgery, op);
      if (stage >= 2) {
        drug(kOxaliplatin, stage == 4 ? d + 21 : adj, 126);
        drug(kCapecitabine, stage == 4 ? d + 21 : adj, 126);
      }
      break;
    case Cancer::kDlbcl:
      for (DrugId id : {kRituximab, kCyclophosphamide, kDoxorubicin, kVincristine})
        drug(id, d + 14, 126);
      break;
    case Cancer::kCll:
      if (rng.Bernoulli(0.5)) drug(kIbrutinib, d + 180 + rng.Below(720), 720);
      break;
    case Cancer::kAml:
      drug(kCytarabine, d + 3, 7);
      break;
  }
  // Nothing happens after death or the last contact: drop or shorten what would.
  std::erase_if(c.events, [&](const Event& e) { return e.start > c.last_contact; });
  for (Event& e : c.events) e.end = std::min(e.end, c.last_contact);
}

Details Generator::Draw(Rng& rng, const Case& c) const {
  Details d;
  d.city = &kCities[static_cast<size_t>(rng.Below(static_cast<int>(kCities.size())))];
  d.given = c.female ? kFemaleNames[static_cast<size_t>(rng.Below(30))]
                     : kMaleNames[static_cast<size_t>(rng.Below(30))];
  d.family = kFamilyNames[static_cast<size_t>(rng.Below(40))];
  d.phone = 100000 + rng.Below(900000);
  d.house = 1 + rng.Below(120);
  d.street = kStreets[static_cast<size_t>(rng.Below(16))];
  d.postal_code = 10000 + rng.Below(89999);
  d.specimen = rng.Bernoulli(profile_.specimen);
  if (d.specimen) d.specimen_date = c.diagnosis - 7 + rng.Below(7);
  d.imaging = c.type->imaging_modality != nullptr && rng.Bernoulli(profile_.imaging);
  if (d.imaging) {
    d.series = 1 + rng.Below(5);
    d.instances = d.series * (40 + rng.Below(200));
    d.study_uid = rng.Next();
    d.imaging_started = c.diagnosis - rng.Below(14);
    d.series_uid = rng.Next();
  }
  return d;
}

// ---------------------------------------------------------------- FHIR serialisation
void Generator::Write(Rng& rng, int64_t n, const Case& c, Buffers& out) const {
  const std::string& site = options_.site;
  // Reference strings reused by every resource of this case.
  std::string patient_id = site;
  patient_id += "-pat-";
  Writer(patient_id).Int(n);
  std::string condition_id = site;
  condition_id += "-cond-";
  Writer(condition_id).Int(n);

  const Details d = Draw(rng, c);
  // Patient, with the identifying data a hospital export carries.
  {
    Writer w(out.text[kPatient]);
    const City& city = *d.city;
    const char* given = d.given;
    const char* family = d.family;
    w << R"({"resourceType":"Patient","id":")" << patient_id
      << R"(","meta":{"profile":["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-patient"]},)"
      << R"("identifier":[{"use":"usual","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},"system":)";
    w.Str(mrn_system_) << R"(,"value":"M)";
    w.Int(10000000 + n) << R"("}],"name":[{"use":"official","family":)";
    w.Str(family) << R"(,"given":[)";
    w.Str(given) << R"(]}],"telecom":[{"system":"phone","value":")" << city.phone_prefix << ' ';
    w.Int(d.phone) << R"(","use":"home"}],"gender":")" << (c.female ? "female" : "male")
                   << R"(","birthDate":)";
    w.DateStr(c.birth);
    if (c.dead) {
      w << R"(,"deceasedDateTime":)";
      w.DateStr(c.death);
    }
    w << R"(,"address":[{"use":"home","line":[")";
    w.Int(d.house) << ' ' << d.street << R"("],"city":")" << city.name << R"(","postalCode":")";
    w.Int(d.postal_code) << R"(","country":")" << city.country << "\"}]}\n";
  }

  auto subject_focus = [&](Writer& w) {
    w << R"(,"subject":{"reference":"Patient/)" << patient_id
      << R"("},"focus":[{"reference":"Condition/)" << condition_id << "\"}]";
  };
  auto reason = [&](Writer& w) {
    w << R"(,"subject":{"reference":"Patient/)" << patient_id
      << R"("},"reasonReference":[{"reference":"Condition/)" << condition_id << "\"}]";
  };

  // Primary cancer Condition (mCODE PrimaryCancerCondition).
  {
    Writer w(out.text[kCondition]);
    const char* clinical = c.dead ? "inactive" : (c.progression != 0 ? "active" : "remission");
    w << R"({"resourceType":"Condition","id":")" << condition_id
      << R"(","meta":{"profile":["http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-primary-cancer-condition"]},)"
      << R"("extension":[{"url":"http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior","valueCodeableConcept":)";
    w.Concept(kIcdO3, c.morphology->code, c.morphology->display);
    w << R"(}],"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":")"
      << clinical
      << R"("}]},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},)"
      << R"("category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],"code":)";
    w.Concept("http://hl7.org/fhir/sid/icd-10", c.site->icd10, c.site->icd10_display);
    w << R"(,"bodySite":[)";
    w.Concept(kIcdO3, c.site->topography, c.site->topography_display);
    w << R"(],"subject":{"reference":"Patient/)" << patient_id << R"("},"onsetDateTime":)";
    w.DateStr(c.diagnosis) << R"(,"recordedDate":)";
    w.DateStr(c.diagnosis + 3) << "}\n";
  }

  // Observations.
  int obs = 0;
  auto begin_obs = [&](Writer& w, const char* profile, const char* category, const char* loinc,
                       const char* loinc_display, Date effective) {
    w << R"({"resourceType":"Observation","id":")" << site << "-obs-";
    w.Int(n) << '-';
    w.Int(++obs) << '"';
    if (profile != nullptr) {
      w << R"(,"meta":{"profile":["http://hl7.org/fhir/us/mcode/StructureDefinition/)" << profile
        << "\"]}";
    }
    w << R"(,"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":")"
      << category << R"("}]}],"code":)";
    w.Concept("http://loinc.org", loinc, loinc_display);
    subject_focus(w);
    w << R"(,"effectiveDateTime":)";
    w.DateStr(effective);
  };
  Writer ow(out.text[kObservation]);
  if (c.stage != nullptr) {
    const bool path = std::any_of(c.events.begin(), c.events.end(),
                                  [](const Event& e) { return e.kind == Event::kSurgeryEvent; });
    begin_obs(ow, "mcode-tnm-stage-group", "survey", path ? "21902-2" : "21908-9",
              path ? "Stage group.pathology Cancer" : "Stage group.clinical Cancer",
              c.diagnosis + (path ? 30 : 7));
    ow << R"(,"valueCodeableConcept":)";
    ow.Concept("http://cancerstaging.org", c.stage->code, c.stage->display);
    ow << "}\n";
    // T, N, M categories (mCODE TNM category profiles; AJCC codes with the c/p prefix).
    static constexpr const char* kT[2][5] = {{"cT0", "cT1", "cT2", "cT3", "cT4"},
                                             {"pT0", "pT1", "pT2", "pT3", "pT4"}};
    static constexpr const char* kN[2][4] = {{"cN0", "cN1", "cN2", "cN3"},
                                             {"pN0", "pN1", "pN2", "pN3"}};
    // AJCC has no pM0: M0 is cM0 in pathological staging too.
    static constexpr const char* kM[2][2] = {{"cM0", "cM1"}, {"cM0", "pM1"}};
    const Date tnm_date = c.diagnosis + (path ? 30 : 7);
    begin_obs(ow, "mcode-tnm-primary-tumor-category", "survey", path ? "21899-0" : "21905-5",
              path ? "Primary tumor.pathology Cancer" : "Primary tumor.clinical [Class] Cancer",
              tnm_date);
    ow << R"(,"valueCodeableConcept":)";
    ow.Concept("http://cancerstaging.org", kT[path][c.t_category], "");
    ow << "}\n";
    begin_obs(ow, "mcode-tnm-regional-nodes-category", "survey", path ? "21900-6" : "21906-3",
              path ? "Regional lymph nodes.pathology [Class] Cancer"
                   : "Regional lymph nodes.clinical [Class] Cancer",
              tnm_date);
    ow << R"(,"valueCodeableConcept":)";
    ow.Concept("http://cancerstaging.org", kN[path][c.n_category], "");
    ow << "}\n";
    begin_obs(ow, "mcode-tnm-distant-metastases-category", "survey", path ? "21901-4" : "21907-1",
              path ? "Distant metastases.pathology [Class] Cancer"
                   : "Distant metastases.clinical [Class] Cancer",
              tnm_date);
    ow << R"(,"valueCodeableConcept":)";
    ow.Concept("http://cancerstaging.org", kM[path][c.m_category], "");
    ow << "}\n";
  }
  if (c.grade != 0) {
    static constexpr const char* kGradeCodes[] = {"", "C28077", "C28078", "C28079"};
    static constexpr const char* kGradeNames[] = {"", "Grade 1", "Grade 2", "Grade 3"};
    begin_obs(ow, nullptr, "laboratory", "59542-1", "Histologic grade", c.diagnosis + 7);
    ow << R"(,"valueCodeableConcept":)";
    ow.Concept(kNcit, kGradeCodes[c.grade], kGradeNames[c.grade]);
    ow << "}\n";
  }
  auto marker = [&](Marker m, const char* loinc, const char* display) {
    if (m == Marker::kNotTested) return;
    begin_obs(ow, "mcode-tumor-marker-test", "laboratory", loinc, display, c.diagnosis + 10);
    ow << R"(,"valueCodeableConcept":)";
    if (m == Marker::kPositive) {
      ow.Concept(kSnomed, "10828004", "Positive");
    } else {
      ow.Concept(kSnomed, "260385009", "Negative");
    }
    ow << "}\n";
  };
  marker(c.er, "16112-5", "Estrogen receptor [Interpretation] in Tissue");
  marker(c.pr, "16113-3", "Progesterone receptor [Interpretation] in Tissue");
  marker(c.her2, "48676-1", "HER2 [Interpretation] in Tissue");
  if (c.pdl1_tested) {
    // PD-L1 IHC (22C3) reported against the 50% tumour proportion score cut-off.
    begin_obs(ow, "mcode-tumor-marker-test", "laboratory", "83052-1",
              "PD-L1 by clone 22C3 [Presence] in Tissue by Immune stain", c.diagnosis + 10);
    ow << R"(,"method":{"text":"22C3 IHC, tumour proportion score cut-off 50%"},"valueCodeableConcept":)";
    if (c.pdl1_high) {
      ow.Concept(kSnomed, "10828004", "Positive");
    } else {
      ow.Concept(kSnomed, "260385009", "Negative");
    }
    ow << "}\n";
  }
  if (c.msi_tested) {
    begin_obs(ow, nullptr, "laboratory", "81695-9",
              "Microsatellite instability [Interpretation] in Cancer specimen Qualitative",
              c.diagnosis + 14);
    ow << R"(,"valueCodeableConcept":)";
    if (c.msi_high) {
      ow.Concept("http://loinc.org", "LA26203-2", "MSI-H");
    } else {
      ow.Concept("http://loinc.org", "LA14122-8", "Stable");
    }
    ow << "}\n";
  }
  // Genomic findings (mCODE GenomicVariant): written when a variant was found.
  auto variant = [&](const char* hgnc, const char* gene, const char* protein_change) {
    begin_obs(ow, "mcode-genomic-variant", "laboratory", "69548-6", "Genetic variant assessment",
              c.diagnosis + 14);
    ow << R"(,"valueCodeableConcept":)";
    ow.Concept("http://loinc.org", "LA9633-4", "Present");
    ow << R"(,"component":[{"code":)";
    ow.Concept("http://loinc.org", "48018-6", "Gene studied [ID]");
    ow << R"(,"valueCodeableConcept":)";
    ow.Concept("http://www.genenames.org/geneId", hgnc, gene);
    ow << '}';
    if (protein_change != nullptr) {
      ow << R"(,{"code":)";
      ow.Concept("http://loinc.org", "48005-3", "Amino acid change (pHGVS)");
      ow << R"(,"valueCodeableConcept":)";
      ow.Concept("http://varnomen.hgvs.org", protein_change, "");
      ow << '}';
    }
    ow << "]}\n";
  };
  if (c.egfr) variant("HGNC:3236", "EGFR", c.egfr_exon19 ? "p.Glu746_Ala750del" : "p.Leu858Arg");
  if (c.alk) variant("HGNC:427", "ALK", nullptr);  // rearrangement: no amino acid change
  if (c.kras) {
    variant("HGNC:6407", "KRAS",
            c.kras_g12c ? "p.Gly12Cys" : (c.kras_g12d ? "p.Gly12Asp" : "p.Gly12Val"));
  }
  if (c.braf_v600e) variant("HGNC:1097", "BRAF", "p.Val600Glu");
  if (c.progression != 0) {
    begin_obs(ow, "mcode-cancer-disease-status", "survey", "97509-4", "Cancer disease status",
              c.progression);
    ow << R"(,"valueCodeableConcept":)";
    ow.Concept(kSnomed, "271299001", "Patient's condition worsened");
    ow << "}\n";
  }
  begin_obs(ow, nullptr, "survey", "75186-7", "Vital status", c.last_contact);
  ow << R"(,"valueCodeableConcept":)";
  if (c.dead) {
    ow.Concept(kNcit, "C28554", "Dead");
  } else {
    ow.Concept(kNcit, "C37987", "Alive");
  }
  ow << "}\n";

  // Treatments.
  int proc = 0, med = 0;
  for (const Event& e : c.events) {
    if (e.kind == Event::kDrugEvent) {
      const bool statement = e.drug->oral;
      Writer w(out.text[statement ? kMedicationStatement : kMedicationAdministration]);
      const char* type = statement ? "MedicationStatement" : "MedicationAdministration";
      w << R"({"resourceType":")" << type << R"(","id":")" << site << (statement ? "-ms-" : "-ma-");
      w.Int(n) << '-';
      w.Int(++med) << R"(","status":")"
                   << (e.end >= c.last_contact && !c.dead ? (statement ? "active" : "in-progress")
                                                          : "completed")
                   << R"(","medicationCodeableConcept":)";
      w.Concept("http://www.whocc.no/atc", e.drug->atc, e.drug->name);
      reason(w);
      w << R"(,"effectivePeriod":{"start":)";
      w.DateStr(e.start) << R"(,"end":)";
      w.DateStr(e.end) << "}}\n";
    } else {
      Writer w(out.text[kProcedure]);
      w << R"({"resourceType":"Procedure","id":")" << site << "-proc-";
      w.Int(n) << '-';
      w.Int(++proc) << R"(","status":"completed","code":)";
      w.Concept(kSnomed, e.procedure->code, e.procedure->display);
      reason(w);
      if (e.kind == Event::kRadiotherapyEvent) {
        w << R"(,"performedPeriod":{"start":)";
        w.DateStr(e.start) << R"(,"end":)";
        w.DateStr(e.end) << "}}\n";
      } else {
        w << R"(,"performedDateTime":)";
        w.DateStr(e.start) << "}\n";
      }
    }
  }

  // Specimen: the diagnostic biopsy or resection (tissue), or marrow/blood for leukaemias.
  if (d.specimen) {
    Writer w(out.text[kSpecimen]);
    w << R"({"resourceType":"Specimen","id":")" << site << "-spec-";
    w.Int(n) << R"(","status":"available","type":)";
    w.Concept(kSnomed, "119376003", "Tissue specimen");
    w << R"(,"subject":{"reference":"Patient/)" << patient_id
      << R"("},"collection":{"collectedDateTime":)";
    w.DateStr(d.specimen_date) << R"(,"bodySite":)";
    w.Concept(kIcdO3, c.site->topography, c.site->topography_display);
    w << "}}\n";
  }

  // ImagingStudy: the staging study for solid tumours and lymphoma.
  if (d.imaging && IsImaged(n)) {
    WriteImagedStudy(n, c, d, patient_id, out);
  } else if (d.imaging) {
    Writer w(out.text[kImagingStudy]);
    const int series = d.series;
    const int instances = d.instances;
    w << R"({"resourceType":"ImagingStudy","id":")" << site << "-img-";
    w.Int(n) << R"(","identifier":[{"system":"urn:dicom:uid","value":"urn:oid:2.25.)";
    w.Uint(d.study_uid)
        << R"("}],"status":"available","modality":[{"system":"http://dicom.nema.org/resources/ontology/DCM","code":")"
        << c.type->imaging_modality << R"("}])";
    w << R"(,"subject":{"reference":"Patient/)" << patient_id << R"("},"started":)";
    w.DateStr(d.imaging_started) << R"(,"numberOfSeries":)";
    w.Int(series) << R"(,"numberOfInstances":)";
    w.Int(instances) << R"(,"series":[{"uid":"2.25.)";
    w.Uint(d.series_uid)
        << R"(","number":1,"modality":{"system":"http://dicom.nema.org/resources/ontology/DCM","code":")"
        << c.type->imaging_modality << R"("},"numberOfInstances":)";
    w.Int(instances / series) << R"(,"bodySite":{"system":")" << kIcdO3 << R"(","code":")"
                              << c.site->topography << R"(","display":")"
                              << c.site->topography_display << "\"}}]}\n";
  }
}

// The ImagingStudy of an individual whose study is written as DICOM: exactly the written
// series (images, then the SEG) and instances, with their UIDs (internal::PlanImagingStudy).
void Generator::WriteImagedStudy(int64_t n, const Case& c, const Details& d,
                                 const std::string& patient_id, Buffers& out) const {
  constexpr const char* kDcm = "http://dicom.nema.org/resources/ontology/DCM";
  const internal::ImagingPlan plan =
      internal::PlanImagingStudy(c.type->imaging_modality, d.study_uid, d.series_uid);
  Writer w(out.text[kImagingStudy]);
  auto body_site = [&] {
    w << R"(,"bodySite":{"system":")" << kIcdO3 << R"(","code":")" << c.site->topography
      << R"(","display":")" << c.site->topography_display << "\"}";
  };
  auto instance = [&](const std::string& uid, const char* sop_class, int number) {
    w << R"({"uid":")" << uid << R"(","sopClass":{"system":"urn:ietf:rfc:3986","code":"urn:oid:)"
      << sop_class << R"("},"number":)";
    w.Int(number) << '}';
  };
  w << R"({"resourceType":"ImagingStudy","id":")" << options_.site << "-img-";
  w.Int(n) << R"(","identifier":[{"system":"urn:dicom:uid","value":"urn:oid:)"
           << plan.study_instance_uid << R"("}],"status":"available","modality":[{"system":")"
           << kDcm << R"(","code":")" << plan.modality << R"("},{"system":")" << kDcm
           << R"(","code":"SEG"}])";
  w << R"(,"subject":{"reference":"Patient/)" << patient_id << R"("},"started":)";
  w.DateStr(d.imaging_started) << R"(,"numberOfSeries":)";
  w.Int(plan.series()) << R"(,"numberOfInstances":)";
  w.Int(plan.instances()) << R"(,"series":[{"uid":")" << plan.image_series_uid
                          << R"(","number":1,"modality":{"system":")" << kDcm << R"(","code":")"
                          << plan.modality << R"("},"numberOfInstances":)";
  w.Int(static_cast<int64_t>(plan.image_instance_uids.size()));
  body_site();
  w << R"(,"instance":[)";
  for (size_t k = 0; k < plan.image_instance_uids.size(); ++k) {
    if (k > 0) w << ',';
    instance(plan.image_instance_uids[k], plan.sop_class_uid.c_str(), static_cast<int>(k) + 1);
  }
  w << R"(]},{"uid":")" << plan.segmentation_series_uid << R"(","number":2,"modality":{"system":")"
    << kDcm << R"(","code":"SEG"},"numberOfInstances":1)";
  body_site();
  w << R"(,"instance":[)";
  instance(plan.segmentation_instance_uid, internal::kSegmentationStorage, 1);
  w << "]}]}\n";
}

void Generator::Records(Rng& rng, int64_t n, const Case& c, model::RecordBatch& out) const {
  namespace sys = model::system;
  const std::string& site = options_.site;
  const std::string number = std::to_string(n);
  const std::string patient_id = site + "-pat-" + number;
  const std::string condition_id = site + "-cond-" + number;

  // The identifying fields are not records, but the draws decide the optional resources.
  const Details d = Draw(rng, c);
  {
    model::Individual ind;
    ind.id = patient_id;
    ind.sex = c.female ? model::Sex::kFemale : model::Sex::kMale;
    ind.birth_date = c.birth;
    if (c.dead) {  // deceasedDateTime; the living have no deceased[x], so their status is unknown
      ind.vital_status = model::VitalStatus::kDeceased;
      ind.death_date = c.death;
    }
    out.individuals.push_back(std::move(ind));
  }
  {
    model::Diagnosis dx;
    dx.id = condition_id;
    dx.individual_id = patient_id;
    dx.code = {sys::kIcd10, c.site->icd10, c.site->icd10_display};
    dx.topography = c.site->topography;
    dx.morphology = c.morphology->code;
    dx.onset_date = c.diagnosis;
    out.diagnoses.push_back(std::move(dx));
  }

  int obs = 0;
  auto add_obs = [&](const char* loinc, const char* loinc_display, Date effective,
                     model::Coding value) -> model::Observation& {
    model::Observation o;
    o.id = site + "-obs-" + number + "-" + std::to_string(++obs);
    o.individual_id = patient_id;
    o.focus_id = condition_id;
    o.code = {sys::kLoinc, loinc, loinc_display};
    o.value_code = std::move(value);
    o.effective_date = effective;
    out.observations.push_back(std::move(o));
    return out.observations.back();
  };
  const model::Coding positive{kSnomed, "10828004", "Positive"};
  const model::Coding negative{kSnomed, "260385009", "Negative"};
  if (c.stage != nullptr) {
    const bool path = std::any_of(c.events.begin(), c.events.end(),
                                  [](const Event& e) { return e.kind == Event::kSurgeryEvent; });
    const Date date = c.diagnosis + (path ? 30 : 7);
    add_obs(path ? "21902-2" : "21908-9",
            path ? "Stage group.pathology Cancer" : "Stage group.clinical Cancer", date,
            {sys::kAjcc, c.stage->code, c.stage->display});
    static constexpr const char* kT[2][5] = {{"cT0", "cT1", "cT2", "cT3", "cT4"},
                                             {"pT0", "pT1", "pT2", "pT3", "pT4"}};
    static constexpr const char* kN[2][4] = {{"cN0", "cN1", "cN2", "cN3"},
                                             {"pN0", "pN1", "pN2", "pN3"}};
    static constexpr const char* kM[2][2] = {{"cM0", "cM1"}, {"cM0", "pM1"}};
    add_obs(path ? "21899-0" : "21905-5",
            path ? "Primary tumor.pathology Cancer" : "Primary tumor.clinical [Class] Cancer", date,
            {sys::kAjcc, kT[path][c.t_category], ""});
    add_obs(path ? "21900-6" : "21906-3",
            path ? "Regional lymph nodes.pathology [Class] Cancer"
                 : "Regional lymph nodes.clinical [Class] Cancer",
            date, {sys::kAjcc, kN[path][c.n_category], ""});
    add_obs(path ? "21901-4" : "21907-1",
            path ? "Distant metastases.pathology [Class] Cancer"
                 : "Distant metastases.clinical [Class] Cancer",
            date, {sys::kAjcc, kM[path][c.m_category], ""});
  }
  if (c.grade != 0) {
    static constexpr const char* kGradeCodes[] = {"", "C28077", "C28078", "C28079"};
    static constexpr const char* kGradeNames[] = {"", "Grade 1", "Grade 2", "Grade 3"};
    add_obs("59542-1", "Histologic grade", c.diagnosis + 7,
            {kNcit, kGradeCodes[c.grade], kGradeNames[c.grade]});
  }
  auto marker = [&](Marker m, const char* loinc, const char* display) {
    if (m == Marker::kNotTested) return;
    add_obs(loinc, display, c.diagnosis + 10, m == Marker::kPositive ? positive : negative);
  };
  marker(c.er, "16112-5", "Estrogen receptor [Interpretation] in Tissue");
  marker(c.pr, "16113-3", "Progesterone receptor [Interpretation] in Tissue");
  marker(c.her2, "48676-1", "HER2 [Interpretation] in Tissue");
  if (c.pdl1_tested) {
    add_obs("83052-1", "PD-L1 by clone 22C3 [Presence] in Tissue by Immune stain", c.diagnosis + 10,
            c.pdl1_high ? positive : negative);
  }
  if (c.msi_tested) {
    add_obs("81695-9", "Microsatellite instability [Interpretation] in Cancer specimen Qualitative",
            c.diagnosis + 14,
            c.msi_high ? model::Coding{sys::kLoinc, "LA26203-2", "MSI-H"}
                       : model::Coding{sys::kLoinc, "LA14122-8", "Stable"});
  }
  auto variant = [&](const char* hgnc, const char* gene, const char* protein_change) {
    model::Observation& o = add_obs("69548-6", "Genetic variant assessment", c.diagnosis + 14,
                                    {sys::kLoinc, "LA9633-4", "Present"});
    o.gene_studied = {"http://www.genenames.org/geneId", hgnc, gene};
    if (protein_change != nullptr) o.amino_acid_change = protein_change;
  };
  if (c.egfr) variant("HGNC:3236", "EGFR", c.egfr_exon19 ? "p.Glu746_Ala750del" : "p.Leu858Arg");
  if (c.alk) variant("HGNC:427", "ALK", nullptr);
  if (c.kras) {
    variant("HGNC:6407", "KRAS",
            c.kras_g12c ? "p.Gly12Cys" : (c.kras_g12d ? "p.Gly12Asp" : "p.Gly12Val"));
  }
  if (c.braf_v600e) variant("HGNC:1097", "BRAF", "p.Val600Glu");
  if (c.progression != 0) {
    add_obs("97509-4", "Cancer disease status", c.progression,
            {kSnomed, "271299001", "Patient's condition worsened"});
  }
  add_obs(
      "75186-7", "Vital status", c.last_contact,
      c.dead ? model::Coding{kNcit, "C28554", "Dead"} : model::Coding{kNcit, "C37987", "Alive"});

  int proc = 0, med = 0;
  for (const Event& e : c.events) {
    model::Treatment t;
    t.individual_id = patient_id;
    t.start_date = e.start;
    if (e.kind == Event::kDrugEvent) {
      t.id = site + (e.drug->oral ? "-ms-" : "-ma-") + number + "-" + std::to_string(++med);
      t.kind = model::TreatmentKind::kMedication;
      t.code = {sys::kAtc, e.drug->atc, e.drug->name};
      t.end_date = e.end;
    } else {
      t.id = site + "-proc-" + number + "-" + std::to_string(++proc);
      t.kind = e.kind == Event::kRadiotherapyEvent ? model::TreatmentKind::kRadiotherapy
                                                   : model::TreatmentKind::kSurgery;
      t.code = {kSnomed, e.procedure->code, e.procedure->display};
      if (e.kind == Event::kRadiotherapyEvent) t.end_date = e.end;  // performedPeriod
    }
    out.treatments.push_back(std::move(t));
  }

  if (d.specimen) {
    model::Biosample b;
    b.id = site + "-spec-" + number;
    b.individual_id = patient_id;
    b.type = {kSnomed, "119376003", "Tissue specimen"};
    b.body_site = {kIcdO3, c.site->topography, c.site->topography_display};
    b.collection_date = d.specimen_date;
    out.biosamples.push_back(std::move(b));
  }
  if (d.imaging) {
    model::ImagingStudy s;
    s.id = site + "-img-" + number;
    s.individual_id = patient_id;
    s.modality = c.type->imaging_modality;
    s.body_site = {kIcdO3, c.site->topography, c.site->topography_display};
    s.number_of_series = d.series;
    s.number_of_instances = d.instances;
    if (IsImaged(n)) {
      const internal::ImagingPlan plan =
          internal::PlanImagingStudy(c.type->imaging_modality, d.study_uid, d.series_uid);
      s.number_of_series = plan.series();
      s.number_of_instances = plan.instances();
    }
    s.started = d.imaging_started;
    out.imaging_studies.push_back(std::move(s));
  }
}

bool ValidSiteName(const std::string& site) {
  if (site.empty() || site.size() > 32) return false;
  return std::all_of(site.begin(), site.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.';
  });
}

// The individuals whose study is written as DICOM (sorted indices), for valid options.
std::vector<int64_t> ChooseImaged(const Generator& generator, const SynthOptions& options) {
  const int64_t wanted = options.images == -1 ? 20 : options.images;
  return internal::ChooseImagedIndividuals(
      options.individuals, wanted, generator.ImageKey(),
      [&](int64_t i) { return generator.HasWritableImagingStudy(i); });
}

Status CheckImages(const SynthOptions& options) {
  if (options.images < -1 || options.images > 10'000) {
    return InvalidArgument("synth: --images must be between 0 and 10000");
  }
  return Status::Ok();
}

struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};

}  // namespace

const std::vector<std::string>& SynthProfileNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const Profile& p : internal::Profiles()) names.emplace_back(p.name);
    return names;
  }();
  return kNames;
}

std::string DefaultProfileForSite(const std::string& site) {
  uint64_t h = 1469598103934665603ULL;
  for (char c : site) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  const auto& names = SynthProfileNames();
  return names[h % names.size()];
}

Status WriteSyntheticSite(const SynthOptions& options, SynthReport* report) {
  if (!ValidSiteName(options.site)) {
    return InvalidArgument("synth: site name '" + options.site +
                           "' must be 1-32 characters of A-Z a-z 0-9 '-' '.'");
  }
  if (options.individuals < 1 || options.individuals > 100'000'000) {
    return InvalidArgument("synth: --individuals must be between 1 and 100000000");
  }
  if (options.out_dir.empty()) return InvalidArgument("synth: no output directory given");
  const int64_t genomes =
      options.genomes == -1 ? std::min<int64_t>(options.individuals, 500) : options.genomes;
  if (genomes < 0 || genomes > options.individuals || genomes > 100'000) {
    return InvalidArgument(
        "synth: --genomes must be between 0 and the number of individuals (at most 100000)");
  }
  if (options.genome_sites < 0 || options.genome_sites > 50'000'000) {
    return InvalidArgument("synth: --genome-sites must be between 0 and 50000000");
  }
  RETURN_IF_ERROR(CheckImages(options));
  const std::string profile_name =
      options.profile.empty() ? DefaultProfileForSite(options.site) : options.profile;
  const Profile* profile = internal::FindProfile(profile_name);
  if (profile == nullptr) {
    return InvalidArgument("synth: unknown profile '" + profile_name +
                           "' (general, comprehensive or regional)");
  }

  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) return Internal("synth: cannot create " + options.out_dir + ": " + ec.message());
  std::array<std::unique_ptr<FILE, FileCloser>, kFileCount> files;
  for (int f = 0; f < kFileCount; ++f) {
    const std::string path = (std::filesystem::path(options.out_dir) / kFileNames[f]).string();
    files[f].reset(std::fopen(path.c_str(), "wb"));
    if (!files[f]) return Internal("synth: cannot write " + path);
  }

  Generator imaging_generator(options, *profile);
  const std::vector<int64_t> imaged = ChooseImaged(imaging_generator, options);
  imaging_generator.SetImaged(imaged);
  const Generator& generator = imaging_generator;
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, 64);
  const int64_t chunks = (options.individuals + kChunk - 1) / kChunk;
  std::vector<Buffers> buffers(static_cast<size_t>(threads));
  // Chunks are generated `threads` at a time and written in chunk order; every individual's
  // stream is keyed by its index, so the output does not depend on the thread count.
  for (int64_t base = 0; base < chunks; base += threads) {
    const int batch = static_cast<int>(std::min<int64_t>(threads, chunks - base));
    auto run = [&](int k) {
      Buffers& b = buffers[static_cast<size_t>(k)];
      for (auto& t : b.text) t.clear();
      const int64_t first = (base + k) * kChunk;
      generator.GenerateChunk(first, std::min<int64_t>(first + kChunk, options.individuals), b);
    };
    std::vector<std::thread> workers;
    for (int k = 1; k < batch; ++k) workers.emplace_back(run, k);
    run(0);
    for (auto& w : workers) w.join();
    for (int k = 0; k < batch; ++k) {
      for (int f = 0; f < kFileCount; ++f) {
        const std::string& text = buffers[static_cast<size_t>(k)].text[f];
        if (std::fwrite(text.data(), 1, text.size(), files[f].get()) != text.size()) {
          return Internal(std::string("synth: write failed for ") + kFileNames[f]);
        }
      }
    }
  }
  for (int f = 0; f < kFileCount; ++f) {
    if (std::fclose(files[f].release()) != 0) {
      return Internal(std::string("synth: write failed for ") + kFileNames[f]);
    }
  }

  SynthReport written;
  written.individuals = options.individuals;
  const std::string vcf = (std::filesystem::path(options.out_dir) / "genomes.vcf.gz").string();
  if (genomes == 0) {
    // No stale genomes beside a new cohort.
    std::filesystem::remove(vcf, ec);
    std::filesystem::remove(vcf + ".tbi", ec);
  } else {
    const std::vector<int64_t> chosen =
        internal::ChooseGenomeIndividuals(options.individuals, genomes, generator.GenomeKey());
    std::vector<internal::GenomeSubject> subjects;
    subjects.reserve(chosen.size());
    for (int64_t i : chosen) subjects.push_back(generator.Subject(i));
    internal::GenomeOptions genome_options;
    genome_options.site = options.site;
    genome_options.path = vcf;
    genome_options.sites = options.genome_sites;
    genome_options.key = generator.GenomeKey();
    genome_options.threads = threads;
    ASSIGN_OR_RETURN(const internal::GenomeSummary summary,
                     internal::WriteGenomes(genome_options, subjects));
    written.genomes = summary.samples;
    written.genome_records = summary.records;
    written.known_variant_records = summary.known_records;
    written.genome_path = vcf;
  }

  // Images: a stale dicom/ folder would contradict the new ImagingStudy resources.
  const std::string dicom = (std::filesystem::path(options.out_dir) / "dicom").string();
  std::filesystem::remove_all(dicom, ec);
  if (ec) return Internal("synth: cannot remove " + dicom + ": " + ec.message());
  if (!imaged.empty()) {
    std::vector<internal::ImagingSubject> subjects;
    subjects.reserve(imaged.size());
    for (int64_t i : imaged) subjects.push_back(generator.ImageSubject(i));
    internal::ImageOptions image_options;
    image_options.site = options.site;
    image_options.dir = dicom;
    image_options.institution_address = generator.InstitutionAddress();
    image_options.key = generator.ImageKey();
    image_options.threads = threads;
    ASSIGN_OR_RETURN(const internal::ImageSummary images,
                     internal::WriteImagingStudies(image_options, subjects));
    written.image_studies = images.studies;
    written.image_files = images.files;
    written.image_bytes = images.bytes;
    written.image_dir = dicom;
  }
  if (report != nullptr) *report = std::move(written);
  return Status::Ok();
}

Status GenerateRecords(const SynthOptions& options,
                       const std::function<void(const model::RecordBatch&)>& fn) {
  if (!ValidSiteName(options.site)) {
    return InvalidArgument("synth: site name '" + options.site +
                           "' must be 1-32 characters of A-Z a-z 0-9 '-' '.'");
  }
  if (options.individuals < 1 || options.individuals > 100'000'000) {
    return InvalidArgument("synth: --individuals must be between 1 and 100000000");
  }
  const std::string profile_name =
      options.profile.empty() ? DefaultProfileForSite(options.site) : options.profile;
  const Profile* profile = internal::FindProfile(profile_name);
  if (profile == nullptr) {
    return InvalidArgument("synth: unknown profile '" + profile_name +
                           "' (general, comprehensive or regional)");
  }
  RETURN_IF_ERROR(CheckImages(options));
  Generator imaging_generator(options, *profile);
  imaging_generator.SetImaged(ChooseImaged(imaging_generator, options));
  const Generator& generator = imaging_generator;
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::clamp(threads, 1, 64);
  const int64_t chunks = (options.individuals + kChunk - 1) / kChunk;
  // Groups of `threads` chunks: the workers generate group g+1 while the caller's fn consumes
  // group g (the consumer, e.g. an index builder, is usually the slower side).
  auto generate = [&](int64_t base, std::vector<model::RecordBatch>& out) {
    const int batch = static_cast<int>(std::min<int64_t>(threads, chunks - base));
    out.assign(static_cast<size_t>(batch), model::RecordBatch{});
    auto run = [&](int k) {
      const int64_t first = (base + k) * kChunk;
      generator.GenerateRecordsChunk(first, std::min<int64_t>(first + kChunk, options.individuals),
                                     out[static_cast<size_t>(k)]);
    };
    std::vector<std::thread> workers;
    for (int k = 0; k < batch; ++k) workers.emplace_back(run, k);
    for (auto& w : workers) w.join();
  };
  std::vector<model::RecordBatch> current, next;
  generate(0, current);
  for (int64_t base = 0; base < chunks; base += threads) {
    std::thread ahead;
    if (base + threads < chunks) ahead = std::thread(generate, base + threads, std::ref(next));
    for (const model::RecordBatch& b : current) fn(b);
    if (ahead.joinable()) ahead.join();
    std::swap(current, next);
  }
  return Status::Ok();
}

}  // namespace oncomesh::synth

#include "deid/dicom_deid.h"

#include <dcmtk/config/osconfig.h>  // must come first (DCMTK)
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "model/date.h"
#include "support/process.h"

namespace oncomesh::deid {
namespace {

namespace fs = std::filesystem;

// --- The table --------------------------------------------------------------------------------

TEST(DicomDeidTable, EveryRowOfTheEmbeddedTableParses) {
  const BasicProfileTable& table = BasicProfileTable::Embedded();
  EXPECT_EQ(table.rows().size(), 608u);
  for (const ProfileRow& row : table.rows()) {
    EXPECT_FALSE(row.name.empty()) << row.tag;
    EXPECT_FALSE(row.basic.empty()) << row.tag;
  }
}

TEST(DicomDeidTable, KnownRowsHaveTheStandardsActions) {
  using enum ProfileOption;
  struct Case {
    uint16_t group, element;
    const char* tag;
    const char* basic;
    ProfileOption option;
    const char* option_action;
  };
  // PS3.15 2023b Table E.1-1.
  const Case cases[] = {
      {0x0010, 0x0010, "(0010,0010)", "Z", kRetainPatientCharacteristics, ""},
      {0x0010, 0x0020, "(0010,0020)", "Z", kRetainUids, ""},
      {0x0008, 0x0018, "(0008,0018)", "U", kRetainUids, "K"},
      {0x0020, 0x000D, "(0020,000D)", "U", kRetainUids, "K"},
      {0x0008, 0x0080, "(0008,0080)", "X/Z/D", kRetainInstitutionIdentity, "K"},
      {0x0008, 0x1140, "(0008,1140)", "X/Z/U*", kRetainUids, "K"},
      {0x0008, 0x0020, "(0008,0020)", "Z", kRetainLongitudinalModifiedDates, "C"},
      {0x0008, 0x0022, "(0008,0022)", "X/Z", kRetainLongitudinalFullDates, "K"},
      {0x0008, 0x0023, "(0008,0023)", "Z/D", kRetainLongitudinalModifiedDates, "C"},
      {0x0010, 0x0030, "(0010,0030)", "Z", kRetainLongitudinalModifiedDates, ""},
      {0x0010, 0x0040, "(0010,0040)", "Z", kRetainPatientCharacteristics, "K"},
      {0x0018, 0x1000, "(0018,1000)", "X/Z/D", kRetainDeviceIdentity, "K"},
      {0x0008, 0x103E, "(0008,103E)", "X", kCleanDescriptors, "C"},
      {0x0040, 0xA730, "(0040,A730)", "D", kCleanStructuredContent, "C"},
      {0x0070, 0x0001, "(0070,0001)", "D", kCleanGraphics, "C"},
      {0x0002, 0x0003, "(0002,0003)", "U", kRetainUids, "K"},
      {0x0088, 0x0200, "(0088,0200)", "X", kCleanGraphics, ""},
      {0x0400, 0x0561, "(0400,0561)", "X", kRetainUids, ""},
      // Repeating groups and private attributes.
      {0x6000, 0x3000, "(60xx,3000)", "X", kCleanGraphics, "C"},
      {0x601E, 0x4000, "(60xx,4000)", "X", kCleanGraphics, "C"},
      {0x5004, 0x1234, "(50xx,xxxx)", "X", kCleanGraphics, "C"},
      {0x0009, 0x1001, "(gggg,eeee)", "X", kRetainSafePrivate, "C"},
      {0x7FE1, 0x0010, "(gggg,eeee)", "X", kRetainSafePrivate, "C"},
  };
  const BasicProfileTable& table = BasicProfileTable::Embedded();
  for (const Case& c : cases) {
    const ProfileRow* row = table.Find(c.group, c.element);
    ASSERT_NE(row, nullptr) << c.tag;
    EXPECT_EQ(row->tag, c.tag);
    EXPECT_EQ(row->basic, c.basic) << c.tag;
    EXPECT_EQ(row->options[static_cast<size_t>(c.option)], c.option_action) << c.tag;
  }
  EXPECT_EQ(table.Find(0x0028, 0x0010), nullptr);  // Rows: not in the table, kept
  EXPECT_EQ(table.Find(0x6000, 0x0010), nullptr);  // Overlay Rows: not a row of its own
}

TEST(DicomDeidTable, MalformedTablesAreRefusedWithTheLine) {
  const std::string header = "tag\tname\tbasic\ta\tb\tc\td\te\tf\tg\th\ti\tj\n";
  const std::string row_tail = "\t\t\t\t\t\t\t\t\t\t\n";
  EXPECT_TRUE(BasicProfileTable::Parse(header + "(0010,0010)\tName\tZ" + row_tail).ok());
  const Result<BasicProfileTable> few = BasicProfileTable::Parse(header + "(0010,0010)\tName\tZ\n");
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(BasicProfileTable::Parse(header + "(0010,001G)\tName\tZ" + row_tail).ok());
  EXPECT_FALSE(BasicProfileTable::Parse(header + "(0010,0010)\tName\tQ" + row_tail).ok());
  EXPECT_FALSE(BasicProfileTable::Parse("# only a comment\n").ok());
}

// --- UIDs -------------------------------------------------------------------------------------

TEST(DicomDeidUid, PseudonymousUidIsAStableUuidDerivedUid) {
  const Pseudonymizer a(std::string(kSecretBytes, 'a')), b(std::string(kSecretBytes, 'b'));
  const std::string uid = PseudonymousUid(a, "1.2.3.4");
  EXPECT_EQ(uid.rfind("2.25.", 0), 0u);
  EXPECT_LE(uid.size(), 5u + 39u);  // 2^128 has 39 decimal digits; UI allows 64
  EXPECT_TRUE(std::all_of(uid.begin() + 5, uid.end(), [](char c) { return c >= '0' && c <= '9'; }));
  EXPECT_NE(uid[5], '0');
  EXPECT_EQ(uid, PseudonymousUid(a, "1.2.3.4"));
  EXPECT_NE(uid, PseudonymousUid(a, "1.2.3.5"));
  EXPECT_NE(uid, PseudonymousUid(b, "1.2.3.4"));
  // The decimal is the pseudonym's 128 bits: check it with 64-bit halves.
  const std::string hex = a.Pseudonym("DicomUid", "1.2.3.4");
  const unsigned long long high = std::stoull(hex.substr(0, 16), nullptr, 16);
  const unsigned long long low = std::stoull(hex.substr(16), nullptr, 16);
  // value mod 10^9 from the halves: (high * 2^64 + low) mod 10^9.
  const unsigned long long m = 1000000000ULL;
  unsigned long long two64 = 1;  // 2^64 mod m
  for (int i = 0; i < 64; ++i) two64 = two64 * 2 % m;
  const unsigned long long expected = ((high % m) * two64 % m + low % m) % m;
  EXPECT_EQ(std::stoull(uid.substr(uid.size() - 9)), expected);
}

// --- Every real file ---------------------------------------------------------------------------

// Files DCMTK refuses (shared/data/MANIFEST.md names them as broken on purpose).
const std::set<std::string> kUnloadable = {"MR_truncated.dcm", "rtplan_truncated.dcm",
                                           "no_meta.dcm"};

// De-identified files whose source dciodvfy cannot check: it dies on an assertion about their
// pixel attributes (attrothr.cc: bitsallocated <= bytesinword*8). The others must be checked.
const std::set<std::string> kDciodvfyCannotCheck = {"badVR.dcm", "rtdose.dcm"};

// Files to be quarantined, with a word of the expected reason.
const std::map<std::string, std::string> kQuarantined = {
    {"JPEG2000.dcm", "Secondary Capture"},  // no Burned In Annotation = NO
    {"JPEG-lossy.dcm", "Secondary Capture"},
    {"priv_SQ.dcm", "SOP Instance UID"},  // test fixtures without SOP UIDs
    {"nested_priv_SQ.dcm", "SOP Instance UID"},
    {"meta_missing_tsyntax.dcm", "SOP Instance UID"},
    {"DICOMDIR", "DICOMDIR"},
};

std::vector<fs::path> DicomFiles() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(testing::SharedDir() + "/data/dicom")) {
    if (!entry.is_regular_file()) continue;
    const std::string name = entry.path().filename().string();
    const std::string ext = entry.path().extension().string();
    if (name == "LICENSE" || name == "SOURCE" || ext == ".txt" || ext == ".md") continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Value(DcmElement& e) {
  OFString v;
  if (e.getOFStringArray(v).bad()) return "";
  return v.c_str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

// What the input holds that must not reach the output, and what it keeps.
struct Inventory {
  std::set<std::string> identifying;                         // values that must be gone
  std::string kept;                                          // every kept text value, '\n'-joined
  std::vector<std::pair<DcmTagKey, std::string>> top_dates;  // shifted top-level DA values
};

bool TextVr(DcmEVR vr) {
  return vr == EVR_AE || vr == EVR_AS || vr == EVR_LO || vr == EVR_LT || vr == EVR_PN ||
         vr == EVR_SH || vr == EVR_ST || vr == EVR_UC || vr == EVR_UR || vr == EVR_UT ||
         vr == EVR_UI || vr == EVR_DA || vr == EVR_DT;
}

// Walks an item. A value is identifying when the profile does not keep its attribute (action
// other than K once the default Modified Dates option applies), when it is private, or when it
// is a date (every date is shifted). Only values of at least 4 characters count: shorter ones
// ("M", "1", "HFS") also occur in attributes the profile keeps and in dcmdump's own text, so
// finding them proves nothing. Numbers (DS, IS, binary), code strings (CS: PS3.15 E.1.1 Note 9)
// and times (kept with the Modified Dates option) are not identifying on their own.
void Collect(DcmItem& item, const BasicProfileTable& table, bool top, bool removed_above,
             Inventory& out) {
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* e = item.getElement(i);
    const uint16_t g = e->getGTag(), el = e->getETag();
    const ProfileRow* row = table.Find(g, el);
    std::string action = row != nullptr ? row->basic : "K";
    if (row != nullptr) {
      const std::string& modified =
          row->options[static_cast<size_t>(ProfileOption::kRetainLongitudinalModifiedDates)];
      if (!modified.empty()) action = modified;
    }
    const bool removed = removed_above || (g & 1) != 0 || (g & 0xFF00) == 0x6000 ||
                         (g & 0xFF00) == 0x5000 || action != "K";
    const DcmEVR vr = e->ident();
    if (vr == EVR_SQ) {
      auto& seq = static_cast<DcmSequenceOfItems&>(*e);
      // X/Z/U* and D/C sequences keep their structure; only what they contain is judged.
      const bool structural = action == "X/Z/U*" || action == "D" || action == "C";
      for (unsigned long j = 0; j < seq.card(); ++j) {
        Collect(*seq.getItem(j), table, false, removed && !structural, out);
      }
      continue;
    }
    if (!TextVr(vr)) continue;
    const std::string value = Value(*e);
    size_t start = 0;
    for (;;) {
      const size_t end = value.find('\\', start);
      std::string part = Trim(value.substr(start, end == std::string::npos ? end : end - start));
      if (vr == EVR_DA || vr == EVR_DT) {
        if (part.size() >= 8) out.identifying.insert(part.substr(0, 8));
        if (top && vr == EVR_DA && part.size() == 8 && value.find('\\') == std::string::npos &&
            (action == "C" || action == "K")) {
          out.top_dates.emplace_back(e->getTag(), part);
        }
      } else if (removed || vr == EVR_UI) {
        if (vr == EVR_UI ? action != "K" : part.size() >= 4) out.identifying.insert(part);
      } else {
        out.kept += part + "\n";
      }
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
}

// What dciodvfy (dicom3tools, independent of DCMTK) says of a file. It exits 0 when it found
// no error and 1 on errors or when it cannot read the file ("Abort - ..."); it dies on an
// assertion for a few inputs; it names the IOD it checked on a line of its own ("CTImage").
// `checked` only when it ran to the end and named an IOD: otherwise no error count means
// anything.
struct DciodvfyVerdict {
  bool checked = false;
  std::multiset<std::string> errors;  // its "Error - ..." lines
  std::string output;
};

DciodvfyVerdict Dciodvfy(const std::string& path) {
  DciodvfyVerdict v;
  const int exit_code = testing::RunCommand({"/usr/bin/dciodvfy", path}, &v.output);
  bool named_iod = false, aborted = false;
  std::istringstream lines(v.output);
  std::string line;
  while (std::getline(lines, line)) {
    // UIDs and values change by design; what must not be new is the kind of error.
    static const std::regex kUid(R"([0-9]+(\.[0-9]+)+)");
    if (line.rfind("Error - ", 0) == 0) v.errors.insert(std::regex_replace(line, kUid, "UID"));
    aborted |= line.rfind("Abort - ", 0) == 0;
    named_iod |= !line.empty() && line.find(' ') == std::string::npos;
  }
  v.checked = (exit_code == 0 || exit_code == 1) && !aborted && named_iod &&
              (exit_code == 0) == v.errors.empty();
  return v;
}

std::string Get(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  if (item.findAndGetOFStringArray(tag, v).bad()) return "";
  return Trim(v.c_str());
}

void AllReferencedUids(DcmItem& item, std::vector<std::string>& out) {
  for (unsigned long i = 0; i < item.card(); ++i) {
    DcmElement* e = item.getElement(i);
    if (e->ident() == EVR_SQ) {
      auto& seq = static_cast<DcmSequenceOfItems&>(*e);
      for (unsigned long j = 0; j < seq.card(); ++j) AllReferencedUids(*seq.getItem(j), out);
    } else if (e->getTag() == DCM_ReferencedSOPInstanceUID) {
      out.push_back(Trim(Value(*e)));
    }
  }
}

class DicomDeidFiles : public ::testing::Test {
 protected:
  const Pseudonymizer pseudonymizer_{std::string(kSecretBytes, 's')};
  testing::TempDir dir_;
};

TEST_F(DicomDeidFiles, NoIdentifyingValueOfAnyRealFileReachesTheOutput) {
  const BasicProfileTable& table = BasicProfileTable::Embedded();
  const std::string known_output_text =
      "ANONYMIZED OncoMesh PS3.15 2023b Basic Profile Retain Longitudinal Modified Dates "
      "(per-patient shift) Basic Application Confidentiality Profile Retain Longitudinal "
      "Temporal Information Modified Dates Option +0000";      // the last: a timezone's dummy
  std::map<std::string, std::set<std::string>> study_outputs;  // source study UID -> outputs
  std::set<std::string> output_sop_uids;
  std::vector<std::pair<std::string, std::vector<std::string>>> seg_references;
  std::set<std::string> unloadable, quarantined;
  std::set<std::string>
      unverifiable_sources;  // de-identified, but dciodvfy cannot check the source
  int deidentified = 0;

  for (const fs::path& path : DicomFiles()) {
    const std::string name = path.filename().string();
    SCOPED_TRACE(path.string());
    DcmFileFormat file;
    if (file.loadFile(path.c_str()).bad()) {
      unloadable.insert(name);
      continue;
    }
    Inventory inventory;
    Collect(*file.getMetaInfo(), table, false, false, inventory);
    Collect(*file.getDataset(), table, true, false, inventory);
    const std::string source_pid = Get(*file.getDataset(), DCM_PatientID);
    const std::string source_study = Get(*file.getDataset(), DCM_StudyInstanceUID);
    const std::string source_sop = Get(*file.getDataset(), DCM_SOPInstanceUID);

    const DicomDeidResult result = DeidentifyDicom(file, pseudonymizer_, DicomDeidOptions{});
    if (result.quarantined) {
      quarantined.insert(name);
      ASSERT_TRUE(kQuarantined.count(name)) << "unexpectedly quarantined: " << result.reason;
      EXPECT_NE(result.reason.find(kQuarantined.at(name)), std::string::npos) << result.reason;
      continue;
    }
    ++deidentified;
    EXPECT_GE(inventory.identifying.size(), 5u);  // UIDs, dates, names: the check has teeth
    const std::string out = dir_.path() + "/" + std::to_string(deidentified) + ".dcm";
    const OFCondition saved = file.saveFile(out.c_str(), EXS_Unknown);
    ASSERT_TRUE(saved.good()) << saved.text();

    std::string dump;
    ASSERT_EQ(testing::RunCommand({"dcmdump", "+L", out}, &dump), 0) << dump;
    std::ifstream raw_stream(out, std::ios::binary);
    const std::string raw((std::istreambuf_iterator<char>(raw_stream)),
                          std::istreambuf_iterator<char>());
    for (const std::string& value : inventory.identifying) {
      if (value.empty() || inventory.kept.find(value) != std::string::npos ||
          known_output_text.find(value) != std::string::npos) {
        continue;  // also in an attribute the profile keeps, or our own dummy text
      }
      EXPECT_EQ(dump.find(value), std::string::npos) << "'" << value << "' in dcmdump of output";
      if (value.size() >= 6) {
        EXPECT_EQ(raw.find(value), std::string::npos) << "'" << value << "' in output bytes";
      }
    }

    // Reload what was written and check what the profile requires.
    DcmFileFormat written;
    ASSERT_TRUE(written.loadFile(out.c_str()).good());
    DcmDataset& ds = *written.getDataset();
    EXPECT_EQ(Get(ds, DCM_PatientIdentityRemoved), "YES");
    EXPECT_EQ(Get(ds, DCM_LongitudinalTemporalInformationModified), "MODIFIED");
    std::set<std::string> codes;
    DcmItem* code = nullptr;
    for (int i = 0;
         ds.findAndGetSequenceItem(DCM_DeidentificationMethodCodeSequence, code, i).good(); ++i) {
      EXPECT_EQ(Get(*code, DCM_CodingSchemeDesignator), "DCM");
      codes.insert(Get(*code, DCM_CodeValue));
    }
    EXPECT_EQ(codes, (std::set<std::string>{"113100", "113107"}));
    EXPECT_EQ(Get(ds, DCM_PatientID), result.individual_id);
    EXPECT_EQ(Get(ds, DCM_PatientName), result.individual_id);
    EXPECT_EQ(result.patient_source_id, source_pid);
    if (!source_pid.empty()) {
      EXPECT_EQ(result.individual_id, pseudonymizer_.IndividualPseudonym(source_pid));
      EXPECT_EQ(result.date_shift_days, pseudonymizer_.DateShiftDays(source_pid));
    }
    const std::string sop = Get(ds, DCM_SOPInstanceUID);
    EXPECT_EQ(sop, PseudonymousUid(pseudonymizer_, source_sop));
    EXPECT_EQ(Get(*written.getMetaInfo(), DCM_MediaStorageSOPInstanceUID), sop);
    EXPECT_EQ(Get(ds, DCM_StudyInstanceUID), PseudonymousUid(pseudonymizer_, source_study));
    study_outputs[source_study].insert(Get(ds, DCM_StudyInstanceUID));
    output_sop_uids.insert(sop);
    for (const auto& [tag, date] : inventory.top_dates) {
      const model::Date source = model::DateFromCivil(
          std::stoi(date.substr(0, 4)), static_cast<unsigned>(std::stoi(date.substr(4, 2))),
          static_cast<unsigned>(std::stoi(date.substr(6, 2))));
      const model::Civil shifted = model::CivilFromDays(source + result.date_shift_days);
      char expected[16];
      std::snprintf(expected, sizeof expected, "%04d%02u%02u", shifted.year, shifted.month,
                    shifted.day);
      EXPECT_EQ(Get(ds, tag), expected) << DcmTag(tag).getTagName() << " was " << date;
    }
    if (Get(ds, DCM_SOPClassUID) == UID_SegmentationStorage) {
      std::vector<std::string> references;
      AllReferencedUids(ds, references);
      seg_references.emplace_back(name, references);
    }

    // The same input de-identified again gives the same output UIDs (re-sends stay one
    // instance); dciodvfy finds no new error.
    DcmFileFormat again;
    ASSERT_TRUE(again.loadFile(path.c_str()).good());
    EXPECT_FALSE(DeidentifyDicom(again, pseudonymizer_, DicomDeidOptions{}).quarantined);
    EXPECT_EQ(Get(*again.getDataset(), DCM_SOPInstanceUID), sop);
    // dciodvfy checks what was written, and finds no error that the source did not have.
    const DciodvfyVerdict source_verdict = Dciodvfy(path.string());
    const DciodvfyVerdict output_verdict = Dciodvfy(out);
    if (!source_verdict.checked) {
      unverifiable_sources.insert(name);
    } else {
      EXPECT_TRUE(output_verdict.checked) << "dciodvfy did not check the output:\n"
                                          << output_verdict.output;
      for (const std::string& error : output_verdict.errors) {
        EXPECT_LE(output_verdict.errors.count(error), source_verdict.errors.count(error))
            << "new in the output: " << error;
      }
    }
  }

  EXPECT_EQ(unloadable, kUnloadable);
  EXPECT_EQ(unverifiable_sources, kDciodvfyCannotCheck);
  std::set<std::string> expected_quarantined;
  for (const auto& [name, why] : kQuarantined) expected_quarantined.insert(name);
  EXPECT_EQ(quarantined, expected_quarantined);
  EXPECT_EQ(deidentified, 47);  // 56 files, less 3 unloadable and 6 quarantined
  for (const auto& [source, outputs] : study_outputs) {
    EXPECT_EQ(outputs.size(), 1u) << "study " << source << " got several UIDs";
  }
  ASSERT_EQ(seg_references.size(), 3u);  // liver_1frame and highdicom's two
  for (const auto& [name, references] : seg_references) {
    if (name == "liver_1frame.dcm") continue;  // its images are not in the shared data
    EXPECT_FALSE(references.empty()) << name;
    for (const std::string& uid : references) {
      EXPECT_TRUE(output_sop_uids.count(uid))
          << name << " refers to " << uid << ", which is no de-identified image";
    }
  }
}

TEST_F(DicomDeidFiles, DeclaredBurnedInTextOrFacesAreQuarantinedWithTheReason) {
  const std::string ct = testing::SharedDir() + "/data/dicom/CT_small.dcm";
  struct Case {
    DcmTagKey tag;
    const char* word;
  };
  for (const Case& c : {Case{DCM_BurnedInAnnotation, "Burned In Annotation"},
                        Case{DCM_RecognizableVisualFeatures, "Recognizable Visual Features"}}) {
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(ct.c_str()).good());
    ASSERT_TRUE(file.getDataset()->putAndInsertString(c.tag, "YES").good());
    const DicomDeidResult result = DeidentifyDicom(file, pseudonymizer_, DicomDeidOptions{});
    EXPECT_TRUE(result.quarantined);
    EXPECT_NE(result.reason.find(c.word), std::string::npos) << result.reason;
  }
}

// Timezone Offset From UTC is cleaned (C) with the Modified Dates option: into a value of its
// form ("&ZZXX", PS3.3 C.12.1.1), not the text dummy of its VR SH ("ANONYMIZED", which dciodvfy
// refuses; issue 12, item 12).
TEST_F(DicomDeidFiles, ATimezoneOffsetBecomesAValidOffset) {
  const std::string source = testing::SharedDir() + "/data/dicom/CT_small.dcm";
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(source.c_str()).good());
  ASSERT_TRUE(file.getDataset()->putAndInsertString(DCM_TimezoneOffsetFromUTC, "+0100").good());
  const std::string input = dir_.path() + "/with-offset.dcm";
  ASSERT_TRUE(file.saveFile(input.c_str(), EXS_LittleEndianExplicit).good());
  const DciodvfyVerdict source_verdict = Dciodvfy(input);
  ASSERT_TRUE(source_verdict.checked) << source_verdict.output;
  ASSERT_FALSE(DeidentifyDicom(file, pseudonymizer_, DicomDeidOptions{}).quarantined);
  const std::string offset = Get(*file.getDataset(), DCM_TimezoneOffsetFromUTC);
  EXPECT_TRUE(offset.empty() || (offset.size() == 5 && (offset[0] == '+' || offset[0] == '-') &&
                                 offset.find_first_not_of("0123456789", 1) == std::string::npos))
      << offset;
  EXPECT_NE(offset, "+0100");
  const std::string output = dir_.path() + "/deidentified.dcm";
  ASSERT_TRUE(file.saveFile(output.c_str(), EXS_LittleEndianExplicit).good());
  const DciodvfyVerdict output_verdict = Dciodvfy(output);
  ASSERT_TRUE(output_verdict.checked) << output_verdict.output;
  for (const std::string& error : output_verdict.errors) {
    EXPECT_LE(output_verdict.errors.count(error), source_verdict.errors.count(error))
        << "new in the output: " << error;
  }
}

TEST_F(DicomDeidFiles, WithoutPatientIdTheInstanceGetsAnUnlinkedPseudonym) {
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile((testing::SharedDir() + "/data/dicom/CT_small.dcm").c_str()).good());
  const std::string study = Get(*file.getDataset(), DCM_StudyInstanceUID);
  delete file.getDataset()->remove(DCM_PatientID);
  const DicomDeidResult result = DeidentifyDicom(file, pseudonymizer_, DicomDeidOptions{});
  ASSERT_FALSE(result.quarantined) << result.reason;
  EXPECT_EQ(result.patient_source_id, "");
  EXPECT_EQ(result.individual_id, pseudonymizer_.Pseudonym("DicomUnlinkedStudy", study));
  EXPECT_NE(result.individual_id, pseudonymizer_.IndividualPseudonym(""));
  EXPECT_EQ(Get(*file.getDataset(), DCM_PatientID), result.individual_id);
}

TEST_F(DicomDeidFiles, OptionsKeepWhatTheyRetainAndAreRecorded) {
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile((testing::SharedDir() + "/data/dicom/CT_small.dcm").c_str()).good());
  DcmDataset& ds = *file.getDataset();
  ASSERT_TRUE(ds.putAndInsertString(DCM_StationName, "CTSTATION7").good());
  ASSERT_TRUE(ds.putAndInsertString(DCM_InstitutionName, "Example Hospital").good());
  ASSERT_TRUE(ds.putAndInsertString(DCM_PatientAge, "047Y").good());
  ASSERT_TRUE(ds.putAndInsertString(DCM_StudyDate, "20040119").good());
  DicomDeidOptions options;
  options.retain_longitudinal_modified_dates = false;
  options.retain_device_identity = true;
  options.retain_institution_identity = true;
  options.retain_patient_characteristics = true;
  ASSERT_FALSE(DeidentifyDicom(file, pseudonymizer_, options).quarantined);
  DcmDataset& out = *file.getDataset();
  EXPECT_EQ(Get(out, DCM_StationName), "CTSTATION7");
  EXPECT_EQ(Get(out, DCM_InstitutionName), "Example Hospital");
  EXPECT_EQ(Get(out, DCM_PatientAge), "047Y");
  EXPECT_EQ(Get(out, DCM_StudyDate), "");  // Z without the Modified Dates option
  EXPECT_EQ(Get(out, DCM_LongitudinalTemporalInformationModified), "REMOVED");
  std::set<std::string> codes;
  DcmItem* code = nullptr;
  for (int i = 0;
       out.findAndGetSequenceItem(DCM_DeidentificationMethodCodeSequence, code, i).good(); ++i) {
    codes.insert(Get(*code, DCM_CodeValue));
  }
  EXPECT_EQ(codes, (std::set<std::string>{"113100", "113108", "113109", "113112"}));
}

TEST_F(DicomDeidFiles, OddInputDoesNotCrash) {
  // Sequences nested 200 deep are quarantined; a sequence of 20,000 items is handled.
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile((testing::SharedDir() + "/data/dicom/CT_small.dcm").c_str()).good());
  DcmItem* item = file.getDataset();
  for (int depth = 0; depth < 200; ++depth) {
    DcmItem* next = nullptr;
    ASSERT_TRUE(item->findOrCreateSequenceItem(DCM_ReferencedSeriesSequence, next, -2).good());
    item = next;
  }
  const DicomDeidResult deep = DeidentifyDicom(file, pseudonymizer_, DicomDeidOptions{});
  EXPECT_TRUE(deep.quarantined);
  EXPECT_NE(deep.reason.find("nested"), std::string::npos) << deep.reason;

  DcmFileFormat wide;
  ASSERT_TRUE(wide.loadFile((testing::SharedDir() + "/data/dicom/CT_small.dcm").c_str()).good());
  for (int i = 0; i < 20000; ++i) {
    DcmItem* next = nullptr;
    ASSERT_TRUE(
        wide.getDataset()->findOrCreateSequenceItem(DCM_ReferencedImageSequence, next, -2).good());
    ASSERT_TRUE(next->putAndInsertString(DCM_ReferencedSOPInstanceUID, "1.2.3").good());
    ASSERT_TRUE(next->putAndInsertString(DCM_PatientName, "Doe^Jane").good());  // wrong place
  }
  EXPECT_FALSE(DeidentifyDicom(wide, pseudonymizer_, DicomDeidOptions{}).quarantined);
  DcmItem* first = nullptr;
  ASSERT_TRUE(
      wide.getDataset()->findAndGetSequenceItem(DCM_ReferencedImageSequence, first, 0).good());
  EXPECT_EQ(Get(*first, DCM_ReferencedSOPInstanceUID), PseudonymousUid(pseudonymizer_, "1.2.3"));
  EXPECT_EQ(Get(*first, DCM_PatientName), "");
}

}  // namespace
}  // namespace oncomesh::deid

#include "deid/dicom_deid.h"

#include <dcmtk/config/osconfig.h>  // must come first (DCMTK)
#include <dcmtk/dcmdata/dctk.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "model/date.h"
#include "util/embedded_data.h"
#include "util/split.h"

namespace oncomesh::deid {
namespace {

constexpr const char* kTableFile = "data/dicom/basic_profile.tsv";
constexpr size_t kTableColumns = 3 + kProfileOptionCount;
constexpr int kMaxDepth = 64;
constexpr const char* kDummyText = "ANONYMIZED";

bool IsActionCode(std::string_view code, bool basic) {
  static constexpr std::string_view kSingle[] = {"D", "Z", "X", "K", "C", "U"};
  static constexpr std::string_view kComposite[] = {"Z/D", "X/Z", "X/D", "X/Z/D", "X/Z/U*"};
  for (std::string_view c : kSingle) {
    if (code == c) return true;
  }
  if (!basic) return false;
  for (std::string_view c : kComposite) {
    if (code == c) return true;
  }
  return false;
}

// "(gggg,eeee)" with hex digits or the table's "x" wildcards; "(gggg,eeee)" itself is the
// private-attributes row.
bool ParseTag(std::string_view text, ProfileRow& row) {
  if (text == "(gggg,eeee)") {
    row.private_attributes = true;
    row.group_mask = row.element_mask = 0;
    return true;
  }
  if (text.size() != 11 || text[0] != '(' || text[5] != ',' || text[10] != ')') return false;
  auto nibbles = [](std::string_view hex, uint16_t& value, uint16_t& mask) {
    value = mask = 0;
    for (char c : hex) {
      value = static_cast<uint16_t>(value << 4);
      mask = static_cast<uint16_t>(mask << 4);
      if (c == 'x' || c == 'X') continue;
      int digit;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else {
        return false;
      }
      value = static_cast<uint16_t>(value | digit);
      mask = static_cast<uint16_t>(mask | 0xF);
    }
    return true;
  };
  return nibbles(text.substr(1, 4), row.group, row.group_mask) &&
         nibbles(text.substr(6, 4), row.element, row.element_mask);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\0')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.remove_suffix(1);
  return s;
}

// --- Dates -------------------------------------------------------------------------------

std::optional<int> Digits(std::string_view s) {
  int value = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// Shifts the date at the start of a DA ("YYYYMMDD") or DT ("YYYY[MM[DD[...]]]") value by
// `days`, keeping the value's precision and everything after the date (time, UTC offset).
std::optional<std::string> ShiftDateValue(std::string_view value, int days, bool date_time) {
  size_t date_length = 0;
  while (date_length < value.size() && date_length < 8 && value[date_length] >= '0' &&
         value[date_length] <= '9') {
    ++date_length;
  }
  if (date_time ? (date_length != 4 && date_length != 6 && date_length != 8)
                : (date_length != 8 || value.size() != 8)) {
    return std::nullopt;
  }
  const int year = *Digits(value.substr(0, 4));
  const int month = date_length >= 6 ? *Digits(value.substr(4, 2)) : 1;
  const int day = date_length == 8 ? *Digits(value.substr(6, 2)) : 1;
  if (month < 1 || month > 12 || day < 1 || day > 31) return std::nullopt;
  const model::Date date =
      model::DateFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const model::Civil check = model::CivilFromDays(date);
  if (check.year != year || check.month != static_cast<unsigned>(month) ||
      check.day != static_cast<unsigned>(day)) {
    return std::nullopt;  // e.g. 20230231
  }
  const model::Civil shifted = model::CivilFromDays(date + days);
  if (shifted.year < 1 || shifted.year > 9999) return std::nullopt;
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d%02u%02u", shifted.year, shifted.month, shifted.day);
  return std::string(buffer, date_length) + std::string(value.substr(date_length));
}

// --- Applying the table -------------------------------------------------------------------

struct Context {
  const Pseudonymizer& pseudonymizer;
  const DicomDeidOptions& options;
  const BasicProfileTable& table;
  int shift_days = 0;
  std::string failure;  // the first problem that quarantines the instance
};

bool IsDate(DcmEVR vr) { return vr == EVR_DA || vr == EVR_DT; }

bool IsFreeText(DcmEVR vr) {
  return vr == EVR_PN || vr == EVR_LO || vr == EVR_SH || vr == EVR_ST || vr == EVR_LT ||
         vr == EVR_UT || vr == EVR_UC;
}

// Attributes of a coded entry (PS3.3 Table 8.8-1): codes are not identifying (PS3.15 E.1.1
// Note 10), and a scrubbed sequence keeps its codes so that it stays meaningful.
bool IsCodeAttribute(uint16_t group, uint16_t element) {
  return group == 0x0008 &&
         ((element >= 0x0100 && element <= 0x0105) || element == 0x010B || element == 0x010F ||
          element == 0x0117 || element == 0x0119 || element == 0x0120 || element == 0x0122);
}

// The row's action once the enabled options override it. The Modified Dates option comes
// first: a date the table lets an option keep (a calibration date under Retain Device
// Identity) is still shifted, so no real date leaves with the images.
std::string_view EffectiveAction(const ProfileRow& row, const DicomDeidOptions& options) {
  auto column = [&](ProfileOption option) -> std::string_view {
    return row.options[static_cast<size_t>(option)];
  };
  const std::pair<bool, ProfileOption> enabled[] = {
      {options.retain_longitudinal_modified_dates, ProfileOption::kRetainLongitudinalModifiedDates},
      {options.retain_device_identity, ProfileOption::kRetainDeviceIdentity},
      {options.retain_institution_identity, ProfileOption::kRetainInstitutionIdentity},
      {options.retain_patient_characteristics, ProfileOption::kRetainPatientCharacteristics},
  };
  for (const auto& [on, option] : enabled) {
    if (on && !column(option).empty()) return column(option);
  }
  return row.basic;
}

std::string ValueOf(DcmElement& element) {
  OFString value;
  if (element.getOFStringArray(value).bad()) return "";
  return std::string(value.c_str(), value.length());
}

void ProcessItem(Context& ctx, DcmItem& item, int depth, bool scrub);

void ProcessSequence(Context& ctx, DcmSequenceOfItems& sequence, int depth, bool scrub) {
  for (unsigned long i = 0; i < sequence.card() && ctx.failure.empty(); ++i) {
    if (DcmItem* item = sequence.getItem(i)) ProcessItem(ctx, *item, depth + 1, scrub);
  }
}

void RemapUids(Context& ctx, DcmElement& element) {
  const std::string value = ValueOf(element);  // outlives the views Split returns
  std::string out;
  for (std::string_view uid : Split(value, '\\')) {
    if (!out.empty()) out += '\\';
    uid = Trim(uid);
    if (!uid.empty()) out += PseudonymousUid(ctx.pseudonymizer, uid);
  }
  if (element.putString(out.c_str()).bad()) element.clear();
}

// Dummies of attributes whose value has a form narrower than their VR's (PS3.3 C.12.1.1:
// Timezone Offset From UTC is SH but "&ZZXX", an offset from UTC): the VR's dummy would be
// invalid there.
struct FormedDummy {
  uint16_t group, element;
  const char* value;
};
constexpr FormedDummy kFormedDummies[] = {{0x0008, 0x0201, "+0000"}};

// Replaces an element's value with a dummy valid for its VR (PS3.15 action D; PS3.5 6.2).
void PutDummy(Context& ctx, DcmElement& element, int depth) {
  OFCondition status = EC_Normal;
  for (const FormedDummy& d : kFormedDummies) {
    if (element.getGTag() == d.group && element.getETag() == d.element) {
      if (element.putString(d.value).bad()) element.clear();
      return;
    }
  }
  switch (element.ident()) {
    case EVR_SQ:
      ProcessSequence(ctx, static_cast<DcmSequenceOfItems&>(element), depth, /*scrub=*/true);
      return;
    case EVR_UI:
      if (element.getLength() == 0) {
        status = element.putString(PseudonymousUid(ctx.pseudonymizer, "").c_str());
      } else {
        RemapUids(ctx, element);
      }
      break;
    case EVR_DA:
      status = element.putString("19000101");
      break;
    case EVR_DT:
      status = element.putString("19000101000000");
      break;
    case EVR_TM:
      status = element.putString("000000");
      break;
    case EVR_AS:
      status = element.putString("000Y");
      break;
    case EVR_DS:
    case EVR_IS:
      status = element.putString("0");
      break;
    case EVR_AE:
    case EVR_CS:
    case EVR_LO:
    case EVR_LT:
    case EVR_PN:
    case EVR_SH:
    case EVR_ST:
    case EVR_UC:
    case EVR_UR:
    case EVR_UT:
      status = element.putString(kDummyText);
      break;
    case EVR_US:
      status = element.putUint16(0);
      break;
    case EVR_SS:
      status = element.putSint16(0);
      break;
    case EVR_UL:
      status = element.putUint32(0);
      break;
    case EVR_SL:
      status = element.putSint32(0);
      break;
    case EVR_FL:
      status = element.putFloat32(0);
      break;
    case EVR_FD:
      status = element.putFloat64(0);
      break;
    case EVR_OB:
    case EVR_UN: {
      const Uint8 zeros[2] = {0, 0};
      status = element.putUint8Array(zeros, 2);
      break;
    }
    case EVR_OW: {
      const Uint16 zero = 0;
      status = element.putUint16Array(&zero, 1);
      break;
    }
    default:
      status = element.clear();
      break;
  }
  if (status.bad()) element.clear();
}

void ShiftDates(Context& ctx, DcmElement& element) {
  const bool date_time = element.ident() == EVR_DT;
  const std::string values = ValueOf(element);  // outlives the views Split returns
  std::string out;
  bool first = true;
  for (std::string_view value : Split(values, '\\')) {
    if (!first) out += '\\';
    first = false;
    value = Trim(value);
    if (value.empty()) continue;
    const std::optional<std::string> shifted = ShiftDateValue(value, ctx.shift_days, date_time);
    if (!shifted) {  // not a date we can shift: keep nothing of it
      element.clear();
      return;
    }
    out += *shifted;
  }
  if (element.putString(out.c_str()).bad()) element.clear();
}

bool HasValue(DcmElement& element) {
  if (element.ident() == EVR_SQ) return static_cast<DcmSequenceOfItems&>(element).card() > 0;
  return element.getLength() > 0;
}

// Applies the profile to one element; returns true when the element is to be removed.
bool ProcessElement(Context& ctx, DcmElement& element, int depth, bool scrub) {
  const uint16_t group = element.getGTag();
  const uint16_t number = element.getETag();
  // Private attributes (Table E.1-1 row "(gggg,eeee) where gggg is odd": X; Retain Safe
  // Private is not offered), curves (50xx,xxxx) and overlay planes (the whole 60xx group).
  if ((group & 1) != 0) return true;
  if ((group & 0xFF00) == 0x5000 || (group & 0xFF00) == 0x6000) return true;
  if (number == 0x0000) return false;  // group length: recomputed when written

  const DcmEVR vr = element.ident();
  const ProfileRow* row = ctx.table.Find(group, number);
  std::string_view action = row != nullptr ? EffectiveAction(*row, ctx.options) : "K";
  if (row == nullptr && IsDate(vr)) {
    // Dates the table does not list are handled by their VR (E.1.1 Note 4).
    action = ctx.options.retain_longitudinal_modified_dates ? "C" : "D";
  } else if (row == nullptr && scrub && IsFreeText(vr) && !IsCodeAttribute(group, number)) {
    action = "D";
  }

  if (action == "X/Z/U*") {
    action = vr == EVR_SQ ? "K" : "U";
  } else if (action == "X/Z") {
    action = "Z";
  } else if (action == "Z/D" || action == "X/D" || action == "X/Z/D") {
    action = HasValue(element) ? "D" : "Z";
  }

  switch (action.empty() ? 'K' : action[0]) {
    case 'X':
      return true;
    case 'Z':
      element.clear();  // a sequence loses its items
      return false;
    case 'U':
      if (vr == EVR_UI) {
        RemapUids(ctx, element);
      } else {
        PutDummy(ctx, element, depth);
      }
      return false;
    case 'D':
      PutDummy(ctx, element, depth);
      return false;
    case 'C':
      if (IsDate(vr) && ctx.options.retain_longitudinal_modified_dates) {
        ShiftDates(ctx, element);
      } else if (vr != EVR_TM) {  // times of day are kept: their dates are shifted
        PutDummy(ctx, element, depth);
      }
      return false;
    default:  // K
      if (vr == EVR_SQ) {
        ProcessSequence(ctx, static_cast<DcmSequenceOfItems&>(element), depth, scrub);
      }
      return false;
  }
}

void ProcessItem(Context& ctx, DcmItem& item, int depth, bool scrub) {
  if (depth > kMaxDepth) {
    ctx.failure = "sequences nested deeper than " + std::to_string(kMaxDepth) + " levels";
    return;
  }
  unsigned long i = 0;
  while (i < item.card() && ctx.failure.empty()) {
    DcmElement* element = item.getElement(i);
    if (element != nullptr && ProcessElement(ctx, *element, depth, scrub)) {
      delete item.remove(i);
    } else {
      ++i;
    }
  }
}

// --- Quarantine ---------------------------------------------------------------------------

std::string Get(DcmItem& item, const DcmTagKey& tag) {
  OFString value;
  if (item.findAndGetOFStringArray(tag, value).bad()) return "";
  return std::string(Trim(std::string_view(value.c_str(), value.length())));
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Why an instance cannot be made safe by this profile, or "" when it can.
std::string QuarantineReason(DcmDataset& dataset, std::string_view media_class) {
  if (media_class == UID_MediaStorageDirectoryStorage) {
    return "a DICOMDIR (Media Storage Directory) is not an instance to store";
  }
  const std::string sop_class = Get(dataset, DCM_SOPClassUID);
  if (sop_class.empty() || Get(dataset, DCM_SOPInstanceUID).empty()) {
    return "no SOP Class UID (0008,0016) or SOP Instance UID (0008,0018): not a composite "
           "instance";
  }
  if (Get(dataset, DCM_BurnedInAnnotation) == "YES") {
    return "Burned In Annotation (0028,0301) is YES: identifying text may be in the pixels";
  }
  if (Get(dataset, DCM_RecognizableVisualFeatures) == "YES") {
    return "Recognizable Visual Features (0028,0302) is YES";
  }
  struct Class {
    const char* uid;
    const char* why;
  };
  static constexpr Class kUncleanable[] = {
      {UID_EncapsulatedPDFStorage, "encapsulated PDF: the document's content is not cleaned"},
      {UID_EncapsulatedCDAStorage, "encapsulated CDA: the document's content is not cleaned"},
      {"1.2.840.10008.5.1.4.1.1.104.3", "encapsulated STL: the model may show the face"},
      {"1.2.840.10008.5.1.4.1.1.104.4", "encapsulated OBJ: the model may show the face"},
      {"1.2.840.10008.5.1.4.1.1.104.5", "encapsulated MTL: not cleaned"},
      {UID_VideoEndoscopicImageStorage, "video: frames are not cleaned"},
      {UID_VideoMicroscopicImageStorage, "video: frames are not cleaned"},
      {UID_VideoPhotographicImageStorage, "video: frames are not cleaned"},
      {UID_VLPhotographicImageStorage, "photograph: recognizable visual features"},
      {UID_RawDataStorage, "raw data: vendor content the profile does not define"},
  };
  for (const Class& c : kUncleanable) {
    if (sop_class == c.uid) return "SOP Class " + sop_class + " (" + c.why + ")";
  }
  if (!StartsWith(sop_class, "1.2.840.10008.")) {
    return "private SOP Class " + sop_class +
           " (PS3.15 E.1.1 Note 6: de-identification of private SOP Classes is not defined)";
  }
  if (dataset.tagExists(DCM_EncapsulatedDocument)) {
    return "Encapsulated Document (0042,0011) present: its content is not cleaned";
  }
  // Screen captures and ultrasound are where identifying text is burned into the pixels; they
  // are stored only when they declare that none is (PS3.15 E.1.1 item 2 Note 5).
  const bool secondary_capture = StartsWith(sop_class, "1.2.840.10008.5.1.4.1.1.7");
  const bool ultrasound = sop_class == UID_UltrasoundImageStorage ||
                          sop_class == UID_UltrasoundMultiframeImageStorage ||
                          sop_class == UID_RETIRED_UltrasoundImageStorage ||
                          sop_class == UID_RETIRED_UltrasoundMultiframeImageStorage;
  if ((secondary_capture || ultrasound) && Get(dataset, DCM_BurnedInAnnotation) != "NO") {
    return std::string(secondary_capture ? "Secondary Capture" : "Ultrasound") +
           " image without Burned In Annotation (0028,0301) = NO";
  }
  return "";
}

// --- What was done ------------------------------------------------------------------------

struct MethodCode {
  const char* value;
  const char* meaning;
};

void RecordMethod(DcmDataset& dataset, const DicomDeidOptions& options) {
  std::vector<MethodCode> codes = {{"113100", "Basic Application Confidentiality Profile"}};
  std::string method = "OncoMesh PS3.15 2023b Basic Profile";
  if (options.retain_longitudinal_modified_dates) {
    codes.push_back({"113107", "Retain Longitudinal Temporal Information Modified Dates Option"});
    method += "\\Retain Longitudinal Modified Dates (per-patient shift)";
  }
  if (options.retain_patient_characteristics) {
    codes.push_back({"113108", "Retain Patient Characteristics Option"});
    method += "\\Retain Patient Characteristics";
  }
  if (options.retain_device_identity) {
    codes.push_back({"113109", "Retain Device Identity Option"});
    method += "\\Retain Device Identity";
  }
  if (options.retain_institution_identity) {
    codes.push_back({"113112", "Retain Institution Identity Option"});
    method += "\\Retain Institution Identity";
  }
  (void)dataset.putAndInsertString(DCM_PatientIdentityRemoved, "YES");
  (void)dataset.putAndInsertString(DCM_DeidentificationMethod, method.c_str());
  delete dataset.remove(DCM_DeidentificationMethodCodeSequence);
  for (const MethodCode& code : codes) {
    DcmItem* item = nullptr;
    if (dataset.findOrCreateSequenceItem(DCM_DeidentificationMethodCodeSequence, item, -2).good() &&
        item != nullptr) {
      (void)item->putAndInsertString(DCM_CodeValue, code.value);
      (void)item->putAndInsertString(DCM_CodingSchemeDesignator, "DCM");
      (void)item->putAndInsertString(DCM_CodeMeaning, code.meaning);
    }
  }
  (void)dataset.putAndInsertString(
      DCM_LongitudinalTemporalInformationModified,
      options.retain_longitudinal_modified_dates ? "MODIFIED" : "REMOVED");
}

// Replaces the file meta information, preamble included, with a fresh one that keeps only what
// describes the instance (PS3.15 E.1.1 item 7: the source's meta header and preamble may leak
// identity). DCMTK's file format cannot swap its meta header in place, so the file is rebuilt
// around (a copy of) its dataset; DCMTK fills in the transfer syntax and its own implementation
// class UID and version when the file is written.
void ReplaceMeta(DcmFileFormat& file) {
  {
    DcmFileFormat fresh(file.getDataset(), /*deepCopy=*/OFTrue);
    file = fresh;
  }
  DcmDataset& dataset = *file.getDataset();
  DcmMetaInfo& meta = *file.getMetaInfo();
  (void)meta.putAndInsertString(DCM_MediaStorageSOPClassUID, Get(dataset, DCM_SOPClassUID).c_str());
  (void)meta.putAndInsertString(DCM_MediaStorageSOPInstanceUID,
                                Get(dataset, DCM_SOPInstanceUID).c_str());
}

}  // namespace

// --- BasicProfileTable ----------------------------------------------------------------------

Result<BasicProfileTable> BasicProfileTable::Parse(std::string_view tsv) {
  BasicProfileTable table;
  bool header = true;
  size_t line_number = 0;
  for (std::string_view line : Split(tsv, '\n')) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    const std::string where = "basic profile table line " + std::to_string(line_number);
    const std::vector<std::string_view> fields = Split(line, '\t');
    if (header) {
      if (fields.size() != kTableColumns || fields[0] != "tag") {
        return InvalidArgument(where + ": expected the header row (tag, name, basic, options)");
      }
      header = false;
      continue;
    }
    if (fields.size() != kTableColumns) {
      return InvalidArgument(where + ": " + std::to_string(fields.size()) + " fields, not " +
                             std::to_string(kTableColumns));
    }
    ProfileRow row;
    row.tag = std::string(fields[0]);
    if (!ParseTag(fields[0], row)) return InvalidArgument(where + ": bad tag " + row.tag);
    row.name = std::string(fields[1]);
    row.basic = std::string(fields[2]);
    if (!IsActionCode(row.basic, /*basic=*/true)) {
      return InvalidArgument(where + ": unknown Basic Profile action '" + row.basic + "'");
    }
    for (size_t i = 0; i < kProfileOptionCount; ++i) {
      row.options[i] = std::string(fields[3 + i]);
      if (!row.options[i].empty() && !IsActionCode(row.options[i], /*basic=*/false)) {
        return InvalidArgument(where + ": unknown option action '" + row.options[i] + "'");
      }
    }
    const size_t index = table.rows_.size();
    if (row.private_attributes) {
      table.private_row_ = index;
    } else if (row.group_mask == 0xFFFF && row.element_mask == 0xFFFF) {
      if (!table.exact_.emplace(uint32_t{row.group} << 16 | row.element, index).second) {
        return InvalidArgument(where + ": " + row.tag + " listed twice");
      }
    } else {
      table.repeating_.push_back(index);
    }
    table.rows_.push_back(std::move(row));
  }
  if (header) return InvalidArgument("basic profile table: no header row");
  return table;
}

const BasicProfileTable& BasicProfileTable::Embedded() {
  static const BasicProfileTable* table = [] {
    const std::optional<std::string_view> text = EmbeddedFile(kTableFile);
    if (!text) {
      std::fprintf(stderr, "dicom de-identification: %s is not compiled in\n", kTableFile);
      std::abort();
    }
    Result<BasicProfileTable> parsed = Parse(*text);
    if (!parsed.ok()) {
      std::fprintf(stderr, "dicom de-identification: %s\n", parsed.status().ToString().c_str());
      std::abort();
    }
    return new BasicProfileTable(std::move(parsed).value());
  }();
  return *table;
}

const ProfileRow* BasicProfileTable::Find(uint16_t group, uint16_t element) const {
  if (auto it = exact_.find(uint32_t{group} << 16 | element); it != exact_.end()) {
    return &rows_[it->second];
  }
  for (size_t index : repeating_) {
    const ProfileRow& row = rows_[index];
    if ((group & row.group_mask) == row.group && (element & row.element_mask) == row.element) {
      return &row;
    }
  }
  if ((group & 1) != 0 && private_row_ != SIZE_MAX) return &rows_[private_row_];
  return nullptr;
}

// --- De-identification ------------------------------------------------------------------------

std::string PseudonymousUid(const Pseudonymizer& pseudonymizer, std::string_view uid) {
  // 32 hex digits (128 bits) to decimal by repeated division of the digit string by 10.
  std::vector<int> digits;
  for (char c : pseudonymizer.Pseudonym("DicomUid", uid)) {
    digits.push_back(c >= 'a' ? c - 'a' + 10 : c - '0');
  }
  std::string decimal;
  while (!digits.empty()) {
    std::vector<int> quotient;
    int remainder = 0;
    for (int d : digits) {
      const int value = remainder * 16 + d;
      if (!quotient.empty() || value / 10 != 0) quotient.push_back(value / 10);
      remainder = value % 10;
    }
    decimal.insert(decimal.begin(), static_cast<char>('0' + remainder));
    digits = std::move(quotient);
  }
  if (decimal.empty()) decimal = "0";
  return "2.25." + decimal;
}

std::string PatientSourceId(DcmFileFormat& file) {
  DcmDataset* dataset = file.getDataset();
  return dataset == nullptr ? "" : Get(*dataset, DCM_PatientID);
}

DicomDeidResult DeidentifyDicom(DcmFileFormat& file, const Pseudonymizer& pseudonymizer,
                                const DicomDeidOptions& options, const LinkedIndividual* linked) {
  DicomDeidResult result;
  auto quarantine = [&](std::string reason) {
    result.quarantined = true;
    result.reason = std::move(reason);
    return result;
  };
  DcmDataset* dataset = file.getDataset();
  if (dataset == nullptr) return quarantine("no dataset");
  const std::string media_class =
      file.getMetaInfo() != nullptr ? Get(*file.getMetaInfo(), DCM_MediaStorageSOPClassUID) : "";
  if (std::string reason = QuarantineReason(*dataset, media_class); !reason.empty()) {
    return quarantine(std::move(reason));
  }

  result.patient_source_id = Get(*dataset, DCM_PatientID);
  if (!result.patient_source_id.empty() && linked != nullptr) {
    result.individual_id = linked->individual_id;
    result.date_shift_days = linked->date_shift_days;
  } else if (!result.patient_source_id.empty()) {
    result.individual_id = pseudonymizer.IndividualPseudonym(result.patient_source_id);
    result.date_shift_days = pseudonymizer.DateShiftDays(result.patient_source_id);
  } else {
    // No link to a clinical record is possible. The key of the date shift starts with a
    // control character that a Patient ID (LO) cannot hold, so it is nobody's real offset.
    const std::string study = Get(*dataset, DCM_StudyInstanceUID);
    result.individual_id = pseudonymizer.Pseudonym("DicomUnlinkedStudy", study);
    result.date_shift_days = pseudonymizer.DateShiftDays(
        "\x1f"
        "DicomUnlinkedStudy:" +
        study);
  }

  Context ctx{pseudonymizer, options, BasicProfileTable::Embedded(), result.date_shift_days, ""};
  ProcessItem(ctx, *dataset, 0, /*scrub=*/false);
  if (!ctx.failure.empty()) return quarantine(ctx.failure);

  // Patient ID and Patient's Name (Z in the table) carry the individual's pseudonym instead,
  // which links the images to the clinical record without revealing the source identifier.
  if (dataset->putAndInsertString(DCM_PatientID, result.individual_id.c_str()).bad() ||
      dataset->putAndInsertString(DCM_PatientName, result.individual_id.c_str()).bad()) {
    return quarantine("could not set Patient ID / Patient's Name");
  }
  RecordMethod(*dataset, options);
  ReplaceMeta(file);  // `dataset` is a dangling pointer from here on
  return result;
}

}  // namespace oncomesh::deid

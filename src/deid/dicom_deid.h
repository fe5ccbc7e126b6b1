// The DICOM PS3.15 Basic Application Level Confidentiality Profile (Annex E), applied to every
// instance before the node stores it.
//
// What DeidentifyDicom does to a file, in order:
//  - quarantines (does not clean) what the Basic Profile cannot make safe: Burned In Annotation
//    (0028,0301) or Recognizable Visual Features (0028,0302) = YES; Secondary Capture and
//    Ultrasound images that do not declare Burned In Annotation = NO (the classes that carry
//    burned-in text); encapsulated documents (PDF, CDA, STL, OBJ, MTL) and video; private SOP
//    classes and Raw Data (PS3.15 E.1.1 Note 6: their de-identification is not defined); DICOMDIR
//    and anything without a SOP Class and SOP Instance UID; nesting deeper than 64 levels;
//  - applies each attribute's action from PS3.15 Table E.1-1 (data/dicom/basic_profile.tsv),
//    recursively inside sequences, after the enabled options override it (E.1.1: "a requirement
//    for an Option, when implemented, overrides any requirement for the underlying Profile");
//  - removes every private attribute (odd group), every curve (50xx) and every overlay plane
//    (the whole 60xx group: the table removes Overlay Data, and a plane without its data would
//    break the IOD);
//  - replaces Patient ID and Patient's Name with the individual's pseudonym, the same one the
//    FHIR and VCF ingests give (Pseudonymizer::IndividualPseudonym(PatientID)), so images link
//    to the clinical record;
//  - remaps every UID the table marks U, consistently (PseudonymousUid), in the dataset, inside
//    sequences and in the file meta header (Media Storage SOP Instance UID = SOP Instance UID),
//    so a SEG or an RT Structure Set still points at its remapped images;
//  - with retain_longitudinal_modified_dates, shifts every DA value and the date of every DT
//    value by Pseudonymizer::DateShiftDays(PatientID), the offset the clinical data gets;
//  - records what it did: Patient Identity Removed (0012,0062) = YES, De-identification Method
//    (0012,0063), De-identification Method Code Sequence (0012,0064) with the CID 7050 codes of
//    the profile and of each option used, Longitudinal Temporal Information Modified (0028,0303).
//
// Action codes, as this module carries them out (PS3.15 E.1.1):
//  D  a dummy of the element's VR ("ANONYMIZED", 19000101, 0, a pseudonymous UID for UI...);
//     on a sequence, the items are kept with the profile applied and every other free-text
//     value (PN, LO, SH, ST, LT, UT, UC; coded-entry attributes excepted) made a dummy;
//  Z  zero length (a sequence loses its items); X  removed; K  kept (a sequence's items get the
//     profile); U  PseudonymousUid of each value;
//  C  dates and date-times under the Modified Dates option are shifted; anything else is
//     treated as D (this module has no list of values known to be safe to keep);
//  Z/D, X/D, X/Z/D  D when the element has a value, Z when it is empty: the choice that keeps
//     every IOD valid without knowing the attribute's type there; the dummy identifies nobody;
//  X/Z  Z;  X/Z/U*  the sequence is kept and its UIDs remapped (the SEG/RT references).
// Attributes the table does not list are kept (PS3.15's K), except that dates (DA/DT, Note 4)
// are shifted, or made dummies when the Modified Dates option is off.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "deid/pseudonym.h"
#include "util/status.h"

class DcmFileFormat;

namespace oncomesh::deid {

// The option columns of PS3.15 Table E.1-1, in the table's order.
enum class ProfileOption {
  kRetainSafePrivate = 0,
  kRetainUids,
  kRetainDeviceIdentity,
  kRetainInstitutionIdentity,
  kRetainPatientCharacteristics,
  kRetainLongitudinalFullDates,
  kRetainLongitudinalModifiedDates,
  kCleanDescriptors,
  kCleanStructuredContent,
  kCleanGraphics,
};
inline constexpr size_t kProfileOptionCount = 10;

// One row of Table E.1-1. A tag nibble the table writes as "x" has a 0 in the mask.
struct ProfileRow {
  uint16_t group = 0;
  uint16_t element = 0;
  uint16_t group_mask = 0xFFFF;
  uint16_t element_mask = 0xFFFF;
  bool private_attributes = false;  // the "(gggg,eeee) where gggg is odd" row
  std::string tag;                  // as written in the table, e.g. "(60xx,3000)"
  std::string name;
  std::string basic;                                     // "D", "X/Z/D", "X/Z/U*"...
  std::array<std::string, kProfileOptionCount> options;  // "" where the table has no entry
};

// PS3.15 Table E.1-1 as data. Immutable once built; thread-safe to read.
class BasicProfileTable {
 public:
  // Parses the tab-separated table (see data/dicom/basic_profile.tsv for the columns): '#'
  // comment lines and one header line, then one row per line. InvalidArgument naming the line
  // when a row has the wrong number of fields, a malformed tag or an unknown action code.
  static Result<BasicProfileTable> Parse(std::string_view tsv);

  // The table compiled into the binary (data/dicom/basic_profile.tsv). A table that does not
  // parse is a build defect: the process aborts with the reason on first use.
  static const BasicProfileTable& Embedded();

  // The row for an attribute: the exact tag's, else a repeating-group row that matches, else
  // the private-attributes row for an odd group; nullptr when the table does not list it.
  const ProfileRow* Find(uint16_t group, uint16_t element) const;

  const std::vector<ProfileRow>& rows() const { return rows_; }

 private:
  std::vector<ProfileRow> rows_;
  std::unordered_map<uint32_t, size_t> exact_;  // (group << 16 | element) -> row index
  std::vector<size_t> repeating_;               // rows with "x" nibbles
  size_t private_row_ = SIZE_MAX;
};

// The profile's options this module implements (each one, when on, is recorded in the output's
// De-identification Method Code Sequence). Not offered, and why: Retain Safe Private (no list
// of safe private attributes is shipped: all are removed); Retain UIDs (the remapping is what
// keeps the source's UIDs from leaving); Retain Longitudinal Full Dates (the clinical data is
// date-shifted, so real image dates would not line up with it and would reveal the shift);
// Clean Descriptors / Structured Content / Graphics (there is no cleaner of free text or
// graphics: those attributes follow the Basic Profile, i.e. are removed or made dummies).
struct DicomDeidOptions {
  // Dates shifted by the individual's offset (the one the clinical data gets), so images and
  // clinical events keep their intervals and line up; off: dates become dummies or go.
  bool retain_longitudinal_modified_dates = true;
  // Device identifiers (serial numbers, station name, device UIDs...) kept.
  bool retain_device_identity = false;
  // Institution name, address, department kept.
  bool retain_institution_identity = false;
  // Sex, age, size, weight, smoking and pregnancy status kept.
  bool retain_patient_characteristics = false;
};

struct DicomDeidResult {
  std::string patient_source_id;  // Patient ID (0010,0020) as received; "" when absent/empty
  // The individual's pseudonym: IndividualPseudonym(patient_source_id), or the `linked` one,
  // which links the images to the clinical record. Without a Patient ID the instance cannot be
  // linked to anyone: it gets an unlinked pseudonym, Pseudonym("DicomUnlinkedStudy",
  // StudyInstanceUID), shared by the instances of one study only, and the date shift of that study.
  std::string individual_id;
  int date_shift_days = 0;  // applied to every date when the Modified Dates option is on
  bool quarantined = false;
  std::string reason;  // why, when quarantined (names the attribute or the SOP class)
};

// De-identifies a file (meta header and dataset) in place. When the result is quarantined the
// file must not be stored: its content is then unspecified (partly processed). Never throws;
// never fails otherwise: a problem it cannot handle quarantines the instance with the reason.
// Thread-safe for distinct files.
//
// `linked`, when given, is the individual the file's Patient ID links to other than by being a
// FHIR Patient.id (a medical record number the store knows: model::PatientLink). The instance
// then gets that individual's pseudonym and date shift instead of IndividualPseudonym(Patient
// ID) and its shift.
struct LinkedIndividual {
  std::string individual_id;
  int date_shift_days = 0;
};
DicomDeidResult DeidentifyDicom(DcmFileFormat& file, const Pseudonymizer& pseudonymizer,
                                const DicomDeidOptions& options,
                                const LinkedIndividual* linked = nullptr);

// The Patient ID (0010,0020) as DeidentifyDicom reads it (trimmed; "" when absent or empty).
std::string PatientSourceId(DcmFileFormat& file);

// The pseudonymous UID for a source UID: "2.25." followed by the decimal value of the 128 bits
// of Pseudonym("DicomUid", uid) (a UUID-derived UID, PS3.5 B.2): the same on every call and
// every node run with the same secret, so re-sends and the other instances of a study get the
// same UIDs. Thread-safe.
std::string PseudonymousUid(const Pseudonymizer& pseudonymizer, std::string_view uid);

}  // namespace oncomesh::deid

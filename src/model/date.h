// Calendar dates as days since 1970-01-01 (proleptic Gregorian), the unit the store, the index
// and date shifting work in. No time zones: FHIR dates and dateTimes are cut to their date.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace oncomesh::model {

using Date = int32_t;
inline constexpr Date kNoDate = INT32_MIN;

// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil algorithm).
Date DateFromCivil(int year, unsigned month, unsigned day);

struct Civil {
  int year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};
// The civil date of a day number (Howard Hinnant's civil_from_days).
Civil CivilFromDays(Date date);

// Parses "YYYY", "YYYY-MM", "YYYY-MM-DD" or a FHIR dateTime ("YYYY-MM-DDThh:mm:ss+zz:zz");
// partial dates take the first day of the period. Returns nullopt when malformed.
std::optional<Date> ParseDate(std::string_view text);

// "YYYY-MM-DD".
std::string FormatDate(Date date);

// Civil year of a date.
int YearOf(Date date);

// Whole years between two dates (age at `on` for someone born on `birth`).
int WholeYearsBetween(Date birth, Date on);

}  // namespace oncomesh::model

#include "model/date.h"

#include <gtest/gtest.h>

namespace oncomesh::model {

TEST(DateTest, RoundTripsCivilDates) {
  EXPECT_EQ(DateFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(FormatDate(DateFromCivil(2000, 2, 29)), "2000-02-29");
  EXPECT_EQ(FormatDate(DateFromCivil(1899, 12, 31)), "1899-12-31");
  for (Date d = -40000; d < 40000; d += 17) EXPECT_EQ(*ParseDate(FormatDate(d)), d);
}

TEST(DateTest, ParsesFhirDateForms) {
  EXPECT_EQ(*ParseDate("2015"), DateFromCivil(2015, 1, 1));
  EXPECT_EQ(*ParseDate("2015-06"), DateFromCivil(2015, 6, 1));
  EXPECT_EQ(*ParseDate("2015-06-30T10:00:00+02:00"), DateFromCivil(2015, 6, 30));
  EXPECT_FALSE(ParseDate("2015-02-30").has_value());
  EXPECT_FALSE(ParseDate("2015-13-01").has_value());
  EXPECT_FALSE(ParseDate("15-01-01").has_value());
  EXPECT_FALSE(ParseDate("2015-01-01X").has_value());
  EXPECT_FALSE(ParseDate("").has_value());
}

TEST(DateTest, CountsWholeYears) {
  EXPECT_EQ(WholeYearsBetween(DateFromCivil(1950, 6, 15), DateFromCivil(2010, 6, 14)), 59);
  EXPECT_EQ(WholeYearsBetween(DateFromCivil(1950, 6, 15), DateFromCivil(2010, 6, 15)), 60);
}

}  // namespace oncomesh::model

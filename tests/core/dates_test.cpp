#include "core/dates.h"

#include <string>

#include <gtest/gtest.h>

namespace baofeed::dates {
namespace {

// Parses with `fn` and formats the result in Vietnam time; "none" when parsing fails.
template <typename Fn>
std::string iso(Fn fn, std::string_view s) {
    const auto t = fn(s);
    return t ? format_iso8601_vn(*t) : std::string("none");
}

std::string iso8601(std::string_view s) {
    return iso(parse_iso8601, s);
}
std::string rfc822(std::string_view s) {
    return iso(parse_rfc822, s);
}
std::string vn(std::string_view s) {
    return iso(parse_vietnamese_text, s);
}
std::string any(std::string_view s) {
    return iso(parse_any, s);
}

TEST(DatesIso8601, ReadsOffsetWithColon) {
    EXPECT_EQ(iso8601("2024-12-22T11:40:00+07:00"), "2024-12-22T11:40:00+07:00");
}

TEST(DatesIso8601, ReadsOffsetWithoutColon) {
    EXPECT_EQ(iso8601("2024-12-22T11:40:00+0700"), "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(iso8601("2024-12-22T11:40:00+07"), "2024-12-22T11:40:00+07:00");
}

TEST(DatesIso8601, ReadsNaiveTimeAsVietnamTime) {
    EXPECT_EQ(iso8601("2024-12-20T14:00:00"), "2024-12-20T14:00:00+07:00");
    EXPECT_EQ(iso8601("2024-12-20 14:00:00"), "2024-12-20T14:00:00+07:00");
    EXPECT_EQ(iso8601("2024-12-20T14:00"), "2024-12-20T14:00:00+07:00");
}

TEST(DatesIso8601, ReadsUtcAndOtherOffsets) {
    EXPECT_EQ(iso8601("2024-12-22T04:40:00Z"), "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(iso8601("2024-12-21T23:40:00-05:00"), "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(iso8601("2024-12-22T11:40:00+00:00"), "2024-12-22T18:40:00+07:00");
}

TEST(DatesIso8601, DropsFractionalSeconds) {
    EXPECT_EQ(iso8601("2024-12-22T11:40:00.000000+07:00"), "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(iso8601("2024-12-22T11:40:59.999Z"), "2024-12-22T18:40:59+07:00");
    EXPECT_EQ(iso8601("2024-12-22T11:40:00.1234567890123456+07:00"), "2024-12-22T11:40:00+07:00");
}

TEST(DatesIso8601, ReadsDateOnlyAsMidnightInVietnam) {
    EXPECT_EQ(iso8601("2024-12-22"), "2024-12-22T00:00:00+07:00");
    EXPECT_EQ(iso8601("  2024-12-22\n"), "2024-12-22T00:00:00+07:00");
}

TEST(DatesIso8601, CrossesDayAndYearBoundaries) {
    EXPECT_EQ(iso8601("2024-12-31T20:00:00Z"), "2025-01-01T03:00:00+07:00");
    EXPECT_EQ(iso8601("2024-02-29T00:00:00+07:00"), "2024-02-29T00:00:00+07:00");
}

TEST(DatesIso8601, RejectsImpossibleDatesAndTimes) {
    EXPECT_EQ(iso8601("2024-02-31T00:00:00"), "none");
    EXPECT_EQ(iso8601("2023-02-29"), "none");
    EXPECT_EQ(iso8601("2024-13-01"), "none");
    EXPECT_EQ(iso8601("2024-00-10"), "none");
    EXPECT_EQ(iso8601("2024-12-00"), "none");
    EXPECT_EQ(iso8601("2024-12-22T24:00:00"), "none");
    EXPECT_EQ(iso8601("2024-12-22T11:60:00"), "none");
    EXPECT_EQ(iso8601("2024-12-22T11:40:00+25:00"), "none");
}

TEST(DatesIso8601, RejectsMalformedText) {
    for (const char* s : {"", "2024", "2024-12", "24-12-22", "2024/12/22", "2024-12-22T",
                          "2024-12-22T11", "2024-12-22T11:40:00 junk", "2024-12-22X11:40",
                          "2024-12-22T11:40:00.", "20241-12-22", "2024-12-222"}) {
        EXPECT_EQ(iso8601(s), "none") << s;
    }
}

TEST(DatesRfc822, ReadsGmtPlusSeven) {
    EXPECT_EQ(rfc822("Sun, 06 Jul 2025 19:10:00 GMT+7"), "2025-07-06T19:10:00+07:00");
    EXPECT_EQ(rfc822("Sun, 06 Jul 2025 19:10:00 GMT+07:00"), "2025-07-06T19:10:00+07:00");
}

TEST(DatesRfc822, ReadsNumericZone) {
    EXPECT_EQ(rfc822("Mon, 23 Dec 2024 07:45:00 +0700"), "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(rfc822("Mon, 23 Dec 2024 00:45:00 +0000"), "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(rfc822("Sun, 22 Dec 2024 19:45:00 -0500"), "2024-12-23T07:45:00+07:00");
}

TEST(DatesRfc822, ReadsNamedZones) {
    EXPECT_EQ(rfc822("Mon, 23 Dec 2024 00:45:00 GMT"), "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(rfc822("Mon, 23 Dec 2024 00:45:00 UT"), "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(rfc822("Mon, 23 Dec 2024 00:45:00 Z"), "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(rfc822("Sun, 22 Dec 2024 19:45:00 EST"), "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(rfc822("Mon, 23 Dec 2024 07:45:00 ICT"), "2024-12-23T07:45:00+07:00");
}

TEST(DatesRfc822, ReadsMissingZoneAsVietnamTime) {
    EXPECT_EQ(rfc822("Mon, 23 Dec 2024 07:45:00"), "2024-12-23T07:45:00+07:00");
}

TEST(DatesRfc822, ReadsOptionalPartsAndVariants) {
    EXPECT_EQ(rfc822("23 Dec 2024 07:45 +0700"), "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(rfc822("Mon, 3 dec 2024 07:45:00 +0700"), "2024-12-03T07:45:00+07:00");
    EXPECT_EQ(rfc822("Monday, 23 December 2024 07:45:00 +0700"), "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(rfc822("Mon, 23 Dec 2024 07:45:00 +0700 (ICT)"), "2024-12-23T07:45:00+07:00");
}

TEST(DatesRfc822, ReadsTwoDigitYears) {
    EXPECT_EQ(rfc822("Mon, 23 Dec 24 07:45:00 +0700"), "2024-12-23T07:45:00+07:00");
    EXPECT_EQ(rfc822("Thu, 23 Dec 99 07:45:00 +0700"), "1999-12-23T07:45:00+07:00");
}

TEST(DatesRfc822, RejectsImpossibleAndMalformedDates) {
    for (const char* s : {"", "Mon, 31 Feb 2024 07:45:00 +0700", "Mon, 23 Foo 2024 07:45:00 +0700",
                          "Mon, 23 Dec 2024", "Mon, 23 Dec 2024 25:00:00 +0700",
                          "Mon, 23 Dec 2024 07:45:00 +9999", "Mon 23 Dec 2024 07:45:00 +0700",
                          "Mon, 23 Dec 2024 07:45:00 +0700 trailing", "2024-12-23T07:45:00"}) {
        EXPECT_EQ(rfc822(s), "none") << s;
    }
}

TEST(DatesVietnamese, ReadsWeekdayDateDashTime) {
    EXPECT_EQ(vn("Thứ năm, 19/12/2024 - 08:00"), "2024-12-19T08:00:00+07:00");
}

TEST(DatesVietnamese, ReadsTimeBeforeDate) {
    EXPECT_EQ(vn("18:53, 14/08/2026"), "2026-08-14T18:53:00+07:00");
    EXPECT_EQ(vn("Cập nhật: 14:00, 20/12/2024"), "2024-12-20T14:00:00+07:00");
}

TEST(DatesVietnamese, ReadsPipeSeparatedTime) {
    EXPECT_EQ(vn("Chủ Nhật, 22/12/2024 | 11:40"), "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(vn("22/12/2024 | 11:40"), "2024-12-22T11:40:00+07:00");
}

TEST(DatesVietnamese, ReadsCommaSeparatedTimeWithGmtNote) {
    EXPECT_EQ(vn("Thứ sáu, 22/12/2023, 08:30 (GMT+7)"), "2023-12-22T08:30:00+07:00");
}

TEST(DatesVietnamese, HonoursAnExplicitOtherOffset) {
    EXPECT_EQ(vn("22/12/2023 08:30 (GMT+0)"), "2023-12-22T15:30:00+07:00");
}

TEST(DatesVietnamese, ReadsDashedDateAndIgnoresAmPm) {
    EXPECT_EQ(vn("15-08-2026 - 01:01 AM"), "2026-08-15T01:01:00+07:00");
    EXPECT_EQ(vn("15-08-2026 - 13:01 PM"), "2026-08-15T13:01:00+07:00");
}

TEST(DatesVietnamese, ReadsDateAloneAsMidnight) {
    EXPECT_EQ(vn("19/12/2024"), "2024-12-19T00:00:00+07:00");
    EXPECT_EQ(vn("Ngày đăng: 9/1/2025"), "2025-01-09T00:00:00+07:00");
}

TEST(DatesVietnamese, ReadsSecondsAndHourLetterForm) {
    EXPECT_EQ(vn("19/12/2024 08:00:15"), "2024-12-19T08:00:15+07:00");
    EXPECT_EQ(vn("19/12/2024 lúc 08h30"), "2024-12-19T08:30:00+07:00");
}

TEST(DatesVietnamese, ReadsNoBreakAndEnDashSeparators) {
    EXPECT_EQ(vn("19/12/2024\xC2\xA0\xE2\x80\x93\xC2\xA0"
                 "08:00"),
              "2024-12-19T08:00:00+07:00");
}

TEST(DatesVietnamese, UsesTheFirstDateInTheText) {
    EXPECT_EQ(vn("Đăng 19/12/2024 08:00, sửa 20/12/2024 09:00"), "2024-12-19T08:00:00+07:00");
}

TEST(DatesVietnamese, RejectsImpossibleDates) {
    EXPECT_EQ(vn("31/02/2024 08:00"), "none");
    EXPECT_EQ(vn("29/02/2023"), "none");
    EXPECT_EQ(vn("12/13/2024"), "none");
    EXPECT_EQ(vn("19/12/2024 - 25:00"), "none");
}

TEST(DatesVietnamese, RejectsTextWithoutADate) {
    for (const char* s :
         {"", "Thứ năm", "08:00", "19/12", "119/12/2024", "19/12/20245", "Bình luận (12)"}) {
        EXPECT_EQ(vn(s), "none") << s;
    }
}

TEST(DatesAny, TriesEveryFormat) {
    EXPECT_EQ(any("2024-12-22T11:40:00+07:00"), "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(any("Sun, 22 Dec 2024 04:40:00 GMT"), "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(any("Chủ Nhật, 22/12/2024 | 11:40"), "2024-12-22T11:40:00+07:00");
    EXPECT_EQ(any("không có ngày"), "none");
}

TEST(DatesAny, NeverThrowsOnGarbage) {
    const std::string garbage[] = {std::string("\0\xFF\xFE", 3),
                                   "99/99/9999 99:99",
                                   "9999999999999999999-01-01",
                                   "+++",
                                   ":::",
                                   "Mon, 99999999999999999999 Dec 2024",
                                   std::string(10000, '9')};
    for (const auto& g : garbage) {
        EXPECT_NO_THROW((void)parse_any(g));
    }
}

TEST(DatesFormat, WritesVietnamIsoTime) {
    const auto t = parse_iso8601("2024-12-22T04:40:00Z");
    ASSERT_TRUE(t);
    EXPECT_EQ(format_iso8601_vn(*t), "2024-12-22T11:40:00+07:00");
}

TEST(DatesFormat, WritesRfc822InUtc) {
    const auto t = parse_iso8601("2024-12-22T11:40:00+07:00");
    ASSERT_TRUE(t);
    EXPECT_EQ(format_rfc822(*t), "Sun, 22 Dec 2024 04:40:00 +0000");
    const auto early = parse_iso8601("2025-01-01T03:05:09+07:00");
    ASSERT_TRUE(early);
    EXPECT_EQ(format_rfc822(*early), "Tue, 31 Dec 2024 20:05:09 +0000");
}

TEST(DatesFormat, RoundTripsThroughRfc822) {
    const auto t = parse_iso8601("2024-02-29T23:59:59+07:00");
    ASSERT_TRUE(t);
    EXPECT_EQ(parse_rfc822(format_rfc822(*t)), t);
    EXPECT_EQ(parse_iso8601(format_iso8601_vn(*t)), t);
}

TEST(DatesFormat, FormatsTheEpoch) {
    EXPECT_EQ(format_rfc822(Timestamp{}), "Thu, 01 Jan 1970 00:00:00 +0000");
    EXPECT_EQ(format_iso8601_vn(Timestamp{}), "1970-01-01T07:00:00+07:00");
}

}  // namespace
}  // namespace baofeed::dates

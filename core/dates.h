// Date parsing and formatting. Naive times are Asia/Ho_Chi_Minh (UTC+7, no DST).
// "now" is never read here: callers pass time in. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/article.h"

namespace baofeed::dates {

inline constexpr int kVietnamOffsetSeconds = 7 * 3600;

// ISO 8601 / RFC 3339: "2024-12-22T11:40:00+07:00", "+0700", "Z", fractional seconds, a space
// instead of 'T', date only, or no offset (read as +07:00).
std::optional<Timestamp> parse_iso8601(std::string_view s);

// RFC 822 / RFC 1123 as in RSS and HTTP: "Sun, 06 Jul 2025 19:10:00 GMT+7", "... +0700", "... GMT".
std::optional<Timestamp> parse_rfc822(std::string_view s);

// Visible Vietnamese date text: "Thứ năm, 19/12/2024 - 08:00", "18:53, 14/08/2026",
// "22/12/2024 | 11:40", "Cập nhật: 14:00, 20/12/2024", "Thứ sáu, 22/12/2023, 08:30 (GMT+7)".
// The first d/m/yyyy in the text is the date; an hh:mm next to it is the time.
std::optional<Timestamp> parse_vietnamese_text(std::string_view s);

// Tries ISO 8601, then RFC 822, then Vietnamese text.
std::optional<Timestamp> parse_any(std::string_view s);

// "2024-12-22T11:40:00+07:00"
std::string format_iso8601_vn(Timestamp t);

// "Sun, 22 Dec 2024 04:40:00 +0000" (RFC 822 with a four-digit year, as RSS readers expect)
std::string format_rfc822(Timestamp t);

}  // namespace baofeed::dates

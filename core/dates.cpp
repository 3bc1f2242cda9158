#include "core/dates.h"

#include <array>
#include <chrono>
#include <cstdio>

namespace baofeed::dates {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::array<std::string_view, 12> kMonths = {"jan", "feb", "mar", "apr", "may", "jun",
                                                      "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kWeekdays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

// A forward-only reader over the input. Every accessor leaves the position unchanged on failure.
class Cursor {
  public:
    explicit Cursor(std::string_view s) : s_(s) {}

    bool done() const { return pos_ >= s_.size(); }
    char peek() const { return done() ? '\0' : s_[pos_]; }
    std::size_t pos() const { return pos_; }
    void seek(std::size_t p) { pos_ = p; }
    std::string_view rest() const { return s_.substr(pos_); }

    void skip_spaces() {
        while (!done() && (s_[pos_] == ' ' || s_[pos_] == '\t')) {
            ++pos_;
        }
    }

    bool eat(char c) {
        if (peek() != c) {
            return false;
        }
        ++pos_;
        return true;
    }

    // Case-insensitive ASCII keyword.
    bool eat_word(std::string_view w) {
        if (s_.size() - pos_ < w.size()) {
            return false;
        }
        for (std::size_t i = 0; i < w.size(); ++i) {
            if (lower(s_[pos_ + i]) != w[i]) {
                return false;
            }
        }
        pos_ += w.size();
        return true;
    }

    // Between min_len and max_len digits, not followed by another digit.
    std::optional<int> number(std::size_t min_len, std::size_t max_len) {
        std::size_t n = 0;
        int value = 0;
        while (pos_ + n < s_.size() && is_digit(s_[pos_ + n]) && n < max_len) {
            value = value * 10 + (s_[pos_ + n] - '0');
            ++n;
        }
        if (n < min_len || (pos_ + n < s_.size() && is_digit(s_[pos_ + n]))) {
            return std::nullopt;
        }
        pos_ += n;
        return value;
    }

  private:
    std::string_view s_;
    std::size_t pos_ = 0;
};

std::string_view trim(std::string_view s) {
    while (!s.empty() && static_cast<unsigned char>(s.front()) <= 0x20) {
        s.remove_prefix(1);
    }
    while (!s.empty() && static_cast<unsigned char>(s.back()) <= 0x20) {
        s.remove_suffix(1);
    }
    return s;
}

struct Fields {
    int year = 0;
    int month = 0;
    int day = 0;
    int hour = 0;
    int minute = 0;
    int second = 0;
    int offset_seconds = kVietnamOffsetSeconds;
};

// Local wall time plus UTC offset -> instant; nullopt for impossible calendar dates or times.
std::optional<Timestamp> to_timestamp(const Fields& f) {
    if (f.year < 1000 || f.year > 9999) {
        return std::nullopt;
    }
    const std::chrono::year_month_day ymd{std::chrono::year{f.year},
                                          std::chrono::month{static_cast<unsigned>(f.month)},
                                          std::chrono::day{static_cast<unsigned>(f.day)}};
    if (f.month < 1 || f.month > 12 || f.day < 1 || !ymd.ok()) {
        return std::nullopt;
    }
    // Second 60 is a leap second; it is read as the last second of the minute.
    if (f.hour > 23 || f.minute > 59 || f.second > 60) {
        return std::nullopt;
    }
    const int second = f.second == 60 ? 59 : f.second;
    const auto local =
        std::chrono::sys_days{ymd} + hours{f.hour} + minutes{f.minute} + seconds{second};
    return Timestamp{local - seconds{f.offset_seconds}};
}

// "+07:00", "+0700", "+07", "+7" (sign included). Returns seconds east of UTC.
std::optional<int> numeric_offset(Cursor& c) {
    const std::size_t start = c.pos();
    int sign = 0;
    if (c.eat('+')) {
        sign = 1;
    } else if (c.eat('-')) {
        sign = -1;
    }
    if (sign == 0) {
        return std::nullopt;
    }
    int h = 0;
    int m = 0;
    if (auto hhmm = c.number(4, 4)) {
        h = *hhmm / 100;
        m = *hhmm % 100;
    } else if (auto hh = c.number(1, 2)) {
        h = *hh;
        if (c.eat(':')) {
            auto mm = c.number(2, 2);
            if (!mm) {
                c.seek(start);
                return std::nullopt;
            }
            m = *mm;
        }
    } else {
        c.seek(start);
        return std::nullopt;
    }
    if (h > 14 || m > 59) {
        c.seek(start);
        return std::nullopt;
    }
    return sign * (h * 3600 + m * 60);
}

// A zone designator for RFC 822 / ISO text: "Z", "UT", "UTC", "GMT", "GMT+7", "UTC+07:00",
// "+0700", US zones and "ICT" (Indochina Time). nullopt when none is recognised.
std::optional<int> zone(Cursor& c) {
    if (auto off = numeric_offset(c)) {
        return off;
    }
    const std::size_t start = c.pos();
    std::string name;
    while (is_alpha(c.peek())) {
        name.push_back(lower(c.peek()));
        c.seek(c.pos() + 1);
    }
    if (name == "gmt" || name == "utc" || name == "ut" || name == "z") {
        c.skip_spaces();
        if (auto off = numeric_offset(c)) {
            return off;
        }
        return 0;
    }
    struct Named {
        std::string_view name;
        int hours;
    };
    constexpr std::array<Named, 9> kNamed = {{{"est", -5},
                                              {"edt", -4},
                                              {"cst", -6},
                                              {"cdt", -5},
                                              {"mst", -7},
                                              {"mdt", -6},
                                              {"pst", -8},
                                              {"pdt", -7},
                                              {"ict", 7}}};
    for (const Named& n : kNamed) {
        if (name == n.name) {
            return n.hours * 3600;
        }
    }
    c.seek(start);
    return std::nullopt;
}

// hh:mm[:ss] (also "08h30" as Vietnamese pages print it).
bool clock_time(Cursor& c, Fields& f, bool allow_h_separator) {
    const std::size_t start = c.pos();
    auto h = c.number(1, 2);
    const bool separated = c.eat(':') || (allow_h_separator && (c.eat('h') || c.eat('H')));
    auto m = separated ? c.number(2, 2) : std::nullopt;
    if (!h || !m) {
        c.seek(start);
        return false;
    }
    f.hour = *h;
    f.minute = *m;
    f.second = 0;
    const std::size_t before_seconds = c.pos();
    if (c.eat(':')) {
        if (auto s = c.number(2, 2)) {
            f.second = *s;
        } else {
            c.seek(before_seconds);
        }
    }
    return true;
}

bool only_spaces_left(Cursor& c) {
    c.skip_spaces();
    return c.done();
}

}  // namespace

std::optional<Timestamp> parse_iso8601(std::string_view s) {
    Cursor c(trim(s));
    Fields f;
    auto y = c.number(4, 4);
    if (!y || !c.eat('-')) {
        return std::nullopt;
    }
    auto mo = c.number(2, 2);
    if (!mo || !c.eat('-')) {
        return std::nullopt;
    }
    auto d = c.number(2, 2);
    if (!d) {
        return std::nullopt;
    }
    f.year = *y;
    f.month = *mo;
    f.day = *d;
    if (c.done()) {
        return to_timestamp(f);  // date only: midnight in Vietnam
    }
    if (!(c.eat('T') || c.eat('t') || c.eat(' '))) {
        return std::nullopt;
    }
    auto h = c.number(2, 2);
    if (!h || !c.eat(':')) {
        return std::nullopt;
    }
    auto mi = c.number(2, 2);
    if (!mi) {
        return std::nullopt;
    }
    f.hour = *h;
    f.minute = *mi;
    if (c.eat(':')) {
        auto sec = c.number(2, 2);
        if (!sec) {
            return std::nullopt;
        }
        f.second = *sec;
        if (c.eat('.') || c.eat(',')) {
            // Fractional seconds are dropped.
            if (!is_digit(c.peek())) {
                return std::nullopt;
            }
            while (is_digit(c.peek())) {
                c.seek(c.pos() + 1);
            }
        }
    }
    c.skip_spaces();
    if (!c.done()) {
        if (c.eat('Z') || c.eat('z')) {
            f.offset_seconds = 0;
        } else if (auto off = zone(c)) {
            f.offset_seconds = *off;
        } else {
            return std::nullopt;
        }
    }
    if (!only_spaces_left(c)) {
        return std::nullopt;
    }
    return to_timestamp(f);
}

std::optional<Timestamp> parse_rfc822(std::string_view s) {
    Cursor c(trim(s));
    Fields f;
    // Optional day name ("Sun," / "Sunday,"), not checked against the date.
    if (is_alpha(c.peek())) {
        while (is_alpha(c.peek())) {
            c.seek(c.pos() + 1);
        }
        if (!c.eat(',')) {
            return std::nullopt;
        }
    }
    c.skip_spaces();
    auto d = c.number(1, 2);
    if (!d) {
        return std::nullopt;
    }
    f.day = *d;
    c.skip_spaces();
    c.eat('-');
    for (std::size_t i = 0; i < kMonths.size(); ++i) {
        if (c.eat_word(kMonths[i])) {
            f.month = static_cast<int>(i) + 1;
            break;
        }
    }
    if (f.month == 0) {
        return std::nullopt;
    }
    while (is_alpha(c.peek())) {  // full month names ("December")
        c.seek(c.pos() + 1);
    }
    c.skip_spaces();
    c.eat('-');
    const std::size_t year_start = c.pos();
    auto y = c.number(2, 4);
    if (!y) {
        return std::nullopt;
    }
    const std::size_t year_digits = c.pos() - year_start;
    if (year_digits == 2) {
        f.year = *y < 50 ? 2000 + *y : 1900 + *y;  // RFC 2822 4.3
    } else if (year_digits == 3) {
        f.year = 1900 + *y;
    } else {
        f.year = *y;
    }
    c.skip_spaces();
    if (!clock_time(c, f, false)) {
        return std::nullopt;
    }
    c.skip_spaces();
    if (!c.done() && c.peek() != '(') {
        auto off = zone(c);
        if (!off) {
            return std::nullopt;
        }
        f.offset_seconds = *off;
    }
    c.skip_spaces();
    if (c.eat('(')) {  // trailing comment such as "(ICT)"
        const auto close = c.rest().find(')');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        c.seek(c.pos() + close + 1);
    }
    if (!only_spaces_left(c)) {
        return std::nullopt;
    }
    return to_timestamp(f);
}

std::optional<Timestamp> parse_vietnamese_text(std::string_view s) {
    Cursor c(s);
    Fields f;
    std::size_t date_start = 0;
    bool found = false;
    // The first d/m/yyyy (or d-m-yyyy, d.m.yyyy) that starts at a digit boundary.
    for (std::size_t i = 0; i < s.size() && !found; ++i) {
        if (!is_digit(s[i]) || (i > 0 && is_digit(s[i - 1]))) {
            continue;
        }
        c.seek(i);
        auto d = c.number(1, 2);
        const char sep = c.peek();
        if (!d || (sep != '/' && sep != '-' && sep != '.')) {
            continue;
        }
        c.eat(sep);
        auto m = c.number(1, 2);
        if (!m || !c.eat(sep)) {
            continue;
        }
        auto y = c.number(4, 4);
        if (!y) {
            continue;
        }
        f.day = *d;
        f.month = *m;
        f.year = *y;
        date_start = i;
        found = true;
    }
    if (!found) {
        return std::nullopt;
    }
    const std::size_t date_end = c.pos();

    // Separators that may stand between the date and its time: spaces, ",", "-", "|", "lúc"
    // ("at"), en/em dashes and no-break spaces (UTF-8 sequences skipped byte by byte).
    const auto is_separator_at = [&](std::size_t p) -> std::size_t {
        const std::string_view r = s.substr(p);
        if (r.empty()) {
            return 0;
        }
        const char ch = r[0];
        if (ch == ' ' || ch == '\t' || ch == ',' || ch == '-' || ch == '|' || ch == '\n' ||
            ch == '\r') {
            return 1;
        }
        for (std::string_view multi :
             {std::string_view("\xC2\xA0"), std::string_view("\xE2\x80\x93"),
              std::string_view("\xE2\x80\x94"),
              std::string_view("l\xC3\xBA"
                               "c")}) {
            if (r.starts_with(multi)) {
                return multi.size();
            }
        }
        return 0;
    };

    bool have_time = false;
    // A time after the date: "19/12/2024 - 08:00", "22/12/2024 | 11:40".
    std::size_t p = date_end;
    while (std::size_t n = is_separator_at(p)) {
        p += n;
    }
    c.seek(p);
    if (clock_time(c, f, true)) {
        have_time = true;
    }
    // Otherwise a time right before it: "18:53, 14/08/2026".
    if (!have_time) {
        std::size_t q = date_start;
        while (q > 0) {
            const char ch = s[q - 1];
            if (ch == ' ' || ch == '\t' || ch == ',' || ch == '-' || ch == '|') {
                --q;
            } else if (q >= 2 && s.substr(q - 2, 2) == "\xC2\xA0") {
                q -= 2;
            } else {
                break;
            }
        }
        // Walk back over "hh:mm[:ss]" digits and colons, then parse forward.
        std::size_t t = q;
        while (t > 0 && (is_digit(s[t - 1]) || s[t - 1] == ':' || s[t - 1] == 'h')) {
            --t;
        }
        while (t < q && !is_digit(s[t])) {
            ++t;
        }
        if (t < q) {
            Cursor back(s.substr(0, q));
            back.seek(t);
            Fields timed = f;
            if (clock_time(back, timed, true) && back.done()) {
                f = timed;
                have_time = true;
            }
        }
    }
    if (!have_time) {
        f.hour = 0;
        f.minute = 0;
        f.second = 0;
    }
    // An explicit "GMT+7" / "UTC+07:00" after the date overrides the default +07:00.
    for (std::size_t i = date_end; i + 3 <= s.size(); ++i) {
        Cursor z(s);
        z.seek(i);
        if (z.eat_word("gmt") || z.eat_word("utc")) {
            if (auto off = numeric_offset(z)) {
                f.offset_seconds = *off;
            }
            break;
        }
    }
    return to_timestamp(f);
}

std::optional<Timestamp> parse_any(std::string_view s) {
    if (auto t = parse_iso8601(s)) {
        return t;
    }
    if (auto t = parse_rfc822(s)) {
        return t;
    }
    return parse_vietnamese_text(s);
}

std::string format_iso8601_vn(Timestamp t) {
    const auto local = t + seconds{kVietnamOffsetSeconds};
    const auto day = std::chrono::floor<days>(local);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::hh_mm_ss hms{local - day};
    std::array<char, 40> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02d:%02d:%02d+07:00",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    return buf.data();
}

std::string format_rfc822(Timestamp t) {
    const auto day = std::chrono::floor<days>(t);
    const std::chrono::year_month_day ymd{day};
    const std::chrono::weekday wd{day};
    const std::chrono::hh_mm_ss hms{t - day};
    static constexpr std::array<std::string_view, 12> kMonthNames = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::string_view wd_name = kWeekdays[wd.c_encoding()];
    const std::string_view month_name = kMonthNames[static_cast<unsigned>(ymd.month()) - 1];
    std::array<char, 48> buf{};
    std::snprintf(buf.data(), buf.size(), "%.3s, %02u %.3s %04d %02d:%02d:%02d +0000",
                  wd_name.data(), static_cast<unsigned>(ymd.day()), month_name.data(),
                  static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    return buf.data();
}

}  // namespace baofeed::dates

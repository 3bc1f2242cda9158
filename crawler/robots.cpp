#include "crawler/robots.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <utility>

namespace baofeed::crawler {
namespace {

// RFC 9309 section 2.5: parse at least 500 KiB.
constexpr std::size_t kMaxRobotsBytes = 500 * 1024;
// A Crawl-delay above a day is a mistake or hostility; either way a day is polite enough.
constexpr double kMaxCrawlDelaySeconds = 86400.0;

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), lower);
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

bool is_token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

// The product token at the start of a User-agent value or of an agent string, lower-case:
// "Googlebot/2.1 (+http://...)" -> "googlebot". "*" stays "*". "" when there is none.
std::string product_token(std::string_view s) {
    s = trim(s);
    if (!s.empty() && s.front() == '*') {
        return "*";
    }
    std::size_t n = 0;
    while (n < s.size() && is_token_char(s[n])) {
        ++n;
    }
    return to_lower(s.substr(0, n));
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool is_unreserved(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void append_escaped(std::string& out, unsigned char c) {
    constexpr std::string_view kHex = "0123456789ABCDEF";
    out.push_back('%');
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0x0F]);
}

// One spelling for every path and pattern (RFC 9309 sections 2.2.2 and 2.2.3): escapes of
// unreserved characters decoded, other escapes upper-cased, bytes outside printable US-ASCII
// escaped (UTF-8 paths compare with their percent-encoded form), a stray '%' escaped. In a
// pattern '*' and a final '$' stay wildcards; a literal '*' or '$' is written %2A / %24, so in a
// path (and for a '$' before the end of a pattern) they become those escapes.
std::string normalise(std::string_view s, bool pattern) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '%') {
            const int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
            const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                append_escaped(out, c);
                continue;
            }
            const auto decoded = static_cast<unsigned char>(hi * 16 + lo);
            if (is_unreserved(decoded)) {
                out.push_back(static_cast<char>(decoded));
            } else {
                append_escaped(out, decoded);
            }
            i += 2;
        } else if (c <= 0x20 || c >= 0x7F) {
            append_escaped(out, c);
        } else if (c == '*' && !pattern) {
            append_escaped(out, c);
        } else if (c == '$' && (!pattern || i + 1 != s.size())) {
            append_escaped(out, c);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

// Does `pattern` (normalised; '*' any run of octets, a final '$' the end of the path) match the
// start of `path`? Iterative wildcard matching with backtracking to the last '*' only, which is
// complete for patterns whose only wildcard is '*'.
bool pattern_matches(std::string_view pattern, std::string_view path) {
    bool anchored = false;
    if (!pattern.empty() && pattern.back() == '$') {
        anchored = true;
        pattern.remove_suffix(1);
    }
    std::size_t p = 0;
    std::size_t s = 0;
    std::size_t star = std::string_view::npos;  // position of the last '*' seen in pattern
    std::size_t star_s = 0;                     // path position that '*' is matched up to
    while (true) {
        if (p == pattern.size()) {
            if (!anchored || s == path.size()) {
                return true;
            }
            // Anchored with path left over: let the last '*' swallow one more octet.
        } else if (pattern[p] == '*') {
            star = p++;
            star_s = s;
            continue;
        } else if (s < path.size() && pattern[p] == path[s]) {
            ++p;
            ++s;
            continue;
        }
        if (star == std::string_view::npos || star_s >= path.size()) {
            return false;
        }
        p = star + 1;
        s = ++star_s;
    }
}

std::optional<std::chrono::milliseconds> parse_crawl_delay(std::string_view value) {
    value = trim(value);
    double seconds = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds,
                                           std::chars_format::general);
    if (ec != std::errc() || end == value.data() || !std::isfinite(seconds) || seconds < 0) {
        return std::nullopt;
    }
    seconds = std::min(seconds, kMaxCrawlDelaySeconds);
    return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

enum class Key { user_agent, allow, disallow, crawl_delay, sitemap, unknown };

Key key_of(std::string_view raw) {
    std::string k = to_lower(trim(raw));
    if (k == "user-agent" || k == "useragent" || k == "user agent") {
        return Key::user_agent;
    }
    if (k == "allow") {
        return Key::allow;
    }
    if (k == "disallow") {
        return Key::disallow;
    }
    if (k == "crawl-delay" || k == "crawldelay") {
        return Key::crawl_delay;
    }
    if (k == "sitemap" || k == "site-map") {
        return Key::sitemap;
    }
    return Key::unknown;
}

// The next line of `text` from `pos` (LF, CRLF or CR ends a line); advances pos.
std::string_view next_line(std::string_view text, std::size_t& pos) {
    const std::size_t start = pos;
    std::size_t end = text.find_first_of("\r\n", start);
    if (end == std::string_view::npos) {
        end = text.size();
        pos = end;
    } else {
        pos = end + 1;
        if (text[end] == '\r' && pos < text.size() && text[pos] == '\n') {
            ++pos;
        }
    }
    return text.substr(start, end - start);
}

}  // namespace

RobotsTxt RobotsTxt::allow_all() {
    return RobotsTxt();
}

RobotsTxt RobotsTxt::disallow_all() {
    RobotsTxt r;
    r.disallow_all_ = true;
    return r;
}

RobotsTxt RobotsTxt::parse(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.remove_prefix(3);
    }
    if (text.size() > kMaxRobotsBytes) {
        // Past the cap, keep whole lines only: half a rule may mean something else.
        text = text.substr(0, kMaxRobotsBytes);
        const std::size_t last_break = text.find_last_of("\r\n");
        if (last_break != std::string_view::npos) {
            text = text.substr(0, last_break + 1);
        }
    }

    // Groups as written: consecutive User-agent lines open one group, the rules after them
    // belong to it, and the next User-agent line after a rule opens another.
    struct RawGroup {
        std::vector<std::string> agents;
        std::vector<Rule> rules;
        std::optional<std::chrono::milliseconds> crawl_delay;
    };
    std::vector<RawGroup> raw;
    std::vector<std::string> sitemaps;
    bool collecting_agents = false;

    std::size_t pos = 0;
    while (pos < text.size()) {
        std::string_view line = next_line(text, pos);
        const std::size_t hash = line.find('#');
        if (hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const Key key = key_of(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        switch (key) {
            case Key::user_agent: {
                std::string token = product_token(value);
                if (token.empty()) {
                    break;
                }
                if (!collecting_agents) {
                    raw.emplace_back();
                    collecting_agents = true;
                }
                raw.back().agents.push_back(std::move(token));
                break;
            }
            case Key::allow:
            case Key::disallow: {
                collecting_agents = false;
                if (raw.empty() || value.empty()) {
                    break;  // a rule outside any group, or an empty rule (allows everything)
                }
                std::string pattern = normalise(value, true);
                if (pattern.front() != '/' && pattern.front() != '*') {
                    pattern.insert(pattern.begin(), '/');
                }
                raw.back().rules.push_back(Rule{key == Key::allow, std::move(pattern)});
                break;
            }
            case Key::crawl_delay:
                collecting_agents = false;
                if (!raw.empty()) {
                    if (auto delay = parse_crawl_delay(value)) {
                        raw.back().crawl_delay = delay;
                    }
                }
                break;
            case Key::sitemap:
                // Not part of any group; does not end one either.
                if (!value.empty() &&
                    std::find(sitemaps.begin(), sitemaps.end(), value) == sitemaps.end()) {
                    sitemaps.emplace_back(value);
                }
                break;
            case Key::unknown:
                break;
        }
    }

    // One merged group per agent token (RFC 9309 section 2.2.1: groups naming the same agent
    // combine), in order of first appearance. Two Crawl-delays for one agent: the longer holds.
    RobotsTxt out;
    out.sitemaps_ = std::move(sitemaps);
    for (const RawGroup& g : raw) {
        for (const std::string& agent : g.agents) {
            auto it = std::find_if(out.groups_.begin(), out.groups_.end(),
                                   [&](const Group& m) { return m.agents.front() == agent; });
            if (it == out.groups_.end()) {
                out.groups_.push_back(Group{{agent}, {}, std::nullopt});
                it = std::prev(out.groups_.end());
            }
            it->rules.insert(it->rules.end(), g.rules.begin(), g.rules.end());
            if (g.crawl_delay && (!it->crawl_delay || *g.crawl_delay > *it->crawl_delay)) {
                it->crawl_delay = g.crawl_delay;
            }
        }
    }
    return out;
}

const RobotsTxt::Group* RobotsTxt::group_for(std::string_view agent) const {
    const std::string token = product_token(agent);
    const Group* best = nullptr;
    std::size_t best_length = 0;
    const Group* star = nullptr;
    for (const Group& g : groups_) {
        const std::string& line = g.agents.front();
        if (line == "*") {
            star = &g;
            continue;
        }
        if (token.empty() || line.size() > token.size() || !token.starts_with(line)) {
            continue;
        }
        // An exact match, or a line naming the family of the agent: "googlebot" for
        // "googlebot-news". The longest such line is the most specific.
        const bool exact = line.size() == token.size();
        const bool family = !exact && (token[line.size()] == '-' || token[line.size()] == '_');
        if ((exact || family) && line.size() > best_length) {
            best = &g;
            best_length = line.size();
        }
    }
    return best != nullptr ? best : star;
}

bool RobotsTxt::allowed(std::string_view agent, std::string_view path) const {
    std::string target = normalise(path, false);
    if (target.empty() || target.front() != '/') {
        target.insert(target.begin(), '/');
    }
    if (target == "/robots.txt") {
        return true;
    }
    if (disallow_all_) {
        return false;
    }
    const Group* group = group_for(agent);
    if (group == nullptr) {
        return true;
    }
    const Rule* best = nullptr;
    for (const Rule& rule : group->rules) {
        if (!pattern_matches(rule.pattern, target)) {
            continue;
        }
        if (best == nullptr || rule.pattern.size() > best->pattern.size() ||
            (rule.pattern.size() == best->pattern.size() && rule.allow && !best->allow)) {
            best = &rule;
        }
    }
    return best == nullptr || best->allow;
}

std::optional<std::chrono::milliseconds> RobotsTxt::crawl_delay(std::string_view agent) const {
    const Group* group = group_for(agent);
    if (group == nullptr) {
        return std::nullopt;
    }
    return group->crawl_delay;
}

RobotsTxt robots_from_response(const Response& response) {
    switch (response.outcome) {
        case Outcome::ok:
            return RobotsTxt::parse(response.body);
        case Outcome::too_large:
            // What arrived before the cap still binds (RFC 9309 section 2.5); with nothing, the
            // site is treated as unreachable.
            return response.body.empty() ? RobotsTxt::disallow_all()
                                         : RobotsTxt::parse(response.body);
        case Outcome::http_error:
            // 429 is a server asking us to back off, not a missing file: like 5xx. 3xx here is a
            // redirect chain that could not be followed: "unavailable", like 4xx (2.3.1.2).
            if (response.status >= 300 && response.status < 500 && response.status != 429) {
                return RobotsTxt::allow_all();
            }
            return RobotsTxt::disallow_all();
        case Outcome::not_modified:  // carries no body: the caller's cached copy applies
        case Outcome::timeout:
        case Outcome::network_error:
        case Outcome::refused:
        case Outcome::cancelled:
            return RobotsTxt::disallow_all();
    }
    return RobotsTxt::disallow_all();
}

std::string robots_path(std::string_view url) {
    std::size_t start = 0;
    const std::size_t scheme = url.find("://");
    if (scheme != std::string_view::npos) {
        start = url.find_first_of("/?#", scheme + 3);
        if (start == std::string_view::npos) {
            return "/";
        }
    }
    std::string_view rest = url.substr(start);
    const std::size_t fragment = rest.find('#');
    if (fragment != std::string_view::npos) {
        rest = rest.substr(0, fragment);
    }
    if (rest.empty() || rest.front() != '/') {
        return "/" + std::string(rest);
    }
    return std::string(rest);
}

}  // namespace baofeed::crawler

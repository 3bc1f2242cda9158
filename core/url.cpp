#include "core/url.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <memory>
#include <new>
#include <string>

#include <curl/curl.h>
#include <utf8proc.h>

#include "core/text.h"

namespace baofeed::url {
namespace {

// RAII owners for the curl URL API. curl_url_* keep no global state, so separate handles may be
// used on separate threads.
struct CurluDeleter {
    void operator()(CURLU* h) const { curl_url_cleanup(h); }
};
using Curlu = std::unique_ptr<CURLU, CurluDeleter>;

struct CurlStringDeleter {
    void operator()(char* p) const { curl_free(p); }
};
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

// Query parameters that only track the click. Names compare case-insensitively; an entry ending
// in '*' matches every name with that prefix.
constexpr std::array<std::string_view, 22> kTrackingParams = {
    "utm_*",    "fbclid", "gclid", "dclid",  "gbraid", "wbraid",     "msclkid", "zarsrc*",
    "zalo_src", "_hsenc", "_hsmi", "mc_cid", "mc_eid", "igshid",     "yclid",   "ref_src",
    "mkt_tok",  "_ga",    "_gl",   "twclid", "ttclid", "oly_enc_id",
};

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

using text::ascii_lower;

bool is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    return ascii_lower(c) - 'a' + 10;
}

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

bool is_tracking_param(std::string_view name) {
    const std::string lower = ascii_lower(name);
    for (std::string_view p : kTrackingParams) {
        if (p.ends_with('*')) {
            if (std::string_view(lower).starts_with(p.substr(0, p.size() - 1))) {
                return true;
            }
        } else if (lower == p) {
            return true;
        }
    }
    return false;
}

// Length of a leading "scheme:" (including the colon), 0 when there is none. A scheme longer
// than curl's limit (MAX_SCHEME_LEN, 40) is none: curl resolves such a reference as a relative
// one, so it must be escaped as one (else resolving the result again escapes it differently).
std::size_t scheme_length(std::string_view s) {
    constexpr std::size_t kMaxSchemeLength = 40;
    if (s.empty() || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z'))) {
        return 0;
    }
    for (std::size_t i = 1; i < s.size(); ++i) {
        const char c = s[i];
        if (c == ':') {
            return i <= kMaxSchemeLength ? i + 1 : 0;
        }
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
        if (!ok) {
            return 0;
        }
    }
    return 0;
}

// What browsers do to an href before resolving it: trim C0 controls and spaces at both ends,
// drop tabs and newlines inside, and percent-encode bytes that may not appear raw in a URL
// (spaces, quotes, angle brackets, non-ASCII UTF-8, ...) after the authority. The host itself
// is left alone so that IDN hosts stay readable.
std::string prepare(std::string_view in) {
    while (!in.empty() && static_cast<unsigned char>(in.front()) <= 0x20) {
        in.remove_prefix(1);
    }
    while (!in.empty() && static_cast<unsigned char>(in.back()) <= 0x20) {
        in.remove_suffix(1);
    }
    std::string s;
    s.reserve(in.size());
    for (char c : in) {
        if (c != '\t' && c != '\n' && c != '\r') {
            s.push_back(c);
        }
    }

    std::size_t rest = scheme_length(s);
    if (s.compare(rest, 2, "//") == 0) {
        rest = s.find_first_of("/?#\\", rest + 2);
        if (rest == std::string::npos) {
            return s;
        }
    }

    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out = s.substr(0, rest);
    bool in_path = true;
    for (std::size_t i = rest; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '?' || c == '#') {
            in_path = false;
        }
        if (c == '\\' && in_path) {
            out.push_back('/');  // browsers read '\' as '/' in http(s) paths
            continue;
        }
        const bool unsafe = c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' ||
                            c == '`' || c == '{' || c == '}' || c == '|' || c == '^' ||
                            (c == '\\' && !in_path);
        if (unsafe) {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0x0F]);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    return out;
}

std::optional<std::string> get_part(CURLU* h, CURLUPart part, unsigned flags = 0) {
    char* raw = nullptr;
    if (curl_url_get(h, part, &raw, flags) != CURLUE_OK || raw == nullptr) {
        return std::nullopt;
    }
    CurlString owned(raw);
    return std::string(owned.get());
}

bool is_http_scheme(CURLU* h) {
    const auto scheme = get_part(h, CURLUPART_SCHEME);
    return scheme && (*scheme == "http" || *scheme == "https");
}

// Parses an absolute URL; nullptr for anything curl rejects (relative, unsupported scheme...).
Curlu parse_absolute(std::string_view text) {
    Curlu h(curl_url());
    if (!h) {
        throw std::bad_alloc();
    }
    const std::string prepared = prepare(text);
    if (scheme_length(prepared) == 0) {
        return nullptr;
    }
    if (curl_url_set(h.get(), CURLUPART_URL, prepared.c_str(), 0) != CURLUE_OK) {
        return nullptr;
    }
    return h;
}

// Lower-cases a host: ASCII letters directly, other letters through Unicode simple lower-case
// mapping (IDN hosts are compared in their Unicode form; no punycode, see STYLE.md curl 13).
std::string lower_host(std::string_view host) {
    std::string out;
    out.reserve(host.size());
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(host.data());
    auto left = static_cast<utf8proc_ssize_t>(host.size());
    while (left > 0) {
        utf8proc_int32_t cp = 0;
        const utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {  // invalid byte: keep it as it is
            out.push_back(ascii_lower(static_cast<char>(*p)));
            ++p;
            --left;
            continue;
        }
        std::array<utf8proc_uint8_t, 4> buf{};
        const utf8proc_ssize_t m = utf8proc_encode_char(utf8proc_tolower(cp), buf.data());
        out.append(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(m));
        p += n;
        left -= n;
    }
    return out;
}

// Upper-cases the hex digits of every percent escape and decodes escapes of unreserved
// characters except '.' (RFC 3986 6.2.2.1 and 6.2.2.2).
std::string normalize_escapes(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
            const auto value =
                static_cast<unsigned char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            // '.' stays escaped: decoding it after curl removed dot segments would make new ones.
            if (is_unreserved(value) && value != '.') {
                out.push_back(static_cast<char>(value));
            } else {
                out.push_back('%');
                out.push_back(
                    static_cast<char>(std::toupper(static_cast<unsigned char>(s[i + 1]))));
                out.push_back(
                    static_cast<char>(std::toupper(static_cast<unsigned char>(s[i + 2]))));
            }
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

// The query without tracking parameters and empty pieces; nullopt when nothing is left.
std::optional<std::string> strip_tracking(std::string_view query) {
    std::string out;
    std::size_t start = 0;
    while (start <= query.size()) {
        std::size_t end = query.find('&', start);
        if (end == std::string_view::npos) {
            end = query.size();
        }
        const std::string_view piece = query.substr(start, end - start);
        const std::string_view name = piece.substr(0, piece.find('='));
        if (!piece.empty() && !is_tracking_param(name)) {
            if (!out.empty()) {
                out.push_back('&');
            }
            out.append(piece);
        }
        start = end + 1;
    }
    if (out.empty()) {
        return std::nullopt;
    }
    return out;
}

}  // namespace

std::optional<std::string> resolve(std::string_view base, std::string_view ref) {
    Curlu h = parse_absolute(base);
    if (!h || !is_http_scheme(h.get())) {
        return std::nullopt;
    }
    const std::string prepared = prepare(ref);
    // curl 7.88 resolves "" and "#frag" against the base's directory; RFC 3986 keeps the base
    // document (and its query) and only replaces the fragment.
    if (prepared.empty() || prepared.front() == '#') {
        const std::string fragment = prepared.empty() ? std::string() : prepared.substr(1);
        const char* value = prepared.empty() ? nullptr : fragment.c_str();
        if (curl_url_set(h.get(), CURLUPART_FRAGMENT, value, 0) != CURLUE_OK) {
            return std::nullopt;
        }
    } else if (curl_url_set(h.get(), CURLUPART_URL, prepared.c_str(), 0) != CURLUE_OK) {
        return std::nullopt;
    }
    if (!is_http_scheme(h.get())) {
        return std::nullopt;
    }
    return get_part(h.get(), CURLUPART_URL);
}

std::optional<std::string> canonical(std::string_view url) {
    Curlu h = parse_absolute(url);
    if (!h || !is_http_scheme(h.get())) {
        return std::nullopt;
    }
    const auto host_part = get_part(h.get(), CURLUPART_HOST);
    if (!host_part || host_part->empty()) {
        return std::nullopt;
    }
    const std::string lowered = lower_host(*host_part);
    if (lowered != *host_part &&
        curl_url_set(h.get(), CURLUPART_HOST, lowered.c_str(), 0) != CURLUE_OK) {
        return std::nullopt;
    }
    curl_url_set(h.get(), CURLUPART_FRAGMENT, nullptr, 0);
    if (const auto query = get_part(h.get(), CURLUPART_QUERY)) {
        const auto kept = strip_tracking(normalize_escapes(*query));
        if (curl_url_set(h.get(), CURLUPART_QUERY, kept ? kept->c_str() : nullptr, 0) !=
            CURLUE_OK) {
            return std::nullopt;
        }
    }
    const auto out = get_part(h.get(), CURLUPART_URL, CURLU_NO_DEFAULT_PORT);
    if (!out) {
        return std::nullopt;
    }
    return normalize_escapes(*out);
}

std::string host(std::string_view url) {
    Curlu h = parse_absolute(url);
    if (!h) {
        return {};
    }
    const auto part = get_part(h.get(), CURLUPART_HOST);
    return part ? lower_host(*part) : std::string();
}

}  // namespace baofeed::url

// robots.txt (RFC 9309): parsing and matching. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crawler/http.h"

namespace baofeed::crawler {

class RobotsTxt {
  public:
    // Never throws; unknown lines are ignored, as RFC 9309 says.
    static RobotsTxt parse(std::string_view text);
    static RobotsTxt allow_all();
    static RobotsTxt disallow_all();

    // The group for `agent` (product token such as "baofeed", case-insensitive; the longest
    // matching User-agent line wins, else "*") decides: Allow/Disallow patterns with `*` and `$`,
    // the longest match wins, Allow wins a tie; "/robots.txt" is always allowed.
    // `path` is the path plus query of the URL ("/a/b?c=d"), percent-encoding compared
    // case-insensitively.
    // `agent` may be a whole User-Agent value ("baofeed/1.0 (+https://...)"): its leading product
    // token is used. A User-agent line matches that token exactly, or names its family
    // ("googlebot" matches "googlebot-news"). Groups naming the same agent are combined.
    bool allowed(std::string_view agent, std::string_view path) const;
    // The Crawl-delay of the agent's group (fractional seconds allowed, capped at one day), or
    // nullopt when the group sets none or no group applies.
    std::optional<std::chrono::milliseconds> crawl_delay(std::string_view agent) const;
    const std::vector<std::string>& sitemaps() const { return sitemaps_; }

  private:
    struct Rule {
        bool allow = false;
        std::string pattern;
    };
    struct Group {
        std::vector<std::string> agents;  // lower-case
        std::vector<Rule> rules;
        std::optional<std::chrono::milliseconds> crawl_delay;
    };
    const Group* group_for(std::string_view agent) const;

    std::vector<Group> groups_;
    std::vector<std::string> sitemaps_;
    bool disallow_all_ = false;
};

// The robots.txt policy a fetch result means (RFC 9309 section 2.3.1): 2xx -> parse the body;
// 4xx (404 included) -> allow all; 5xx, network errors, timeouts -> disallow all (the site is
// treated as fully disallowed until robots.txt can be read). Also: 429 -> disallow all (a request
// to back off, not a missing file); an unfollowable redirect chain (3xx) -> allow all; too_large
// -> the part received is parsed (disallow all when none); refused, cancelled and not_modified
// (no body: callers keep their cached copy and never ask this) -> disallow all.
RobotsTxt robots_from_response(const Response& response);

// Path and query of an absolute URL ("/" when empty), for RobotsTxt::allowed.
std::string robots_path(std::string_view url);

}  // namespace baofeed::crawler

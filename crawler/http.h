// HTTP request and response values. A Response is what the outside world did; it is never thrown.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace baofeed::crawler {

enum class Outcome {
    ok,             // 2xx with a body
    not_modified,   // 304 to a conditional request
    http_error,     // any other status (4xx, 5xx, a redirect we could not follow)
    timeout,        // connect, total or low-speed timeout
    too_large,      // body exceeded Request::max_bytes
    network_error,  // DNS, connection refused or reset, TLS, malformed response
    refused,        // not fetched by policy: scheme, host outside allowed_domains, a private
                    // address, robots.txt (url_filter)
    cancelled,      // not fetched: the run deadline passed, or the host's error budget ran out
};

const char* to_string(Outcome o);

// Members without a default carry "{}": GCC 12 -Wmissing-field-initializers (in -Wextra) flags
// designated initializers such as Request{.url = u} otherwise.
struct Request {
    std::string url{};                             // absolute http(s) URL
    std::string etag{};                            // sent as If-None-Match when non-empty
    std::string last_modified{};                   // sent as If-Modified-Since when non-empty
    std::size_t max_bytes = std::size_t{8} << 20;  // decoded body cap
    // Hosts this request may reach, the first URL and every redirect hop: a host equal to one
    // of these or a subdomain of one. Empty: any host.
    std::vector<std::string> allowed_domains{};
    // Retry transient failures (5xx, 429, timeouts, resets) under the host's HostPolicy.
    bool retry = true;
};

struct Response {
    Outcome outcome = Outcome::network_error;
    long status = 0;                       // HTTP status of the last response, 0 if none
    std::string url{};                     // as requested
    std::string final_url{};               // after redirects
    std::vector<std::string> redirects{};  // every URL that answered with a redirect, in order
    std::string content_type{};
    std::string etag{};
    std::string last_modified{};
    std::string body{};                    // raw bytes (decompressed, not charset-decoded)
    std::string error{};                   // human-readable reason when outcome != ok
    std::chrono::milliseconds elapsed{0};  // of the last attempt
    int attempts = 0;                      // transfers made (1 + retries), 0 if never sent
    std::string remote_ip{};               // address actually connected to, last attempt

    bool ok() const { return outcome == Outcome::ok; }
};

}  // namespace baofeed::crawler

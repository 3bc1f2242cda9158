// Fetcher on libcurl's multi-socket API driven by a Boost.Asio io_context (one thread).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "crawler/fetcher.h"

namespace baofeed::crawler {

struct FetcherOptions {
    std::string user_agent = "baofeed/0.1 (+https://github.com/baofeed/baofeed)";
    // CURLOPT_CONNECT_TO entries, "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" (empty HOST or
    // PORT matches any): sends a host's requests to another address, keeping Host and SNI.
    std::vector<std::string> connect_to;
    long max_total_connections = 32;  // transfers in flight at once, all hosts together
    // Transfers at once to a host without a set_host_policy(): the max_connections of the
    // policy such a host gets (default_host_policy.max_connections is replaced by this).
    long max_host_connections = 2;
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds total_timeout{60'000};
    long low_speed_bytes_per_s = 100;         // abort a transfer slower than this ...
    std::chrono::seconds low_speed_time{20};  // ... for this long
    long max_redirects = 5;
    HostPolicy default_host_policy{};
    // Loopback, private (RFC 1918, ULA), link-local, CGNAT and unspecified addresses are refused
    // unless this is set; checked on the address actually connected to (every redirect hop,
    // every DNS answer), so neither redirects nor DNS can get round it.
    bool allow_private_addresses = false;
    // Called on the run() thread for the first URL and every redirect hop; false -> refused
    // (robots.txt lives here). Empty: everything allowed.
    std::function<bool(const std::string& url)> url_filter{};
};

// True when `numeric_ip` ("10.1.2.3", "::ffff:127.0.0.1", "fe80::1") is an address refused
// unless FetcherOptions::allow_private_addresses: loopback, RFC 1918, CGNAT 100.64/10,
// link-local, ULA fc00::/7, 0.0.0.0/8, "::", and the IPv4-mapped forms of these. Text that is
// not a numeric address is private (refused): the check fails closed.
bool is_private_address(std::string_view numeric_ip);

// Scheduling: requests are queued per host (lower-case host name of the URL), FIFO; a host gets
// at most policy.max_connections transfers at once and starts two of them at least
// policy.min_interval apart; hosts take turns (round robin) for the max_total_connections
// slots. Retries and redirect hops go back through the queue of their host and hold no slot
// while they wait. Every request ends in exactly one call of its handler.
//
// REQUIRES: curl_global_init() has been called (main does it once).
// Owns its io_context and curl multi handle; not copyable, not movable. hold() tokens must be
// released before the fetcher is destroyed.
class CurlFetcher final : public Fetcher {
  public:
    explicit CurlFetcher(FetcherOptions options);
    ~CurlFetcher() override;
    CurlFetcher(const CurlFetcher&) = delete;
    CurlFetcher& operator=(const CurlFetcher&) = delete;

    void submit(Request request, ResponseHandler on_done) override;
    void run() override;
    void post(std::function<void()> fn) override;
    std::shared_ptr<void> hold() override;

    void set_host_policy(const std::string& host, const HostPolicy& policy) override;
    // After `deadline`, queued and waiting requests end as Outcome::cancelled and transfers in
    // flight are aborted (cancelled); run() then returns promptly.
    void set_deadline(std::chrono::steady_clock::time_point deadline);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace baofeed::crawler

// The seam between the pipeline and the network.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "crawler/http.h"

namespace baofeed::crawler {

// How one host is treated. Defaults are what a careful operator would choose.
struct HostPolicy {
    long max_connections = 2;  // transfers at once to this host
    // Minimum time between the starts of two requests to this host (robots.txt Crawl-delay
    // raises it; see crawler/robots.h).
    std::chrono::milliseconds min_interval{0};
    int max_retries = 3;  // after the first attempt, for 5xx, 429, timeouts, resets, truncation
    std::chrono::milliseconds backoff_base{500};  // exponential: base * 2^n, full jitter
    std::chrono::milliseconds backoff_max{30'000};
    // 429/503 Retry-After is honoured up to this; a longer wait gives up (http_error).
    std::chrono::seconds max_retry_after{120};
    // After this many consecutive requests to the host failed (after their retries), its
    // queued requests end as Outcome::cancelled: one dead site cannot slow the run.
    int error_budget = 8;
};

using ResponseHandler = std::function<void(Response)>;

// Runs HTTP transfers. submit() and run() are called from one thread (post() and hold() from
// any), and every handler runs on that thread, inside run(). A handler may submit() further
// requests; run() returns once no transfer is queued, waiting or in flight, no posted function
// is pending and no hold() token is alive.
class Fetcher {
  public:
    virtual ~Fetcher() = default;
    virtual void submit(Request request, ResponseHandler on_done) = 0;
    virtual void run() = 0;

    // Thread-safe, callable from any thread: runs `fn` on the run() thread as soon as it can.
    virtual void post(std::function<void()> fn) = 0;

    // Thread-safe: while a returned token is alive (and not yet destroyed), run() does not return
    // even with no transfer left, so work handed to other threads can come back through post().
    virtual std::shared_ptr<void> hold() = 0;

    // Replaces the policy of `host` (lower-case name) for requests not yet started; hosts
    // without one use the fetcher's default.
    virtual void set_host_policy(const std::string& host, const HostPolicy& policy) = 0;
};

}  // namespace baofeed::crawler

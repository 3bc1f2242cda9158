// Fetcher on libcurl's multi-socket API driven by a Boost.Asio io_context (one thread).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "crawler/fetcher.h"

namespace baofeed::crawler {

struct FetcherOptions {
    std::string user_agent = "baofeed/0.1 (+https://github.com/baofeed/baofeed)";
    // CURLOPT_CONNECT_TO entries, "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT" (empty HOST or
    // PORT matches any): sends a host's requests to another address, keeping Host and SNI.
    std::vector<std::string> connect_to;
    long max_total_connections = 32;
    long max_host_connections = 2;  // per host name; further transfers to it wait in a queue
    std::chrono::milliseconds connect_timeout{10'000};
    std::chrono::milliseconds total_timeout{60'000};
    long low_speed_bytes_per_s = 100;         // abort a transfer slower than this ...
    std::chrono::seconds low_speed_time{20};  // ... for this long
    long max_redirects = 5;
};

// REQUIRES: curl_global_init() has been called (main does it once).
// Owns its io_context and curl multi handle; not copyable, not movable.
class CurlFetcher final : public Fetcher {
  public:
    explicit CurlFetcher(FetcherOptions options);
    ~CurlFetcher() override;
    CurlFetcher(const CurlFetcher&) = delete;
    CurlFetcher& operator=(const CurlFetcher&) = delete;

    void submit(Request request, ResponseHandler on_done) override;
    void run() override;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace baofeed::crawler

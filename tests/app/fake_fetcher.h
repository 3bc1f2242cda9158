// A Fetcher that answers from a map of URL -> Response, for pipeline tests without sockets.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "crawler/fetcher.h"

namespace baofeed::testing {

class FakeFetcher final : public crawler::Fetcher {
  public:
    // Serves `body` for `url` with status 200.
    void page(const std::string& url, std::string body,
              std::string content_type = "text/html; charset=utf-8") {
        crawler::Response r;
        r.outcome = crawler::Outcome::ok;
        r.status = 200;
        r.url = url;
        r.final_url = url;
        r.content_type = std::move(content_type);
        r.body = std::move(body);
        responses_[url] = std::move(r);
    }

    // Any other answer (errors, redirects with final_url set).
    void response(const std::string& url, crawler::Response r) {
        r.url = url;
        if (r.final_url.empty()) {
            r.final_url = url;
        }
        responses_[url] = std::move(r);
    }

    void submit(crawler::Request request, crawler::ResponseHandler on_done) override {
        queue_.emplace_back(std::move(request), std::move(on_done));
    }

    void run() override {
        while (!queue_.empty()) {
            auto [request, handler] = std::move(queue_.front());
            queue_.pop_front();
            requested_.push_back(request.url);
            auto it = responses_.find(request.url);
            if (it != responses_.end()) {
                handler(it->second);
                continue;
            }
            crawler::Response missing;
            missing.outcome = crawler::Outcome::http_error;
            missing.status = 404;
            missing.url = request.url;
            missing.final_url = request.url;
            missing.error = "HTTP 404";
            handler(missing);
        }
    }

    const std::vector<std::string>& requested() const { return requested_; }
    void clear_requested() { requested_.clear(); }

  private:
    std::map<std::string, crawler::Response> responses_;
    std::deque<std::pair<crawler::Request, crawler::ResponseHandler>> queue_;
    std::vector<std::string> requested_;
};

}  // namespace baofeed::testing

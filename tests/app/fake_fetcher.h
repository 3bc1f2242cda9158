// A Fetcher that answers from a map of URL -> Response, for pipeline tests without sockets.
// Single-threaded: post() runs its function at the next turn of run(), and run() never waits for
// hold() tokens (the pipeline under test must not hand work to other threads).
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
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
        queue_.push_back([this, request = std::move(request), on_done = std::move(on_done)] {
            answer(request, on_done);
        });
    }

    void run() override {
        while (!queue_.empty()) {
            auto next = std::move(queue_.front());
            queue_.pop_front();
            next();
        }
    }

    void post(std::function<void()> fn) override { queue_.push_back(std::move(fn)); }
    std::shared_ptr<void> hold() override { return std::make_shared<int>(0); }
    void set_host_policy(const std::string& host, const crawler::HostPolicy& policy) override {
        policies_[host] = policy;
    }
    const std::map<std::string, crawler::HostPolicy>& policies() const { return policies_; }

    const std::vector<crawler::Request>& requests() const { return requests_; }
    std::vector<std::string> requested() const {
        std::vector<std::string> urls;
        for (const auto& r : requests_) {
            urls.push_back(r.url);
        }
        return urls;
    }
    void clear_requested() { requests_.clear(); }

  private:
    void answer(const crawler::Request& request, const crawler::ResponseHandler& on_done) {
        requests_.push_back(request);
        auto it = responses_.find(request.url);
        if (it != responses_.end()) {
            crawler::Response r = it->second;
            r.attempts = 1;
            on_done(std::move(r));
            return;
        }
        crawler::Response missing;
        missing.outcome = crawler::Outcome::http_error;
        missing.status = 404;
        missing.url = request.url;
        missing.final_url = request.url;
        missing.error = "HTTP 404";
        missing.attempts = 1;
        on_done(std::move(missing));
    }

    std::map<std::string, crawler::Response> responses_;
    std::map<std::string, crawler::HostPolicy> policies_;
    std::deque<std::function<void()>> queue_;
    std::vector<crawler::Request> requests_;
};

}  // namespace baofeed::testing

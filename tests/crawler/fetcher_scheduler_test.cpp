// CurlFetcher's scheduler against real loopback servers: per-host limits and spacing, fairness,
// the global limit, the per-host error budget, the run deadline, and post()/hold().
#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <netinet/in.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "crawler/curl_fetcher.h"
#include "support/http_test_server.h"

namespace baofeed::crawler {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::HttpReply;
using test::HttpTestServer;
using test::RecordedRequest;

class CurlGlobalEnvironment : public ::testing::Environment {
  public:
    void SetUp() override { ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK); }
    void TearDown() override { curl_global_cleanup(); }
};

const auto* const kCurlGlobal = ::testing::AddGlobalTestEnvironment(new CurlGlobalEnvironment);

FetcherOptions test_options() {
    FetcherOptions options;
    options.connect_timeout = 1000ms;
    options.total_timeout = 3000ms;
    options.allow_private_addresses = true;  // the servers are on loopback
    options.default_host_policy.backoff_base = 10ms;
    options.default_host_policy.backoff_max = 40ms;
    return options;
}

// Sends a.test, b.test, c.test to `server` (keeping their Host headers).
std::vector<std::string> connect_names_to(const HttpTestServer& server,
                                          std::initializer_list<const char*> names) {
    std::vector<std::string> entries;
    for (const char* name : names) {
        entries.push_back(std::string(name) + "::127.0.0.1:" + std::to_string(server.port()));
    }
    return entries;
}

// A loopback port with nobody listening (bound, then released).
unsigned short closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

std::chrono::milliseconds cpu_time() {
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec));
}

TEST(FetcherScheduler, SpacesTheStartsOfRequestsToAHostByItsMinInterval) {
    HttpTestServer server;
    server.route("/page", HttpReply{.body = "p"});
    CurlFetcher fetcher(test_options());
    fetcher.set_host_policy("127.0.0.1", HostPolicy{.max_connections = 4, .min_interval = 200ms});
    // The first request also opens the connection, which delays its arrival: it only sets
    // the pace; the three measured requests then travel the same warm connection.
    int ok = 0;
    for (int i = 0; i < 4; ++i) {
        fetcher.submit({.url = server.url("/page")}, [&](Response r) { ok += r.ok() ? 1 : 0; });
    }
    fetcher.run();

    EXPECT_EQ(ok, 4);
    const std::vector<RecordedRequest> log = server.requests();
    ASSERT_EQ(log.size(), 4u);
    EXPECT_EQ(log[3].connection, log[1].connection);
    // Starts are >= 200 ms apart; the server sees them within a millisecond or two of that.
    EXPECT_GE(log[2].received - log[1].received, 195ms);
    EXPECT_GE(log[3].received - log[2].received, 195ms);
    EXPECT_LT(log[3].received - log[1].received, 800ms);  // ... and no slower than needed
}

TEST(FetcherScheduler, ASpacingRaisedAfterARequestCountsFromThatRequest) {
    // The pipeline reads robots.txt first, then raises the host's spacing to its Crawl-delay:
    // the next request must wait that long after robots.txt, not go out at once.
    HttpTestServer server;
    server.route("/robots.txt", HttpReply{.body = "User-agent: *\nCrawl-delay: 0.3\n"});
    server.route("/page", HttpReply{.body = "p"});
    CurlFetcher fetcher(test_options());
    int ok = 0;
    const auto count = [&ok](const Response& r) { ok += r.ok() ? 1 : 0; };
    // A first request opens the connection (which delays its arrival), so that the two
    // measured ones travel the same warm connection and arrive as soon as they start.
    fetcher.submit({.url = server.url("/page")}, [&](Response warm) {
        count(warm);
        fetcher.submit({.url = server.url("/robots.txt")}, [&](Response robots) {
            count(robots);
            fetcher.set_host_policy("127.0.0.1", HostPolicy{.min_interval = 300ms});
            fetcher.submit({.url = server.url("/page")}, count);
        });
    });
    fetcher.run();

    EXPECT_EQ(ok, 3);
    const std::vector<RecordedRequest> log = server.requests();
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[1].path, "/robots.txt");
    EXPECT_EQ(log[2].connection, log[1].connection);
    EXPECT_GE(log[2].received - log[1].received, 295ms);
}

TEST(FetcherScheduler, KeepsEachHostWithinItsOwnConnectionLimit) {
    HttpTestServer one;
    HttpTestServer three;
    for (HttpTestServer* server : {&one, &three}) {
        server->route("/slow", HttpReply{.body = "s", .delay = 30ms});
    }
    FetcherOptions options = test_options();
    options.connect_to = connect_names_to(one, {"one.test"});
    const auto more = connect_names_to(three, {"three.test"});
    options.connect_to.insert(options.connect_to.end(), more.begin(), more.end());
    CurlFetcher fetcher(options);
    fetcher.set_host_policy("one.test", HostPolicy{.max_connections = 1});
    fetcher.set_host_policy("THREE.test", HostPolicy{.max_connections = 3});  // any case
    int ok = 0;
    for (int i = 0; i < 9; ++i) {
        for (const char* host : {"one.test", "three.test"}) {
            fetcher.submit({.url = std::string("http://") + host + "/slow"},
                           [&](Response r) { ok += r.ok() ? 1 : 0; });
        }
    }
    fetcher.run();

    EXPECT_EQ(ok, 18);
    EXPECT_EQ(one.max_concurrent_requests(), 1);
    EXPECT_EQ(three.max_concurrent_requests(), 3);
}

TEST(FetcherScheduler, KeepsAllHostsTogetherWithinTheGlobalLimit) {
    HttpTestServer server;
    server.route("/slow", HttpReply{.body = "s", .delay = 20ms});
    FetcherOptions options = test_options();
    options.connect_to = connect_names_to(server, {"a.test", "b.test", "c.test"});
    options.max_total_connections = 2;
    options.max_host_connections = 4;
    CurlFetcher fetcher(options);
    int ok = 0;
    for (int i = 0; i < 4; ++i) {
        for (const char* host : {"a.test", "b.test", "c.test"}) {
            fetcher.submit({.url = std::string("http://") + host + "/slow"},
                           [&](Response r) { ok += r.ok() ? 1 : 0; });
        }
    }
    fetcher.run();

    EXPECT_EQ(ok, 12);
    EXPECT_EQ(server.max_concurrent_requests(), 2);
}

TEST(FetcherScheduler, LetsHostsTakeTurnsSoABigQueueCannotStarveAnother) {
    HttpTestServer server;
    server.route("/page", HttpReply{.body = "p"});
    FetcherOptions options = test_options();
    options.connect_to = connect_names_to(server, {"big.test", "small.test"});
    options.max_total_connections = 1;
    CurlFetcher fetcher(options);
    for (int i = 0; i < 20; ++i) {
        fetcher.submit({.url = "http://big.test/page"}, [](Response) {});
    }
    for (int i = 0; i < 2; ++i) {
        fetcher.submit({.url = "http://small.test/page"}, [](Response) {});
    }
    fetcher.run();

    const std::vector<RecordedRequest> log = server.requests();
    ASSERT_EQ(log.size(), 22u);
    std::vector<std::size_t> small_positions;
    for (std::size_t i = 0; i < log.size(); ++i) {
        if (log[i].header("Host") == "small.test") {
            small_positions.push_back(i);
        }
    }
    // FIFO overall would put them at 20 and 21; turns put them right behind big's first few.
    EXPECT_EQ(small_positions, (std::vector<std::size_t>{2, 4}));
}

TEST(FetcherScheduler, CancelsTheQueueOfADeadHostOnceItsErrorBudgetIsSpent) {
    const std::string dead = "http://127.0.0.1:" + std::to_string(closed_port());
    FetcherOptions options = test_options();
    options.default_host_policy.error_budget = 3;
    options.max_host_connections = 1;
    CurlFetcher fetcher(options);
    std::vector<Response> responses;
    for (int i = 0; i < 20; ++i) {
        fetcher.submit({.url = dead + "/" + std::to_string(i)},
                       [&](Response r) { responses.push_back(std::move(r)); });
    }
    const auto start = Clock::now();
    fetcher.run();

    EXPECT_LT(Clock::now() - start, 500ms);
    ASSERT_EQ(responses.size(), 20u);
    const auto failed = std::count_if(responses.begin(), responses.end(), [](const Response& r) {
        return r.outcome == Outcome::network_error;
    });
    const auto cancelled = std::count_if(responses.begin(), responses.end(), [](const Response& r) {
        return r.outcome == Outcome::cancelled && r.error == "host error budget exhausted" &&
               r.attempts == 0;
    });
    EXPECT_EQ(failed, 3);
    EXPECT_EQ(cancelled, 17);

    // The host stays written off for the rest of the run.
    std::optional<Response> late;
    fetcher.submit({.url = dead + "/late"}, [&](Response r) { late = std::move(r); });
    fetcher.run();
    ASSERT_TRUE(late.has_value());
    EXPECT_EQ(late->outcome, Outcome::cancelled);
}

TEST(FetcherScheduler, CancelsARequestWaitingForItsRetryWhenTheBudgetRunsOut) {
    HttpTestServer server;
    server.route("/waits", HttpReply{.status = 503, .headers = {{"Retry-After", "1"}}});
    server.route("/fails", HttpReply{.status = 500, .delay = 100ms});
    FetcherOptions options = test_options();
    options.default_host_policy.error_budget = 1;
    CurlFetcher fetcher(options);
    std::optional<Response> waiting;
    std::optional<Response> failing;
    fetcher.submit({.url = server.url("/waits")}, [&](Response r) { waiting = std::move(r); });
    fetcher.submit({.url = server.url("/fails"), .retry = false},
                   [&](Response r) { failing = std::move(r); });
    const auto start = Clock::now();
    fetcher.run();

    EXPECT_LT(Clock::now() - start, 600ms);  // the 1 s Retry-After was not waited out
    ASSERT_TRUE(waiting.has_value() && failing.has_value());
    EXPECT_EQ(failing->outcome, Outcome::http_error);
    EXPECT_EQ(waiting->outcome, Outcome::cancelled);
    EXPECT_EQ(waiting->error, "host error budget exhausted");
    EXPECT_EQ(waiting->attempts, 1);
    EXPECT_EQ(server.hits("/waits"), 1u);
}

TEST(FetcherScheduler, CountsOnlyConsecutiveServerFailuresAgainstTheBudget) {
    HttpTestServer server;
    const HttpReply error{.status = 500};
    const HttpReply fine{.body = "ok"};
    // Requests go one at a time, so the n-th request gets the n-th reply.
    server.route_sequence("/p", {error, fine, error, fine, error, error, error});
    server.route("/gone", HttpReply{.status = 404});
    FetcherOptions options = test_options();
    options.default_host_policy.error_budget = 2;
    options.default_host_policy.max_retries = 0;
    options.max_host_connections = 1;
    CurlFetcher fetcher(options);
    std::vector<std::string> outcomes;
    const auto record = [&](Response r) { outcomes.emplace_back(to_string(r.outcome)); };
    for (int i = 0; i < 5; ++i) {
        fetcher.submit({.url = server.url("/gone")}, record);  // 4xx: not a host failure
    }
    for (int i = 0; i < 9; ++i) {
        fetcher.submit({.url = server.url("/p")}, record);
    }
    fetcher.run();

    const std::vector<std::string> expected = {
        "http_error", "http_error", "http_error", "http_error", "http_error",  // 404s
        "http_error", "ok",         "http_error", "ok",                        // reset by ok
        "http_error", "http_error",                                            // budget spent
        "cancelled",  "cancelled",  "cancelled"};
    EXPECT_EQ(outcomes, expected);
    EXPECT_EQ(server.hits("/p"), 6u);
}

TEST(FetcherScheduler, TheDeadlineCancelsQueuedAndInFlightRequestsAndEndsTheRun) {
    HttpTestServer server;
    server.route("/stuck", HttpReply{.body = "late", .delay = 5000ms});
    FetcherOptions options = test_options();
    options.total_timeout = 10'000ms;
    options.max_host_connections = 1;
    CurlFetcher fetcher(options);
    std::vector<Response> responses;
    for (int i = 0; i < 5; ++i) {
        fetcher.submit({.url = server.url("/stuck")},
                       [&](Response r) { responses.push_back(std::move(r)); });
    }
    const auto start = Clock::now();
    fetcher.set_deadline(start + 200ms);
    fetcher.run();
    const auto took = Clock::now() - start;

    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 1000ms);
    ASSERT_EQ(responses.size(), 5u);
    int sent = 0;
    for (const Response& r : responses) {
        EXPECT_EQ(r.outcome, Outcome::cancelled);
        EXPECT_EQ(r.error, "run deadline");
        sent += r.attempts;
    }
    EXPECT_EQ(sent, 1);  // the one in flight was aborted, the queued ones never went out
    EXPECT_EQ(server.hits("/stuck"), 1u);

    // After the deadline nothing more is fetched.
    std::optional<Response> late;
    fetcher.submit({.url = server.url("/stuck")}, [&](Response r) { late = std::move(r); });
    fetcher.run();
    ASSERT_TRUE(late.has_value());
    EXPECT_EQ(late->outcome, Outcome::cancelled);
    EXPECT_EQ(server.hits("/stuck"), 1u);
}

TEST(FetcherScheduler, TheDeadlineCancelsARequestWaitingToBeRetried) {
    HttpTestServer server;
    server.route("/busy", HttpReply{.status = 503, .headers = {{"Retry-After", "1"}}});
    CurlFetcher fetcher(test_options());
    std::optional<Response> result;
    fetcher.submit({.url = server.url("/busy")}, [&](Response r) { result = std::move(r); });
    // While the request waits out its Retry-After, the deadline is brought forward.
    std::thread operator_thread([&fetcher] {
        std::this_thread::sleep_for(200ms);
        fetcher.post([&fetcher] { fetcher.set_deadline(Clock::now() + 50ms); });
    });
    const auto start = Clock::now();
    fetcher.run();
    const auto took = Clock::now() - start;
    operator_thread.join();

    EXPECT_GE(took, 240ms);
    EXPECT_LT(took, 700ms);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->outcome, Outcome::cancelled);
    EXPECT_EQ(result->error, "run deadline");
    EXPECT_EQ(result->attempts, 1);
    EXPECT_EQ(server.hits("/busy"), 1u);
}

TEST(FetcherScheduler, DoesNotWaitForARetryDueAfterTheDeadline) {
    HttpTestServer server;
    server.route("/busy", HttpReply{.status = 503, .headers = {{"Retry-After", "1"}}});
    CurlFetcher fetcher(test_options());
    std::optional<Response> result;
    fetcher.submit({.url = server.url("/busy")}, [&](Response r) { result = std::move(r); });
    const auto start = Clock::now();
    fetcher.set_deadline(start + 300ms);  // before the 1 s Retry-After would be over
    fetcher.run();

    EXPECT_LT(Clock::now() - start, 250ms);
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->outcome, Outcome::http_error);  // the real failure, reported at once
    EXPECT_EQ(result->status, 503);
    EXPECT_EQ(result->attempts, 1);
}

TEST(FetcherScheduler, RunStaysAliveForAHoldTokenAndRunsWorkPostedFromAnotherThread) {
    HttpTestServer server;
    server.route("/after", HttpReply{.body = "from the worker"});
    CurlFetcher fetcher(test_options());
    std::string body;
    std::atomic<bool> worker_done{false};
    std::thread worker([&fetcher, &server, &body, &worker_done, token = fetcher.hold()]() mutable {
        std::this_thread::sleep_for(300ms);  // "parsing" on another thread
        fetcher.post([&fetcher, &server, &body] {
            fetcher.submit({.url = server.url("/after")}, [&body](Response r) { body = r.body; });
        });
        token.reset();
        worker_done = true;
    });
    const auto start = Clock::now();
    const auto cpu_before = cpu_time();
    fetcher.run();
    const auto cpu_used = cpu_time() - cpu_before;
    worker.join();

    EXPECT_TRUE(worker_done);
    EXPECT_EQ(body, "from the worker");  // the posted submit ran inside this run()
    EXPECT_GE(Clock::now() - start, 290ms);
    EXPECT_LT(cpu_used, 100ms);  // it waited; it did not spin
}

TEST(FetcherScheduler, RunReturnsWhenTheLastHoldTokenDiesWithNothingPending) {
    CurlFetcher fetcher(test_options());
    auto first = fetcher.hold();
    auto second = fetcher.hold();
    std::thread releaser([&first, &second] {
        std::this_thread::sleep_for(100ms);
        first.reset();
        std::this_thread::sleep_for(100ms);
        second.reset();
    });
    const auto start = Clock::now();
    fetcher.run();
    const auto took = Clock::now() - start;
    releaser.join();

    EXPECT_GE(took, 190ms);
    EXPECT_LT(took, 400ms);
}

}  // namespace
}  // namespace baofeed::crawler

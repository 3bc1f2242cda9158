// CurlFetcher against a real loopback HTTP server (support/http_test_server.h).
#include "crawler/curl_fetcher.h"

#include <algorithm>
#include <chrono>
#include <netinet/in.h>
#include <optional>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>
#include <zlib.h>

#include <curl/curl.h>
#include <gtest/gtest.h>

#include "support/http_test_server.h"

namespace baofeed::crawler {
namespace {

using namespace std::chrono_literals;
using test::HttpReply;
using test::HttpTestServer;
using test::RecordedRequest;

class CurlGlobalEnvironment : public ::testing::Environment {
  public:
    void SetUp() override { ASSERT_EQ(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK); }
    void TearDown() override { curl_global_cleanup(); }
};

const auto* const kCurlGlobal = ::testing::AddGlobalTestEnvironment(new CurlGlobalEnvironment);

// Loopback servers are private addresses: every test but the one of that rule allows them.
// Retries back off for a few milliseconds only, so the tests stay fast.
FetcherOptions test_options() {
    FetcherOptions options;
    options.connect_timeout = 1000ms;
    options.total_timeout = 3000ms;
    options.allow_private_addresses = true;
    options.default_host_policy.backoff_base = 10ms;
    options.default_host_policy.backoff_max = 40ms;
    return options;
}

// Runs one request through a fresh fetcher and returns its response.
Response fetch(Request request, FetcherOptions options = test_options()) {
    CurlFetcher fetcher(std::move(options));
    std::optional<Response> result;
    int calls = 0;
    fetcher.submit(std::move(request), [&](Response response) {
        ++calls;
        result = std::move(response);
    });
    fetcher.run();
    EXPECT_EQ(calls, 1);
    return result.value_or(Response{});
}

HttpReply redirect(int status, std::string location) {
    HttpReply reply;
    reply.status = status;
    reply.headers = {{"Location", std::move(location)}};
    return reply;
}

std::string gzip(const std::string& input) {
    z_stream stream{};
    // windowBits 15 + 16: write a gzip wrapper, not a zlib one.
    if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        return {};
    }
    std::string output(deflateBound(&stream, static_cast<uLong>(input.size())) + 64, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream.avail_in = static_cast<uInt>(input.size());
    stream.next_out = reinterpret_cast<Bytef*>(output.data());
    stream.avail_out = static_cast<uInt>(output.size());
    const int rc = deflate(&stream, Z_FINISH);
    output.resize(stream.total_out);
    deflateEnd(&stream);
    return rc == Z_STREAM_END ? output : std::string{};
}

// A loopback port with nobody listening (bound, then released).
unsigned short closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

TEST(OutcomeName, NamesEveryOutcome) {
    EXPECT_STREQ(to_string(Outcome::ok), "ok");
    EXPECT_STREQ(to_string(Outcome::not_modified), "not_modified");
    EXPECT_STREQ(to_string(Outcome::http_error), "http_error");
    EXPECT_STREQ(to_string(Outcome::timeout), "timeout");
    EXPECT_STREQ(to_string(Outcome::too_large), "too_large");
    EXPECT_STREQ(to_string(Outcome::network_error), "network_error");
    EXPECT_STREQ(to_string(Outcome::refused), "refused");
    EXPECT_STREQ(to_string(Outcome::cancelled), "cancelled");
}

TEST(CurlFetcher, ReturnsBodyContentTypeAndValidatorsOfA200) {
    HttpTestServer server;
    HttpReply reply;
    reply.headers = {{"Content-Type", "text/html; charset=utf-8"},
                     {"ETag", "\"abc123\""},
                     {"Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"}};
    reply.body = "<html>Xin chào</html>";
    server.route("/page", reply);

    const Response response = fetch({.url = server.url("/page?x=1")});

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_TRUE(response.ok());
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "<html>Xin chào</html>");
    EXPECT_EQ(response.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(response.etag, "\"abc123\"");
    EXPECT_EQ(response.last_modified, "Wed, 21 Oct 2015 07:28:00 GMT");
    EXPECT_EQ(response.url, server.url("/page?x=1"));
    EXPECT_EQ(response.final_url, server.url("/page?x=1"));
    EXPECT_TRUE(response.redirects.empty());
    EXPECT_EQ(response.attempts, 1);
    EXPECT_EQ(response.remote_ip, "127.0.0.1");
    ASSERT_EQ(server.hits("/page"), 1u);
    const RecordedRequest sent = server.requests().at(0);
    EXPECT_EQ(sent.method, "GET");
    EXPECT_EQ(sent.header("User-Agent"), FetcherOptions{}.user_agent);
    EXPECT_EQ(sent.header("If-None-Match"), "");
}

TEST(CurlFetcher, SendsConditionalHeadersAndReportsNotModified) {
    HttpTestServer server;
    server.route("/feed", [](const RecordedRequest& request) {
        HttpReply reply;
        if (request.header("If-None-Match") == "\"v1\"" &&
            request.header("If-Modified-Since") == "Wed, 21 Oct 2015 07:28:00 GMT") {
            reply.status = 304;
            reply.headers = {{"ETag", "\"v1\""}};
        } else {
            reply.body = "fresh";
        }
        return reply;
    });

    const Response response = fetch({.url = server.url("/feed"),
                                     .etag = "\"v1\"",
                                     .last_modified = "Wed, 21 Oct 2015 07:28:00 GMT"});

    EXPECT_EQ(response.outcome, Outcome::not_modified) << response.error;
    EXPECT_EQ(response.status, 304);
    EXPECT_TRUE(response.body.empty());
    EXPECT_EQ(response.etag, "\"v1\"");
    EXPECT_EQ(server.hits("/feed"), 1u);

    const Response unconditional = fetch({.url = server.url("/feed")});
    EXPECT_EQ(unconditional.outcome, Outcome::ok);
    EXPECT_EQ(unconditional.body, "fresh");
}

TEST(CurlFetcher, ReportsA404AsHttpErrorWithItsStatus) {
    HttpTestServer server;

    const Response response = fetch({.url = server.url("/missing")});

    EXPECT_EQ(response.outcome, Outcome::http_error);
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(response.error, "HTTP 404");
    EXPECT_FALSE(response.ok());
}

TEST(CurlFetcher, RecordsEveryRedirectHopAndTheFinalUrl) {
    HttpTestServer server;
    server.route("/a", redirect(301, "/b?step=2"));
    server.route("/b", redirect(302, server.url("/c")));
    server.route("/c", HttpReply{.body = "arrived"});

    const Response response = fetch({.url = server.url("/a")});

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.body, "arrived");
    EXPECT_EQ(response.url, server.url("/a"));
    EXPECT_EQ(response.final_url, server.url("/c"));
    EXPECT_EQ(response.redirects,
              (std::vector<std::string>{server.url("/a"), server.url("/b?step=2")}));
}

TEST(CurlFetcher, FollowsACrossHostRedirectThroughConnectTo) {
    HttpTestServer server;
    server.route("/moved", [](const RecordedRequest& request) {
        if (request.header("Host") == "a.test") {
            return redirect(301, "http://b.test/article");
        }
        return HttpReply{.status = 400};
    });
    server.route("/article", [](const RecordedRequest& request) {
        return HttpReply{.body = "served for " + request.header("Host")};
    });
    FetcherOptions options = test_options();
    const std::string port = std::to_string(server.port());
    options.connect_to = {"a.test::127.0.0.1:" + port, "b.test::127.0.0.1:" + port};

    const Response response = fetch({.url = "http://a.test/moved"}, options);

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.body, "served for b.test");
    EXPECT_EQ(response.final_url, "http://b.test/article");
    EXPECT_EQ(response.redirects, (std::vector<std::string>{"http://a.test/moved"}));
}

TEST(CurlFetcher, StopsARedirectLoopWithAnError) {
    HttpTestServer server;
    server.route("/loop", redirect(302, "/loop"));
    FetcherOptions options = test_options();
    options.max_redirects = 3;

    const Response response = fetch({.url = server.url("/loop")}, options);

    EXPECT_EQ(response.outcome, Outcome::http_error);
    EXPECT_EQ(response.status, 302);
    EXPECT_NE(response.error.find("too many redirects"), std::string::npos) << response.error;
    EXPECT_EQ(server.hits("/loop"), 4u);  // the first request + 3 followed redirects
    EXPECT_EQ(response.redirects.size(), 4u);
    EXPECT_EQ(response.attempts, 4);
}

TEST(CurlFetcher, RefusesARedirectToANonHttpScheme) {
    HttpTestServer server;
    server.route("/to-file", redirect(302, "file:///etc/passwd"));

    const Response response = fetch({.url = server.url("/to-file")});

    EXPECT_EQ(response.outcome, Outcome::refused) << response.error;
}

TEST(CurlFetcher, ReportsTooLargeForABodyWithContentLength) {
    HttpTestServer server;
    server.route("/big", HttpReply{.body = std::string(100'000, 'x')});

    const Response response = fetch({.url = server.url("/big"), .max_bytes = 1000});

    EXPECT_EQ(response.outcome, Outcome::too_large) << response.error;
    EXPECT_TRUE(response.body.empty());

    const Response roomy = fetch({.url = server.url("/big"), .max_bytes = 100'000});
    EXPECT_EQ(roomy.outcome, Outcome::ok) << roomy.error;
    EXPECT_EQ(roomy.body.size(), 100'000u);
}

TEST(CurlFetcher, ReportsTooLargeForAChunkedBodyWithoutLength) {
    HttpTestServer server;
    server.route("/stream",
                 HttpReply{.body = std::string(50'000, 'y'), .chunked = true, .chunk_size = 4096});

    const Response response = fetch({.url = server.url("/stream"), .max_bytes = 10'000});

    EXPECT_EQ(response.outcome, Outcome::too_large) << response.error;
    ASSERT_FALSE(server.requests().empty());
    EXPECT_EQ(server.requests().at(0).header("Content-Length"), "");
}

TEST(CurlFetcher, ReportsTimeoutWhenTheServerIsTooSlow) {
    HttpTestServer server;
    server.route("/slow",
                 HttpReply{.body = std::string(200, 's'), .chunk_size = 10, .chunk_delay = 100ms});
    FetcherOptions options = test_options();
    options.total_timeout = 300ms;

    const auto start = std::chrono::steady_clock::now();
    const Response response = fetch({.url = server.url("/slow"), .retry = false}, options);
    const auto waited = std::chrono::steady_clock::now() - start;

    EXPECT_EQ(response.outcome, Outcome::timeout) << response.error;
    EXPECT_GE(response.elapsed, 250ms);
    EXPECT_LT(waited, 1500ms);
    EXPECT_EQ(response.attempts, 1);
    EXPECT_EQ(server.hits("/slow"), 1u);
}

TEST(CurlFetcher, ReportsATruncatedBodyAsNetworkErrorAfterItsRetries) {
    HttpTestServer server;
    server.route("/cut", HttpReply{.body = std::string(5000, 'z'), .close_after_bytes = 1000});
    FetcherOptions options = test_options();
    options.default_host_policy.max_retries = 2;

    const Response response = fetch({.url = server.url("/cut")}, options);

    EXPECT_EQ(response.outcome, Outcome::network_error);
    EXPECT_FALSE(response.error.empty());
    EXPECT_TRUE(response.body.empty());
    EXPECT_EQ(response.attempts, 3);
    EXPECT_EQ(server.hits("/cut"), 3u);
}

TEST(CurlFetcher, ReportsARefusedConnectionAsNetworkError) {
    const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";

    const Response response = fetch({.url = url});

    EXPECT_EQ(response.outcome, Outcome::network_error);
    EXPECT_EQ(response.status, 0);
    EXPECT_FALSE(response.error.empty());
    EXPECT_EQ(response.attempts, 1);  // a refused connection is not worth another try
}

TEST(CurlFetcher, RefusesNonHttpSchemes) {
    HttpTestServer server;

    const Response ftp = fetch({.url = "ftp://127.0.0.1:" + std::to_string(server.port()) + "/"});
    const Response file = fetch({.url = "file:///etc/passwd"});

    EXPECT_EQ(ftp.outcome, Outcome::refused) << ftp.error;
    EXPECT_EQ(file.outcome, Outcome::refused) << file.error;
    EXPECT_TRUE(file.body.empty());
    EXPECT_EQ(server.connections_accepted(), 0u);
}

TEST(CurlFetcher, DecodesAGzipEncodedBody) {
    HttpTestServer server;
    const std::string text(20'000, 'g');
    const std::string compressed = gzip(text);
    ASSERT_FALSE(compressed.empty());
    ASSERT_LT(compressed.size(), text.size());
    server.route("/gz", [&compressed](const RecordedRequest& request) {
        if (request.header("Accept-Encoding").find("gzip") == std::string::npos) {
            return HttpReply{.status = 406};
        }
        return HttpReply{.headers = {{"Content-Encoding", "gzip"}}, .body = compressed};
    });

    const Response response = fetch({.url = server.url("/gz")});

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.body, text);
}

TEST(CurlFetcher, CapsTheDecodedSizeOfACompressedBody) {
    HttpTestServer server;
    const std::string compressed = gzip(std::string(200'000, 'b'));
    server.route("/bomb", HttpReply{.headers = {{"Content-Encoding", "gzip"}}, .body = compressed});

    const Response response = fetch({.url = server.url("/bomb"), .max_bytes = 10'000});

    EXPECT_LT(compressed.size(), 10'000u);
    EXPECT_EQ(response.outcome, Outcome::too_large) << response.error;
}

// Runs `count` requests for /item through one fetcher; returns how many came back ok.
int fetch_items(HttpTestServer& server, long max_host_connections, int count) {
    FetcherOptions options = test_options();
    options.max_host_connections = max_host_connections;
    CurlFetcher fetcher(options);
    int ok = 0;
    int done = 0;
    for (int i = 0; i < count; ++i) {
        const std::string expected = "item " + std::to_string(i);
        fetcher.submit({.url = server.url("/item?i=" + std::to_string(i))},
                       [&, expected](Response response) {
                           ++done;
                           if (response.ok() && response.body == expected) {
                               ++ok;
                           }
                       });
    }
    fetcher.run();
    EXPECT_EQ(done, count);
    return ok;
}

void route_items(HttpTestServer& server) {
    server.route("/item", [](const RecordedRequest& request) {
        const std::string index = request.target.substr(request.target.find('=') + 1);
        // Two slow pieces, so transfers overlap if the client lets them.
        return HttpReply{.body = "item " + index, .chunk_size = 4, .chunk_delay = 5ms};
    });
}

TEST(CurlFetcher, CompletesFiftyConcurrentRequestsWithinTheHostConnectionLimit) {
    HttpTestServer server;
    route_items(server);

    EXPECT_EQ(fetch_items(server, 2, 50), 50);

    EXPECT_EQ(server.hits("/item"), 50u);
    EXPECT_LE(server.max_concurrent_connections(), 2);
    EXPECT_EQ(server.max_concurrent_requests(), 2);
}

TEST(CurlFetcher, OpensMoreConnectionsWhenTheHostLimitAllows) {
    // The other side of the limit test: shows that the gauge sees parallel connections.
    HttpTestServer server;
    route_items(server);

    EXPECT_EQ(fetch_items(server, 8, 24), 24);

    EXPECT_GT(server.max_concurrent_connections(), 2);
    EXPECT_LE(server.max_concurrent_connections(), 8);
    EXPECT_LE(server.max_concurrent_requests(), 8);
}

TEST(CurlFetcher, LetsAHandlerSubmitFollowUpRequests) {
    HttpTestServer server;
    server.route("/index", HttpReply{.body = "/one /two"});
    server.route("/one", HttpReply{.body = "1"});
    server.route("/two", HttpReply{.body = "2"});
    CurlFetcher fetcher(test_options());
    std::vector<std::string> bodies;

    fetcher.submit({.url = server.url("/index")}, [&](Response index) {
        bodies.push_back(index.body);
        for (const char* path : {"/one", "/two"}) {
            fetcher.submit({.url = server.url(path)}, [&](Response article) {
                bodies.push_back(article.body);
                if (article.body == "2") {
                    fetcher.submit({.url = server.url("/missing")},
                                   [&](Response last) { bodies.push_back(last.error); });
                }
            });
        }
    });
    fetcher.run();

    // /one, /two and /missing complete in any order, but all within the same run().
    ASSERT_EQ(bodies.size(), 4u);
    EXPECT_EQ(bodies[0], "/one /two");
    std::sort(bodies.begin() + 1, bodies.end());
    EXPECT_EQ(bodies, (std::vector<std::string>{"/one /two", "1", "2", "HTTP 404"}));
    EXPECT_EQ(server.hits("/one"), 1u);
    EXPECT_EQ(server.hits("/two"), 1u);

    // The fetcher stays usable after run() returned.
    std::string again;
    fetcher.submit({.url = server.url("/one")}, [&](Response r) { again = r.body; });
    fetcher.run();
    EXPECT_EQ(again, "1");
}

TEST(CurlFetcher, RunWithNothingSubmittedReturnsAtOnce) {
    CurlFetcher fetcher(test_options());
    const auto start = std::chrono::steady_clock::now();

    fetcher.run();
    fetcher.run();

    EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms);
}

TEST(CurlFetcher, PropagatesAHandlerExceptionAndCanBeDestroyedMidTransfer) {
    HttpTestServer server;
    server.route("/fast", HttpReply{.body = "fast"});
    server.route("/slow", HttpReply{.body = "late", .chunk_size = 1, .chunk_delay = 100ms});
    bool slow_called = false;
    {
        CurlFetcher fetcher(test_options());
        fetcher.submit({.url = server.url("/slow")}, [&](Response) { slow_called = true; });
        fetcher.submit({.url = server.url("/fast")},
                       [](Response) { throw std::runtime_error("handler failed"); });
        EXPECT_THROW(fetcher.run(), std::runtime_error);
    }  // destroyed while /slow is still being received
    EXPECT_FALSE(slow_called);
}

// ---- retries ------------------------------------------------------------------------------

HttpReply status_reply(int status, std::vector<std::pair<std::string, std::string>> headers = {}) {
    return HttpReply{.status = status, .headers = std::move(headers), .body = "error page"};
}

TEST(CurlFetcherRetry, RetriesA500AndReturnsThePageOnceTheServerRecovers) {
    HttpTestServer server;
    server.route_sequence("/flaky", {status_reply(500), HttpReply{.body = "fine now"}});

    const Response response = fetch({.url = server.url("/flaky")});

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.body, "fine now");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.attempts, 2);
    EXPECT_EQ(server.hits("/flaky"), 2u);
}

TEST(CurlFetcherRetry, GivesUpOnAPersistent503AfterMaxRetriesPlusOneAttempts) {
    HttpTestServer server;
    server.route("/down", status_reply(503));
    FetcherOptions options = test_options();
    options.default_host_policy.max_retries = 2;

    const Response response = fetch({.url = server.url("/down")}, options);

    EXPECT_EQ(response.outcome, Outcome::http_error);
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(response.error, "HTTP 503");
    EXPECT_EQ(response.attempts, 3);
    EXPECT_EQ(server.hits("/down"), 3u);
}

TEST(CurlFetcherRetry, DoesNotRetryA404OrARequestThatAsksForNoRetry) {
    HttpTestServer server;
    server.route("/down", status_reply(502));

    const Response missing = fetch({.url = server.url("/missing")});
    const Response once = fetch({.url = server.url("/down"), .retry = false});

    EXPECT_EQ(missing.outcome, Outcome::http_error);
    EXPECT_EQ(missing.attempts, 1);
    EXPECT_EQ(server.hits("/missing"), 1u);
    EXPECT_EQ(once.outcome, Outcome::http_error);
    EXPECT_EQ(once.status, 502);
    EXPECT_EQ(once.attempts, 1);
    EXPECT_EQ(server.hits("/down"), 1u);
}

TEST(CurlFetcherRetry, WaitsForRetryAfterBeforeRetryingA429) {
    HttpTestServer server;
    server.route_sequence(
        "/limited", {status_reply(429, {{"Retry-After", "1"}}), HttpReply{.body = "your turn"}});

    const Response response = fetch({.url = server.url("/limited")});

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.attempts, 2);
    const std::vector<RecordedRequest> log = server.requests();
    ASSERT_EQ(log.size(), 2u);
    // Backoff alone would have waited at most 40 ms.
    EXPECT_GE(log[1].received - log[0].received, 950ms);
}

TEST(CurlFetcherRetry, GivesUpAtOnceWhenRetryAfterIsBeyondTheCap) {
    HttpTestServer server;
    server.route("/seconds", status_reply(429, {{"Retry-After", "3600"}}));
    server.route("/date", status_reply(503, {{"Retry-After", "Thu, 01 Jan 2099 00:00:00 GMT"}}));
    FetcherOptions options = test_options();
    options.default_host_policy.max_retry_after = 60s;

    const auto start = std::chrono::steady_clock::now();
    const Response seconds = fetch({.url = server.url("/seconds")}, options);
    const Response date = fetch({.url = server.url("/date")}, options);

    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(seconds.outcome, Outcome::http_error);
    EXPECT_EQ(seconds.status, 429);
    EXPECT_EQ(seconds.attempts, 1);
    EXPECT_NE(seconds.error.find("Retry-After of 3600 s"), std::string::npos) << seconds.error;
    EXPECT_EQ(date.outcome, Outcome::http_error);
    EXPECT_EQ(date.status, 503);
    EXPECT_EQ(date.attempts, 1);
    EXPECT_NE(date.error.find("Retry-After"), std::string::npos) << date.error;
}

TEST(CurlFetcherRetry, RetriesAt0nceForARetryAfterDateInThePast) {
    HttpTestServer server;
    server.route_sequence("/past",
                          {status_reply(503, {{"Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"}}),
                           HttpReply{.body = "back"}});

    const Response response = fetch({.url = server.url("/past")});

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.attempts, 2);
}

TEST(CurlFetcherRetry, RetriesATimeoutAndSucceedsWhenTheServerAnswersInTime) {
    HttpTestServer server;
    server.route_sequence(
        "/sluggish",
        {HttpReply{.body = std::string(100, 's'), .chunk_size = 10, .chunk_delay = 100ms},
         HttpReply{.body = "quick"}});
    FetcherOptions options = test_options();
    options.total_timeout = 250ms;

    const Response response = fetch({.url = server.url("/sluggish")}, options);

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.body, "quick");
    EXPECT_EQ(response.attempts, 2);
}

TEST(CurlFetcherRetry, RetriesAConnectionResetMidBody) {
    HttpTestServer server;
    server.route_sequence("/reset", {HttpReply{.body = std::string(50'000, 'r'),
                                               .chunk_size = 10'000,
                                               .close_after_bytes = 20'000,
                                               .reset_on_close = true},
                                     HttpReply{.body = "whole"}});

    const Response response = fetch({.url = server.url("/reset")});

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.body, "whole");
    EXPECT_EQ(response.attempts, 2);
}

TEST(CurlFetcherRetry, RetriesABodyShorterThanItsContentLength) {
    HttpTestServer server;
    server.route_sequence("/short", {HttpReply{.headers = {{"Content-Length", "5000"}},
                                               .body = std::string(1000, 't'),
                                               .keep_alive = false},
                                     HttpReply{.body = "complete"}});

    const Response response = fetch({.url = server.url("/short")});

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.body, "complete");
    EXPECT_EQ(response.attempts, 2);
}

TEST(CurlFetcherRetry, RetriesAnEmptyReply) {
    HttpTestServer server;
    server.route_sequence("/empty", {HttpReply{.drop_connection = true}, HttpReply{.body = "1"}});

    const Response response = fetch({.url = server.url("/empty")});

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.attempts, 2);
}

// ---- redirects ----------------------------------------------------------------------------

FetcherOptions two_host_options(const HttpTestServer& server) {
    FetcherOptions options = test_options();
    const std::string port = std::to_string(server.port());
    options.connect_to = {"a.test::127.0.0.1:" + port, "www.b.test::127.0.0.1:" + port};
    return options;
}

void route_cross_host(HttpTestServer& server) {
    server.route("/moved", redirect(301, "http://www.b.test/article"));
    server.route("/article", [](const RecordedRequest& request) {
        return HttpReply{.body = "served for " + request.header("Host")};
    });
}

TEST(CurlFetcherRedirect, RefusesACrossHostRedirectOutsideTheAllowedDomains) {
    HttpTestServer server;
    route_cross_host(server);

    const Response response = fetch({.url = "http://a.test/moved", .allowed_domains = {"a.test"}},
                                    two_host_options(server));

    EXPECT_EQ(response.outcome, Outcome::refused);
    EXPECT_NE(response.error.find("www.b.test"), std::string::npos) << response.error;
    EXPECT_EQ(response.redirects, (std::vector<std::string>{"http://a.test/moved"}));
    EXPECT_EQ(server.hits("/article"), 0u);
}

TEST(CurlFetcherRedirect, FollowsACrossHostRedirectIntoASubdomainOfAnAllowedDomain) {
    HttpTestServer server;
    route_cross_host(server);

    const Response response =
        fetch({.url = "http://a.test/moved", .allowed_domains = {"a.test", "b.test"}},
              two_host_options(server));

    EXPECT_EQ(response.outcome, Outcome::ok) << response.error;
    EXPECT_EQ(response.body, "served for www.b.test");
    EXPECT_EQ(response.final_url, "http://www.b.test/article");
    EXPECT_EQ(response.redirects, (std::vector<std::string>{"http://a.test/moved"}));
    EXPECT_EQ(response.attempts, 2);
}

TEST(CurlFetcherRedirect, RefusesAFirstUrlOutsideTheAllowedDomainsWithoutConnecting) {
    HttpTestServer server;
    route_cross_host(server);

    const Response response =
        fetch({.url = "http://www.b.test/article", .allowed_domains = {"a.test", "ww.b.test"}},
              two_host_options(server));

    EXPECT_EQ(response.outcome, Outcome::refused);
    EXPECT_EQ(response.attempts, 0);
    EXPECT_EQ(server.connections_accepted(), 0u);
}

TEST(CurlFetcherRedirect, AsksTheUrlFilterAboutEveryHop) {
    HttpTestServer server;
    server.route("/start", redirect(302, "/private/area"));
    server.route("/private/area", HttpReply{.body = "secret"});
    FetcherOptions options = test_options();
    std::vector<std::string> asked;
    options.url_filter = [&asked](const std::string& url) {
        asked.push_back(url);
        return url.find("/private/") == std::string::npos;
    };

    const Response response = fetch({.url = server.url("/start")}, options);

    EXPECT_EQ(response.outcome, Outcome::refused);
    EXPECT_NE(response.error.find("/private/area"), std::string::npos) << response.error;
    EXPECT_EQ(asked, (std::vector<std::string>{server.url("/start"), server.url("/private/area")}));
    EXPECT_EQ(server.hits("/private/area"), 0u);
}

// ---- body size, addresses, connections ---------------------------------------------------

TEST(CurlFetcher, StopsAnEndlessChunkedBodyAtTheCap) {
    HttpTestServer server;
    // 8 MB in 16 KB chunks: "endless" next to a 64 KB cap; the server stops when we hang up.
    server.route("/endless", HttpReply{.body = std::string(std::size_t{8} << 20, 'e'),
                                       .chunked = true,
                                       .chunk_size = 16 * 1024});

    const Response response = fetch({.url = server.url("/endless"), .max_bytes = 64 * 1024});

    EXPECT_EQ(response.outcome, Outcome::too_large) << response.error;
    EXPECT_EQ(response.attempts, 1);
    EXPECT_TRUE(response.body.empty());
}

TEST(CurlFetcher, RefusesAPrivateAddressUnlessAllowed) {
    HttpTestServer server;
    server.route("/inside", HttpReply{.body = "intranet"});
    FetcherOptions options = test_options();
    options.allow_private_addresses = false;
    // A public-looking name that resolves (here: is sent) to loopback is refused all the same.
    options.connect_to = {"news.example::127.0.0.1:" + std::to_string(server.port())};

    const Response direct = fetch({.url = server.url("/inside")}, options);
    const Response named = fetch({.url = "http://news.example/inside"}, options);

    EXPECT_EQ(direct.outcome, Outcome::refused) << direct.error;
    EXPECT_EQ(direct.error, "private address 127.0.0.1 refused");
    EXPECT_EQ(named.outcome, Outcome::refused) << named.error;
    EXPECT_EQ(named.error, "private address 127.0.0.1 refused");
    EXPECT_EQ(server.connections_accepted(), 0u);

    options.allow_private_addresses = true;
    EXPECT_EQ(fetch({.url = "http://news.example/inside"}, options).body, "intranet");
}

TEST(PrivateAddress, CoversLoopbackPrivateLinkLocalAndMappedForms) {
    for (const char* ip : {"127.0.0.1",
                           "127.255.0.9",
                           "10.0.0.1",
                           "172.16.0.1",
                           "172.31.255.255",
                           "192.168.1.1",
                           "100.64.0.1",
                           "100.127.255.255",
                           "169.254.169.254",
                           "0.0.0.0",
                           "0.1.2.3",
                           "::",
                           "::1",
                           "fe80::1",
                           "febf::1",
                           "fc00::1",
                           "fdff::1",
                           "::ffff:127.0.0.1",
                           "::ffff:10.1.2.3",
                           "::ffff:192.168.0.1",
                           "not an address",
                           ""}) {
        EXPECT_TRUE(is_private_address(ip)) << ip;
    }
    for (const char* ip :
         {"8.8.8.8", "1.1.1.1", "172.15.255.255", "172.32.0.1", "100.63.255.255", "100.128.0.1",
          "192.169.0.1", "11.0.0.1", "2001:4860:4860::8888", "fec0::1", "::ffff:8.8.8.8", "::2"}) {
        EXPECT_FALSE(is_private_address(ip)) << ip;
    }
}

TEST(CurlFetcher, ReusesOneKeepAliveConnectionForSequentialRequests) {
    HttpTestServer server;
    server.route("/page", HttpReply{.body = "p"});
    FetcherOptions options = test_options();
    options.max_host_connections = 1;
    CurlFetcher fetcher(options);
    int ok = 0;
    for (int i = 0; i < 10; ++i) {
        fetcher.submit({.url = server.url("/page")}, [&](Response r) { ok += r.ok() ? 1 : 0; });
    }
    fetcher.run();

    EXPECT_EQ(ok, 10);
    EXPECT_EQ(server.connections_accepted(), 1u);
}

}  // namespace
}  // namespace baofeed::crawler

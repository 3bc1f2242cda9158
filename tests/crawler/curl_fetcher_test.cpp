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

FetcherOptions test_options() {
    FetcherOptions options;
    options.connect_timeout = 1000ms;
    options.total_timeout = 3000ms;
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
    EXPECT_FALSE(response.error.empty());
    EXPECT_EQ(server.hits("/loop"), 4u);  // the first request + 3 followed redirects
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
    const Response response = fetch({.url = server.url("/slow")}, options);
    const auto waited = std::chrono::steady_clock::now() - start;

    EXPECT_EQ(response.outcome, Outcome::timeout) << response.error;
    EXPECT_GE(response.elapsed, 250ms);
    EXPECT_LT(waited, 1500ms);
}

TEST(CurlFetcher, ReportsATruncatedBodyAsNetworkError) {
    HttpTestServer server;
    server.route("/cut", HttpReply{.body = std::string(5000, 'z'), .close_after_bytes = 1000});

    const Response response = fetch({.url = server.url("/cut")});

    EXPECT_EQ(response.outcome, Outcome::network_error);
    EXPECT_FALSE(response.error.empty());
}

TEST(CurlFetcher, ReportsARefusedConnectionAsNetworkError) {
    const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/";

    const Response response = fetch({.url = url});

    EXPECT_EQ(response.outcome, Outcome::network_error);
    EXPECT_EQ(response.status, 0);
    EXPECT_FALSE(response.error.empty());
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
    EXPECT_GE(server.max_concurrent_connections(), 1);
}

TEST(CurlFetcher, OpensMoreConnectionsWhenTheHostLimitAllows) {
    // The other side of the limit test: shows that the gauge sees parallel connections.
    HttpTestServer server;
    route_items(server);

    EXPECT_EQ(fetch_items(server, 8, 24), 24);

    EXPECT_GT(server.max_concurrent_connections(), 2);
    EXPECT_LE(server.max_concurrent_connections(), 8);
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

}  // namespace
}  // namespace baofeed::crawler

// A loopback HTTP/1.1 server for tests: canned replies per path, a request log, hit counts and a
// concurrency gauge. Real sockets on 127.0.0.1, so clients under test (CurlFetcher, robots,
// retry logic) exercise their real network code.
//
// Threads: the server accepts on its own thread and serves each connection on a thread of its
// own (blocking I/O, keep-alive honoured). Route handlers therefore run on server threads,
// possibly several at once: they must be thread-safe and must not call EXPECT_*/ASSERT_* on
// state the test thread touches without synchronisation. All public member functions are
// thread-safe.
//
// Lifetime: the destructor stops accepting, cuts every open connection (in-progress delays end
// early) and joins all threads. Requests that arrive while it runs get no reply.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace baofeed::test {

// What the server sends back for one request. Every member has a default, so designated
// initializers (HttpReply{.status = 404}) compile warning-free.
struct HttpReply {
    int status = 200;
    // Sent as given, in order. A "Content-Length" given here replaces the computed one (so a
    // test can lie about the length); otherwise the server computes it, or uses chunked.
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
    bool chunked = false;        // Transfer-Encoding: chunked, no Content-Length
    std::size_t chunk_size = 0;  // write the body in pieces of this many bytes (0: one piece)
    std::chrono::milliseconds chunk_delay{0};  // pause before each piece (slow server)
    std::chrono::milliseconds delay{0};        // pause before the status line (slow answer)
    // Close the connection without sending a byte of reply (curl: "Empty reply from server").
    bool drop_connection = false;
    // Close the connection after this many body bytes were written (truncated response).
    std::optional<std::size_t> close_after_bytes{};
    bool reset_on_close = false;  // with close_after_bytes: send a TCP RST instead of a FIN
    bool keep_alive = true;       // false: "Connection: close" and close after the reply
};

// One request as the server received it.
struct RecordedRequest {
    std::string method{};
    std::string target{};                                        // as sent, including the query
    std::string path{};                                          // target without the query
    std::vector<std::pair<std::string, std::string>> headers{};  // in order, names as sent
    std::string body{};
    std::chrono::steady_clock::time_point received{};  // when the request was read
    std::size_t connection = 0;  // 1 for the first connection accepted, 2 for the next...

    // Value of the first header with that name (case-insensitive); "" when absent.
    std::string header(std::string_view name) const;
};

// Produces the reply for a request. Runs on a server thread (see above).
using RouteHandler = std::function<HttpReply(const RecordedRequest&)>;

class HttpTestServer {
  public:
    // Binds 127.0.0.1 on a free port and starts serving. Unknown paths answer 404.
    HttpTestServer();
    ~HttpTestServer();
    HttpTestServer(const HttpTestServer&) = delete;
    HttpTestServer& operator=(const HttpTestServer&) = delete;

    unsigned short port() const;
    std::string base_url() const;                    // "http://127.0.0.1:<port>"
    std::string url(std::string_view target) const;  // base_url() + target ("/x?y")

    // Registers (or replaces) the handler for an exact path (query ignored).
    void route(std::string path, RouteHandler handler);
    // Registers a fixed reply for a path.
    void route(std::string path, HttpReply reply);
    // Registers a script for a path: the n-th request gets replies[n-1]; once they are used up,
    // the last one repeats (e.g. {500, 500, 200}: two failures, then the server recovers).
    // REQUIRES: replies is not empty.
    void route_sequence(std::string path, std::vector<HttpReply> replies);

    std::vector<RecordedRequest> requests() const;  // every request so far, in arrival order
    std::size_t hits(std::string_view path) const;  // requests for that path so far
    std::size_t connections_accepted() const;
    int open_connections() const;
    int max_concurrent_connections() const;  // most connections open at the same time
    // Most requests being answered at the same time (from the request read to the reply's last
    // byte): transfers in flight, whatever idle keep-alive connections the client holds.
    int max_concurrent_requests() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace baofeed::test

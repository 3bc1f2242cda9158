#include "support/http_test_server.h"

// GCC 12 with -fsanitize=address,undefined -O2 flags Beast 1.74's own
// basic_parser::content_length_unchecked() (boost::none) as maybe-uninitialized once it is
// inlined into this file's request loop: a false positive inside Boost, not in our code.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unordered_map>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

namespace baofeed::test {

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

bool iequals(std::string_view a, std::string_view b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
        return lower(x) == lower(y);
    });
}

bool has_no_body(int status) {
    return (status >= 100 && status < 200) || status == 204 || status == 304;
}

}  // namespace

std::string RecordedRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) {
            return value;
        }
    }
    return {};
}

struct HttpTestServer::Impl {
    Impl();
    ~Impl();
    void accept_loop();
    void serve(tcp::socket socket, std::size_t connection);
    // Writes one reply. Returns false when the connection must be closed afterwards.
    bool write_reply(tcp::socket& socket, const HttpReply& reply, bool keep_alive, bool head);
    // Sleeps for `delay` unless the server stops first; returns false if it stopped.
    bool pause(std::chrono::milliseconds delay);

    asio::io_context io;  // owns the sockets' services; never run (all I/O is blocking)
    tcp::acceptor acceptor{io};
    unsigned short port = 0;

    mutable std::mutex mutex;  // guards everything below
    std::condition_variable stopped_cv;
    bool stopping = false;
    std::map<std::string, RouteHandler, std::less<>> routes;
    std::vector<RecordedRequest> log;
    std::map<std::string, std::size_t, std::less<>> hit_counts;
    std::set<int> open_fds;  // connections to cut at shutdown
    int open = 0;
    int max_open = 0;
    int answering = 0;
    int max_answering = 0;
    std::size_t accepted = 0;
    std::vector<std::thread> connection_threads;

    std::thread accept_thread;  // last: started once everything above exists
};

HttpTestServer::Impl::Impl() {
    const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    port = acceptor.local_endpoint().port();
    accept_thread = std::thread([this] { accept_loop(); });
}

HttpTestServer::Impl::~Impl() {
    {
        std::lock_guard lock(mutex);
        stopping = true;
    }
    stopped_cv.notify_all();
    // On Linux, shutdown() on a listening socket wakes a blocked accept() with EINVAL.
    ::shutdown(acceptor.native_handle(), SHUT_RDWR);
    accept_thread.join();
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex);
        for (int fd : open_fds) {
            ::shutdown(fd, SHUT_RDWR);  // wakes a blocked read; the owner thread closes it
        }
        threads.swap(connection_threads);
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    error_code ignored;
    acceptor.close(ignored);
}

void HttpTestServer::Impl::accept_loop() {
    for (;;) {
        tcp::socket socket(io);
        error_code ec;
        acceptor.accept(socket, ec);
        std::lock_guard lock(mutex);
        if (stopping) {
            return;
        }
        if (ec) {
            if (ec == asio::error::interrupted || ec == asio::error::connection_aborted) {
                continue;
            }
            std::fprintf(stderr, "HttpTestServer: accept: %s\n", ec.message().c_str());
            return;
        }
        // Pieces written with a delay must leave at once, not wait for Nagle + delayed ACK.
        socket.set_option(tcp::no_delay(true), ec);
        open_fds.insert(socket.native_handle());
        ++accepted;
        ++open;
        max_open = std::max(max_open, open);
        connection_threads.emplace_back(
            [this, s = std::move(socket), n = accepted]() mutable { serve(std::move(s), n); });
    }
}

void HttpTestServer::Impl::serve(tcp::socket socket, std::size_t connection) {
    boost::beast::flat_buffer buffer;  // persists between reads: may hold a pipelined request
    bool abortive = false;             // end with a TCP RST: no shutdown (it would send a FIN)
    for (;;) {
        http::request<http::string_body> request;
        error_code ec;
        http::read(socket, buffer, request, ec);
        if (ec) {
            break;
        }
        RecordedRequest recorded;
        recorded.method = std::string(request.method_string());
        recorded.target = std::string(request.target());
        recorded.path = recorded.target.substr(0, recorded.target.find('?'));
        for (const auto& field : request.base()) {
            recorded.headers.emplace_back(std::string(field.name_string()),
                                          std::string(field.value()));
        }
        recorded.body = request.body();
        recorded.received = std::chrono::steady_clock::now();
        recorded.connection = connection;

        RouteHandler handler;
        {
            std::lock_guard lock(mutex);
            ++answering;
            max_answering = std::max(max_answering, answering);
            log.push_back(recorded);
            ++hit_counts[recorded.path];
            const auto found = routes.find(recorded.path);
            if (found != routes.end()) {
                handler = found->second;
            }
        }
        HttpReply reply;
        if (handler) {
            reply = handler(recorded);
        } else {
            reply.status = 404;
            reply.headers.emplace_back("Content-Type", "text/plain");
            reply.body = "not found: " + recorded.path;
        }
        const bool keep_alive = request.keep_alive() && reply.keep_alive;
        const bool head = request.method() == http::verb::head;
        bool go_on = false;
        abortive = reply.reset_on_close && reply.close_after_bytes.has_value();
        // A reply written in one piece is answered once it is handed to the socket: counting it
        // until write() returns would overlap the client's next request on a loaded machine.
        const bool streamed = reply.chunk_delay.count() > 0 || reply.close_after_bytes.has_value();
        bool counted = true;
        auto uncount = [&] {
            if (counted) {
                std::lock_guard lock(mutex);
                --answering;
                counted = false;
            }
        };
        if (!reply.drop_connection && (reply.delay.count() == 0 || pause(reply.delay))) {
            if (!streamed) {
                uncount();
            }
            go_on = write_reply(socket, reply, keep_alive, head) && keep_alive;
        }
        uncount();
        if (!go_on) {
            break;
        }
    }
    {
        std::lock_guard lock(mutex);
        open_fds.erase(socket.native_handle());  // before close: the fd number may be reused
        --open;
    }
    error_code ignored;
    if (!abortive) {
        socket.shutdown(tcp::socket::shutdown_both, ignored);
    }
    socket.close(ignored);
}

bool HttpTestServer::Impl::pause(std::chrono::milliseconds delay) {
    std::unique_lock lock(mutex);
    return !stopped_cv.wait_for(lock, delay, [this] { return stopping; });
}

bool HttpTestServer::Impl::write_reply(tcp::socket& socket, const HttpReply& reply, bool keep_alive,
                                       bool head) {
    const bool send_body = !head && !has_no_body(reply.status);
    std::string header = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                         std::string(http::obsolete_reason(
                             http::int_to_status(static_cast<unsigned>(reply.status)))) +
                         "\r\n";
    bool length_given = false;
    for (const auto& [name, value] : reply.headers) {
        header += name + ": " + value + "\r\n";
        length_given = length_given || iequals(name, "Content-Length");
    }
    if (!has_no_body(reply.status)) {
        if (reply.chunked) {
            header += "Transfer-Encoding: chunked\r\n";
        } else if (!length_given) {
            header += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
        }
    }
    if (!keep_alive) {
        header += "Connection: close\r\n";
    }
    header += "\r\n";

    error_code ec;
    asio::write(socket, asio::buffer(header), ec);
    if (ec) {
        return false;
    }
    if (!send_body) {
        return true;
    }

    const std::string_view body = reply.body;
    const std::size_t piece =
        reply.chunk_size == 0 ? std::max<std::size_t>(body.size(), 1) : reply.chunk_size;
    std::size_t sent = 0;
    while (sent < body.size()) {
        if (reply.chunk_delay.count() > 0 && !pause(reply.chunk_delay)) {
            return false;
        }
        std::string_view part = body.substr(sent, piece);
        bool cut = false;
        if (reply.close_after_bytes && sent + part.size() > *reply.close_after_bytes) {
            part = part.substr(0, *reply.close_after_bytes - sent);
            cut = true;
        }
        std::string out;
        if (reply.chunked) {
            char size_line[32];
            std::snprintf(size_line, sizeof size_line, "%zx\r\n",
                          cut ? body.substr(sent, piece).size() : part.size());
            out = size_line;
        }
        out.append(part);
        if (reply.chunked && !cut) {
            out += "\r\n";
        }
        asio::write(socket, asio::buffer(out), ec);
        if (ec) {
            return false;
        }
        sent += part.size();
        if (cut) {
            if (reply.reset_on_close) {
                socket.set_option(asio::socket_base::linger(true, 0), ec);
            }
            return false;
        }
    }
    if (reply.close_after_bytes && sent >= *reply.close_after_bytes) {
        return false;
    }
    if (reply.chunked) {
        asio::write(socket, asio::buffer(std::string_view("0\r\n\r\n")), ec);
        if (ec) {
            return false;
        }
    }
    return true;
}

HttpTestServer::HttpTestServer() : impl_(std::make_unique<Impl>()) {}

HttpTestServer::~HttpTestServer() = default;

unsigned short HttpTestServer::port() const {
    return impl_->port;
}

std::string HttpTestServer::base_url() const {
    return "http://127.0.0.1:" + std::to_string(impl_->port);
}

std::string HttpTestServer::url(std::string_view target) const {
    return base_url() + std::string(target);
}

void HttpTestServer::route(std::string path, RouteHandler handler) {
    std::lock_guard lock(impl_->mutex);
    impl_->routes.insert_or_assign(std::move(path), std::move(handler));
}

void HttpTestServer::route(std::string path, HttpReply reply) {
    route(std::move(path), [reply = std::move(reply)](const RecordedRequest&) { return reply; });
}

void HttpTestServer::route_sequence(std::string path, std::vector<HttpReply> replies) {
    if (replies.empty()) {
        throw std::invalid_argument("HttpTestServer::route_sequence: no replies");
    }
    struct Script {
        std::mutex mutex;
        std::vector<HttpReply> replies;
        std::size_t next = 0;
    };
    auto script = std::make_shared<Script>();
    script->replies = std::move(replies);
    route(std::move(path), [script](const RecordedRequest&) {
        std::lock_guard lock(script->mutex);
        const std::size_t index = std::min(script->next, script->replies.size() - 1);
        ++script->next;
        return script->replies[index];
    });
}

std::vector<RecordedRequest> HttpTestServer::requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->log;
}

std::size_t HttpTestServer::hits(std::string_view path) const {
    std::lock_guard lock(impl_->mutex);
    const auto found = impl_->hit_counts.find(path);
    return found == impl_->hit_counts.end() ? 0 : found->second;
}

std::size_t HttpTestServer::connections_accepted() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->accepted;
}

int HttpTestServer::open_connections() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->open;
}

int HttpTestServer::max_concurrent_connections() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->max_open;
}

int HttpTestServer::max_concurrent_requests() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->max_answering;
}

}  // namespace baofeed::test

// CurlFetcher: libcurl's multi-socket API glued to a single-threaded Boost.Asio io_context.
//
// The shape follows curl's docs/examples/multi-uv.c:
// - curl tells us, per socket, which directions it wants (on_socket); we keep one
//   SocketWatcher (one posix::stream_descriptor) per socket, created lazily and attached to
//   curl's socket entry with curl_multi_assign, destroyed on CURL_POLL_REMOVE;
// - curl tells us when to call it back (on_timer); we only arm one steady_timer there, because
//   libcurl must never be called from inside its own callbacks;
// - after every curl_multi_socket_action we drain curl_multi_info_read and complete the finished
//   transfers; user handlers run there, outside any curl callback, so they may submit() more.
#include "crawler/curl_fetcher.h"

#include <array>
#include <charconv>
#include <chrono>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <curl/curl.h>

#include "crawler/curl_handles.h"

namespace baofeed::crawler {

void slist_append(CurlSlist& list, const char* line) {
    curl_slist* grown = curl_slist_append(list.get(), line);
    if (grown == nullptr) {
        throw std::bad_alloc();
    }
    // curl_slist_append returns the (unchanged) head of a non-empty list, or a new head.
    static_cast<void>(list.release());
    list.reset(grown);
}

namespace {

namespace asio = boost::asio;
using boost::system::error_code;

template <typename T>
void set_option(CURL* easy, CURLoption option, T value) {
    const CURLcode rc = curl_easy_setopt(easy, option, value);
    if (rc != CURLE_OK) {
        throw std::runtime_error("crawler: curl_easy_setopt(" + std::to_string(option) +
                                 "): " + curl_easy_strerror(rc));
    }
}

template <typename T>
void set_multi_option(CURLM* multi, CURLMoption option, T value) {
    const CURLMcode rc = curl_multi_setopt(multi, option, value);
    if (rc != CURLM_OK) {
        throw std::runtime_error("crawler: curl_multi_setopt(" + std::to_string(option) +
                                 "): " + curl_multi_strerror(rc));
    }
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\r\n";
    const auto first = s.find_first_not_of(kSpace);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = s.find_last_not_of(kSpace);
    return s.substr(first, last - first + 1);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        char y = b[i];
        if (x >= 'A' && x <= 'Z') {
            x = static_cast<char>(x - 'A' + 'a');
        }
        if (y >= 'A' && y <= 'Z') {
            y = static_cast<char>(y - 'A' + 'a');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

bool is_redirect_status(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Header values go back out in request headers: never let a CR or LF through.
std::string single_line(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c != '\r' && c != '\n') {
            out.push_back(c);
        }
    }
    return out;
}

// Watches one curl socket. Lives in Impl::watchers_ while curl uses the socket; every pending
// async_wait handler holds a shared_ptr, so the object outlives its last handler.
struct SocketWatcher {
    SocketWatcher(asio::io_context& io, curl_socket_t socket)
        : fd(socket), descriptor(io, socket) {}
    ~SocketWatcher() { release(); }
    SocketWatcher(const SocketWatcher&) = delete;
    SocketWatcher& operator=(const SocketWatcher&) = delete;

    // Stops watching without closing: the descriptor belongs to curl. Pending waits complete
    // with operation_aborted. Idempotent.
    void release() {
        if (descriptor.is_open()) {
            static_cast<void>(descriptor.release());
        }
    }

    curl_socket_t fd;
    asio::posix::stream_descriptor descriptor;
    int wanted = 0;  // CURL_POLL_IN / CURL_POLL_OUT / CURL_POLL_INOUT, as last told by curl
    bool read_pending = false;
    bool write_pending = false;
    bool removed = false;  // curl said CURL_POLL_REMOVE (or we are shutting down)
};

// One request in flight. Heap-allocated and never moved: curl holds pointers to it
// (CURLOPT_PRIVATE, WRITEDATA, HEADERDATA, ERRORBUFFER).
struct Transfer {
    Request request;
    ResponseHandler on_done;
    CurlSlist headers;  // declared before easy: the handle refers to it until cleanup
    CurlEasy easy;
    Response response;
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    long hop_status = 0;            // status line of the response being received
    bool hop_has_location = false;  // ... and whether it carried a Location header
    bool body_too_large = false;
};

// CURLOPT_WRITEFUNCTION. Counts decoded bytes (CURLOPT_ACCEPT_ENCODING is set); returning less
// than given aborts the transfer with CURLE_WRITE_ERROR, which we report as too_large.
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    std::string& body = transfer->response.body;
    if (n > transfer->request.max_bytes || body.size() > transfer->request.max_bytes - n) {
        transfer->body_too_large = true;
        return 0;
    }
    try {
        body.append(data, n);
    } catch (...) {
        return 0;  // no exception may cross curl's C frames
    }
    return n;
}

// CURLOPT_HEADERFUNCTION: sees every header line of every response, including the status line
// and the blank line that ends each header block, so each redirect hop is visible here.
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    const std::string_view line = trim(std::string_view(data, n));
    Response& response = transfer->response;
    try {
        if (line.starts_with("HTTP/")) {
            long status = 0;
            const auto space = line.find(' ');
            if (space != std::string_view::npos) {
                const std::string_view code = line.substr(space + 1);
                std::from_chars(code.data(), code.data() + code.size(), status);
            }
            transfer->hop_status = status;
            transfer->hop_has_location = false;
            response.etag.clear();
            response.last_modified.clear();
            response.body.clear();
            return n;
        }
        if (line.empty()) {
            if (is_redirect_status(transfer->hop_status) && transfer->hop_has_location) {
                // Still the URL that answered: curl moves on only after this response ends.
                char* url = nullptr;
                if (curl_easy_getinfo(transfer->easy.get(), CURLINFO_EFFECTIVE_URL, &url) ==
                        CURLE_OK &&
                    url != nullptr) {
                    response.redirects.emplace_back(url);
                }
            }
            return n;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            return n;
        }
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "etag")) {
            response.etag = value;
        } else if (iequals(name, "last-modified")) {
            response.last_modified = value;
        } else if (iequals(name, "location")) {
            transfer->hop_has_location = !value.empty();
        }
    } catch (...) {
        return 0;  // allocation failure: abort the transfer rather than throw through curl
    }
    return n;
}

std::string curl_error_text(CURLcode rc, const Transfer& transfer) {
    std::string text = curl_easy_strerror(rc);
    const std::string_view detail(transfer.error_buffer.data());
    if (!detail.empty()) {
        text += ": ";
        text += detail;
    }
    return text;
}

// Turns a finished transfer into its Response (moved out of the transfer).
Response make_response(Transfer& transfer, CURLcode rc) {
    CURL* easy = transfer.easy.get();
    Response response = std::move(transfer.response);
    response.url = transfer.request.url;

    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    response.status = status;
    char* effective = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_EFFECTIVE_URL, &effective) == CURLE_OK &&
        effective != nullptr) {
        response.final_url = effective;
    } else {
        response.final_url = response.url;
    }
    char* content_type = nullptr;
    if (curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK &&
        content_type != nullptr) {
        response.content_type = content_type;
    }
    curl_off_t micros = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &micros);
    response.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::microseconds(micros));

    bool keep_body = false;
    if (rc == CURLE_OK) {
        if (status >= 200 && status < 300) {
            response.outcome = Outcome::ok;
            keep_body = true;
        } else if (status == 304) {
            response.outcome = Outcome::not_modified;
            response.error = "HTTP 304";
        } else {
            response.outcome = Outcome::http_error;
            response.error = "HTTP " + std::to_string(status);
            keep_body = true;  // error pages can help a human diagnose
        }
    } else if (rc == CURLE_WRITE_ERROR && transfer.body_too_large) {
        response.outcome = Outcome::too_large;
        response.error =
            "body larger than " + std::to_string(transfer.request.max_bytes) + " bytes";
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        response.outcome = Outcome::timeout;
        response.error = curl_error_text(rc, transfer);
    } else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
        response.outcome = Outcome::refused;
        response.error = curl_error_text(rc, transfer);
    } else if (rc == CURLE_TOO_MANY_REDIRECTS) {
        response.outcome = Outcome::http_error;  // a redirect we could not follow
        response.error = curl_error_text(rc, transfer);
    } else {
        response.outcome = Outcome::network_error;
        response.error = curl_error_text(rc, transfer);
    }
    if (!keep_body) {
        response.body.clear();
    }
    return response;
}

}  // namespace

struct CurlFetcher::Impl {
    explicit Impl(FetcherOptions opts);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void submit(Request request, ResponseHandler on_done);
    void run();

    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
    static int on_timer(CURLM* multi, long timeout_ms, void* userp);
    void arm(const std::shared_ptr<SocketWatcher>& watcher);
    void on_ready(const std::shared_ptr<SocketWatcher>& watcher, int select);
    void on_timeout();
    void socket_action(curl_socket_t fd, int select);
    void complete_finished();
    void forget_watcher(curl_socket_t fd);

    // Declaration order is destruction order reversed, and it matters: the io_context must
    // outlive the watchers and the timer; watchers must outlive curl_multi_cleanup (it may call
    // on_socket); connect_to_ must outlive every easy handle; transfers are removed from the
    // multi and destroyed explicitly in ~Impl before the multi goes.
    FetcherOptions options_;
    asio::io_context io_;
    asio::steady_timer timer_{io_};  // curl's single, non-repeating timeout
    std::unordered_map<curl_socket_t, std::shared_ptr<SocketWatcher>> watchers_;
    CurlSlist connect_to_;
    CurlMulti multi_;
    std::unordered_map<Transfer*, std::unique_ptr<Transfer>> transfers_;  // queued or running
};

CurlFetcher::Impl::Impl(FetcherOptions opts) : options_(std::move(opts)) {
    for (const std::string& entry : options_.connect_to) {
        slist_append(connect_to_, entry.c_str());
    }
    multi_.reset(curl_multi_init());
    if (!multi_) {
        throw std::runtime_error("crawler: curl_multi_init failed");
    }
    CURLM* multi = multi_.get();
    set_multi_option(multi, CURLMOPT_SOCKETFUNCTION, &Impl::on_socket);
    set_multi_option(multi, CURLMOPT_SOCKETDATA, static_cast<void*>(this));
    set_multi_option(multi, CURLMOPT_TIMERFUNCTION, &Impl::on_timer);
    set_multi_option(multi, CURLMOPT_TIMERDATA, static_cast<void*>(this));
    set_multi_option(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
    set_multi_option(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_host_connections);
}

CurlFetcher::Impl::~Impl() {
    for (auto& entry : transfers_) {
        curl_multi_remove_handle(multi_.get(), entry.second->easy.get());
    }
    transfers_.clear();
    multi_.reset();  // may call on_socket(CURL_POLL_REMOVE): watchers_ and io_ are still alive
    for (auto& entry : watchers_) {
        entry.second->removed = true;
        entry.second->release();
    }
    watchers_.clear();
    timer_.cancel();
    // Run the aborted wait handlers now, so no watcher outlives the io_context's services.
    try {
        io_.restart();
        io_.poll();
    } catch (...) {
        // Handlers only return on abort; nothing to report from a destructor.
    }
}

void CurlFetcher::Impl::submit(Request request, ResponseHandler on_done) {
    auto owned = std::make_unique<Transfer>();
    Transfer* transfer = owned.get();
    transfer->request = std::move(request);
    transfer->on_done = std::move(on_done);
    transfer->easy.reset(curl_easy_init());
    if (!transfer->easy) {
        throw std::runtime_error("crawler: curl_easy_init failed");
    }
    const Request& req = transfer->request;
    CURL* easy = transfer->easy.get();
    set_option(easy, CURLOPT_URL, req.url.c_str());
    set_option(easy, CURLOPT_PRIVATE, static_cast<void*>(transfer));
    set_option(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    set_option(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    set_option(easy, CURLOPT_FOLLOWLOCATION, 1L);
    set_option(easy, CURLOPT_MAXREDIRS, options_.max_redirects);
    set_option(easy, CURLOPT_ACCEPT_ENCODING, "");  // every encoding this libcurl decodes
    set_option(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    set_option(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
    if (connect_to_) {
        set_option(easy, CURLOPT_CONNECT_TO, connect_to_.get());
    }
    set_option(easy, CURLOPT_CONNECTTIMEOUT_MS,
               static_cast<long>(options_.connect_timeout.count()));
    set_option(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
    set_option(easy, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes_per_s);
    set_option(easy, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
    set_option(easy, CURLOPT_NOSIGNAL, 1L);
    set_option(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer.data());
    set_option(easy, CURLOPT_WRITEFUNCTION, &on_body);
    set_option(easy, CURLOPT_WRITEDATA, static_cast<void*>(transfer));
    set_option(easy, CURLOPT_HEADERFUNCTION, &on_header);
    set_option(easy, CURLOPT_HEADERDATA, static_cast<void*>(transfer));
    if (!req.etag.empty()) {
        slist_append(transfer->headers, ("If-None-Match: " + single_line(req.etag)).c_str());
    }
    if (!req.last_modified.empty()) {
        slist_append(transfer->headers,
                     ("If-Modified-Since: " + single_line(req.last_modified)).c_str());
    }
    if (transfer->headers) {
        set_option(easy, CURLOPT_HTTPHEADER, transfer->headers.get());
    }

    transfers_.emplace(transfer, std::move(owned));
    const CURLMcode rc = curl_multi_add_handle(multi_.get(), easy);
    if (rc != CURLM_OK) {
        transfers_.erase(transfer);
        throw std::runtime_error(std::string("crawler: curl_multi_add_handle: ") +
                                 curl_multi_strerror(rc));
    }
}

void CurlFetcher::Impl::run() {
    if (io_.stopped()) {
        io_.restart();
    }
    while (!transfers_.empty()) {
        if (io_.run_one() == 0) {
            // curl has transfers but asked us to wait for nothing: the glue is broken.
            throw std::logic_error("crawler: transfers in flight but no socket or timer armed");
        }
    }
}

int CurlFetcher::Impl::on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* userp,
                                 void* socketp) {
    auto* self = static_cast<Impl*>(userp);
    auto* known = static_cast<SocketWatcher*>(socketp);
    try {
        if (what == CURL_POLL_REMOVE) {
            if (known != nullptr) {
                known->removed = true;
                known->release();
            }
            self->forget_watcher(fd);
            return 0;
        }
        std::shared_ptr<SocketWatcher> watcher;
        const auto found = self->watchers_.find(fd);
        if (known != nullptr && found != self->watchers_.end() && found->second.get() == known) {
            watcher = found->second;
        } else {
            // A new socket, possibly reusing the number of one curl closed without telling us.
            self->forget_watcher(fd);
            watcher = std::make_shared<SocketWatcher>(self->io_, fd);
            self->watchers_.emplace(fd, watcher);
            curl_multi_assign(self->multi_.get(), fd, watcher.get());
        }
        watcher->wanted = what;
        self->arm(watcher);
    } catch (...) {
        return -1;  // curl aborts the affected transfers (CURLM_ABORTED_BY_CALLBACK)
    }
    return 0;
}

void CurlFetcher::Impl::forget_watcher(curl_socket_t fd) {
    const auto found = watchers_.find(fd);
    if (found == watchers_.end()) {
        return;
    }
    found->second->removed = true;
    found->second->release();
    watchers_.erase(found);
}

int CurlFetcher::Impl::on_timer(CURLM* /*multi*/, long timeout_ms, void* userp) {
    auto* self = static_cast<Impl*>(userp);
    try {
        if (timeout_ms < 0) {
            self->timer_.cancel();
            return 0;
        }
        // Even 0 ms goes through the loop: calling curl from here is forbidden.
        self->timer_.expires_after(std::chrono::milliseconds(timeout_ms));
        self->timer_.async_wait([self](const error_code& ec) {
            if (ec || !self->multi_) {
                return;
            }
            self->on_timeout();
        });
    } catch (...) {
        return -1;
    }
    return 0;
}

void CurlFetcher::Impl::arm(const std::shared_ptr<SocketWatcher>& watcher) {
    using Descriptor = asio::posix::stream_descriptor;
    if ((watcher->wanted & CURL_POLL_IN) != 0 && !watcher->read_pending) {
        watcher->read_pending = true;
        watcher->descriptor.async_wait(Descriptor::wait_read, [this, watcher](error_code ec) {
            watcher->read_pending = false;
            if (watcher->removed || ec == asio::error::operation_aborted ||
                (watcher->wanted & CURL_POLL_IN) == 0) {
                return;
            }
            on_ready(watcher, ec ? CURL_CSELECT_ERR : CURL_CSELECT_IN);
        });
    }
    if ((watcher->wanted & CURL_POLL_OUT) != 0 && !watcher->write_pending) {
        watcher->write_pending = true;
        watcher->descriptor.async_wait(Descriptor::wait_write, [this, watcher](error_code ec) {
            watcher->write_pending = false;
            if (watcher->removed || ec == asio::error::operation_aborted ||
                (watcher->wanted & CURL_POLL_OUT) == 0) {
                return;
            }
            on_ready(watcher, ec ? CURL_CSELECT_ERR : CURL_CSELECT_OUT);
        });
    }
}

void CurlFetcher::Impl::on_ready(const std::shared_ptr<SocketWatcher>& watcher, int select) {
    socket_action(watcher->fd, select);
    // Asio waits are one-shot: wait again for whatever curl still wants on this socket.
    if (!watcher->removed) {
        arm(watcher);
    }
    complete_finished();
}

void CurlFetcher::Impl::on_timeout() {
    socket_action(CURL_SOCKET_TIMEOUT, 0);
    complete_finished();
}

void CurlFetcher::Impl::socket_action(curl_socket_t fd, int select) {
    int running = 0;
    const CURLMcode rc = curl_multi_socket_action(multi_.get(), fd, select, &running);
    if (rc != CURLM_OK) {
        throw std::logic_error(std::string("crawler: curl_multi_socket_action: ") +
                               curl_multi_strerror(rc));
    }
}

void CurlFetcher::Impl::complete_finished() {
    for (;;) {
        int left = 0;
        CURLMsg* message = curl_multi_info_read(multi_.get(), &left);
        if (message == nullptr) {
            break;
        }
        if (message->msg != CURLMSG_DONE) {
            continue;
        }
        // The message dies at curl_multi_remove_handle: copy what we need first.
        CURL* easy = message->easy_handle;
        const CURLcode result = message->data.result;
        char* private_data = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private_data);
        auto* key = static_cast<Transfer*>(static_cast<void*>(private_data));

        curl_multi_remove_handle(multi_.get(), easy);
        auto node = transfers_.extract(key);
        if (node.empty()) {
            continue;  // not ours; cannot happen
        }
        std::unique_ptr<Transfer> transfer = std::move(node.mapped());
        Response response = make_response(*transfer, result);
        ResponseHandler on_done = std::move(transfer->on_done);
        transfer.reset();
        if (on_done) {
            on_done(std::move(response));  // may submit(): we are outside every curl callback
        }
    }
}

CurlFetcher::CurlFetcher(FetcherOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

CurlFetcher::~CurlFetcher() = default;

void CurlFetcher::submit(Request request, ResponseHandler on_done) {
    impl_->submit(std::move(request), std::move(on_done));
}

void CurlFetcher::run() {
    impl_->run();
}

}  // namespace baofeed::crawler

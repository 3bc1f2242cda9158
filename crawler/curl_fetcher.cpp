// CurlFetcher: libcurl's multi-socket API glued to a single-threaded Boost.Asio io_context, with
// our own per-host scheduler, retries, redirects and address policy on top.
//
// The glue follows curl's docs/examples/multi-uv.c:
// - curl tells us, per socket, which directions it wants (on_socket); we keep one
//   SocketWatcher (one posix::stream_descriptor) per socket, created lazily and attached to
//   curl's socket entry with curl_multi_assign, destroyed on CURL_POLL_REMOVE;
// - curl tells us when to call it back (on_timer); we only arm one steady_timer there, because
//   libcurl must never be called from inside its own callbacks;
// - after every curl_multi_socket_action we drain curl_multi_info_read and complete the finished
//   transfers; user handlers run there, outside any curl callback, so they may submit() more.
//
// On top of it, a Job is one submitted request from submit() to its handler. It lives in jobs_
// and is in one state at a time: queued (in its Host's FIFO), running (an easy handle in the
// multi), waiting (a retry timer) or finishing (its completion posted to the io_context). The
// scheduler starts queued jobs of "ready" hosts (ready_: round robin) while global slots are
// free; a host whose min_interval has not passed yet arms its own timer. Nothing polls: every
// state change comes from a socket, a timer, a finished transfer or a posted function.
#include "crawler/curl_fetcher.h"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <new>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <curl/curl.h>

#include "core/dates.h"
#include "core/text.h"
#include "core/url.h"
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
using Clock = std::chrono::steady_clock;

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

bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && text::ascii_iequals(s.substr(0, prefix.size()), prefix);
}

bool is_redirect_status(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool is_retryable_status(long status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Transport failures worth another attempt: the server may answer next time.
bool is_retryable_code(CURLcode rc) {
    switch (rc) {
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
            return true;
        default:
            return false;
    }
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

// Retry-After (RFC 9110 10.2.3): delta-seconds or an HTTP-date. nullopt when absent or unreadable;
// a date in the past means "now".
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
    value = trim(value);
    if (value.empty()) {
        return std::nullopt;
    }
    if (value.find_first_not_of("0123456789") == std::string_view::npos) {
        long long seconds = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (ec == std::errc::result_out_of_range) {
            return std::chrono::seconds::max();
        }
        if (ec != std::errc() || end != value.data() + value.size()) {
            return std::nullopt;
        }
        return std::chrono::seconds(seconds);
    }
    const auto when = dates::parse_rfc822(value);
    if (!when) {
        return std::nullopt;
    }
    const auto now =
        std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    return std::max(std::chrono::seconds(0), *when - now);
}

bool private_v4(const unsigned char* b) {
    return b[0] == 0 ||                             // 0.0.0.0/8
           b[0] == 10 ||                            // 10/8
           b[0] == 127 ||                           // loopback
           (b[0] == 100 && (b[1] & 0xC0) == 64) ||  // 100.64/10 CGNAT
           (b[0] == 169 && b[1] == 254) ||          // link-local
           (b[0] == 172 && (b[1] & 0xF0) == 16) ||  // 172.16/12
           (b[0] == 192 && b[1] == 168);            // 192.168/16
}

bool private_v6(const unsigned char* b) {
    static constexpr std::array<unsigned char, 12> kMappedPrefix = {0, 0, 0, 0, 0,    0,
                                                                    0, 0, 0, 0, 0xFF, 0xFF};
    if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), b)) {
        return private_v4(b + 12);  // ::ffff:a.b.c.d
    }
    const bool first_15_zero = std::all_of(b, b + 15, [](unsigned char x) { return x == 0; });
    if (first_15_zero && (b[15] == 0 || b[15] == 1)) {
        return true;  // "::" and "::1"
    }
    return (b[0] & 0xFE) == 0xFC ||                  // fc00::/7 ULA
           (b[0] == 0xFE && (b[1] & 0xC0) == 0x80);  // fe80::/10 link-local
}

// The policy check on the address curl is about to connect to. Fills `text` with its numeric
// form for the error message.
bool private_sockaddr(const sockaddr* address, std::string& text) {
    std::array<char, INET6_ADDRSTRLEN> buffer{};
    if (address->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(address);
        inet_ntop(AF_INET, &in->sin_addr, buffer.data(), buffer.size());
        text = buffer.data();
        return private_v4(reinterpret_cast<const unsigned char*>(&in->sin_addr));
    }
    if (address->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
        inet_ntop(AF_INET6, &in6->sin6_addr, buffer.data(), buffer.size());
        text = buffer.data();
        return private_v6(reinterpret_cast<const unsigned char*>(&in6->sin6_addr));
    }
    text = "(address family " + std::to_string(address->sa_family) + ")";
    return true;  // not IP (unix sockets...): never ours to connect to
}

}  // namespace

bool is_private_address(std::string_view numeric_ip) {
    const std::string ip(numeric_ip);
    std::array<unsigned char, 16> bytes{};
    if (inet_pton(AF_INET, ip.c_str(), bytes.data()) == 1) {
        return private_v4(bytes.data());
    }
    if (inet_pton(AF_INET6, ip.c_str(), bytes.data()) == 1) {
        return private_v6(bytes.data());
    }
    return true;
}

namespace {

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

struct Host;

enum class JobState { queued, running, waiting, finishing };

// One submitted request, from submit() to its handler, across retries and redirect hops.
// Heap-allocated and never moved: curl holds pointers to it (CURLOPT_PRIVATE, WRITEDATA,
// HEADERDATA, OPENSOCKETDATA, ERRORBUFFER) while it runs.
struct Job {
    Job(asio::io_context& io, std::uint64_t job_id) : id(job_id), retry_timer(io) {}

    std::uint64_t id;
    Request request;
    ResponseHandler on_done;
    Response response;     // accumulates across attempts and hops; handed to on_done
    std::string url;       // of the current hop
    Host* host = nullptr;  // of the current hop
    JobState state = JobState::queued;
    int hops = 0;                 // redirects followed
    int retries = 0;              // retries of the current hop
    bool send_validators = true;  // conditional headers: only to the host first asked
    asio::steady_timer retry_timer;
    CurlSlist headers;  // the request headers of the current attempt; outlives easy's use of it
    CurlEasy easy;      // only while running
    std::array<char, CURL_ERROR_SIZE> error_buffer{};
    // Of the response being received (reset by each status line).
    long hop_status = 0;
    std::string location;
    std::string retry_after;
    bool body_too_large = false;
    std::string refused_address;  // set by on_open_socket when it refused an address
    bool private_allowed = false;
};

// One host name's queue and state. Lives as long as the fetcher (hosts_ never shrinks).
struct Host {
    Host(asio::io_context& io, std::string host_name, const HostPolicy& host_policy)
        : name(std::move(host_name)), policy(host_policy), interval_timer(io) {}

    std::string name;
    HostPolicy policy;
    std::deque<Job*> queue;  // FIFO of queued jobs
    long in_flight = 0;
    // Start of the latest transfer, whatever the policy was then: a min_interval raised later
    // (robots.txt Crawl-delay, read through this very host) counts from it.
    Clock::time_point last_start{};
    Clock::time_point next_start() const { return last_start + policy.min_interval; }
    asio::steady_timer interval_timer;
    bool timer_armed = false;
    bool in_ready = false;  // listed in Impl::ready_
    int consecutive_failures = 0;
    bool exhausted = false;  // error budget spent: nothing more is fetched from it
};

// CURLOPT_WRITEFUNCTION. Counts decoded bytes (CURLOPT_ACCEPT_ENCODING is set); returning less
// than given aborts the transfer with CURLE_WRITE_ERROR, which we report as too_large.
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* job = static_cast<Job*>(user);
    const std::size_t n = size * count;
    std::string& body = job->response.body;
    if (n > job->request.max_bytes || body.size() > job->request.max_bytes - n) {
        job->body_too_large = true;
        return 0;
    }
    try {
        body.append(data, n);
    } catch (...) {
        return 0;  // no exception may cross curl's C frames
    }
    return n;
}

// CURLOPT_HEADERFUNCTION: every header line of the response, including the status line (also
// of interim 1xx responses, which reset what we collected).
std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* job = static_cast<Job*>(user);
    const std::size_t n = size * count;
    const std::string_view line = trim(std::string_view(data, n));
    Response& response = job->response;
    try {
        if (line.starts_with("HTTP/")) {
            long status = 0;
            const auto space = line.find(' ');
            if (space != std::string_view::npos) {
                const std::string_view code = line.substr(space + 1);
                std::from_chars(code.data(), code.data() + code.size(), status);
            }
            job->hop_status = status;
            job->location.clear();
            job->retry_after.clear();
            response.etag.clear();
            response.last_modified.clear();
            response.body.clear();
            return n;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) {
            return n;
        }
        const std::string_view name = trim(line.substr(0, colon));
        const std::string_view value = trim(line.substr(colon + 1));
        if (text::ascii_iequals(name, "etag")) {
            response.etag = value;
        } else if (text::ascii_iequals(name, "last-modified")) {
            response.last_modified = value;
        } else if (text::ascii_iequals(name, "location")) {
            job->location = value;
        } else if (text::ascii_iequals(name, "retry-after")) {
            job->retry_after = value;
        } else if (text::ascii_iequals(name, "content-length") && job->hop_status >= 200 &&
                   job->hop_status < 300) {
            // One allocation for the body instead of a chain of regrowths (and copies) as it
            // arrives; never more than the cap, whatever the header claims.
            std::size_t length = 0;
            const auto [end, ec] =
                std::from_chars(value.data(), value.data() + value.size(), length);
            if (ec == std::errc() && end == value.data() + value.size()) {
                response.body.reserve(std::min(length, job->request.max_bytes));
            }
        }
    } catch (...) {
        return 0;  // allocation failure: abort the transfer rather than throw through curl
    }
    return n;
}

// CURLOPT_OPENSOCKETFUNCTION: the one place that sees the address actually connected to, for
// the first URL, every redirect hop and every DNS answer. Refusing returns CURL_SOCKET_BAD;
// curl then tries the next address or fails with CURLE_COULDNT_CONNECT.
curl_socket_t on_open_socket(void* user, curlsocktype purpose, curl_sockaddr* address) {
    auto* job = static_cast<Job*>(user);
    if (purpose == CURLSOCKTYPE_IPCXN && !job->private_allowed) {
        try {
            std::string text;
            if (private_sockaddr(&address->addr, text)) {
                job->refused_address = "private address " + text + " refused";
                return CURL_SOCKET_BAD;
            }
        } catch (...) {
            return CURL_SOCKET_BAD;
        }
    }
    return ::socket(address->family, address->socktype, address->protocol);
}

std::string curl_error_text(CURLcode rc, const Job& job) {
    std::string text = curl_easy_strerror(rc);
    const std::string_view detail(job.error_buffer.data());
    if (!detail.empty()) {
        text += ": ";
        text += detail;
    }
    return text;
}

}  // namespace

struct CurlFetcher::Impl {
    explicit Impl(FetcherOptions opts);
    ~Impl();
    Impl(const Impl&) = delete;
    Impl& operator=(const Impl&) = delete;

    void submit(Request request, ResponseHandler on_done);
    void run();
    void post(std::function<void()> fn);
    std::shared_ptr<void> hold();
    void set_host_policy(const std::string& host, const HostPolicy& policy);
    void set_deadline(Clock::time_point deadline);
    bool busy() const { return !jobs_.empty() || posted_ > 0 || holds_ > 0; }

    // libcurl <-> Asio glue.
    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp);
    static int on_timer(CURLM* multi, long timeout_ms, void* userp);
    void arm(const std::shared_ptr<SocketWatcher>& watcher);
    void on_ready(const std::shared_ptr<SocketWatcher>& watcher, int select);
    void on_timeout();
    void socket_action(curl_socket_t fd, int select);
    void complete_finished();
    void forget_watcher(curl_socket_t fd);

    // Scheduler.
    Host& host_for(const std::string& name);
    // Why `url` may not be fetched for `job`, or nullopt; sets `host_name` when it may.
    std::optional<std::string> check_url(const Job& job, const std::string& url,
                                         std::string& host_name) const;
    void enqueue(Job& job, Host& host);
    void consider(Host& host);  // lists the host in ready_ or arms its interval timer
    void arm_interval(Host& host);
    void pump();  // starts queued jobs while global slots are free
    void start(Job& job);
    void on_attempt_done(Job& job, CURLcode rc);
    void follow_redirect(Job& job);
    bool retry_later(Job& job, std::optional<std::chrono::seconds> retry_after);
    void on_retry_due(std::uint64_t id);
    std::chrono::milliseconds backoff(const HostPolicy& policy, int retry);
    // Final result of an attempt: updates the host's error budget, then delivers.
    void conclude(Job& job, Outcome outcome, std::string error);
    // Ends a job that is not running, from the io_context (never re-entering a caller).
    void finish_later(Job& job, Outcome outcome, std::string error);
    void deliver(std::uint64_t id);
    void exhaust(Host& host);
    void on_deadline();
    bool deadline_passed() const;
    CurlEasy acquire_easy();
    void release_easy(CurlEasy easy);

    // Declaration order is destruction order reversed, and it matters: the io_context outlives
    // every timer and watcher; watchers outlive curl_multi_cleanup (it may call on_socket);
    // connect_to_ outlives every easy handle. ~Impl removes running handles from the multi and
    // sets closing_, which every handler checks first.
    FetcherOptions options_;
    HostPolicy default_policy_;
    asio::io_context io_;
    asio::steady_timer timer_{io_};           // curl's single, non-repeating timeout
    asio::steady_timer deadline_timer_{io_};  // set_deadline()
    std::unordered_map<curl_socket_t, std::shared_ptr<SocketWatcher>> watchers_;
    CurlSlist connect_to_;
    CurlMulti multi_;
    std::vector<CurlEasy> easy_pool_;  // reset handles ready for reuse
    std::unordered_map<std::string, std::unique_ptr<Host>> hosts_;
    std::unordered_map<std::uint64_t, std::unique_ptr<Job>> jobs_;  // every job not delivered
    std::deque<Host*> ready_;  // hosts that may start a job now, round robin
    long running_ = 0;         // jobs with a transfer in the multi
    std::uint64_t next_id_ = 1;
    std::optional<Clock::time_point> deadline_;
    bool deadline_passed_ = false;
    bool closing_ = false;
    std::mt19937 rng_{std::random_device{}()};  // backoff jitter
    std::atomic<int> posted_{0};                // post()ed functions not run yet (any thread)
    std::atomic<int> holds_{0};                 // hold() tokens alive (any thread)
};

namespace {

constexpr const char* kBudgetExhausted = "host error budget exhausted";
constexpr const char* kRunDeadline = "run deadline";
constexpr std::size_t kEasyPoolMax = 256;

void check_policy(const HostPolicy& policy) {
    if (policy.max_connections < 1) {
        throw std::invalid_argument("crawler: HostPolicy::max_connections must be at least 1");
    }
    if (policy.max_retries < 0 || policy.min_interval.count() < 0 ||
        policy.backoff_base.count() < 0 || policy.backoff_max.count() < 0) {
        throw std::invalid_argument("crawler: HostPolicy durations and retries must be >= 0");
    }
}

bool in_domain(std::string_view host, std::string_view domain) {
    if (host.size() == domain.size()) {
        return text::ascii_iequals(host, domain);
    }
    return host.size() > domain.size() && host[host.size() - domain.size() - 1] == '.' &&
           text::ascii_iequals(host.substr(host.size() - domain.size()), domain);
}

}  // namespace

CurlFetcher::Impl::Impl(FetcherOptions opts)
    : options_(std::move(opts)), default_policy_(options_.default_host_policy) {
    default_policy_.max_connections = options_.max_host_connections;
    check_policy(default_policy_);
    if (options_.max_total_connections < 1) {
        throw std::invalid_argument("crawler: max_total_connections must be at least 1");
    }
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
    // Our scheduler bounds transfers per host and in total; curl's own limit is only a safety
    // net (it closes the oldest idle connection when full). The connection cache must hold
    // that many, or keep-alive connections get closed between transfers.
    set_multi_option(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options_.max_total_connections);
    set_multi_option(multi, CURLMOPT_MAXCONNECTS, options_.max_total_connections);
}

CurlFetcher::Impl::~Impl() {
    closing_ = true;
    for (auto& entry : jobs_) {
        if (entry.second->easy) {
            curl_multi_remove_handle(multi_.get(), entry.second->easy.get());
        }
    }
    ready_.clear();
    jobs_.clear();  // their retry timers abort: the handlers see closing_
    hosts_.clear();
    easy_pool_.clear();
    multi_.reset();  // may call on_socket(CURL_POLL_REMOVE): watchers_ and io_ are still alive
    for (auto& entry : watchers_) {
        entry.second->removed = true;
        entry.second->release();
    }
    watchers_.clear();
    timer_.cancel();
    deadline_timer_.cancel();
    // Run the aborted handlers now, so no watcher outlives the io_context's services.
    try {
        io_.restart();
        io_.poll();
    } catch (...) {
        // Handlers only return while closing; nothing to report from a destructor.
    }
}

// ---- public operations ------------------------------------------------------------------

void CurlFetcher::Impl::submit(Request request, ResponseHandler on_done) {
    const std::uint64_t id = next_id_++;
    auto owned = std::make_unique<Job>(io_, id);
    Job& job = *owned;
    job.request = std::move(request);
    job.on_done = std::move(on_done);
    job.url = job.request.url;
    job.private_allowed = options_.allow_private_addresses;
    // Checked before the job is registered: a throwing url_filter leaves nothing behind.
    std::string host_name;
    std::optional<std::string> refusal = check_url(job, job.url, host_name);
    jobs_.emplace(id, std::move(owned));

    if (deadline_passed()) {
        finish_later(job, Outcome::cancelled, kRunDeadline);
        return;
    }
    if (refusal) {
        finish_later(job, Outcome::refused, std::move(*refusal));
        return;
    }
    Host& host = host_for(host_name);
    job.host = &host;
    if (host.exhausted) {
        finish_later(job, Outcome::cancelled, kBudgetExhausted);
        return;
    }
    enqueue(job, host);
    pump();
}

void CurlFetcher::Impl::run() {
    pump();  // in case a handler threw out of the previous run() before it could
    // While tokens live or posted functions are pending, other threads will come back through
    // post(): the guard lets run_one() block for them. It is dropped as soon as they are gone,
    // because the io_context stops whenever its work count reaches zero (also when a guard is
    // released), and a stopped io_context's run_one() returns at once: hence the restart().
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
    while (busy()) {
        if (holds_ > 0 || posted_ > 0) {
            if (!guard) {
                guard.emplace(io_.get_executor());
            }
        } else {
            guard.reset();
        }
        if (io_.stopped()) {
            io_.restart();
        }
        if (io_.run_one() == 0) {
            // Jobs are pending but nothing can ever wake us: the glue is broken.
            throw std::logic_error("crawler: requests pending but no socket or timer armed");
        }
    }
}

void CurlFetcher::Impl::post(std::function<void()> fn) {
    ++posted_;
    asio::post(io_, [this, fn = std::move(fn)] {
        --posted_;
        if (!closing_) {
            fn();
        }
    });
}

std::shared_ptr<void> CurlFetcher::Impl::hold() {
    ++holds_;
    return std::shared_ptr<void>(static_cast<void*>(this), [](void* p) {
        auto* self = static_cast<Impl*>(p);
        // Decrement on the run() thread, which this also wakes up to see the token gone.
        asio::post(self->io_, [self] { --self->holds_; });
    });
}

void CurlFetcher::Impl::set_host_policy(const std::string& host, const HostPolicy& policy) {
    check_policy(policy);
    const std::string name = text::ascii_lower(host);
    const auto found = hosts_.find(name);
    if (found == hosts_.end()) {
        hosts_.emplace(name, std::make_unique<Host>(io_, name, policy));
        return;
    }
    Host& known = *found->second;
    known.policy = policy;
    if (known.timer_armed) {
        arm_interval(known);  // the spacing changed: wait for the new due time instead
    }
    consider(known);  // a higher limit may let it start more at once
    pump();
}

void CurlFetcher::Impl::set_deadline(Clock::time_point deadline) {
    deadline_ = deadline;
    deadline_passed_ = false;
    deadline_timer_.expires_at(deadline);  // cancels an earlier deadline's wait
    deadline_timer_.async_wait([this](const error_code& ec) {
        if (closing_ || ec) {
            return;
        }
        on_deadline();
    });
}

bool CurlFetcher::Impl::deadline_passed() const {
    return deadline_passed_ || (deadline_ && Clock::now() >= *deadline_);
}

// ---- scheduler ----------------------------------------------------------------------------

Host& CurlFetcher::Impl::host_for(const std::string& name) {
    const auto found = hosts_.find(name);
    if (found != hosts_.end()) {
        return *found->second;
    }
    return *hosts_.emplace(name, std::make_unique<Host>(io_, name, default_policy_)).first->second;
}

std::optional<std::string> CurlFetcher::Impl::check_url(const Job& job, const std::string& url,
                                                        std::string& host_name) const {
    if (!istarts_with(url, "http://") && !istarts_with(url, "https://")) {
        return "only http and https are fetched: " + url;
    }
    host_name = url::host(url);
    if (host_name.empty()) {
        return "no host in URL: " + url;
    }
    const std::vector<std::string>& allowed = job.request.allowed_domains;
    if (!allowed.empty() && std::none_of(allowed.begin(), allowed.end(), [&](const auto& domain) {
            return in_domain(host_name, domain);
        })) {
        return "host " + host_name + " is outside the allowed domains: " + url;
    }
    if (options_.url_filter && !options_.url_filter(url)) {
        return "refused by the URL filter: " + url;
    }
    return std::nullopt;
}

void CurlFetcher::Impl::enqueue(Job& job, Host& host) {
    job.state = JobState::queued;
    host.queue.push_back(&job);
    consider(host);
}

void CurlFetcher::Impl::consider(Host& host) {
    if (host.in_ready || host.exhausted || host.queue.empty() ||
        host.in_flight >= host.policy.max_connections) {
        return;
    }
    if (host.policy.min_interval.count() > 0 && Clock::now() < host.next_start()) {
        if (!host.timer_armed) {
            arm_interval(host);
        }
        return;
    }
    host.in_ready = true;
    ready_.push_back(&host);
}

void CurlFetcher::Impl::arm_interval(Host& host) {
    host.timer_armed = true;
    host.interval_timer.expires_at(host.next_start());  // aborts an earlier wait
    host.interval_timer.async_wait([this, &host](const error_code& ec) {
        if (closing_ || ec) {
            return;  // aborted: whoever aborted it re-armed it (or we are closing)
        }
        host.timer_armed = false;
        consider(host);
        pump();
    });
}

void CurlFetcher::Impl::pump() {
    while (running_ < options_.max_total_connections && !ready_.empty()) {
        Host& host = *ready_.front();
        ready_.pop_front();
        host.in_ready = false;
        if (host.exhausted || host.queue.empty() || host.in_flight >= host.policy.max_connections) {
            continue;  // listed earlier, changed since: a finished transfer lists it again
        }
        if (host.policy.min_interval.count() > 0 && Clock::now() < host.next_start()) {
            consider(host);  // arms its timer
            continue;
        }
        Job& job = *host.queue.front();
        host.queue.pop_front();
        start(job);
        consider(host);  // to the back of ready_ if it may start another: round robin
    }
}

void CurlFetcher::Impl::start(Job& job) {
    CurlEasy easy = acquire_easy();
    CURL* e = easy.get();
    const Request& req = job.request;
    set_option(e, CURLOPT_URL, job.url.c_str());
    set_option(e, CURLOPT_PRIVATE, static_cast<void*>(&job));
    set_option(e, CURLOPT_PROTOCOLS_STR, "http,https");
    set_option(e, CURLOPT_FOLLOWLOCATION, 0L);   // we follow redirects, hop by hop
    set_option(e, CURLOPT_ACCEPT_ENCODING, "");  // every encoding this libcurl decodes
    set_option(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    if (istarts_with(job.url, "https://")) {
        // Rather multiplex on HTTP/2 than open another connection. Only where HTTP/2 can be
        // offered (ALPN): on http:// curl 7.88 would hold the request until the host's first
        // transfer has ended, serialising a burst of HTTP/1.1 requests.
        set_option(e, CURLOPT_PIPEWAIT, 1L);
    }
    set_option(e, CURLOPT_TCP_NODELAY, 1L);
    set_option(e, CURLOPT_USERAGENT, options_.user_agent.c_str());
    if (connect_to_) {
        set_option(e, CURLOPT_CONNECT_TO, connect_to_.get());
    }
    set_option(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    set_option(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
    set_option(e, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes_per_s);
    set_option(e, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
    set_option(e, CURLOPT_NOSIGNAL, 1L);
    set_option(e, CURLOPT_ERRORBUFFER, job.error_buffer.data());
    set_option(e, CURLOPT_WRITEFUNCTION, &on_body);
    set_option(e, CURLOPT_WRITEDATA, static_cast<void*>(&job));
    set_option(e, CURLOPT_HEADERFUNCTION, &on_header);
    set_option(e, CURLOPT_HEADERDATA, static_cast<void*>(&job));
    set_option(e, CURLOPT_OPENSOCKETFUNCTION, &on_open_socket);
    set_option(e, CURLOPT_OPENSOCKETDATA, static_cast<void*>(&job));
    // A declared Content-Length over the cap ends the transfer before any body byte; the
    // write callback catches the rest (chunked, compressed).
    const auto cap =
        static_cast<curl_off_t>(std::min<std::size_t>(req.max_bytes, std::size_t{1} << 62));
    set_option(e, CURLOPT_MAXFILESIZE_LARGE, cap);
    job.headers.reset();
    if (job.send_validators && !req.etag.empty()) {
        slist_append(job.headers, ("If-None-Match: " + single_line(req.etag)).c_str());
    }
    if (job.send_validators && !req.last_modified.empty()) {
        slist_append(job.headers, ("If-Modified-Since: " + single_line(req.last_modified)).c_str());
    }
    if (job.headers) {
        set_option(e, CURLOPT_HTTPHEADER, job.headers.get());
    }

    job.error_buffer[0] = '\0';
    job.hop_status = 0;
    job.location.clear();
    job.retry_after.clear();
    job.body_too_large = false;
    job.refused_address.clear();
    job.response.body.clear();
    const CURLMcode rc = curl_multi_add_handle(multi_.get(), e);
    if (rc != CURLM_OK) {
        throw std::runtime_error(std::string("crawler: curl_multi_add_handle: ") +
                                 curl_multi_strerror(rc));
    }
    job.easy = std::move(easy);
    job.state = JobState::running;
    ++job.response.attempts;
    Host& host = *job.host;
    ++host.in_flight;
    ++running_;
    host.last_start = Clock::now();
}

void CurlFetcher::Impl::on_attempt_done(Job& job, CURLcode rc) {
    if (rc != CURLE_OK && !job.refused_address.empty()) {
        conclude(job, Outcome::refused, job.refused_address);
        return;
    }
    if (rc == CURLE_OK) {
        const long status = job.response.status;
        if (is_redirect_status(status) && !job.location.empty()) {
            follow_redirect(job);
            return;
        }
        if (status >= 200 && status < 300) {
            conclude(job, Outcome::ok, {});
            return;
        }
        if (status == 304) {
            conclude(job, Outcome::not_modified, "HTTP 304");
            return;
        }
        std::string error = "HTTP " + std::to_string(status);
        if (is_retryable_status(status)) {
            std::optional<std::chrono::seconds> after;
            if (status == 429 || status == 503) {
                after = parse_retry_after(job.retry_after);
            }
            const auto cap = job.host->policy.max_retry_after;
            if (after && *after > cap) {
                error += ": Retry-After of " + std::to_string(after->count()) +
                         " s is beyond the cap of " + std::to_string(cap.count()) + " s";
                conclude(job, Outcome::http_error, std::move(error));
                return;
            }
            if (retry_later(job, after)) {
                return;
            }
        }
        conclude(job, Outcome::http_error, std::move(error));
        return;
    }
    if ((rc == CURLE_WRITE_ERROR && job.body_too_large) || rc == CURLE_FILESIZE_EXCEEDED) {
        conclude(job, Outcome::too_large,
                 "body larger than " + std::to_string(job.request.max_bytes) + " bytes");
        return;
    }
    if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
        conclude(job, Outcome::refused, curl_error_text(rc, job));
        return;
    }
    const Outcome outcome =
        rc == CURLE_OPERATION_TIMEDOUT ? Outcome::timeout : Outcome::network_error;
    std::string error = curl_error_text(rc, job);
    if (is_retryable_code(rc) && retry_later(job, std::nullopt)) {
        return;
    }
    conclude(job, outcome, std::move(error));
}

void CurlFetcher::Impl::follow_redirect(Job& job) {
    job.response.redirects.push_back(job.url);
    if (job.hops >= options_.max_redirects) {
        conclude(job, Outcome::http_error,
                 "too many redirects (more than " + std::to_string(options_.max_redirects) + ")");
        return;
    }
    const std::optional<std::string> next = url::resolve(job.url, job.location);
    if (!next) {
        conclude(job, Outcome::refused, "redirect to a URL that is not http(s): " + job.location);
        return;
    }
    std::string host_name;
    std::optional<std::string> refusal;
    try {
        refusal = check_url(job, *next, host_name);
    } catch (...) {
        // The url_filter threw (a bug): the job still ends, then the exception leaves run().
        finish_later(job, Outcome::refused, "the URL filter failed on " + *next);
        throw;
    }
    if (refusal) {
        conclude(job, Outcome::refused, "redirect refused: " + std::move(*refusal));
        return;
    }
    Host& host = host_for(host_name);
    job.send_validators = job.send_validators && &host == job.host;
    job.url = *next;
    job.host = &host;
    ++job.hops;
    job.retries = 0;
    if (host.exhausted) {
        finish_later(job, Outcome::cancelled, kBudgetExhausted);
        return;
    }
    if (deadline_passed()) {
        finish_later(job, Outcome::cancelled, kRunDeadline);
        return;
    }
    enqueue(job, host);
}

bool CurlFetcher::Impl::retry_later(Job& job, std::optional<std::chrono::seconds> retry_after) {
    const Host& host = *job.host;
    if (!job.request.retry || job.retries >= host.policy.max_retries || host.exhausted) {
        return false;
    }
    const std::chrono::milliseconds delay =
        retry_after ? std::chrono::duration_cast<std::chrono::milliseconds>(*retry_after)
                    : backoff(host.policy, job.retries);
    const Clock::time_point due = Clock::now() + delay;
    if (deadline_ && due >= *deadline_) {
        return false;  // it would be cancelled at the deadline: report the real failure now
    }
    ++job.retries;
    job.state = JobState::waiting;
    job.retry_timer.expires_at(due);
    job.retry_timer.async_wait([this, id = job.id](const error_code& ec) {
        if (closing_ || ec) {
            return;
        }
        on_retry_due(id);
    });
    return true;
}

void CurlFetcher::Impl::on_retry_due(std::uint64_t id) {
    const auto found = jobs_.find(id);
    if (found == jobs_.end() || found->second->state != JobState::waiting) {
        return;  // ended meanwhile (deadline, error budget)
    }
    Job& job = *found->second;
    enqueue(job, *job.host);
    pump();
}

std::chrono::milliseconds CurlFetcher::Impl::backoff(const HostPolicy& policy, int retry) {
    std::chrono::milliseconds ceiling = policy.backoff_base;
    for (int i = 0; i < retry && ceiling < policy.backoff_max; ++i) {
        ceiling *= 2;
    }
    ceiling = std::min(ceiling, policy.backoff_max);
    if (ceiling.count() <= 0) {
        return std::chrono::milliseconds(0);
    }
    // Full jitter: uniform in [0, ceiling], so retries of many requests do not march in step.
    std::uniform_int_distribution<long long> pick(0, ceiling.count());
    return std::chrono::milliseconds(pick(rng_));
}

void CurlFetcher::Impl::conclude(Job& job, Outcome outcome, std::string error) {
    Host& host = *job.host;
    const long status = job.response.status;
    const bool failed = outcome == Outcome::timeout || outcome == Outcome::network_error ||
                        (outcome == Outcome::http_error && (status >= 500 || status == 429));
    const bool answered = outcome == Outcome::ok || outcome == Outcome::not_modified ||
                          outcome == Outcome::too_large ||
                          (outcome == Outcome::http_error && !failed);
    if (failed) {
        ++host.consecutive_failures;
        if (host.policy.error_budget > 0 && host.consecutive_failures >= host.policy.error_budget &&
            !host.exhausted) {
            exhaust(host);
        }
    } else if (answered) {
        host.consecutive_failures = 0;
    }
    Response& response = job.response;
    response.outcome = outcome;
    response.error = std::move(error);
    if (outcome != Outcome::ok && outcome != Outcome::http_error) {
        response.body.clear();
    }
    job.state = JobState::finishing;
    deliver(job.id);
}

void CurlFetcher::Impl::finish_later(Job& job, Outcome outcome, std::string error) {
    job.state = JobState::finishing;
    job.retry_timer.cancel();
    job.response.outcome = outcome;
    job.response.error = std::move(error);
    job.response.body.clear();
    asio::post(io_, [this, id = job.id] {
        if (!closing_) {
            deliver(id);
        }
    });
}

void CurlFetcher::Impl::deliver(std::uint64_t id) {
    auto node = jobs_.extract(id);
    if (node.empty()) {
        return;
    }
    std::unique_ptr<Job> job = std::move(node.mapped());
    Response response = std::move(job->response);
    response.url = job->request.url;
    response.final_url = job->url;
    ResponseHandler on_done = std::move(job->on_done);
    job.reset();
    if (on_done) {
        on_done(std::move(response));  // may submit(): we are outside every curl callback
    }
}

void CurlFetcher::Impl::exhaust(Host& host) {
    host.exhausted = true;
    for (Job* job : host.queue) {
        finish_later(*job, Outcome::cancelled, kBudgetExhausted);
    }
    host.queue.clear();
    for (auto& entry : jobs_) {
        Job& job = *entry.second;
        if (job.host == &host && job.state == JobState::waiting) {
            finish_later(job, Outcome::cancelled, kBudgetExhausted);
        }
    }
}

void CurlFetcher::Impl::on_deadline() {
    deadline_passed_ = true;
    ready_.clear();
    for (auto& entry : hosts_) {
        Host& host = *entry.second;
        host.in_ready = false;
        host.queue.clear();  // every queued job is ended below, through jobs_
    }
    for (auto& entry : jobs_) {
        Job& job = *entry.second;
        if (job.state == JobState::finishing) {
            continue;
        }
        if (job.state == JobState::running) {
            curl_multi_remove_handle(multi_.get(), job.easy.get());
            release_easy(std::move(job.easy));
            --job.host->in_flight;
            --running_;
        }
        finish_later(job, Outcome::cancelled, kRunDeadline);
    }
}

CurlEasy CurlFetcher::Impl::acquire_easy() {
    if (!easy_pool_.empty()) {
        CurlEasy easy = std::move(easy_pool_.back());
        easy_pool_.pop_back();
        return easy;
    }
    CurlEasy easy(curl_easy_init());
    if (!easy) {
        throw std::runtime_error("crawler: curl_easy_init failed");
    }
    return easy;
}

void CurlFetcher::Impl::release_easy(CurlEasy easy) {
    if (!easy || easy_pool_.size() >= kEasyPoolMax) {
        return;
    }
    curl_easy_reset(easy.get());  // keeps its DNS/connection caches (those live in the multi)
    easy_pool_.push_back(std::move(easy));
}

// ---- libcurl <-> Asio glue ------------------------------------------------------------------

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
            if (ec || self->closing_ || !self->multi_) {
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
            if (closing_ || watcher->removed || ec == asio::error::operation_aborted ||
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
            if (closing_ || watcher->removed || ec == asio::error::operation_aborted ||
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
        auto* job = static_cast<Job*>(static_cast<void*>(private_data));
        curl_multi_remove_handle(multi_.get(), easy);
        if (job == nullptr || job->easy.get() != easy) {
            continue;  // not ours; cannot happen
        }

        Response& response = job->response;
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        response.status = status;
        char* content_type = nullptr;
        curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &content_type);
        response.content_type = content_type != nullptr ? content_type : "";
        char* ip = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIMARY_IP, &ip);
        response.remote_ip = ip != nullptr ? ip : "";
        curl_off_t micros = 0;
        curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &micros);
        response.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::microseconds(micros));
        release_easy(std::move(job->easy));

        Host& host = *job->host;
        --host.in_flight;
        --running_;
        consider(host);
        on_attempt_done(*job, result);  // may run the user's handler, which may submit()
        pump();
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

void CurlFetcher::post(std::function<void()> fn) {
    impl_->post(std::move(fn));
}

std::shared_ptr<void> CurlFetcher::hold() {
    return impl_->hold();
}

void CurlFetcher::set_host_policy(const std::string& host, const HostPolicy& policy) {
    impl_->set_host_policy(host, policy);
}

void CurlFetcher::set_deadline(std::chrono::steady_clock::time_point deadline) {
    impl_->set_deadline(deadline);
}

}  // namespace baofeed::crawler

// bench_store: the storage benchmark of issue 5 on a synthetic corpus of Vietnamese articles.
//
//   bench_store N [--db PATH] [--keep] [--seed S] [--batch B] [--producers P]
//               [--no-search-index]
//
// Generates N articles deterministically (20 sites; titles, leads and 5-20 paragraphs drawn from
// a Zipf-weighted syllable vocabulary of news Vietnamese; dates over two years; sanitized HTML,
// images, aliases, site article IDs; ~5% syndicated copies of an earlier article on another
// site: new headline and dateline prefix, a paragraph cut or added), then measures through the
// public ArticleStore API:
//   - insert with dedup + clustering, as the crawler does it: P threads (default: one per
//     core, at nice +10, as the crawler's parse pool) run ArticleStore::prepare() (signature, JSON
//     columns, hashes, the zstd frame of body and html) while this thread save()s the prepared
//     batches of B articles (default 1000; one transaction each). insert_per_s is articles / wall
//     time of that phase; the writer's CPU time per article is given too. Article generation is not
//     timed (done in chunks of 5,000 before each timed chunk, which adds ~80 MB to peak memory);
//   - the search index: index_pending() once after the insert phase (the crawler calls it at
//     the end of a run), reported on the line "search index: N articles in S s, X articles/s";
//     --no-search-index skips it (quick runs of the other figures: the file is then smaller);
//   - near-duplicate lookup: near_duplicates() for 1,000 sampled articles (half syndicated),
//     signature computation included (also reported alone);
//   - latest 50 items of one site (list) and of one story cluster (cluster), 200 of each;
//   - database bytes per article (file size after the store is closed, WAL checkpointed);
//   - peak memory (max RSS).
// Wall-clock and CPU figures are both given: on a shared machine the wall clock also measures
// the neighbours.
// Also reports clustering quality on the corpus: syndicated copies found in their source's
// cluster (recall) and originals merged into another article's cluster (false merges).
// Last line: articles N insert_per_s X lookup_ms Y latest_ms Z bytes_per_article B peak_mb M
// where Z is the slower of the two "latest 50" figures.
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <filesystem>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <thread>
#include <time.h>
#include <unistd.h>
#include <vector>

#include "bench/vietnamese_words.h"
#include "core/textkey.h"
#include "storage/article_store.h"

namespace {

using baofeed::bench::Rng;
using baofeed::bench::vocabulary;

using baofeed::Article;
using baofeed::Image;
using baofeed::Timestamp;
using baofeed::storage::ArticleStore;
using baofeed::storage::PreparedArticle;
using Clock = std::chrono::steady_clock;

// The prepare threads run at nice +10, as the crawler's parse pool does (app/pipeline.cpp,
// kParseNice): the writer, the serial stage, gets a core whenever it has a batch.
constexpr int kPrepareNice = 10;

// Raises the calling thread's nice value by `increment` (Linux: per thread), as
// app/work_pool.cpp does for the parse pool. Best effort.
void lower_priority(int increment) {
    const auto self = static_cast<id_t>(::gettid());
    errno = 0;
    const int current = ::getpriority(PRIO_PROCESS, self);
    if (errno == 0 && current < 19) {
        ::setpriority(PRIO_PROCESS, self, std::min(19, current + increment));
    }
}

// Batches from the producer thread to the writer, at most `capacity` waiting.
class BatchQueue {
  public:
    explicit BatchQueue(std::size_t capacity) : capacity_(capacity) {}
    void push(std::vector<PreparedArticle> batch) {
        std::unique_lock lock(mutex_);
        room_.wait(lock, [&] { return batches_.size() < capacity_; });
        batches_.push_back(std::move(batch));
        ready_.notify_one();
    }
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        ready_.notify_all();
    }
    void fail(std::exception_ptr error) {
        std::lock_guard lock(mutex_);
        error_ = std::move(error);
    }
    void rethrow() {
        std::lock_guard lock(mutex_);
        if (error_) {
            std::rethrow_exception(error_);
        }
    }
    // The next batch; nullopt once the producer closed the queue and it is empty.
    std::optional<std::vector<PreparedArticle>> pop() {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return !batches_.empty() || closed_; });
        if (batches_.empty()) {
            return std::nullopt;
        }
        std::vector<PreparedArticle> batch = std::move(batches_.front());
        batches_.pop_front();
        room_.notify_one();
        return batch;
    }

  private:
    std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::condition_variable room_;
    std::deque<std::vector<PreparedArticle>> batches_;
    bool closed_ = false;
    std::exception_ptr error_;
};

constexpr std::array<std::string_view, 20> kSites = {
    "baobackan",     "baothainguyen", "baocaobang",   "baolangson",  "baohagiang",
    "baotuyenquang", "baolaocai",     "baoyenbai",    "baodienbien", "baosonla",
    "baohoabinh",    "baophutho",     "baodanang",    "baoquangnam", "baothuathienhue",
    "baonghean",     "baobacgiang",   "baoquangninh", "baohaiduong", "baothaibinh"};

constexpr std::array<std::string_view, 6> kSections = {"Chính trị", "Kinh tế",  "Xã hội",
                                                       "Văn hóa",   "Thể thao", "Pháp luật"};

constexpr double kSyndicatedShare = 0.05;
constexpr std::int64_t kEpoch = 1'672'531'200;  // 2023-01-01
constexpr std::int64_t kTwoYears = 2 * 365 * 86'400;

class Corpus {
  public:
    explicit Corpus(std::uint64_t seed) : seed_(seed), words_(vocabulary()) {}

    // The index of the article `i` copies, or -1 when it is an original.
    std::int64_t source_of(std::int64_t i) const {
        if (i < 100) {
            return -1;
        }
        Rng rng(seed_ ^ (static_cast<std::uint64_t>(i) * 0xD1B54A32D192ED03ULL) ^ 0x5EEDULL);
        if (rng.unit() >= kSyndicatedShare) {
            return -1;
        }
        // A recent wire story (within the last 2,000 articles), itself an original.
        for (int attempt = 0; attempt < 8; ++attempt) {
            const std::int64_t j = i - 1 -
                                   static_cast<std::int64_t>(rng.below(
                                       static_cast<std::size_t>(std::min<std::int64_t>(i, 2000))));
            if (source_of_plain(j)) {
                return j;
            }
        }
        return -1;
    }

    Article article(std::int64_t i) const {
        const std::int64_t source = source_of(i);
        if (source < 0) {
            return original(i);
        }
        return copy_of(original(source), i);
    }

  private:
    bool source_of_plain(std::int64_t j) const {
        if (j < 100) {
            return true;
        }
        Rng rng(seed_ ^ (static_cast<std::uint64_t>(j) * 0xD1B54A32D192ED03ULL) ^ 0x5EEDULL);
        return rng.unit() >= kSyndicatedShare;
    }

    std::string sentence(Rng& rng, int syllables) const {
        std::string out;
        for (int k = 0; k < syllables; ++k) {
            // Zipf (P(rank) ~ 1/rank): log-uniform rank over the vocabulary.
            const auto index = static_cast<std::size_t>(
                std::exp(rng.unit() * std::log(static_cast<double>(words_.size()))) - 1.0);
            if (k > 0) {
                out.push_back(' ');
            }
            out += words_[std::min(index, words_.size() - 1)];
            if (k > 3 && k + 3 < syllables && rng.below(14) == 0) {
                out.push_back(',');
            }
            if (rng.below(40) == 0) {
                out += " " + std::to_string(rng.between(2, 2024));
            }
        }
        out.push_back('.');
        return out;
    }

    std::string paragraph(Rng& rng) const {
        std::string out;
        const int sentences = rng.between(1, 3);
        for (int s = 0; s < sentences; ++s) {
            if (s > 0) {
                out.push_back(' ');
            }
            out += sentence(rng, rng.between(14, 32));
        }
        return out;
    }

    static std::string html_of(const std::vector<std::string>& body,
                               const std::vector<Image>& images) {
        std::string html;
        for (std::size_t p = 0; p < body.size(); ++p) {
            html += "<p>" + body[p] + "</p>";
            if (p < images.size()) {
                html += "<figure><img src=\"" + images[p].src + "\" alt=\"\"><figcaption>" +
                        images[p].caption + "</figcaption></figure>";
            }
        }
        return html;
    }

    Article original(std::int64_t i) const {
        Rng rng(seed_ ^ (static_cast<std::uint64_t>(i) * 0xA24BAED4963EE407ULL) ^ 0x0419ULL);
        Article a;
        const std::string site(kSites[rng.below(kSites.size())]);
        fill_identity(a, site, i, rng);
        a.title = sentence(rng, rng.between(9, 16));
        a.title.pop_back();  // no full stop in a headline
        a.lead = sentence(rng, rng.between(25, 45));
        const int paragraphs = rng.between(5, 20);
        for (int p = 0; p < paragraphs; ++p) {
            a.body.push_back(paragraph(rng));
        }
        a.author = rng.below(3) == 0 ? "" : "Nguyễn Văn " + words_[rng.below(words_.size())];
        a.section = std::string(kSections[rng.below(kSections.size())]);
        const int images = rng.between(0, 3);
        for (int k = 0; k < images; ++k) {
            a.images.push_back(Image{.src = "https://" + site + ".vn/uploads/" + std::to_string(i) +
                                            "-" + std::to_string(k) + ".jpg",
                                     .caption = sentence(rng, rng.between(6, 12))});
        }
        a.html = html_of(a.body, a.images);
        const std::int64_t published =
            kEpoch + kTwoYears * i / std::max<std::int64_t>(1, total_hint_) + rng.between(0, 3600);
        a.published = Timestamp(std::chrono::seconds(published));
        return a;
    }

    // The source as another paper prints it.
    Article copy_of(Article source, std::int64_t i) const {
        Rng rng(seed_ ^ (static_cast<std::uint64_t>(i) * 0x9FB21C651E98DF25ULL) ^ 0xC09EULL);
        const auto source_site = static_cast<std::size_t>(
            std::find(kSites.begin(), kSites.end(), source.site) - kSites.begin());
        const std::string site(
            kSites[(source_site + 1 + rng.below(kSites.size() - 1)) % kSites.size()]);
        Article a = std::move(source);
        a.urls.clear();
        fill_identity(a, site, i, rng);
        a.title = sentence(rng, rng.between(9, 16));  // its own headline
        a.title.pop_back();
        a.lead_prefix = rng.below(2) == 0 ? "TTXVN - " : "(TTXVN) ";
        a.lead = a.lead_prefix + a.lead;
        if (a.body.size() > 5 && rng.below(2) == 0) {
            a.body.erase(a.body.begin() + static_cast<std::ptrdiff_t>(rng.below(a.body.size())));
        }
        if (rng.below(2) == 0) {
            a.body.push_back(paragraph(rng));  // local addition
        }
        a.images.clear();
        a.html = html_of(a.body, a.images);
        a.published = *a.published + std::chrono::seconds(rng.between(600, 7200));
        return a;
    }

    void fill_identity(Article& a, const std::string& site, std::int64_t i, Rng& rng) const {
        a.site = site;
        const std::string number = std::to_string(100'000 + i);
        a.canonical_url = "https://" + site + ".vn/bai-viet-" + number + ".html";
        a.id_key = site + "#" + number;
        a.urls = {a.canonical_url};
        if (rng.below(3) == 0) {
            a.urls.push_back("https://m." + site + ".vn/bai-viet-" + number + ".html");
        }
        if (rng.below(4) == 0) {
            a.urls.push_back(a.canonical_url + "?utm_source=zalo&zarsrc=31");
        }
    }

  public:
    void set_total(std::int64_t n) { total_hint_ = n; }

  private:
    std::uint64_t seed_;
    std::vector<std::string> words_;
    std::int64_t total_hint_ = 1;
};

// CPU time of this thread, in milliseconds: the machine may be shared, and wall-clock rates
// then measure the neighbours too.
std::uint32_t signature_sink = 0;  // printed, so the timed signatures are not optimised out

double cpu_ms() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_nsec) / 1e6;
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double peak_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

struct Options {
    std::int64_t n = 0;
    std::string db;
    bool keep = false;
    std::uint64_t seed = 20241222;
    std::int64_t batch = 1000;
    unsigned producers = std::max(1U, std::thread::hardware_concurrency());
    bool search_index = true;
};

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--db" && i + 1 < argc) {
            options.db = argv[++i];
        } else if (arg == "--no-search-index") {
            options.search_index = false;
        } else if (arg == "--keep") {
            options.keep = true;
        } else if (arg == "--batch" && i + 1 < argc) {
            options.batch = std::stoll(argv[++i]);
        } else if (arg == "--producers" && i + 1 < argc) {
            options.producers = static_cast<unsigned>(std::stoul(argv[++i]));
        } else if (arg == "--seed" && i + 1 < argc) {
            options.seed = std::stoull(argv[++i]);
        } else if (options.n == 0) {
            options.n = std::stoll(arg);
        } else {
            throw std::invalid_argument("unknown argument: " + arg);
        }
    }
    if (options.n <= 0 || options.batch <= 0 || options.producers == 0) {
        throw std::invalid_argument(
            "usage: bench_store N [--db PATH] [--keep] [--seed S] [--batch B] [--producers P] "
            "[--no-search-index]");
    }
    if (options.db.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        options.db = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/store-bench-" +
                     std::to_string(options.n) + ".db";
    }
    return options;
}

void remove_db(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(path + suffix);
    }
}

struct Measures {
    double lookup_ms = 0;
    double lookup_cpu_ms = 0;
    double signature_ms = 0;
    double site_ms = 0;
    double cluster_ms = 0;
    double latest_ms = 0;
    std::size_t samples = 0;
    std::size_t copies = 0;
    std::size_t originals = 0;
    std::size_t found_source = 0;
    std::size_t original_hits = 0;
    std::size_t copies_in_source_cluster = 0;
    std::size_t falsely_merged = 0;
    std::size_t rows = 0;
};

Measures measure(ArticleStore& store, const Corpus& corpus, const Options& options,
                 std::int64_t n) {
    Measures m;

    // Near-duplicate lookups: 1,000 samples, half of them syndicated copies (whose source must
    // come back), half originals.
    Rng pick(options.seed ^ 0xBE7CULL);
    std::vector<std::int64_t> copies;
    std::vector<std::int64_t> originals;
    for (std::int64_t tries = 0;
         tries < 2'000'000 && (copies.size() < 500 || originals.size() < 500); ++tries) {
        const auto i = static_cast<std::int64_t>(pick.below(static_cast<std::size_t>(n)));
        if (corpus.source_of(i) >= 0) {
            if (copies.size() < 500) {
                copies.push_back(i);
            }
        } else if (originals.size() < 500) {
            originals.push_back(i);
        }
    }
    std::vector<std::int64_t> samples = copies;
    samples.insert(samples.end(), originals.begin(), originals.end());
    std::vector<Article> sample_articles;
    for (const std::int64_t i : samples) {
        sample_articles.push_back(corpus.article(i));
    }
    std::size_t found_source = 0;
    std::size_t original_hits = 0;
    // The signatures alone (textkey), to tell their cost from the database's.
    const double sign_start = cpu_ms();
    for (const Article& a : sample_articles) {
        signature_sink ^= baofeed::textkey::signature(a).values[0];
    }
    m.signature_ms = (cpu_ms() - sign_start) / static_cast<double>(sample_articles.size());
    std::fprintf(stderr, "  (signature check %08x)\n", signature_sink);
    const double lookup_cpu_start = cpu_ms();
    const auto lookup_start = Clock::now();
    for (std::size_t k = 0; k < sample_articles.size(); ++k) {
        const std::vector<std::string> similar = store.near_duplicates(sample_articles[k], 10);
        if (k < copies.size()) {
            const std::string source_url =
                corpus.article(corpus.source_of(samples[k])).canonical_url;
            found_source += std::find(similar.begin(), similar.end(), source_url) != similar.end();
        } else {
            original_hits += similar.empty() ? 0U : 1U;
        }
    }
    const double lookup_ms = ms_since(lookup_start) / static_cast<double>(sample_articles.size());
    m.lookup_cpu_ms = (cpu_ms() - lookup_cpu_start) / static_cast<double>(sample_articles.size());

    // Cluster quality on the stored corpus.
    std::size_t copies_in_source_cluster = 0;
    for (const std::int64_t i : copies) {
        const auto copy = store.find(corpus.article(i).canonical_url);
        const auto source = store.find(corpus.article(corpus.source_of(i)).canonical_url);
        copies_in_source_cluster += copy && source && copy->cluster == source->cluster;
    }
    // An original is falsely merged when its cluster holds an article that is neither it nor a
    // copy of it.
    std::size_t falsely_merged = 0;
    auto index_of = [](const std::string& url) {
        const std::size_t start = url.rfind('-') + 1;
        return std::stoll(url.substr(start, url.size() - start - 5)) - 100'000;
    };
    for (const std::int64_t i : originals) {
        const auto stored = store.find(corpus.article(i).canonical_url);
        if (!stored) {
            continue;
        }
        for (const auto& member : store.cluster(stored->cluster, 0)) {
            const std::int64_t j = index_of(member.article.canonical_url);
            if (j != i && corpus.source_of(j) != i) {
                ++falsely_merged;
                break;
            }
        }
    }

    // Latest 50 of one site, then of one cluster (clusters of sampled copies: 2+ articles).
    std::vector<std::int64_t> clusters;
    for (const std::int64_t i : copies) {
        if (auto stored = store.find(corpus.article(i).canonical_url)) {
            clusters.push_back(stored->cluster);
        }
    }
    constexpr int kQueries = 200;
    std::size_t rows = 0;
    auto start = Clock::now();
    for (int q = 0; q < kQueries; ++q) {
        rows +=
            store.list(std::string_view(kSites[static_cast<std::size_t>(q) % kSites.size()]), 50)
                .size();
    }
    const double site_ms = ms_since(start) / kQueries;
    start = Clock::now();
    for (int q = 0; q < kQueries && !clusters.empty(); ++q) {
        rows += store.cluster(clusters[static_cast<std::size_t>(q) % clusters.size()], 50).size();
    }
    const double cluster_ms = clusters.empty() ? 0 : ms_since(start) / kQueries;
    const double latest_ms = std::max(site_ms, cluster_ms);

    m.lookup_ms = lookup_ms;
    m.site_ms = site_ms;
    m.cluster_ms = cluster_ms;
    m.latest_ms = latest_ms;
    m.samples = sample_articles.size();
    m.copies = copies.size();
    m.originals = originals.size();
    m.found_source = found_source;
    m.original_hits = original_hits;
    m.copies_in_source_cluster = copies_in_source_cluster;
    m.falsely_merged = falsely_merged;
    m.rows = rows;
    return m;
}

int run(const Options& options) {
    remove_db(options.db);
    Corpus corpus(options.seed);
    corpus.set_total(options.n);
    const std::int64_t n = options.n;
    const Timestamp now(std::chrono::seconds(kEpoch + kTwoYears + 86'400));
    const std::int64_t kBatch = options.batch;

    // The articles are generated in chunks (not timed); then, timed, a producer thread
    // prepares a chunk (ArticleStore::prepare: the signature, JSON columns, hashes and zstd
    // frame) batch by batch, each batch shared among options.producers threads as the crawler's
    // parse threads share pages, while this thread saves the batches. The queue holds a few
    // batches, so the producer runs at most that far ahead.
    const std::int64_t chunk = std::max<std::int64_t>(kBatch, 5000) / kBatch * kBatch;
    double generate_cpu_ms = 0;
    double prepare_cpu_ms = 0;
    double insert_ms = 0;
    double insert_cpu_ms = 0;
    double last_tenth_ms = 0;
    std::int64_t last_tenth = 0;
    std::size_t inserted = 0;
    double index_ms = 0;
    double wait_ms = 0;
    std::size_t indexed = 0;
    {
        ArticleStore store(options.db);
        std::int64_t saved = 0;
        for (std::int64_t chunk_first = 0; chunk_first < n; chunk_first += chunk) {
            const double generate_start = cpu_ms();
            std::vector<Article> articles;
            for (std::int64_t i = chunk_first; i < std::min(n, chunk_first + chunk); ++i) {
                articles.push_back(corpus.article(i));
            }
            generate_cpu_ms += cpu_ms() - generate_start;
            BatchQueue queue(4);
            const auto start = Clock::now();
            std::thread producer([&] {
                lower_priority(kPrepareNice);
                try {
                    for (std::size_t first = 0; first < articles.size();
                         first += static_cast<std::size_t>(kBatch)) {
                        const std::size_t count =
                            std::min(static_cast<std::size_t>(kBatch), articles.size() - first);
                        std::vector<PreparedArticle> batch(count);
                        // Thread t prepares articles t, t + P, t + 2P, ... of the batch.
                        std::vector<double> cpu(options.producers, 0.0);
                        auto slice = [&](unsigned t) {
                            if (t != 0) {  // a helper thread (0 is this producer thread)
                                lower_priority(kPrepareNice);
                            }
                            const double slice_start = cpu_ms();
                            for (std::size_t i = t; i < count; i += options.producers) {
                                batch[i] = ArticleStore::prepare(std::move(articles[first + i]));
                            }
                            cpu[t] = cpu_ms() - slice_start;
                        };
                        {
                            std::vector<std::jthread> helpers;
                            for (unsigned t = 1; t < options.producers; ++t) {
                                helpers.emplace_back(slice, t);
                            }
                            slice(0);
                        }
                        for (const double c : cpu) {
                            prepare_cpu_ms += c;
                        }
                        queue.push(std::move(batch));
                    }
                } catch (...) {
                    queue.fail(std::current_exception());
                }
                queue.close();
            });
            const double cpu_start = cpu_ms();
            for (;;) {
                const auto wait_start = Clock::now();
                std::optional<std::vector<PreparedArticle>> batch = queue.pop();
                wait_ms += ms_since(wait_start);
                if (!batch) {
                    break;
                }
                const auto batch_start = Clock::now();
                for (const auto result : store.save(*batch, now)) {
                    inserted += result == baofeed::storage::SaveResult::inserted ? 1U : 0U;
                }
                const std::int64_t before = saved;
                saved += static_cast<std::int64_t>(batch->size());
                if (before >= n - n / 10) {
                    last_tenth_ms += ms_since(batch_start);
                    last_tenth += static_cast<std::int64_t>(batch->size());
                }
                if (saved / 100'000 != before / 100'000) {
                    std::fprintf(
                        stderr, "  %lld articles, %.0f/s so far\n", static_cast<long long>(saved),
                        static_cast<double>(saved) / ((insert_ms + ms_since(start)) / 1000.0));
                }
            }
            insert_cpu_ms += cpu_ms() - cpu_start;
            producer.join();
            insert_ms += ms_since(start);
            queue.rethrow();
        }

        // The search index, filled after the insert phase as the crawler does at the end of a
        // run.
        if (options.search_index) {
            const auto index_start = Clock::now();
            indexed = store.index_pending();
            index_ms = ms_since(index_start);
        }
    }
    const double insert_per_s = static_cast<double>(n) / (insert_ms / 1000.0);
    const double last_tenth_per_s =
        last_tenth > 0 ? static_cast<double>(last_tenth) / (last_tenth_ms / 1000.0) : 0;

    Measures m;
    {
        ArticleStore store(options.db);  // reopened: a warm but not freshly written cache
        m = measure(store, corpus, options, n);
    }
    // The store is closed: its WAL is checkpointed into the main file and removed.
    std::uintmax_t bytes = 0;
    for (const char* suffix : {"", "-wal"}) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(options.db + suffix, ec);
        bytes += ec ? 0 : size;
    }
    const double bytes_per_article = static_cast<double>(bytes) / static_cast<double>(n);

    std::printf(
        "corpus: %lld articles generated, %zu inserted (rest merged by identity), "
        "%.1f%% syndicated copies\n",
        static_cast<long long>(n), inserted, 100.0 * kSyndicatedShare);
    std::printf(
        "insert: %.0f articles/s overall (wall clock, prepare on %u threads), %.0f/s over "
        "the last tenth (batches of %lld); writer CPU %.0f us per article (%.0f/s if the writer "
        "had a core to itself)\n",
        insert_per_s, options.producers, last_tenth_per_s, static_cast<long long>(kBatch),
        1000.0 * insert_cpu_ms / static_cast<double>(n),
        static_cast<double>(n) / (insert_cpu_ms / 1000.0));
    std::printf("writer: waited %.0f us per article for the producer\n",
                1000.0 * wait_ms / static_cast<double>(n));
    std::printf(
        "producers: CPU %.0f us per article preparing, all threads (timed, concurrent with the "
        "writer); "
        "%.0f us generating (not timed, in chunks of %lld)\n",
        1000.0 * prepare_cpu_ms / static_cast<double>(n),
        1000.0 * generate_cpu_ms / static_cast<double>(n), static_cast<long long>(chunk));
    if (options.search_index) {
        std::printf("search index: %zu articles in %.1f s, %.0f articles/s\n", indexed,
                    index_ms / 1000.0, static_cast<double>(indexed) / (index_ms / 1000.0));
    } else {
        std::printf("search index: skipped (--no-search-index)\n");
    }
    std::printf(
        "lookup: %.3f ms per article over %zu (CPU %.3f ms, of which %.3f ms computing the "
        "signature); copies finding their source %zu/%zu; originals with any near-duplicate "
        "%zu/%zu\n",
        m.lookup_ms, m.samples, m.lookup_cpu_ms, m.signature_ms, m.found_source, m.copies,
        m.original_hits, m.originals);
    std::printf(
        "clusters: copies in their source's cluster %zu/%zu; originals falsely merged %zu/%zu\n",
        m.copies_in_source_cluster, m.copies, m.falsely_merged, m.originals);
    std::printf("latest 50: site %.3f ms, cluster %.3f ms (%zu rows read)\n", m.site_ms,
                m.cluster_ms, m.rows);
    std::printf("size: %ju bytes, %.0f bytes per article\n", bytes, bytes_per_article);
    std::printf(
        "articles %lld insert_per_s %.0f lookup_ms %.3f latest_ms %.3f bytes_per_article "
        "%.0f peak_mb %.0f\n",
        static_cast<long long>(n), insert_per_s, m.lookup_ms, m.latest_ms, bytes_per_article,
        peak_mb());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse(argc, argv);
        const int code = run(options);
        if (!options.keep) {
            remove_db(options.db);
        }
        return code;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_store: %s\n", e.what());
        return 1;
    }
}

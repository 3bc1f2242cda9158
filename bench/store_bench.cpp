// bench_store: the storage benchmark of issue 5 on a synthetic corpus of Vietnamese articles.
//
//   bench_store N [--db PATH] [--keep] [--seed S] [--batch B] [--producers P]
//               [--no-search-index] [--copy]
//
// Generates N articles deterministically (20 sites; titles, leads and 5-20 paragraphs drawn from
// a Zipf-weighted syllable vocabulary of news Vietnamese; dates over two years; sanitized HTML,
// images, aliases, site article IDs; ~5% syndicated copies of an earlier article on another
// site: new headline and dateline prefix, a paragraph cut or added), then measures through the
// public ArticleStore API:
//   - insert with dedup + clustering, as the crawler does it: P persistent threads (default: one
//     per core, at nice +10, as the crawler's parse pool) each take the next article when free
//     (with --copy: and copy it, see InsertPipeline) and run ArticleStore::prepare() on it
//     (signature, JSON columns, hashes, the zstd frame of body and html) while this thread
//     save()s the prepared articles in batches of B (default 1000; one transaction each), in
//     order. insert_per_s is articles / wall time of that phase; the writer's CPU time per article
//     is given too. Article generation is not timed: the pipeline is stopped, without draining
//     it, to generate the next chunk of 2,500 (InsertPipeline below; at most two chunks wait,
//     ~80 MB of peak memory; with --copy, the originals of about one more);
//   - the search index: index_pending() once after the insert phase (the crawler calls it at
//     the end of a run), reported on the line "search index: N articles in S s, X articles/s";
//     --no-search-index skips it (quick runs of the other figures: the file is then smaller);
//   - near-duplicate lookup: near_duplicates() for 1,000 sampled articles (half syndicated),
//     signature computation included (also reported alone);
//   - latest 50 items of one site (list) and of one story cluster (cluster), 200 of each;
//   - database bytes per article (file size after the store is closed, WAL checkpointed);
//   - peak memory (max RSS), with the malloc in use named on a line of its own (the build's
//     BAOFEED_ALLOCATOR, jemalloc by default: it changes the insert rate by a fifth).
// Wall-clock and CPU figures are both given: on a shared machine the wall clock also measures
// the neighbours.
// Also reports clustering quality on the corpus: syndicated copies found in their source's
// cluster (recall) and originals merged into another article's cluster (false merges).
// Last line: articles N insert_per_s X lookup_ms Y latest_ms Z bytes_per_article B peak_mb M
// where Z is the slower of the two "latest 50" figures.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/resource.h>
#include <thread>
#include <time.h>
#include <vector>

#include "bench/vietnamese_words.h"
#include "core/allocator.h"
#include "core/textkey.h"
#include "core/thread_priority.h"
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

std::uint32_t signature_sink = 0;  // printed, so the timed signatures are not optimised out

// CPU time of this thread (or of `clock`'s subject), in milliseconds: the machine may be shared,
// and wall-clock rates then measure the neighbours too.
double cpu_ms(clockid_t clock = CLOCK_THREAD_CPUTIME_ID) {
    timespec t{};
    clock_gettime(clock, &t);
    return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_nsec) / 1e6;
}

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The machine's time since boot from /proc/stat's "cpu" line (all cores), in clock ticks: idle,
// waiting for I/O, and in all. Zero when the file cannot be read.
struct MachineTicks {
    std::uint64_t idle = 0;
    std::uint64_t iowait = 0;
    std::uint64_t all = 0;
};

MachineTicks machine_ticks() {
    MachineTicks ticks;
    std::FILE* stat = std::fopen("/proc/stat", "r");
    if (stat == nullptr) {
        return ticks;
    }
    std::array<unsigned long long, 8> v{};  // user nice system idle iowait irq softirq steal
    if (std::fscanf(stat, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7]) == 8) {
        ticks.idle = v[3];
        ticks.iowait = v[4];
        for (const unsigned long long x : v) {
            ticks.all += x;
        }
    }
    std::fclose(stat);
    return ticks;
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
    bool copy = false;
};

Options parse(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--db" && i + 1 < argc) {
            options.db = argv[++i];
        } else if (arg == "--no-search-index") {
            options.search_index = false;
        } else if (arg == "--copy") {
            options.copy = true;
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
            "[--no-search-index] [--copy]");
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

// The insert phase, shaped like the crawler's pipeline (app/pipeline.cpp): a pool of persistent
// prepare threads at nice +10, each taking the next article as soon as it is free (the parse
// pool runs one job per page), and the calling thread, the writer, saving the prepared articles
// in batches, in order, one transaction each (the crawler's writer thread).
//
// The corpus is generated off the clock, by the writer, in chunks: when fewer than a chunk of
// generated articles is left for the prepare threads, the writer stops the pipeline between two
// of its batches, even with batches ready (each prepare thread finishes the article it holds,
// then waits), stops the clock, generates the next chunk, frees the originals of the articles
// copied since the last stop (--copy), and starts both again. The batches already prepared
// stay queued, so the pipeline never drains, as in a crawl, where pages keep coming.
//
// The store's WAL checkpointer thread goes on while the clock is stopped (waiting for it to finish
// would put its fsyncs, which a crawl overlaps with work, on the clock, both cores idle). So that
// its work is not hidden, its CPU time then (all threads' but the writer's:
// Result::background_cpu_ms) is added to the insert time, in full, as if nothing had run beside
// it. After the last batch, the clock runs until the WAL is checkpointed, the pages of the last
// commits included (ArticleStore::checkpoint; a crawl copies them when it closes the database):
// a run shorter than one checkpoint's worth of pages (16,000, ~14,000 articles) pays for its
// copy too.
//
// Where an article's text was allocated weighed on prepare() with glibc's malloc, which frees
// body and html into the arena of the thread that allocated them, taking its lock while that
// thread allocates. In the crawler, a parse thread extracts the article and whichever parse
// thread is free prepares it, a few pages later. Here the writer generated it, up to two chunks
// earlier, and the prepare threads free its text. With --copy, a prepare thread first copies
// the article, on the clock, and prepares the copy: the flow of a crawler whose parse thread
// would prepare the article it has just extracted (tried in 65d6c18: the crawl benchmark was 6%
// slower, reverted); the writer frees the originals at the next stop, off the clock. Side by
// side at 300k on glibc's malloc: generated by the writer 19,700 articles/s (the default);
// generated by the prepare threads and prepared by whichever is free 19,100; by the prepare
// threads, each preparing its own (text long out of the cache) 19,500; --copy 23,000. On
// jemalloc (the build's default since 7cf3acb) the flows are within 2%: default 23,900 and
// 24,250, --copy 24,400 and 24,500.
//
// Prepare threads run at most kAhead batches ahead of the batch the writer is saving.
class InsertPipeline {
  public:
    struct Result {
        std::size_t inserted = 0;      // SaveResult::inserted
        double insert_ms = 0;          // wall clock with the pipeline running, plus
                                       // background_cpu_ms
        double wait_ms = 0;            // the writer waiting for a batch
        double writer_cpu_ms = 0;      // the writer's CPU with the pipeline running
        double prepare_cpu_ms = 0;     // all prepare threads
        double generate_cpu_ms = 0;    // off the clock
        double background_cpu_ms = 0;  // other threads' CPU while the clock was stopped
        double process_cpu_ms = 0;     // all threads with the clock running, + background_cpu_ms
        double last_tenth_ms = 0;      // save() of the batches of the last tenth
        std::int64_t last_tenth = 0;   // articles in those batches
        std::int64_t pauses = 0;
        // The machine's clock ticks with the clock running, all cores: idle (not waiting for
        // I/O), waiting for I/O, and in all.
        std::uint64_t idle_ticks = 0;
        std::uint64_t iowait_ticks = 0;
        std::uint64_t all_ticks = 0;
    };

    InsertPipeline(const Corpus& corpus, std::int64_t n, std::int64_t batch, unsigned producers,
                   std::int64_t chunk, bool copy)
        : corpus_(corpus),
          n_(n),
          batch_(batch),
          producers_(std::max(1U, producers)),
          chunk_(chunk),
          copy_(copy) {}

    Result run(ArticleStore& store, Timestamp now) {
        Result result;
        generate(result);  // the first chunk
        std::vector<std::thread> threads;
        for (unsigned t = 0; t < producers_; ++t) {
            threads.emplace_back([this] { produce(); });
        }
        const std::int64_t batches = (n_ + batch_ - 1) / batch_;
        std::int64_t saved = 0;
        auto segment_start = Clock::now();
        double segment_cpu = cpu_ms();
        double segment_process_cpu = process_cpu_ms();
        MachineTicks segment_ticks = machine_ticks();
        const auto end_segment = [&] {
            const MachineTicks ticks = machine_ticks();
            result.idle_ticks += ticks.idle - segment_ticks.idle;
            result.iowait_ticks += ticks.iowait - segment_ticks.iowait;
            result.all_ticks += ticks.all - segment_ticks.all;
        };
        try {
            for (std::int64_t b = 0; b < batches; ++b) {
                std::vector<PreparedArticle> batch;
                {
                    std::unique_lock lock(mutex_);
                    for (;;) {
                        const auto wait_start = Clock::now();
                        writer_cv_.wait(lock,
                                        [&] { return error_ || !ready_.empty() || needs_chunk(); });
                        result.wait_ms += ms_since(wait_start);
                        if (error_ || !needs_chunk()) {
                            break;
                        }
                        // Stop the pipeline (the prepare threads finish their article), then the
                        // clock; generate; start both again.
                        paused_ = true;
                        writer_cv_.wait(lock, [&] { return active_ == 0; });
                        lock.unlock();
                        result.insert_ms += ms_since(segment_start);
                        result.writer_cpu_ms += cpu_ms() - segment_cpu;
                        result.process_cpu_ms += process_cpu_ms() - segment_process_cpu;
                        end_segment();
                        const double process_start = process_cpu_ms();
                        const double own_start = cpu_ms();
                        generate(result);
                        lock.lock();
                        result.background_cpu_ms += std::max(  // clocks of different granularity
                            0.0, (process_cpu_ms() - process_start) - (cpu_ms() - own_start));
                        ++result.pauses;
                        paused_ = false;
                        producer_cv_.notify_all();
                        segment_start = Clock::now();
                        segment_cpu = cpu_ms();
                        segment_process_cpu = process_cpu_ms();
                        segment_ticks = machine_ticks();
                    }
                    if (error_) {
                        break;
                    }
                    batch = std::move(ready_.front());
                    ready_.pop_front();
                    writing_ = b;
                    producer_cv_.notify_all();
                }
                const auto batch_start = Clock::now();
                for (const auto outcome : store.save(batch, now)) {
                    result.inserted += outcome == baofeed::storage::SaveResult::inserted ? 1U : 0U;
                }
                const std::int64_t before = saved;
                saved += static_cast<std::int64_t>(batch.size());
                if (before >= n_ - n_ / 10) {
                    result.last_tenth_ms += ms_since(batch_start);
                    result.last_tenth += static_cast<std::int64_t>(batch.size());
                }
                if (saved / 100'000 != before / 100'000) {
                    std::fprintf(stderr, "  %lld articles, %.0f/s so far\n",
                                 static_cast<long long>(saved),
                                 static_cast<double>(saved) /
                                     ((result.insert_ms + ms_since(segment_start)) / 1000.0));
                }
            }
            store.checkpoint();
        } catch (...) {
            std::lock_guard lock(mutex_);
            if (!error_) {
                error_ = std::current_exception();
            }
        }
        result.insert_ms += ms_since(segment_start) + result.background_cpu_ms;
        result.writer_cpu_ms += cpu_ms() - segment_cpu;
        result.process_cpu_ms += process_cpu_ms() - segment_process_cpu + result.background_cpu_ms;
        end_segment();
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
            producer_cv_.notify_all();
        }
        for (std::thread& thread : threads) {
            thread.join();
        }
        if (error_) {
            std::rethrow_exception(error_);
        }
        result.prepare_cpu_ms = prepare_cpu_ms_;
        return result;
    }

  private:
    struct Batch {
        std::vector<PreparedArticle> articles;
        std::size_t left = 0;  // articles not prepared yet
    };

    // CPU time of all threads of the process, in milliseconds.
    static double process_cpu_ms() { return cpu_ms(CLOCK_PROCESS_CPUTIME_ID); }

    // Under mutex_: the prepare threads would soon run out of articles.
    bool needs_chunk() const {
        return generated_ < n_ && static_cast<std::int64_t>(pending_.size()) < chunk_;
    }

    // Frees the articles the prepare threads copied since the last call (--copy; this thread
    // allocated them) and appends the next chunk of the corpus to pending_. The prepare threads are
    // waiting (or not started): pending_ is only read and written under mutex_, and the chunk is
    // built outside.
    void generate(Result& result) {
        const double start = cpu_ms();
        std::vector<Article> copied;
        {
            std::lock_guard lock(mutex_);
            copied.swap(copied_);
        }
        copied.clear();  // on this thread, which allocated them
        const std::int64_t first = generated_;
        const std::int64_t last = std::min(n_, first + chunk_);
        std::vector<Article> chunk;
        chunk.reserve(static_cast<std::size_t>(last - first));
        for (std::int64_t i = first; i < last; ++i) {
            chunk.push_back(corpus_.article(i));
        }
        result.generate_cpu_ms += cpu_ms() - start;
        std::lock_guard lock(mutex_);
        for (Article& article : chunk) {
            pending_.push_back(std::move(article));
        }
        generated_ = last;
    }

    void produce() {
        baofeed::lower_thread_priority(kPrepareNice);
        // This thread's CPU in all: it waits (blocked, no CPU) whenever it is not preparing, and
        // reading a thread's CPU clock per article would cost a system call each time.
        const double start = cpu_ms();
        for (;;) {
            std::int64_t index = 0;
            Article article;
            {
                std::unique_lock lock(mutex_);
                producer_cv_.wait(lock, [&] {
                    return stopping_ || error_ || taken_ == n_ ||
                           (!paused_ && !pending_.empty() &&
                            taken_ / batch_ < writing_ + 1 + kAhead);
                });
                if (stopping_ || error_ || taken_ == n_) {
                    break;
                }
                index = taken_++;
                article = std::move(pending_.front());
                pending_.pop_front();
                ++active_;
                if (static_cast<std::int64_t>(pending_.size()) == chunk_ - 1) {
                    writer_cv_.notify_one();  // needs_chunk() just became true
                }
                if (index % batch_ == 0) {
                    Batch& b = in_progress_[index / batch_];
                    b.left = static_cast<std::size_t>(std::min(batch_, n_ - index));
                    b.articles.resize(b.left);
                }
            }
            PreparedArticle prepared;
            try {
                if (copy_) {
                    Article own = article;  // allocated by this thread (see above)
                    prepared = ArticleStore::prepare(std::move(own));
                } else {
                    prepared = ArticleStore::prepare(std::move(article));
                }
            } catch (...) {
                std::lock_guard lock(mutex_);
                if (!error_) {
                    error_ = std::current_exception();
                }
                --active_;
                writer_cv_.notify_one();
                producer_cv_.notify_all();
                break;
            }
            std::lock_guard lock(mutex_);
            if (copy_) {
                copied_.push_back(std::move(article));
            }
            Batch& b = in_progress_[index / batch_];
            b.articles[static_cast<std::size_t>(index % batch_)] = std::move(prepared);
            --b.left;
            --active_;
            // Batches complete in order of their first article, not always in order: only a
            // run of complete batches from the oldest one on goes to the writer.
            bool moved = false;
            while (!in_progress_.empty() && in_progress_.begin()->second.left == 0) {
                ready_.push_back(std::move(in_progress_.begin()->second.articles));
                in_progress_.erase(in_progress_.begin());
                moved = true;
            }
            if (moved || (paused_ && active_ == 0)) {
                writer_cv_.notify_one();
            }
        }
        std::lock_guard lock(mutex_);
        prepare_cpu_ms_ += cpu_ms() - start;
    }

    // How many batches the prepare threads may run ahead of the one being saved (the batches
    // queued, then the one being prepared).
    static constexpr std::int64_t kAhead = 5;

    const Corpus& corpus_;
    const std::int64_t n_;
    const std::int64_t batch_;
    const unsigned producers_;
    const std::int64_t chunk_;
    const bool copy_;

    std::mutex mutex_;
    std::condition_variable producer_cv_;
    std::condition_variable writer_cv_;
    std::deque<Article> pending_;  // generated, not taken yet
    std::vector<Article> copied_;  // taken and copied by a prepare thread, to free
    std::int64_t generated_ = 0;   // articles generated so far
    std::int64_t taken_ = 0;       // articles taken by a prepare thread so far
    std::int64_t writing_ = -1;    // the batch the writer took last
    int active_ = 0;               // prepare threads holding an article
    bool paused_ = false;
    bool stopping_ = false;
    std::map<std::int64_t, Batch> in_progress_;       // by batch number
    std::deque<std::vector<PreparedArticle>> ready_;  // complete, in order
    double prepare_cpu_ms_ = 0;
    std::exception_ptr error_;
};

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

    // Generated in chunks of 2,500 off the clock (InsertPipeline): at most two chunks of
    // articles are waiting at a time.
    const std::int64_t chunk = 2500;
    InsertPipeline::Result inserting;
    double index_ms = 0;
    std::size_t indexed = 0;
    {
        ArticleStore store(options.db);
        InsertPipeline pipeline(corpus, n, kBatch, options.producers, chunk, options.copy);
        inserting = pipeline.run(store, now);

        // The search index, filled after the insert phase as the crawler does at the end of a
        // run.
        if (options.search_index) {
            const auto index_start = Clock::now();
            indexed = store.index_pending();
            index_ms = ms_since(index_start);
        }
    }
    const double insert_per_s = static_cast<double>(n) / (inserting.insert_ms / 1000.0);
    const double last_tenth_per_s =
        inserting.last_tenth > 0
            ? static_cast<double>(inserting.last_tenth) / (inserting.last_tenth_ms / 1000.0)
            : 0;
    const auto per_article_us = [n](double ms) { return 1000.0 * ms / static_cast<double>(n); };

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
        static_cast<long long>(n), inserting.inserted, 100.0 * kSyndicatedShare);
    std::printf(
        "insert: %.0f articles/s overall (wall clock, prepare on %u threads), %.0f/s in save() "
        "over the last tenth (batches of %lld); writer CPU %.0f us per article (%.0f/s if the "
        "writer had a core to itself)\n",
        insert_per_s, options.producers, last_tenth_per_s, static_cast<long long>(kBatch),
        per_article_us(inserting.writer_cpu_ms),
        static_cast<double>(n) / (inserting.writer_cpu_ms / 1000.0));
    std::printf("writer: waited %.0f us per article for the prepare threads\n",
                per_article_us(inserting.wait_ms));
    std::printf(
        "producers: CPU %.0f us per article preparing, all threads (timed, concurrent with the "
        "writer); %.0f us generating (not timed: %lld stops of the pipeline, chunks of %lld; "
        "other threads' CPU while stopped %.1f us per article, counted in the insert time)\n",
        per_article_us(inserting.prepare_cpu_ms), per_article_us(inserting.generate_cpu_ms),
        static_cast<long long>(inserting.pauses), static_cast<long long>(chunk),
        per_article_us(inserting.background_cpu_ms));
    const double all_us = per_article_us(inserting.process_cpu_ms);
    const double cores = std::max(1U, std::thread::hardware_concurrency());
    std::printf(
        "cpu: %.0f us per article in all threads (writer %.0f, prepare %.0f, the rest %.0f: the "
        "WAL checkpointer, the pipeline); %.0f%% of %.0f cores' time\n",
        all_us, per_article_us(inserting.writer_cpu_ms), per_article_us(inserting.prepare_cpu_ms),
        all_us - per_article_us(inserting.writer_cpu_ms) - per_article_us(inserting.prepare_cpu_ms),
        100.0 * inserting.process_cpu_ms / (cores * inserting.insert_ms), cores);
    if (inserting.all_ticks > 0) {
        const auto share = [&](std::uint64_t ticks) {
            return 100.0 * static_cast<double>(ticks) / static_cast<double>(inserting.all_ticks);
        };
        std::printf(
            "machine: %.0f%% idle and %.0f%% waiting for I/O with the clock running "
            "(/proc/stat, all processes)\n",
            share(inserting.idle_ticks), share(inserting.iowait_ticks));
    }
    std::printf("malloc: %s\n", baofeed::allocator_name().c_str());
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

#include "app/extract_command.h"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/article_json.h"
#include "app/commands.h"
#include "config/config.h"
#include "core/charset.h"
#include "core/dates.h"
#include "parsers/extract.h"

namespace baofeed::app {
namespace {

namespace fs = std::filesystem;

// Reads a whole file (or standard input for "-"); nullopt when it cannot be read.
std::optional<std::string> read_all(const fs::path& file) {
    std::ostringstream s;
    if (file == "-") {
        s << std::cin.rdbuf();
        return s.str();
    }
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    s << in.rdbuf();
    if (in.bad()) {
        return std::nullopt;
    }
    return s.str();
}

bool write_all(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    return static_cast<bool>(out);
}

std::string file_url(const fs::path& file) {
    std::error_code ec;
    const fs::path abs = fs::absolute(file, ec);
    return "file://" + (ec ? file : abs).generic_string();
}

std::string body_text(const Article& a) {
    std::string out;
    for (const std::string& p : a.body) {
        out += (out.empty() ? "" : "\n\n") + p;
    }
    return out;
}

std::string plain_text(const Article& a) {
    std::string out = a.title + "\n\n" + body_text(a);
    out += '\n';
    return out;
}

nlohmann::json to_json(const parsers::Extraction& e, const std::string& url) {
    nlohmann::json out = article_fields_json(e.article);
    out["canonical_url"] = e.declared_canonical.empty() ? url : e.declared_canonical;
    out["generic"] = e.generic;
    return out;
}

// The rules of --site in --config; empty rules (the generic extractor) without --site.
SiteRules rules_for(const ExtractOptions& options) {
    if (!options.site) {
        return {};
    }
    const config::Config config = config::load_config(*options.config);
    const auto it =
        std::find_if(config.sites.begin(), config.sites.end(),
                     [&](const config::SiteConfig& s) { return s.name == *options.site; });
    if (it == config.sites.end()) {
        throw std::invalid_argument("no site named '" + *options.site + "' in " +
                                    options.config->string());
    }
    return it->rules;
}

int extract_one(const ExtractOptions& options, const SiteRules& rules) {
    const std::optional<std::string> bytes = read_all(options.file);
    if (!bytes) {
        std::cerr << "baofeed: " << options.file.string() << ": cannot read\n";
        return kExitFatal;
    }
    const std::string url = options.url.empty() ? file_url(options.file) : options.url;
    const parsers::Extraction e =
        parsers::extract_article(charset::to_utf8(*bytes, ""), url, rules);
    if (!e.ok) {
        std::cerr << "baofeed: " << options.file.string() << ": " << e.error << "\n";
        return kExitSiteBroken;
    }
    if (options.json) {
        std::cout << to_json(e, url).dump(2) << "\n";
    } else {
        std::cout << plain_text(e.article);
    }
    return kExitOk;
}

int extract_batch(const ExtractOptions& options, const SiteRules& rules) {
    const fs::path& in_dir = *options.batch_in;
    std::error_code ec;
    if (!fs::is_directory(in_dir, ec)) {
        std::cerr << "baofeed: " << in_dir.string() << ": not a directory\n";
        return kExitUsage;
    }
    fs::create_directories(options.batch_out, ec);
    if (!fs::is_directory(options.batch_out, ec)) {
        std::cerr << "baofeed: " << options.batch_out.string() << ": cannot create\n";
        return kExitFatal;
    }
    std::vector<fs::path> pages;
    for (const auto& entry : fs::directory_iterator(in_dir, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".html") {
            pages.push_back(entry.path());
        }
    }
    std::sort(pages.begin(), pages.end());
    unsigned jobs = options.jobs != 0 ? options.jobs : std::thread::hardware_concurrency();
    jobs = std::clamp<unsigned>(jobs, 1U,
                                static_cast<unsigned>(std::max<std::size_t>(pages.size(), 1)));

    std::atomic<std::size_t> next{0};
    std::atomic<bool> write_failed{false};
    std::atomic<std::size_t> failed{0};
    std::mutex err_mutex;
    const auto report = [&err_mutex](const std::string& line) {
        const std::lock_guard<std::mutex> lock(err_mutex);
        std::cerr << line << "\n";
    };
    const auto work = [&]() {
        while (true) {
            const std::size_t i = next.fetch_add(1);
            if (i >= pages.size()) {
                return;
            }
            const fs::path& page = pages[i];
            std::string text;
            const std::optional<std::string> bytes = read_all(page);
            if (!bytes) {
                report("baofeed: " + page.string() + ": cannot read");
                ++failed;
            } else {
                const parsers::Extraction e =
                    parsers::extract_article(charset::to_utf8(*bytes, ""), file_url(page), rules);
                if (e.ok) {
                    text = body_text(e.article);
                    text += '\n';
                } else {
                    report("baofeed: " + page.string() + ": " + e.error);
                    ++failed;
                }
            }
            const fs::path out = options.batch_out / (page.stem().string() + ".txt");
            if (!write_all(out, text)) {
                report("baofeed: " + out.string() + ": cannot write");
                write_failed = true;
            }
        }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < jobs; ++t) {
        threads.emplace_back(work);
    }
    work();
    for (std::thread& t : threads) {
        t.join();
    }
    if (write_failed) {
        return kExitFatal;
    }
    return failed == 0 ? kExitOk : kExitSiteBroken;
}

}  // namespace

int extract_command(const ExtractOptions& options) {
    if (options.site && !options.config) {
        std::cerr << "baofeed: extract --site needs --config\n";
        return kExitUsage;
    }
    SiteRules rules;
    try {
        rules = rules_for(options);
    } catch (const std::invalid_argument& e) {
        std::cerr << "baofeed: " << e.what() << "\n";
        return kExitUsage;
    }
    if (options.batch_in) {
        return extract_batch(options, rules);
    }
    return extract_one(options, rules);
}

}  // namespace baofeed::app

// baofeed: crawl Vietnamese news sites into clean full-text feeds. See README.md.
#include <clocale>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "app/commands.h"
#include "app/extract_command.h"
#include "core/allocator.h"

namespace {

// curl_global_init/cleanup for the life of main.
class CurlGlobal {
  public:
    CurlGlobal() {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("curl_global_init failed");
        }
    }
    ~CurlGlobal() { curl_global_cleanup(); }
    CurlGlobal(const CurlGlobal&) = delete;
    CurlGlobal& operator=(const CurlGlobal&) = delete;
};

void setup_logging(int verbosity, bool quiet) {
    auto logger = spdlog::stderr_color_mt("baofeed");
    logger->set_pattern("baofeed: %^%l%$: %v");
    spdlog::set_default_logger(logger);
    if (quiet) {
        spdlog::set_level(spdlog::level::err);
    } else if (verbosity >= 2) {
        spdlog::set_level(spdlog::level::debug);
    } else if (verbosity == 1) {
        spdlog::set_level(spdlog::level::info);
    } else {
        spdlog::set_level(spdlog::level::warn);
    }
}

std::string default_config() {
    const char* env = std::getenv("BAOFEED_CONFIG");
    return env != nullptr && *env != '\0' ? env : "baofeed.toml";
}

std::optional<std::string> optional_string(const std::string& s) {
    if (s.empty()) {
        return std::nullopt;
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    // cron runs with LANG unset; libcurl's IDN handling needs a UTF-8 LC_CTYPE (STYLE.md).
    std::setlocale(LC_CTYPE, "C.UTF-8");
    namespace app = baofeed::app;

    CLI::App cli{"baofeed: clean full-text feeds from Vietnamese news sites"};
    cli.require_subcommand(1);
    cli.fallthrough();  // global options may follow the subcommand: `baofeed run --config F`
    std::string config_path = default_config();
    int verbosity = 0;
    bool quiet = false;
    auto* config_option =
        cli.add_option("-c,--config", config_path,
                       "configuration file (default: $BAOFEED_CONFIG or ./baofeed.toml)");
    cli.add_flag("-v,--verbose", verbosity, "say more: -v per-site summary, -vv every page");
    cli.add_flag("-q,--quiet", quiet, "errors only");
    cli.set_version_flag(
        "-V,--version",
        [] { return "baofeed " BAOFEED_VERSION " (" + baofeed::allocator_name() + ")"; },
        "print the version and the malloc in use, and exit");

    auto* run =
        cli.add_subcommand("run", "crawl every site once, store new articles, write the feeds");

    app::ArticlesOptions articles_options;
    std::string site;
    auto* articles = cli.add_subcommand("articles", "print the stored articles, newest first");
    articles->add_option("--site", site, "only this site");
    articles->add_option("--limit", articles_options.limit, "at most this many (default: all)");
    articles->add_flag("--json", articles_options.json, "JSON array with every stored field");

    app::ExtractOptions extract_options;
    std::string batch_in;
    std::string batch_out;
    auto* extract = cli.add_subcommand(
        "extract", "print what would be stored for a saved page (no site: the generic extractor)");
    extract->add_option("--site", site, "use this site's rules from the configuration");
    extract->add_option("--url", extract_options.url, "the page's URL, to resolve its links");
    extract->add_flag("--json", extract_options.json, "JSON with every field");
    extract->add_option("--jobs", extract_options.jobs, "threads for --batch (default: all cores)");
    auto* batch = extract->add_option("--batch", batch_in, "IN_DIR: extract every <name>.html");
    extract
        ->add_option("file", extract_options.file,
                     "the page (- for standard input), or OUT_DIR with --batch")
        ->required();
    (void)batch;

    app::ReparseOptions reparse_options;
    auto* reparse = cli.add_subcommand(
        "reparse",
        "re-extract stored articles from their raw pages after a rule fix (no fetching)");
    reparse->add_option("--site", site, "only this site");

    app::SearchOptions search_options;
    auto* search = cli.add_subcommand("search", "full-text search; 'bac kan' finds 'Bắc Kạn'");
    search->add_option("query", search_options.query, "words to find")->required();
    search->add_option("--site", site, "only this site");
    search->add_option("--limit", search_options.limit, "at most this many (default: 20)");
    search->add_flag("--json", search_options.json, "JSON array with every stored field");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = cli.exit(e);
        return code == 0 ? 0 : app::kExitUsage;
    }

    setup_logging(verbosity, quiet);
    try {
        CurlGlobal curl;
        if (*run) {
            return app::run_command({.config = config_path});
        }
        if (*articles) {
            articles_options.config = config_path;
            articles_options.site = optional_string(site);
            return app::articles_command(articles_options);
        }
        if (*extract) {
            if (!site.empty() || config_option->count() > 0) {
                extract_options.config = config_path;
            }
            extract_options.site = optional_string(site);
            if (!batch_in.empty()) {
                extract_options.batch_in = batch_in;
                extract_options.batch_out = extract_options.file;
            }
            return app::extract_command(extract_options);
        }
        if (*reparse) {
            reparse_options.config = config_path;
            reparse_options.site = optional_string(site);
            return app::reparse_command(reparse_options);
        }
        search_options.config = config_path;
        search_options.site = optional_string(site);
        return app::search_command(search_options);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return app::kExitFatal;
    }
}

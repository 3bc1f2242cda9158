// baofeed: crawl Vietnamese news sites into clean full-text feeds. See README.md.
#include <clocale>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "app/commands.h"

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

}  // namespace

int main(int argc, char** argv) {
    // cron runs with LANG unset; libcurl's IDN handling needs a UTF-8 LC_CTYPE (STYLE.md).
    std::setlocale(LC_CTYPE, "C.UTF-8");

    CLI::App cli{"baofeed: clean full-text feeds from Vietnamese news sites"};
    cli.require_subcommand(1);
    cli.fallthrough();  // global options may follow the subcommand: `baofeed run --config F`
    std::string config_path = default_config();
    int verbosity = 0;
    bool quiet = false;
    cli.add_option("-c,--config", config_path,
                   "configuration file (default: $BAOFEED_CONFIG or ./baofeed.toml)");
    cli.add_flag("-v,--verbose", verbosity, "say more: -v per-site summary, -vv every page");
    cli.add_flag("-q,--quiet", quiet, "errors only");

    auto* run =
        cli.add_subcommand("run", "crawl every site once, store new articles, write the feeds");

    baofeed::app::ArticlesOptions articles_options;
    auto* articles = cli.add_subcommand("articles", "print the stored articles, newest first");
    std::string site;
    articles->add_option("--site", site, "only this site");
    articles->add_option("--limit", articles_options.limit, "at most this many (default: all)");
    articles->add_flag("--json", articles_options.json, "JSON array with every stored field");

    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = cli.exit(e);
        return code == 0 ? 0 : baofeed::app::kExitUsage;
    }

    setup_logging(verbosity, quiet);
    try {
        CurlGlobal curl;
        if (*run) {
            return baofeed::app::run_command({.config = config_path});
        }
        articles_options.config = config_path;
        if (!site.empty()) {
            articles_options.site = site;
        }
        return baofeed::app::articles_command(articles_options);
    } catch (const std::exception& e) {
        spdlog::error("{}", e.what());
        return baofeed::app::kExitFatal;
    }
}

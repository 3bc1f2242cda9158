// `baofeed extract`: what would be stored for a saved page, for people fixing rules and for
// measuring the extractor.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace baofeed::app {

struct ExtractOptions {
    std::optional<std::filesystem::path> config;  // with site: use that site's rules
    std::optional<std::string> site;              // none: the generic extractor only
    std::string url;             // the page's URL (resolves links; default: file://<absolute path>)
    bool json = false;           // JSON object with every field, else plain text (title, then body)
    std::filesystem::path file;  // "-" reads standard input
    // Batch mode (when batch_in is set): every <name>.html in batch_in -> <name>.txt in
    // batch_out (body paragraphs separated by blank lines), all cores.
    std::optional<std::filesystem::path> batch_in;
    std::filesystem::path batch_out;
    unsigned jobs = 0;  // worker threads for batch mode; 0 = one per core
};

// Returns the exit code (0, or kExitUsage / kExitFatal with a message on stderr). A page that
// cannot be extracted prints "baofeed: <file>: <reason>" and returns kExitSiteBroken (3).
int extract_command(const ExtractOptions& options);

}  // namespace baofeed::app

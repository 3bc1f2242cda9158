// The baseline of bench/extract-bench: a bare Gumbo parse (and free) of every page of a
// directory, unmodified, on the calling thread. Pages are read into memory before the clock
// starts. Prints: "docs N bytes B seconds S docs_s X mb_s Y".
//   bench_gumbo_parse PAGES_DIR [ROUNDS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gumbo.h>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_gumbo_parse PAGES_DIR [ROUNDS]\n");
        return 2;
    }
    const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 1;
    std::vector<fs::path> paths;
    for (const auto& entry : fs::directory_iterator(argv[1])) {
        if (entry.path().extension() == ".html") {
            paths.push_back(entry.path());
        }
    }
    std::sort(paths.begin(), paths.end());
    std::vector<std::string> pages;
    std::size_t bytes = 0;
    for (const fs::path& p : paths) {
        std::ifstream in(p, std::ios::binary);
        pages.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        bytes += pages.back().size();
    }
    if (pages.empty()) {
        std::fprintf(stderr, "bench_gumbo_parse: no .html pages in %s\n", argv[1]);
        return 1;
    }
    std::size_t nodes_seen = 0;  // keeps the parse from being optimised away
    const auto start = std::chrono::steady_clock::now();
    for (int r = 0; r < rounds; ++r) {
        for (const std::string& page : pages) {
            GumboOutput* out =
                gumbo_parse_with_options(&kGumboDefaultOptions, page.data(), page.size());
            nodes_seen += out->root->v.element.children.length;
            gumbo_destroy_output(&kGumboDefaultOptions, out);
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double docs = static_cast<double>(pages.size()) * rounds;
    std::printf("docs %zu bytes %zu seconds %.3f docs_s %.1f mb_s %.1f children %zu\n",
                pages.size() * static_cast<std::size_t>(rounds),
                bytes * static_cast<std::size_t>(rounds), seconds, docs / seconds,
                static_cast<double>(bytes) * rounds / seconds / 1e6, nodes_seen);
    return 0;
}

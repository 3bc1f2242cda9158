// libFuzzer target: the allow-list serializer. For any page, the sanitized body has the promised
// shape (tests/fuzz/sanitized_shape.h) and is stable: parsing it again and sanitizing gives the
// same bytes (a misnested output would be restructured by the parser).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/sanitized_shape.h"
#include "parsers/html_document.h"
#include "parsers/sanitize.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const baofeed::parsers::HtmlDocument doc(
        std::string(reinterpret_cast<const char*>(data), size));
    const std::string out =
        baofeed::parsers::sanitize_html(doc.body(), "http://fuzz.test/a/b.html");
    const std::string shape = baofeed::testing::sanitized_shape_error(out);
    if (!shape.empty()) {
        std::fprintf(stderr, "shape: %s\n", shape.c_str());
        std::abort();
    }
    const baofeed::parsers::HtmlDocument again("<!DOCTYPE html><body>" + out);
    const std::string twice =
        baofeed::parsers::sanitize_html(again.body(), "http://fuzz.test/a/b.html");
    if (twice != out) {
        std::fprintf(stderr, "not stable:\n%s\n---\n%s\n", out.c_str(), twice.c_str());
        std::abort();
    }
    return 0;
}

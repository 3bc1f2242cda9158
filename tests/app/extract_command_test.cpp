// `baofeed extract`: batch mode over a folder of pages, and the JSON of one page.
#include "app/extract_command.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/commands.h"

namespace baofeed::app {
namespace {

namespace fs = std::filesystem;

const char* const kArticle = R"html(<html><head><title>Headline | Paper</title>
<meta property="article:published_time" content="2024-12-22T11:40:00+07:00">
<link rel="canonical" href="/news/a.html"></head><body>
<nav><a href="/">Home</a> <a href="/x">Section</a></nav>
<article class="article-body"><h1>Headline</h1>
<p>First paragraph of the article, long enough to be scored as real content by the extractor.</p>
<p>Second paragraph, with more words, commas, and clauses, so that it is the body.</p>
</article><div class="related"><a href="/b">Another story</a></div></body></html>)html";

class TempDir {
  public:
    TempDir()
        : path_(fs::temp_directory_path() / ("baofeed-extract-" + std::to_string(::getpid()))) {
        fs::remove_all(path_);
        fs::create_directories(path_ / "in");
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

  private:
    fs::path path_;
};

void write(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(ExtractCommand, BatchWritesOneTextFilePerPageAndAnEmptyOneForAFailure) {
    const TempDir dir;
    write(dir.path() / "in" / "good.html", kArticle);
    write(dir.path() / "in" / "bad.html", "<html><body></body></html>");
    write(dir.path() / "in" / "ignored.txt", "not a page");
    ExtractOptions options;
    options.batch_in = dir.path() / "in";
    options.batch_out = dir.path() / "out";
    options.jobs = 2;
    testing::internal::CaptureStderr();
    const int code = extract_command(options);
    const std::string err = testing::internal::GetCapturedStderr();
    EXPECT_EQ(code, kExitSiteBroken);
    EXPECT_NE(err.find("bad.html"), std::string::npos) << err;
    EXPECT_EQ(read(dir.path() / "out" / "good.txt"),
              "First paragraph of the article, long enough to be scored as real content by the "
              "extractor.\n\nSecond paragraph, with more words, commas, and clauses, so that it is "
              "the body.\n");
    ASSERT_TRUE(fs::exists(dir.path() / "out" / "bad.txt"));
    EXPECT_EQ(fs::file_size(dir.path() / "out" / "bad.txt"), 0U);
    EXPECT_FALSE(fs::exists(dir.path() / "out" / "ignored.txt"));
}

TEST(ExtractCommand, JsonHasEveryFieldWithTheDeclaredCanonical) {
    const TempDir dir;
    write(dir.path() / "a.html", kArticle);
    ExtractOptions options;
    options.file = dir.path() / "a.html";
    options.url = "http://paper.test/news/a.html?utm_source=x";
    options.json = true;
    testing::internal::CaptureStdout();
    const int code = extract_command(options);
    const std::string out = testing::internal::GetCapturedStdout();
    ASSERT_EQ(code, kExitOk);
    const nlohmann::json j = nlohmann::json::parse(out);
    EXPECT_EQ(j.at("canonical_url"), "http://paper.test/news/a.html");
    EXPECT_EQ(j.at("title"), "Headline");
    EXPECT_EQ(j.at("published"), "2024-12-22T11:40:00+07:00");
    EXPECT_TRUE(j.at("modified").is_null());
    EXPECT_EQ(j.at("body").size(), 2U);
    for (const char* key :
         {"author", "lead", "lead_prefix", "images", "videos", "html", "section"}) {
        EXPECT_TRUE(j.contains(key)) << key;
    }
    EXPECT_EQ(j.at("html").get<std::string>().find("Another story"), std::string::npos);
}

TEST(ExtractCommand, PlainTextIsTitleThenParagraphsAndAMissingFileIsFatal) {
    const TempDir dir;
    write(dir.path() / "a.html", kArticle);
    ExtractOptions options;
    options.file = dir.path() / "a.html";
    testing::internal::CaptureStdout();
    EXPECT_EQ(extract_command(options), kExitOk);
    const std::string out = testing::internal::GetCapturedStdout();
    EXPECT_EQ(out.rfind("Headline\n\nFirst paragraph", 0), 0U) << out;
    options.file = dir.path() / "missing.html";
    testing::internal::CaptureStderr();
    EXPECT_EQ(extract_command(options), kExitFatal);
    testing::internal::GetCapturedStderr();
}

TEST(ExtractCommand, SiteWithoutConfigIsAUsageError) {
    ExtractOptions options;
    options.site = "baobackan";
    options.file = "x.html";
    testing::internal::CaptureStderr();
    EXPECT_EQ(extract_command(options), kExitUsage);
    testing::internal::GetCapturedStderr();
}

}  // namespace
}  // namespace baofeed::app

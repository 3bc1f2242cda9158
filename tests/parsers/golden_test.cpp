// Golden test: every fixture article through extract_article with its site's selectors, against
// the ground truth in tests/fixtures/sites/<site>/expected/<slug>.json.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/dates.h"
#include "parsers/extract.h"

namespace baofeed::parsers {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kSites = fs::path(BAOFEED_FIXTURES_DIR) / "sites";

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Case {
    std::string site;
    std::string slug;
};

void PrintTo(const Case& c, std::ostream* os) {
    *os << c.site << "/" << c.slug;
}

std::vector<Case> all_cases() {
    std::vector<Case> out;
    for (const char* site : {"baobackan", "baothainguyen", "baosonglo"}) {
        std::vector<std::string> slugs;
        for (const auto& entry : fs::directory_iterator(kSites / site / "expected")) {
            const std::string name = entry.path().filename().string();
            // <slug>.v1.json is the first version of a corrected article, served in epoch 1.
            if (name.size() > 5 && name.ends_with(".json")) {
                slugs.push_back(name.substr(0, name.size() - 5));
            }
        }
        std::sort(slugs.begin(), slugs.end());
        for (std::string& slug : slugs) {
            out.push_back({site, std::move(slug)});
        }
    }
    return out;
}

SiteRules rules_for(const std::string& site) {
    const json config = json::parse(read_file(kSites / site / "site.json"));
    const json& sel = config.at("selectors");
    SiteRules rules;
    const auto str = [&sel](const char* key) {
        return sel.contains(key) ? sel.at(key).get<std::string>() : std::string();
    };
    rules.title = str("title");
    rules.lead = str("lead");
    rules.body = str("body");
    rules.author = str("author");
    rules.published = str("published");
    rules.published_text = str("published_text");
    rules.modified = str("modified");
    rules.caption = str("caption");
    rules.next_page = str("next_page");
    if (sel.contains("remove")) {
        rules.remove = sel.at("remove").get<std::vector<std::string>>();
    }
    if (sel.contains("image_src_attrs")) {
        rules.image_src_attrs = sel.at("image_src_attrs").get<std::vector<std::string>>();
    }
    return rules;
}

// URL -> file under www/ (or www-v2/ for truth served only in epoch 2): "/x/" -> x/index.html.
fs::path page_file(const std::string& site, const std::string& url, bool epoch2) {
    const std::size_t scheme = url.find("://");
    const std::size_t slash = url.find('/', scheme + 3);
    std::string path = url.substr(slash + 1);
    const std::size_t query = path.find_first_of("?#");
    if (query != std::string::npos) {
        path.erase(query);
    }
    if (path.empty() || path.back() == '/') {
        path += "index.html";
    }
    if (epoch2 && fs::exists(kSites / site / "www-v2" / path)) {
        return kSites / site / "www-v2" / path;
    }
    return kSites / site / "www" / path;
}

class Golden : public ::testing::TestWithParam<Case> {};

TEST_P(Golden, ExtractionMatchesTheGroundTruth) {
    const Case& c = GetParam();
    const json truth = json::parse(read_file(kSites / c.site / "expected" / (c.slug + ".json")));
    const SiteRules rules = rules_for(c.site);
    bool epoch2 = false;
    if (truth.contains("served_in_epochs")) {
        const auto epochs = truth.at("served_in_epochs").get<std::vector<int>>();
        epoch2 = std::find(epochs.begin(), epochs.end(), 1) == epochs.end();
    }
    std::vector<std::string> pages{truth.at("canonical_url").get<std::string>()};
    if (truth.contains("pages") && truth.at("pages").is_array()) {
        pages = truth.at("pages").get<std::vector<std::string>>();
    }

    Extraction result;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        const fs::path file = page_file(c.site, pages[i], epoch2);
        ASSERT_TRUE(fs::exists(file)) << file;
        Extraction page = extract_article(read_file(file), pages[i], rules);
        ASSERT_TRUE(page.ok) << pages[i] << ": " << page.error;
        if (i == 0) {
            result = std::move(page);
        } else {
            append_page(result, page);
        }
    }
    if (pages.size() > 1) {
        // Page 1 points at page 2 through the pager.
        const Extraction first =
            extract_article(read_file(page_file(c.site, pages[0], epoch2)), pages[0], rules);
        EXPECT_EQ(first.next_pages, std::vector<std::string>(pages.begin() + 1, pages.end()));
    }
    const Article& a = result.article;

    EXPECT_EQ(a.title, truth.at("title").get<std::string>());

    ASSERT_TRUE(a.published.has_value());
    EXPECT_EQ(dates::format_iso8601_vn(*a.published), truth.at("published").get<std::string>());
    if (truth.at("modified").is_null()) {
        EXPECT_FALSE(a.modified.has_value());
    } else {
        ASSERT_TRUE(a.modified.has_value());
        EXPECT_EQ(dates::format_iso8601_vn(*a.modified), truth.at("modified").get<std::string>());
    }

    if (truth.at("author").is_null()) {
        EXPECT_EQ(a.author, "");
    } else {
        // The normalised byline ("TTXVN", not "Theo TTXVN").
        EXPECT_EQ(a.author, truth.at("author").get<std::string>());
    }

    const std::string lead = truth.at("lead").get<std::string>();
    std::string lead_without_prefix = lead;
    if (truth.contains("lead_prefix") && truth.at("lead_prefix").is_string()) {
        const std::string prefix = truth.at("lead_prefix").get<std::string>();
        if (lead.starts_with(prefix)) {
            lead_without_prefix = lead.substr(prefix.size());
        }
    }
    EXPECT_TRUE(a.lead == lead || a.lead == lead_without_prefix)
        << "lead: " << a.lead << "\nexpected: " << lead;
    const json prefix = truth.value("lead_prefix", json());
    EXPECT_EQ(a.lead_prefix, prefix.is_string() ? prefix.get<std::string>() : std::string());

    EXPECT_EQ(a.body, truth.at("body").get<std::vector<std::string>>());

    std::vector<Image> images;
    for (const json& img : truth.at("images")) {
        images.push_back({img.at("src").get<std::string>(), img.at("caption").get<std::string>()});
    }
    EXPECT_EQ(a.images, images);

    if (truth.contains("videos")) {
        std::vector<Video> videos;
        for (const json& v : truth.at("videos")) {
            videos.push_back({v.at("src").get<std::string>(), v.value("poster", std::string()),
                              v.value("caption", std::string())});
        }
        EXPECT_EQ(a.videos, videos);
    }

    std::string text = a.lead;
    for (const std::string& p : a.body) {
        text += "\n" + p;
    }
    for (const json& junk : truth.value("must_not_contain", json::array())) {
        EXPECT_EQ(text.find(junk.get<std::string>()), std::string::npos)
            << "must not contain: " << junk.get<std::string>();
    }

    EXPECT_EQ(result.declared_canonical.empty() ? pages[0] : result.declared_canonical,
              truth.at("canonical_url").get<std::string>());
}

// Skip regions (SiteRules::skip) over the fixture sites' chrome: menus, footers, comments,
// related and side boxes. The parser never sees their content, and nothing extracted changes.
TEST_P(Golden, SkippingRegionsNoRuleReadsChangesNothingExtracted) {
    const Case& c = GetParam();
    const json truth = json::parse(read_file(kSites / c.site / "expected" / (c.slug + ".json")));
    const SiteRules rules = rules_for(c.site);
    SiteRules skipping = rules;
    skipping.skip = {"nav",
                     "footer",
                     "ul.comment-list",
                     "div.related-news",
                     "div.site-header",
                     "div.footer-menu",
                     "ul.menu",
                     "div.boxRight"};
    const std::string url = truth.at("canonical_url").get<std::string>();
    const std::string html = read_file(page_file(c.site, url, false));
    const Extraction plain = extract_article(html, url, rules);
    const Extraction skipped = extract_article(html, url, skipping);
    EXPECT_EQ(skipped.ok, plain.ok);
    EXPECT_EQ(skipped.error, plain.error);
    EXPECT_EQ(skipped.article, plain.article);
    EXPECT_EQ(skipped.declared_canonical, plain.declared_canonical);
    EXPECT_EQ(skipped.next_pages, plain.next_pages);
    EXPECT_EQ(skipped.generic, plain.generic);
}

INSTANTIATE_TEST_SUITE_P(FixtureSites, Golden, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                             std::string name = param_info.param.site + "_" + param_info.param.slug;
                             for (char& ch : name) {
                                 if (std::isalnum(static_cast<unsigned char>(ch)) == 0) {
                                     ch = '_';
                                 }
                             }
                             return name;
                         });

}  // namespace
}  // namespace baofeed::parsers

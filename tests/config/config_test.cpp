#include "config/config.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/errors.h"

namespace baofeed::config {
namespace {

const std::filesystem::path kFile = "/etc/baofeed/baofeed.toml";

std::string minimal_site(const std::string& extra = "") {
    return R"(
[[sites]]
name = "baobackan"
home = "http://baobackan.test/"
feeds = ["http://baobackan.test/rss/home.rss"]
article_url_pattern = '^http://baobackan\.test/.+-post\d+\.html$'
)" + extra +
           R"(
[sites.rules]
body = "div.article__body"
)";
}

std::string error_of(const std::string& text) {
    try {
        parse_config(text, kFile);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "(no error)";
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

TEST(ConfigLoad, ReadsAMinimalSiteWithDefaults) {
    Config c = parse_config(minimal_site(), kFile);
    ASSERT_EQ(c.sites.size(), 1u);
    const SiteConfig& s = c.sites[0];
    EXPECT_EQ(s.name, "baobackan");
    EXPECT_EQ(s.title, "baobackan");
    EXPECT_EQ(s.rules.body, "div.article__body");
    EXPECT_EQ(c.database, "/etc/baofeed/baofeed.db");
    EXPECT_EQ(c.output_dir, "/etc/baofeed/feeds");
    EXPECT_EQ(c.lock_file, "/etc/baofeed/baofeed.db.lock");
    EXPECT_EQ(c.crawler.policy.max_connections_per_host, 2);
    EXPECT_EQ(s.crawl.max_connections_per_host, 2);
    EXPECT_EQ(c.crawler.user_agent, "baofeed/0.1 (+https://github.com/baofeed/baofeed)");
    EXPECT_EQ(c.publish.items_per_feed, 50u);
    EXPECT_TRUE(c.connect_to.empty());
}

TEST(ConfigLoad, ResolvesRelativePathsAgainstTheConfigFolderNotTheWorkingDirectory) {
    Config c = parse_config(
        "database = '../var/db.sqlite'\noutput_dir = 'out/feeds'\n" + minimal_site(), kFile);
    EXPECT_EQ(c.database, "/etc/var/db.sqlite");
    EXPECT_EQ(c.output_dir, "/etc/baofeed/out/feeds");
    Config absolute = parse_config("database = '/srv/b.db'\n" + minimal_site(), kFile);
    EXPECT_EQ(absolute.database, "/srv/b.db");
}

TEST(ConfigLoad, MapsConnectToEntriesToCurlsForm) {
    Config c = parse_config(
        "[network]\nconnect_to = { '*' = '127.0.0.1:8080', 'a.test' = '[::1]:9000' }\n" +
            minimal_site(),
        kFile);
    ASSERT_EQ(c.connect_to.size(), 2u);
    EXPECT_EQ(c.connect_to[0], "::127.0.0.1:8080");
    EXPECT_EQ(c.connect_to[1], "a.test::[::1]:9000");
}

TEST(ConfigLoad, SiteHostsGatherHomeFeedsListingsAndAliasesOnce) {
    Config c = parse_config(minimal_site("aliases = ['M.baobackan.test', 'baobackan.test']\n"
                                         "listings = ['http://www.baobackan.test/x/']\n"),
                            kFile);
    EXPECT_EQ(c.sites[0].hosts(), (std::vector<std::string>{"baobackan.test", "www.baobackan.test",
                                                            "m.baobackan.test"}));
}

TEST(ConfigLoad, ArticlePatternMustMatchTheWholeUrl) {
    Config c = parse_config(minimal_site(), kFile);
    EXPECT_TRUE(c.sites[0].is_article_url("http://baobackan.test/a-b-post1.html"));
    EXPECT_FALSE(c.sites[0].is_article_url("http://baobackan.test/a-b-post1.html.bak"));
    EXPECT_FALSE(c.sites[0].is_article_url("http://baobackan.test/chinh-tri/"));
}

TEST(ConfigErrors, SyntaxErrorNamesFileAndLine) {
    std::string e = error_of("database = 'x'\n\nthis is not toml\n");
    EXPECT_EQ(e.rfind("/etc/baofeed/baofeed.toml:3: ", 0), 0u) << e;
}

TEST(ConfigErrors, MissingRequiredKeyNamesTheKey) {
    std::string text = minimal_site();
    text.replace(text.find("home ="),
                 text.find('\n', text.find("home =")) - text.find("home =") + 1, "");
    std::string e = error_of(text);
    EXPECT_NE(e.find("baofeed.toml:2: sites.baobackan.home: missing"), std::string::npos) << e;
}

TEST(ConfigErrors, WrongTypeNamesLineAndKey) {
    std::string e = error_of("[crawler]\nmax_connections = 'many'\n" + minimal_site());
    EXPECT_NE(e.find("baofeed.toml:2: crawler.max_connections: expected an integer"),
              std::string::npos)
        << e;
}

TEST(ConfigErrors, UnknownKeyIsAnErrorNotASilentDefault) {
    std::string e = error_of("[crawler]\nmax_conections = 4\n" + minimal_site());
    EXPECT_NE(e.find(":2: crawler.max_conections: unknown key"), std::string::npos) << e;
}

TEST(ConfigErrors, OutOfRangeNumberIsRejected) {
    std::string e = error_of("[crawler]\nmax_connections_per_host = 0\n" + minimal_site());
    EXPECT_NE(e.find("crawler.max_connections_per_host: must be between 1 and 64"),
              std::string::npos)
        << e;
}

TEST(ConfigErrors, BadRegexNamesTheKey) {
    std::string text = minimal_site();
    text.replace(text.find("'^http"), 1, "'(^http");
    std::string e = error_of(text);
    EXPECT_NE(e.find(":6: sites.baobackan.article_url_pattern: bad regular expression"),
              std::string::npos)
        << e;
}

TEST(ConfigErrors, BadSelectorNamesTheKeyAndTheSelector) {
    std::string e = error_of(minimal_site() + "title = 'h1[class'\n");
    EXPECT_NE(e.find("sites.baobackan.rules.title: bad CSS selector 'h1[class'"), std::string::npos)
        << e;
    std::string in_list = error_of(minimal_site() + "remove = ['div.ok', 'p >']\n");
    EXPECT_NE(in_list.find("sites.baobackan.rules.remove: bad CSS selector 'p >'"),
              std::string::npos)
        << in_list;
}

TEST(ConfigErrors, NonHttpUrlIsRejected) {
    std::string text = minimal_site();
    text.replace(text.find("http://baobackan.test/rss"), 7, "ftp://");
    std::string e = error_of(text);
    EXPECT_NE(e.find("sites.baobackan.feeds: not an absolute http(s) URL"), std::string::npos) << e;
}

TEST(ConfigErrors, DuplicateAndReservedSiteNamesAreRejected) {
    EXPECT_NE(error_of(minimal_site() + minimal_site()).find("duplicate site name"),
              std::string::npos);
    std::string all = minimal_site();
    all.replace(all.find("\"baobackan\""), 11, "\"all\"");
    EXPECT_NE(error_of(all).find("combined feed"), std::string::npos) << error_of(all);
}

TEST(ConfigErrors, ASiteNeedsSomethingToCrawl) {
    std::string no_source = minimal_site();
    no_source.erase(no_source.find("feeds ="),
                    no_source.find('\n', no_source.find("feeds =")) - no_source.find("feeds ="));
    EXPECT_NE(error_of(no_source).find("needs at least one of feeds, listings or sitemaps"),
              std::string::npos)
        << error_of(no_source);
}

TEST(ConfigLoad, ASiteWithoutRulesUsesTheGenericExtractor) {
    std::string no_rules = minimal_site();
    no_rules.erase(no_rules.find("[sites.rules]"));
    Config c = parse_config(no_rules, kFile);
    EXPECT_TRUE(c.sites[0].rules.body.empty());
}

TEST(ConfigLoad, SiteRulesStartFromTheirFamilyAndOverrideFieldByField) {
    std::string text = R"(
[families.epi]
title = "h1.article__title"
body = "div.article__body"
remove = ["div.ads"]
)" + minimal_site("family = 'epi'\n");
    text.replace(text.find("body = \"div.article__body\"\n", text.find("[sites.rules]")),
                 std::string("body = \"div.article__body\"\n").size(), "body = \"div.cms-body\"\n");
    Config c = parse_config(text, kFile);
    EXPECT_EQ(c.sites[0].family, "epi");
    EXPECT_EQ(c.sites[0].rules.title, "h1.article__title");
    EXPECT_EQ(c.sites[0].rules.body, "div.cms-body");
    EXPECT_EQ(c.sites[0].rules.remove, std::vector<std::string>{"div.ads"});
    EXPECT_NE(error_of(minimal_site("family = 'vccorp'\n")).find("no [families.vccorp] table"),
              std::string::npos);
}

TEST(ConfigLoad, SiteCrawlSettingsOverrideTheCrawlerDefaults) {
    Config c = parse_config("[crawler]\nrequest_interval = 0.25\nmax_new_articles = 7\n" +
                                minimal_site() + "[sites.crawl]\nmax_new_articles = 3\n",
                            kFile);
    EXPECT_EQ(c.crawler.policy.request_interval, std::chrono::milliseconds(250));
    EXPECT_EQ(c.sites[0].crawl.request_interval, std::chrono::milliseconds(250));
    EXPECT_EQ(c.sites[0].crawl.max_new_articles, 3u);
    EXPECT_NE(error_of(minimal_site() + "[sites.crawl]\nmax_conections = 3\n")
                  .find("sites.baobackan.crawl.max_conections: unknown key"),
              std::string::npos);
}

TEST(ConfigLoad, ArticleIdPatternGivesTheStrongestKeyAndAliasesFoldToTheHomeHost) {
    Config c = parse_config(
        minimal_site(
            "article_id_pattern = '-post(\\d+)\\.html$'\naliases = ['m.baobackan.test']\n"),
        kFile);
    const SiteConfig& s = c.sites[0];
    EXPECT_EQ(s.id_key("http://m.baobackan.test/a-b-post67975.html"), "baobackan#67975");
    EXPECT_EQ(s.id_key("http://baobackan.test/chinh-tri/"), "");
    EXPECT_EQ(s.primary_host_url("http://m.baobackan.test/a-post1.html"),
              "http://baobackan.test/a-post1.html");
    EXPECT_EQ(s.primary_host_url("http://other.test/a-post1.html"),
              "http://other.test/a-post1.html");
    EXPECT_NE(error_of(minimal_site("article_id_pattern = 'post\\d+'\n")).find("one capture group"),
              std::string::npos);
}

TEST(ConfigErrors, UserAgentMustNameBaofeed) {
    EXPECT_NE(error_of("[crawler]\nuser_agent = 'Mozilla/5.0'\n" + minimal_site())
                  .find("must name baofeed"),
              std::string::npos);
}

TEST(ConfigErrors, NoSitesAtAllIsAnError) {
    EXPECT_NE(error_of("database = 'x.db'\n").find("sites: missing"), std::string::npos);
}

TEST(ConfigErrors, UnreadableFileSaysSo) {
    try {
        load_config("/nonexistent/baofeed.toml");
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_STREQ(e.what(), "/nonexistent/baofeed.toml: cannot read the configuration file");
    }
}

TEST(ShippedConfig, TheShippedConfigurationLoads) {
    Config c = load_config(std::filesystem::path(BAOFEED_SOURCE_DIR) / "config" / "baofeed.toml");
    EXPECT_GE(c.sites.size(), 2u);
    EXPECT_EQ(c.database, std::filesystem::path(BAOFEED_SOURCE_DIR) / "var" / "baofeed.db");
}

TEST(ShippedConfig, TheFixtureSitesTemplateLoadsWithEveryRuleOfTheFixtures) {
    std::string text =
        read_file(std::filesystem::path(BAOFEED_SOURCE_DIR) / "tests/e2e/fixture-sites.toml.in");
    for (auto [from, to] :
         {std::pair{"@PORT@", "8080"}, {"@DATABASE@", "b.db"}, {"@OUTPUT_DIR@", "feeds"}}) {
        for (auto at = text.find(from); at != std::string::npos; at = text.find(from)) {
            text.replace(at, std::string(from).size(), to);
        }
    }
    Config c = parse_config(text, "/tmp/e2e/baofeed.toml");
    ASSERT_EQ(c.sites.size(), 3u);
    EXPECT_EQ(c.connect_to, std::vector<std::string>{"::127.0.0.1:8080"});
    EXPECT_EQ(c.sites[1].rules.lead, "div.detail-content > p:first-child > strong");
    EXPECT_EQ(c.sites[1].rules.image_src_attrs, std::vector<std::string>{"src"});
    EXPECT_EQ(c.sites[2].rules.next_page, "div.paging a");
    EXPECT_TRUE(c.sites[2].feeds.empty());
}

}  // namespace
}  // namespace baofeed::config

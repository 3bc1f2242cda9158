#include "config/config.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/errors.h"
#include "core/selector.h"
#include "core/url.h"

namespace baofeed::config {
namespace {

// Reads typed values out of toml++ nodes and turns every problem into a ConfigError that names
// file:line and the dotted key.
class Reader {
  public:
    explicit Reader(std::filesystem::path file) : file_(std::move(file)) {}

    [[noreturn]] void fail(const toml::node* node, std::string_view key,
                           std::string_view why) const {
        std::ostringstream out;
        out << file_.string();
        if (node != nullptr && node->source().begin.line > 0) {
            out << ':' << node->source().begin.line;
        }
        out << ": " << key << ": " << why;
        throw ConfigError(out.str());
    }

    // Unknown keys are errors: a typo must not silently fall back to a default.
    void check_keys(const toml::table& table, std::string_view prefix,
                    const std::vector<std::string_view>& known) const {
        for (auto&& [key, node] : table) {
            if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
                fail(&node, join(prefix, key.str()), "unknown key");
            }
        }
    }

    static std::string join(std::string_view prefix, std::string_view key) {
        return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
    }

    const toml::table* table(const toml::table& parent, std::string_view prefix,
                             std::string_view key) const {
        const toml::node* node = parent.get(key);
        if (node == nullptr) {
            return nullptr;
        }
        if (!node->is_table()) {
            fail(node, join(prefix, key), "expected a table");
        }
        return node->as_table();
    }

    std::optional<std::string> string(const toml::table& parent, std::string_view prefix,
                                      std::string_view key) const {
        const toml::node* node = parent.get(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        if (!node->is_string()) {
            fail(node, join(prefix, key), "expected a string");
        }
        return node->as_string()->get();
    }

    std::string required_string(const toml::table& parent, std::string_view prefix,
                                std::string_view key) const {
        auto value = string(parent, prefix, key);
        if (!value) {
            fail(&parent, join(prefix, key), "missing (required)");
        }
        if (value->empty()) {
            fail(parent.get(key), join(prefix, key), "must not be empty");
        }
        return *value;
    }

    std::optional<std::int64_t> integer(const toml::table& parent, std::string_view prefix,
                                        std::string_view key, std::int64_t min,
                                        std::int64_t max) const {
        const toml::node* node = parent.get(key);
        if (node == nullptr) {
            return std::nullopt;
        }
        if (!node->is_integer()) {
            fail(node, join(prefix, key), "expected an integer");
        }
        std::int64_t v = node->as_integer()->get();
        if (v < min || v > max) {
            fail(node, join(prefix, key),
                 "must be between " + std::to_string(min) + " and " + std::to_string(max));
        }
        return v;
    }

    std::vector<std::string> strings(const toml::table& parent, std::string_view prefix,
                                     std::string_view key) const {
        std::vector<std::string> out;
        const toml::node* node = parent.get(key);
        if (node == nullptr) {
            return out;
        }
        if (node->is_string()) {  // a single string is a list of one
            out.push_back(node->as_string()->get());
            return out;
        }
        if (!node->is_array()) {
            fail(node, join(prefix, key), "expected an array of strings");
        }
        for (const toml::node& item : *node->as_array()) {
            if (!item.is_string()) {
                fail(&item, join(prefix, key), "expected an array of strings");
            }
            out.push_back(item.as_string()->get());
        }
        return out;
    }

    std::string http_url(const toml::table& parent, std::string_view prefix, std::string_view key,
                         const std::string& value) const {
        auto canonical = url::canonical(value);
        if (!canonical) {
            fail(parent.get(key), join(prefix, key), "not an absolute http(s) URL: " + value);
        }
        return value;
    }

    std::string selector(const toml::table& parent, std::string_view prefix,
                         std::string_view key) const {
        auto value = string(parent, prefix, key);
        if (!value) {
            return "";
        }
        check_selector(parent.get(key), join(prefix, key), *value);
        return *value;
    }

    void check_selector(const toml::node* node, std::string_view key,
                        const std::string& text) const {
        try {
            css::parse_selector(text);
        } catch (const css::SelectorError& e) {
            fail(node, key, std::string("bad CSS selector '") + text + "': " + e.what());
        }
    }

    // A skip region's selector: tags, #ids and .classes only (see SiteRules::skip).
    void check_skip(const toml::node* node, std::string_view key, const std::string& text) const {
        check_selector(node, key, text);
        for (const css::Complex& complex : css::parse_selector(text)) {
            const css::Compound& c = complex.compounds.front();
            if (complex.compounds.size() != 1 || !c.attributes.empty() || !c.pseudos.empty()) {
                fail(node, key, "skip selector '" + text + "' may name a tag, #id and .class only");
            }
        }
    }

    std::filesystem::path path(const toml::table& parent, std::string_view prefix,
                               std::string_view key, std::string_view fallback) const {
        std::string value = string(parent, prefix, key).value_or(std::string(fallback));
        if (value.empty()) {
            fail(parent.get(key), join(prefix, key), "must not be empty");
        }
        std::filesystem::path p(value);
        if (p.is_relative()) {
            p = file_.parent_path() / p;
        }
        return p.lexically_normal();
    }

  private:
    std::filesystem::path file_;
};

// Seconds in the file, milliseconds inside; fractional seconds allowed ("0.25").
std::optional<std::chrono::milliseconds> seconds(const Reader& r, const toml::table& t,
                                                 std::string_view prefix, std::string_view key,
                                                 double min, double max) {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
        return std::nullopt;
    }
    double v = 0;
    if (node->is_integer()) {
        v = static_cast<double>(node->as_integer()->get());
    } else if (node->is_floating_point()) {
        v = node->as_floating_point()->get();
    } else {
        r.fail(node, Reader::join(prefix, key), "expected a number of seconds");
    }
    if (!(v >= min && v <= max)) {
        std::ostringstream why;
        why << "must be between " << min << " and " << max << " seconds";
        r.fail(node, Reader::join(prefix, key), why.str());
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(v * 1000.0 + 0.5));
}

std::optional<bool> boolean(const Reader& r, const toml::table& t, std::string_view prefix,
                            std::string_view key) {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
        return std::nullopt;
    }
    if (!node->is_boolean()) {
        r.fail(node, Reader::join(prefix, key), "expected true or false");
    }
    return node->as_boolean()->get();
}

const std::vector<std::string_view> kPolicyKeys = {"max_connections_per_host",
                                                   "request_interval",
                                                   "max_new_articles",
                                                   "retries",
                                                   "retry_backoff",
                                                   "error_budget",
                                                   "revisit_window_hours",
                                                   "revisit_interval_hours",
                                                   "max_listing_pages",
                                                   "sitemap_max_age_hours"};

// Reads the CrawlPolicy keys of `t` over `base` (unknown keys are the caller's business).
CrawlPolicy read_policy(const Reader& r, const toml::table& t, std::string_view p, CrawlPolicy c) {
    if (auto v = r.integer(t, p, "max_connections_per_host", 1, 64)) {
        c.max_connections_per_host = static_cast<long>(*v);
    }
    if (auto v = seconds(r, t, p, "request_interval", 0, 3600)) {
        c.request_interval = *v;
    }
    if (auto v = r.integer(t, p, "max_new_articles", 1, 100000)) {
        c.max_new_articles = static_cast<std::size_t>(*v);
    }
    if (auto v = r.integer(t, p, "retries", 0, 10)) {
        c.retries = static_cast<int>(*v);
    }
    if (auto v = seconds(r, t, p, "retry_backoff", 0.001, 600)) {
        c.retry_backoff = *v;
    }
    if (auto v = r.integer(t, p, "error_budget", 1, 100000)) {
        c.error_budget = static_cast<int>(*v);
    }
    if (auto v = r.integer(t, p, "revisit_window_hours", 0, 24 * 365)) {
        c.revisit_window = std::chrono::hours(*v);
    }
    if (auto v = r.integer(t, p, "revisit_interval_hours", 0, 24 * 365)) {
        c.revisit_interval = std::chrono::hours(*v);
    }
    if (auto v = r.integer(t, p, "max_listing_pages", 1, 1000)) {
        c.max_listing_pages = static_cast<std::size_t>(*v);
    }
    if (auto v = r.integer(t, p, "sitemap_max_age_hours", 0, 24 * 365 * 30)) {
        c.sitemap_max_age = std::chrono::hours(*v);
    }
    return c;
}

CrawlerConfig read_crawler(const Reader& r, const toml::table* t) {
    CrawlerConfig c;
    if (t != nullptr) {
        constexpr std::string_view p = "crawler";
        std::vector<std::string_view> known = {"contact",
                                               "user_agent",
                                               "max_connections",
                                               "connect_timeout",
                                               "timeout",
                                               "max_page_bytes",
                                               "run_deadline",
                                               "allow_private_addresses",
                                               "robots_cache_hours",
                                               "parse_threads"};
        known.insert(known.end(), kPolicyKeys.begin(), kPolicyKeys.end());
        for (auto&& [key, node] : *t) {
            if (std::find(known.begin(), known.end(), key.str()) == known.end()) {
                r.fail(&node, Reader::join(p, key.str()), "unknown key");
            }
        }
        if (auto v = r.string(*t, p, "contact")) {
            c.contact = r.http_url(*t, p, "contact", *v);
        }
        if (auto v = r.string(*t, p, "user_agent")) {
            if (v->find("baofeed") == std::string::npos) {
                r.fail(t->get("user_agent"), "crawler.user_agent",
                       "must name baofeed (robots.txt rules for baofeed apply to it)");
            }
            c.user_agent = *v;
        }
        if (auto v = r.integer(*t, p, "max_connections", 1, 1024)) {
            c.max_connections = static_cast<long>(*v);
        }
        if (auto v = seconds(r, *t, p, "connect_timeout", 0.1, 600)) {
            c.connect_timeout = *v;
        }
        if (auto v = seconds(r, *t, p, "timeout", 0.1, 3600)) {
            c.timeout = *v;
        }
        if (auto v = r.integer(*t, p, "max_page_bytes", 1024, std::int64_t{1} << 30)) {
            c.max_page_bytes = static_cast<std::size_t>(*v);
        }
        if (auto v = seconds(r, *t, p, "run_deadline", 1, 24 * 3600)) {
            c.run_deadline = std::chrono::duration_cast<std::chrono::seconds>(*v);
        }
        if (auto v = boolean(r, *t, p, "allow_private_addresses")) {
            c.allow_private_addresses = *v;
        }
        if (auto v = r.integer(*t, p, "robots_cache_hours", 0, 24 * 30)) {
            c.robots_cache = std::chrono::hours(*v);
        }
        if (auto v = r.integer(*t, p, "parse_threads", 0, 256)) {
            c.parse_threads = static_cast<unsigned>(*v);
        }
        c.policy = read_policy(r, *t, p, c.policy);
    }
    if (c.user_agent.empty()) {
        c.user_agent = "baofeed/0.1 (+" + c.contact + ")";
    }
    return c;
}

StorageConfig read_storage(const Reader& r, const toml::table* t) {
    StorageConfig c;
    if (t == nullptr) {
        return c;
    }
    constexpr std::string_view p = "storage";
    r.check_keys(*t, p, {"retention_days", "raw_page_days"});
    if (auto v = r.integer(*t, p, "retention_days", 0, 365 * 100)) {
        c.retention = std::chrono::days(*v);
    }
    if (auto v = r.integer(*t, p, "raw_page_days", 0, 365 * 100)) {
        c.raw_pages = std::chrono::days(*v);
    }
    return c;
}

PublishConfig read_publish(const Reader& r, const toml::table* t) {
    PublishConfig c;
    if (t == nullptr) {
        return c;
    }
    constexpr std::string_view p = "publish";
    r.check_keys(*t, p, {"items_per_feed", "base_url"});
    if (auto v = r.integer(*t, p, "items_per_feed", 1, 10000)) {
        c.items_per_feed = static_cast<std::size_t>(*v);
    }
    if (auto v = r.string(*t, p, "base_url")) {
        if (!v->empty()) {
            r.http_url(*t, p, "base_url", *v);
            c.base_url = *v;
            if (c.base_url.back() != '/') {
                c.base_url += '/';
            }
        }
    }
    return c;
}

// [network] connect_to = { "HOST" = "ADDRESS:PORT" }, HOST "*" for every host.
std::vector<std::string> read_network(const Reader& r, const toml::table* t) {
    std::vector<std::string> out;
    if (t == nullptr) {
        return out;
    }
    r.check_keys(*t, "network", {"connect_to"});
    const toml::table* map = r.table(*t, "network", "connect_to");
    if (map == nullptr) {
        return out;
    }
    for (auto&& [key, node] : *map) {
        std::string dotted = "network.connect_to." + std::string(key.str());
        if (!node.is_string()) {
            r.fail(&node, dotted, "expected a string \"ADDRESS:PORT\"");
        }
        const std::string& target = node.as_string()->get();
        auto colon = target.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == target.size() ||
            target.find_first_not_of("0123456789", colon + 1) != std::string::npos) {
            r.fail(&node, dotted, "expected \"ADDRESS:PORT\", got \"" + target + "\"");
        }
        std::string host(key.str());
        if (host == "*") {
            host.clear();
        }
        // HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT with an empty PORT: any port.
        out.push_back(host + "::" + target);
    }
    return out;
}

const std::vector<std::string_view> kRuleKeys = {
    "title",    "lead",    "body",      "author", "published", "published_text",
    "modified", "caption", "next_page", "remove", "skip",      "image_src_attrs"};

// Reads the rule keys present in `t` over `rules` (a family's, or empty).
SiteRules read_rules(const Reader& r, const toml::table* t, const std::string& prefix,
                     SiteRules rules) {
    if (t == nullptr) {
        return rules;
    }
    r.check_keys(*t, prefix, kRuleKeys);
    auto field = [&](std::string_view key, std::string& into) {
        if (t->get(key) != nullptr) {
            into = r.selector(*t, prefix, key);
        }
    };
    field("title", rules.title);
    field("lead", rules.lead);
    field("body", rules.body);
    field("author", rules.author);
    field("published", rules.published);
    field("published_text", rules.published_text);
    field("modified", rules.modified);
    field("caption", rules.caption);
    field("next_page", rules.next_page);
    if (t->get("remove") != nullptr) {
        rules.remove = r.strings(*t, prefix, "remove");
        for (const auto& s : rules.remove) {
            r.check_selector(t->get("remove"), prefix + ".remove", s);
        }
    }
    if (t->get("skip") != nullptr) {
        rules.skip = r.strings(*t, prefix, "skip");
        for (const auto& s : rules.skip) {
            r.check_skip(t->get("skip"), prefix + ".skip", s);
        }
    }
    if (t->get("image_src_attrs") != nullptr) {
        rules.image_src_attrs = r.strings(*t, prefix, "image_src_attrs");
    }
    return rules;
}

std::map<std::string, SiteRules> read_families(const Reader& r, const toml::table* t) {
    std::map<std::string, SiteRules> out;
    if (t == nullptr) {
        return out;
    }
    for (auto&& [key, node] : *t) {
        std::string name(key.str());
        std::string prefix = "families." + name;
        if (!node.is_table()) {
            r.fail(&node, prefix, "expected a table of CSS selector rules");
        }
        out[name] = read_rules(r, node.as_table(), prefix, SiteRules{});
    }
    return out;
}

bool valid_site_name(const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

std::vector<std::string> checked_urls(const Reader& r, const toml::table& t, const std::string& p,
                                      std::string_view key) {
    auto urls = r.strings(t, p, key);
    for (const auto& u : urls) {
        r.http_url(t, p, key, u);
    }
    return urls;
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

SiteConfig read_site(const Reader& r, const toml::table& t, std::size_t index,
                     const std::map<std::string, SiteRules>& families, const CrawlPolicy& policy) {
    std::string p = "sites[" + std::to_string(index) + "]";
    r.check_keys(
        t, p,
        {"name", "title", "home", "aliases", "allowed_domains", "feeds", "autodiscover_feeds",
         "listings", "listing_next", "listing_page_url", "listing_url_pattern", "sitemaps",
         "article_url_pattern", "article_id_pattern", "family", "rules", "crawl"});
    SiteConfig s;
    s.name = r.required_string(t, p, "name");
    if (!valid_site_name(s.name)) {
        r.fail(t.get("name"), p + ".name",
               "use lower-case letters, digits, '-' and '_' only (it names the feed file)");
    }
    if (s.name == kCombinedFeedName) {
        r.fail(t.get("name"), p + ".name",
               "\"" + std::string(kCombinedFeedName) + "\" is the combined feed's name");
    }
    p = "sites." + s.name;
    s.title = r.string(t, p, "title").value_or(s.name);
    s.home = r.http_url(t, p, "home", r.required_string(t, p, "home"));
    for (auto& alias : r.strings(t, p, "aliases")) {
        s.aliases.push_back(lower(alias));
    }
    s.feeds = checked_urls(r, t, p, "feeds");
    s.autodiscover_feeds = boolean(r, t, p, "autodiscover_feeds").value_or(true);
    s.listings = checked_urls(r, t, p, "listings");
    s.listing_next = r.selector(t, p, "listing_next");
    s.listing_page_url = r.string(t, p, "listing_page_url").value_or("");
    if (!s.listing_page_url.empty()) {
        std::string probe = s.listing_page_url;
        auto at = probe.find("{n}");
        if (at == std::string::npos) {
            r.fail(t.get("listing_page_url"), p + ".listing_page_url",
                   "must contain {n} for the page number");
        }
        probe.replace(at, 3, "2");
        r.http_url(t, p, "listing_page_url", probe);
    }
    s.listing_url_pattern = r.string(t, p, "listing_url_pattern").value_or("");
    if (!s.listing_url_pattern.empty()) {
        try {
            s.listing_url = std::regex(s.listing_url_pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            r.fail(t.get("listing_url_pattern"), p + ".listing_url_pattern",
                   std::string("bad regular expression: ") + e.what());
        }
    }
    s.sitemaps = checked_urls(r, t, p, "sitemaps");
    if (s.feeds.empty() && s.listings.empty() && s.sitemaps.empty()) {
        r.fail(&t, p, "needs at least one of feeds, listings or sitemaps");
    }
    s.article_url_pattern = r.required_string(t, p, "article_url_pattern");
    try {
        s.article_url = std::regex(s.article_url_pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        r.fail(t.get("article_url_pattern"), p + ".article_url_pattern",
               std::string("bad regular expression: ") + e.what());
    }
    s.article_id_pattern = r.string(t, p, "article_id_pattern").value_or("");
    if (!s.article_id_pattern.empty()) {
        try {
            s.article_id = std::regex(s.article_id_pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
            r.fail(t.get("article_id_pattern"), p + ".article_id_pattern",
                   std::string("bad regular expression: ") + e.what());
        }
        if (s.article_id.mark_count() != 1) {
            r.fail(t.get("article_id_pattern"), p + ".article_id_pattern",
                   "needs exactly one capture group: the ID");
        }
    }
    SiteRules base;
    if (auto family = r.string(t, p, "family")) {
        auto found = families.find(*family);
        if (found == families.end()) {
            r.fail(t.get("family"), p + ".family", "no [families." + *family + "] table");
        }
        s.family = *family;
        base = found->second;
    }
    s.rules = read_rules(r, r.table(t, p, "rules"), p + ".rules", base);
    // No body rule at all: the generic extractor finds the body (parsers/extract.h).
    s.crawl = policy;
    if (const toml::table* crawl = r.table(t, p, "crawl")) {
        r.check_keys(*crawl, p + ".crawl", kPolicyKeys);
        s.crawl = read_policy(r, *crawl, p + ".crawl", policy);
    }
    for (auto& d : r.strings(t, p, "allowed_domains")) {
        s.allowed_domains.push_back(lower(d));
    }
    if (s.allowed_domains.empty()) {
        s.allowed_domains = s.hosts();
    }
    return s;
}

}  // namespace

std::vector<std::string> SiteConfig::hosts() const {
    std::vector<std::string> out;
    auto add = [&out](const std::string& h) {
        if (!h.empty() && std::find(out.begin(), out.end(), h) == out.end()) {
            out.push_back(h);
        }
    };
    add(url::host(home));
    for (const auto& u : feeds) {
        add(url::host(u));
    }
    for (const auto& u : listings) {
        add(url::host(u));
    }
    for (const auto& u : sitemaps) {
        add(url::host(u));
    }
    for (const auto& a : aliases) {
        add(a);
    }
    return out;
}

bool SiteConfig::is_article_url(const std::string& u) const {
    return std::regex_match(u, article_url);
}

bool SiteConfig::is_listing_url(const std::string& u) const {
    return !listing_url_pattern.empty() && std::regex_match(u, listing_url);
}

std::string SiteConfig::id_key(const std::string& u) const {
    if (article_id_pattern.empty()) {
        return "";
    }
    std::smatch m;
    if (!std::regex_search(u, m, article_id) || m.size() < 2 || !m[1].matched) {
        return "";
    }
    return name + "#" + m[1].str();
}

std::string SiteConfig::primary_host_url(const std::string& u) const {
    std::string h = url::host(u);
    std::string primary = url::host(home);
    if (h.empty() || h == primary ||
        std::find(aliases.begin(), aliases.end(), h) == aliases.end()) {
        return u;
    }
    auto at = u.find(h);  // url::host() lower-cases; canonical URLs are lower-case already
    if (at == std::string::npos) {
        return u;
    }
    std::string out = u;
    out.replace(at, h.size(), primary);
    return out;
}

Config parse_config(std::string_view toml_text, const std::filesystem::path& file) {
    toml::table root;
    try {
        root = toml::parse(toml_text, std::string_view(file.string()));
    } catch (const toml::parse_error& e) {
        std::ostringstream out;
        out << file.string() << ':' << e.source().begin.line << ": " << e.description();
        throw ConfigError(out.str());
    }
    Reader r(file);
    r.check_keys(root, "",
                 {"database", "output_dir", "crawler", "storage", "publish", "network", "families",
                  "sites"});

    Config c;
    c.file = file;
    c.database = r.path(root, "", "database", "baofeed.db");
    c.output_dir = r.path(root, "", "output_dir", "feeds");
    c.lock_file = c.database;
    c.lock_file += ".lock";
    c.crawler = read_crawler(r, r.table(root, "", "crawler"));
    c.storage = read_storage(r, r.table(root, "", "storage"));
    c.publish = read_publish(r, r.table(root, "", "publish"));
    c.connect_to = read_network(r, r.table(root, "", "network"));
    auto families = read_families(r, r.table(root, "", "families"));

    const toml::node* sites = root.get("sites");
    if (sites == nullptr) {
        r.fail(&root, "sites", "missing (add at least one [[sites]] table)");
    }
    if (!sites->is_array_of_tables()) {
        r.fail(sites, "sites", "expected [[sites]] tables");
    }
    std::set<std::string> names;
    std::size_t index = 0;
    for (const toml::node& node : *sites->as_array()) {
        SiteConfig s = read_site(r, *node.as_table(), index++, families, c.crawler.policy);
        if (!names.insert(s.name).second) {
            r.fail(&node, "sites." + s.name + ".name", "duplicate site name");
        }
        c.sites.push_back(std::move(s));
    }
    if (c.sites.empty()) {
        r.fail(sites, "sites", "add at least one [[sites]] table");
    }
    return c;
}

Config load_config(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw ConfigError(file.string() + ": cannot read the configuration file");
    }
    std::ostringstream text;
    text << in.rdbuf();
    auto absolute = std::filesystem::absolute(file).lexically_normal();
    return parse_config(text.str(), absolute);
}

}  // namespace baofeed::config

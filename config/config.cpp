#include "config/config.h"

#include <algorithm>
#include <fstream>
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
                    std::initializer_list<std::string_view> known) const {
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

CrawlerConfig read_crawler(const Reader& r, const toml::table* t) {
    CrawlerConfig c;
    if (t == nullptr) {
        return c;
    }
    constexpr std::string_view p = "crawler";
    r.check_keys(*t, p,
                 {"user_agent", "max_connections", "max_connections_per_host", "connect_timeout",
                  "timeout", "max_page_bytes", "max_new_articles_per_site"});
    if (auto v = r.string(*t, p, "user_agent")) {
        if (v->empty()) {
            r.fail(t->get("user_agent"), "crawler.user_agent", "must not be empty");
        }
        c.user_agent = *v;
    }
    if (auto v = r.integer(*t, p, "max_connections", 1, 1024)) {
        c.max_connections = static_cast<long>(*v);
    }
    if (auto v = r.integer(*t, p, "max_connections_per_host", 1, 64)) {
        c.max_connections_per_host = static_cast<long>(*v);
    }
    if (auto v = r.integer(*t, p, "connect_timeout", 1, 600)) {
        c.connect_timeout = std::chrono::seconds(*v);
    }
    if (auto v = r.integer(*t, p, "timeout", 1, 3600)) {
        c.timeout = std::chrono::seconds(*v);
    }
    if (auto v = r.integer(*t, p, "max_page_bytes", 1024, std::int64_t{1} << 30)) {
        c.max_page_bytes = static_cast<std::size_t>(*v);
    }
    if (auto v = r.integer(*t, p, "max_new_articles_per_site", 1, 100000)) {
        c.max_new_articles_per_site = static_cast<std::size_t>(*v);
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

SiteRules read_rules(const Reader& r, const toml::table* t, const std::string& prefix) {
    SiteRules rules;
    if (t == nullptr) {
        return rules;
    }
    r.check_keys(*t, prefix,
                 {"title", "lead", "body", "author", "published", "published_text", "modified",
                  "caption", "next_page", "remove", "image_src_attrs"});
    rules.title = r.selector(*t, prefix, "title");
    rules.lead = r.selector(*t, prefix, "lead");
    rules.body = r.selector(*t, prefix, "body");
    rules.author = r.selector(*t, prefix, "author");
    rules.published = r.selector(*t, prefix, "published");
    rules.published_text = r.selector(*t, prefix, "published_text");
    rules.modified = r.selector(*t, prefix, "modified");
    rules.caption = r.selector(*t, prefix, "caption");
    rules.next_page = r.selector(*t, prefix, "next_page");
    rules.remove = r.strings(*t, prefix, "remove");
    for (const auto& s : rules.remove) {
        r.check_selector(t->get("remove"), prefix + ".remove", s);
    }
    if (t->get("image_src_attrs") != nullptr) {
        rules.image_src_attrs = r.strings(*t, prefix, "image_src_attrs");
    }
    return rules;
}

bool valid_site_name(const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

SiteConfig read_site(const Reader& r, const toml::table& t, std::size_t index) {
    std::string p = "sites[" + std::to_string(index) + "]";
    r.check_keys(
        t, p,
        {"name", "title", "home", "aliases", "feeds", "listings", "article_url_pattern", "rules"});
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
    s.aliases = r.strings(t, p, "aliases");
    for (auto& alias : s.aliases) {
        std::transform(alias.begin(), alias.end(), alias.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    }
    s.feeds = r.strings(t, p, "feeds");
    for (const auto& u : s.feeds) {
        r.http_url(t, p, "feeds", u);
    }
    s.listings = r.strings(t, p, "listings");
    for (const auto& u : s.listings) {
        r.http_url(t, p, "listings", u);
    }
    if (s.feeds.empty() && s.listings.empty()) {
        r.fail(&t, p, "needs at least one of feeds or listings");
    }
    s.article_url_pattern = r.required_string(t, p, "article_url_pattern");
    try {
        s.article_url = std::regex(s.article_url_pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
        r.fail(t.get("article_url_pattern"), p + ".article_url_pattern",
               std::string("bad regular expression: ") + e.what());
    }
    s.rules = read_rules(r, r.table(t, p, "rules"), p + ".rules");
    if (s.rules.body.empty()) {
        r.fail(t.get("rules") != nullptr ? t.get("rules") : &t, p + ".rules.body",
               "missing (required: the CSS selector of the article body)");
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
    for (const auto& a : aliases) {
        add(a);
    }
    return out;
}

bool SiteConfig::is_article_url(const std::string& u) const {
    return std::regex_match(u, article_url);
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
    r.check_keys(root, "", {"database", "output_dir", "crawler", "publish", "network", "sites"});

    Config c;
    c.file = file;
    c.database = r.path(root, "", "database", "baofeed.db");
    c.output_dir = r.path(root, "", "output_dir", "feeds");
    c.lock_file = c.database;
    c.lock_file += ".lock";
    c.crawler = read_crawler(r, r.table(root, "", "crawler"));
    c.publish = read_publish(r, r.table(root, "", "publish"));
    c.connect_to = read_network(r, r.table(root, "", "network"));

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
        SiteConfig s = read_site(r, *node.as_table(), index++);
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

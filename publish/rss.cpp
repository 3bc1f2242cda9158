#include "publish/rss.h"

#include <algorithm>
#include <string_view>

#include "core/dates.h"
#include "publish/xml_text.h"

namespace baofeed::publish {
namespace {

// Appends "<indent><tag>escaped text</tag>\n".
void add_element(std::string& out, std::string_view indent, std::string_view tag,
                 std::string_view text) {
    out += indent;
    out += '<';
    out += tag;
    out += '>';
    out += escape_text(text);
    out += "</";
    out += tag;
    out += ">\n";
}

Timestamp item_date(const FeedEntry& entry) {
    return entry.article.published.value_or(entry.first_seen);
}

// The item description: the lead, else the first non-empty paragraph, else "".
std::string_view summary_of(const Article& article) {
    if (!article.lead.empty()) {
        return article.lead;
    }
    for (const std::string& paragraph : article.body) {
        if (!paragraph.empty()) {
            return paragraph;
        }
    }
    return {};
}

void add_item(std::string& out, const FeedEntry& entry) {
    const Article& article = entry.article;
    constexpr std::string_view kIndent = "    ";
    out += "  <item>\n";
    add_element(out, kIndent, "title", article.title);
    add_element(out, kIndent, "link", article.canonical_url);
    out += kIndent;
    out += "<guid isPermaLink=\"true\">";
    out += escape_text(article.canonical_url);
    out += "</guid>\n";
    add_element(out, kIndent, "pubDate", dates::format_rfc822(item_date(entry)));
    if (!strip_xml_invalid(article.author).empty()) {
        add_element(out, kIndent, "dc:creator", article.author);
    }
    const std::string_view summary = summary_of(article);
    if (!summary.empty()) {
        add_element(out, kIndent, "description", summary);
    }
    out += kIndent;
    out += "<content:encoded>";
    out += wrap_cdata(render_article_html(article));
    out += "</content:encoded>\n";
    out += "  </item>\n";
}

void add_attribute(std::string& out, std::string_view name, std::string_view value) {
    out += ' ';
    out += name;
    out += "=\"";
    out += escape_text(value);
    out += '"';
}

// "<img src=\"...\" alt=\"\">"; the caller has checked that `src` is an http(s) URL.
void add_img(std::string& out, std::string_view src) {
    out += "<img";
    add_attribute(out, "src", src);
    out += " alt=\"\">";
}

}  // namespace

std::string render_rss(const Channel& channel, const std::vector<FeedEntry>& entries) {
    std::string out;
    out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    out +=
        "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
        "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
        "xmlns:atom=\"http://www.w3.org/2005/Atom\">\n";
    out += "<channel>\n";
    constexpr std::string_view kIndent = "  ";
    add_element(out, kIndent, "title", channel.title);
    add_element(out, kIndent, "link", channel.link);
    add_element(out, kIndent, "description", channel.description);
    if (!channel.self_url.empty()) {
        out += kIndent;
        out += "<atom:link";
        add_attribute(out, "href", channel.self_url);
        out += " rel=\"self\" type=\"application/rss+xml\"/>\n";
    }
    if (!channel.language.empty()) {
        add_element(out, kIndent, "language", channel.language);
    }
    if (!entries.empty()) {
        const auto newest = std::max_element(
            entries.begin(), entries.end(),
            [](const FeedEntry& a, const FeedEntry& b) { return item_date(a) < item_date(b); });
        add_element(out, kIndent, "lastBuildDate", dates::format_rfc822(item_date(*newest)));
    }
    add_element(out, kIndent, "generator", "baofeed");
    for (const FeedEntry& entry : entries) {
        add_item(out, entry);
    }
    out += "</channel>\n";
    out += "</rss>\n";
    return out;
}

std::string render_article_html(const Article& article) {
    std::string out;
    if (!article.lead.empty()) {
        out += "<p class=\"lead\">";
        out += escape_text(article.lead);
        out += "</p>\n";
    }
    // Image positions within the body are unknown: all figures go between lead and body.
    for (const Image& image : article.images) {
        if (!is_http_url(image.src)) {
            continue;
        }
        out += "<figure>";
        add_img(out, image.src);
        if (!image.caption.empty()) {
            out += "<figcaption>";
            out += escape_text(image.caption);
            out += "</figcaption>";
        }
        out += "</figure>\n";
    }
    for (const std::string& paragraph : article.body) {
        if (paragraph.empty()) {
            continue;
        }
        out += "<p>";
        out += escape_text(paragraph);
        out += "</p>\n";
    }
    for (const Video& video : article.videos) {
        if (!is_http_url(video.src)) {
            continue;
        }
        out += "<p><a";
        add_attribute(out, "href", video.src);
        out += '>';
        if (is_http_url(video.poster)) {
            add_img(out, video.poster);
        }
        out += "Video</a>";
        if (!video.caption.empty()) {
            out += " \xE2\x80\x94 ";  // U+2014 EM DASH
            out += escape_text(video.caption);
        }
        out += "</p>\n";
    }
    return out;
}

}  // namespace baofeed::publish

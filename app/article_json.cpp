#include "app/article_json.h"

#include "core/dates.h"

namespace baofeed::app {

nlohmann::json article_fields_json(const Article& a) {
    nlohmann::json images = nlohmann::json::array();
    for (const Image& i : a.images) {
        images.push_back({{"src", i.src}, {"caption", i.caption}});
    }
    nlohmann::json videos = nlohmann::json::array();
    for (const Video& v : a.videos) {
        videos.push_back({{"src", v.src}, {"poster", v.poster}, {"caption", v.caption}});
    }
    const auto when = [](const std::optional<Timestamp>& t) {
        return t ? nlohmann::json(dates::format_iso8601_vn(*t)) : nlohmann::json(nullptr);
    };
    return {{"title", a.title},
            {"author", a.author.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.author)},
            {"published", when(a.published)},
            {"modified", when(a.modified)},
            {"section", a.section},
            {"lead", a.lead},
            {"lead_prefix", a.lead_prefix},
            {"body", a.body},
            {"images", images},
            {"videos", videos},
            {"html", a.html}};
}

}  // namespace baofeed::app

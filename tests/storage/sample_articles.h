// Articles for the storage tests: a field-complete article, and a syndicated wire story with its
// copies as three papers print it (different headlines, dateline prefixes, a cut and an added
// paragraph), plus a distinct story on the same topic.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/article.h"

namespace baofeed::storage::testing {

inline Timestamp at(std::int64_t unix_seconds) {
    return Timestamp(std::chrono::seconds(unix_seconds));
}

inline Article make_article(const std::string& url, const std::string& site = "baodanang") {
    Article a;
    a.canonical_url = url;
    a.urls = {url};
    a.site = site;
    a.title = "Tiêu đề " + url;
    a.author = "Nguyễn Văn A";
    a.published = at(1'734'842'400);
    a.modified = at(1'734'846'000);
    a.lead = "Sáng 22/12, UBND thành phố Đà Nẵng tổ chức lễ khánh thành.";
    a.body = {"Đoạn một.", "Đoạn hai với \"ngoặc kép\" và \\ gạch.", "Ba"};
    a.images = {{"https://img.example.vn/1.jpg", "Ảnh: Quang cảnh buổi lễ"},
                {"https://img.example.vn/2.jpg", ""}};
    a.videos = {{"https://www.youtube.com/embed/xyz", "https://img.example.vn/p.jpg", "Clip"}};
    return a;
}

// The wire story (TTXVN) as paragraphs.
inline std::vector<std::string> wire_paragraphs() {
    return {
        "Chiều 20/12, tại Hà Nội, Bộ Nông nghiệp và Phát triển nông thôn phối hợp với Ủy ban "
        "nhân dân các tỉnh miền núi phía Bắc tổ chức hội nghị tổng kết chương trình trồng rừng "
        "gỗ lớn giai đoạn 2021 đến 2025.",
        "Theo báo cáo của Tổng cục Lâm nghiệp, sau 5 năm thực hiện, các địa phương đã trồng mới "
        "hơn 120 nghìn ha rừng gỗ lớn, vượt 15 phần trăm kế hoạch đề ra, trong đó tỉnh Bắc Kạn "
        "dẫn đầu với gần 18 nghìn ha.",
        "Thứ trưởng Nguyễn Quốc Trị đánh giá chương trình đã góp phần nâng cao thu nhập cho hơn "
        "40 nghìn hộ đồng bào dân tộc thiểu số, đồng thời tăng độ che phủ rừng của vùng lên 58 "
        "phần trăm.",
        "Tuy nhiên, hội nghị cũng chỉ ra nhiều hạn chế như thiếu giống cây chất lượng cao, hạ "
        "tầng giao thông lâm nghiệp xuống cấp và liên kết giữa doanh nghiệp với người trồng rừng "
        "còn lỏng lẻo.",
        "Giai đoạn tới, Bộ đề nghị các tỉnh rà soát quỹ đất, ưu tiên vốn vay ưu đãi cho hộ gia "
        "đình chuyển từ rừng gỗ nhỏ sang gỗ lớn và xây dựng vùng nguyên liệu có chứng chỉ quản lý "
        "rừng bền vững.",
        "Dịp này, Bộ Nông nghiệp và Phát triển nông thôn trao bằng khen cho 25 tập thể và 40 cá "
        "nhân có thành tích xuất sắc trong thực hiện chương trình.",
    };
}

// The copy of the wire story printed by one of three papers (variant 0, 1, 2).
inline Article wire_copy(int variant) {
    static const char* const kSites[] = {"baobackan", "baothainguyen", "baocaobang"};
    static const char* const kTitles[] = {
        "Trồng mới hơn 120 nghìn ha rừng gỗ lớn ở miền núi phía Bắc",
        "Miền núi phía Bắc vượt kế hoạch trồng rừng gỗ lớn",
        "Tổng kết chương trình trồng rừng gỗ lớn giai đoạn 2021 - 2025",
    };
    static const char* const kPrefixes[] = {"TTXVN - ", "BTN - ", "(TTXVN) "};
    const std::vector<std::string> wire = wire_paragraphs();
    Article a;
    a.site = kSites[variant];
    a.canonical_url =
        "https://" + a.site + ".vn/trong-rung-go-lon-" + std::to_string(variant) + ".html";
    a.urls = {a.canonical_url};
    a.title = kTitles[variant];
    a.lead_prefix = kPrefixes[variant];
    a.lead = a.lead_prefix + wire[0];
    a.body.assign(wire.begin() + 1, wire.end());
    if (variant == 1) {
        a.body.pop_back();  // the award paragraph is cut
    }
    if (variant == 2) {
        a.body.push_back(
            "Tại tỉnh Cao Bằng, diện tích rừng gỗ lớn đạt gần 9 nghìn ha, tập trung ở các huyện "
            "Nguyên Bình, Bảo Lạc và Hà Quảng.");
    }
    a.published = Timestamp(std::chrono::seconds(1'734'700'000 + 600 * variant));
    return a;
}

// A different story on the same topic (forests), from one of the same papers.
inline Article forest_fire_story() {
    Article a;
    a.site = "baobackan";
    a.canonical_url = "https://baobackan.vn/phong-chay-rung-mua-kho.html";
    a.urls = {a.canonical_url};
    a.title = "Bắc Kạn chủ động phòng cháy, chữa cháy rừng mùa khô";
    a.lead =
        "Trước diễn biến nắng nóng kéo dài, Chi cục Kiểm lâm tỉnh Bắc Kạn yêu cầu các hạt kiểm "
        "lâm tăng cường tuần tra, canh gác lửa rừng tại các khu vực trọng điểm.";
    a.body = {
        "Toàn tỉnh hiện có hơn 370 nghìn ha rừng, trong đó nhiều diện tích rừng thông và rừng "
        "keo có nguy cơ cháy cao vào cao điểm mùa khô từ tháng 1 đến tháng 4.",
        "Các xã đã thành lập 112 tổ đội quần chúng bảo vệ rừng, chuẩn bị dụng cụ chữa cháy và "
        "phương án huy động lực lượng tại chỗ khi xảy ra sự cố.",
        "Chi cục cũng đề nghị người dân không đốt nương làm rẫy trong những ngày có cảnh báo "
        "cháy rừng cấp IV và cấp V.",
    };
    a.published = Timestamp(std::chrono::seconds(1'734'800'000));
    return a;
}

}  // namespace baofeed::storage::testing

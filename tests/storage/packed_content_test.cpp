// The packed body/html frame of schema version 6 (storage/packed_content.h) and the SQL function
// that reads the body out of it.
#include "storage/packed_content.h"

#include <optional>
#include <span>
#include <string>
#include <vector>
#include <zstd.h>

#include <gtest/gtest.h>

#include "core/errors.h"
#include "storage/sqlite.h"

namespace baofeed::storage {
namespace {

void expect_round_trip(const std::string& body_json, const std::string& html) {
    const std::optional<UnpackedContent> back = unpack_content(pack_content(body_json, html));
    ASSERT_TRUE(back.has_value()) << body_json << " | " << html;
    EXPECT_EQ(back->body_json, body_json);
    EXPECT_EQ(back->html, html);
}

TEST(PackedContent, RoundTripsBodyAndHtmlIncludingEmptyOnesAndNonAsciiText) {
    expect_round_trip("", "");
    expect_round_trip("[]", "");
    expect_round_trip("", "<p>Chỉ có html</p>");
    expect_round_trip("[\"Đà Nẵng\",\"Ngoặc \\\"kép\\\" và \\\\ gạch\",\"😀\"]",
                      "<p>Đà Nẵng</p><p>Ngoặc \"kép\" và \\ gạch</p><p>😀</p>");
    // A NUL byte and a body whose length needs a varint of several bytes.
    expect_round_trip(std::string("[\"a\0b\"]", 7), std::string("x\0y", 3));
    std::string long_body = "[";
    for (int i = 0; i < 2000; ++i) {
        long_body += "\"Đoạn văn số " + std::to_string(i) + " của bài báo.\",";
    }
    long_body.back() = ']';
    expect_round_trip(long_body, "<p>" + long_body + "</p>");
}

TEST(PackedContent, IsOneZstdFrameMuchSmallerThanRepetitiveText) {
    std::string body = "[";
    for (int i = 0; i < 200; ++i) {
        body += "\"Chi cục Kiểm lâm tỉnh Bắc Kạn tăng cường tuần tra, canh gác lửa rừng.\",";
    }
    body.back() = ']';
    const std::string packed = pack_content(body, "<p>" + body + "</p>");
    ASSERT_GE(packed.size(), 4U);
    EXPECT_EQ(packed.substr(0, 4), "\x28\xB5\x2F\xFD");
    EXPECT_LT(packed.size() * 10, body.size() * 2);
}

// Queued batches and raw pages hold frames until the writer saves them: a frame must not keep
// the room its compression needed at worst (the size of the text and more) as its capacity.
TEST(PackedContent, AFrameHoldsNoMoreMemoryThanItsOwnBytes) {
    std::string body = "[";
    for (int i = 0; i < 300; ++i) {
        body += "\"Đoạn " + std::to_string(i) + ": tỉnh Bắc Kạn tăng cường tuần tra rừng.\",";
    }
    body.back() = ']';
    const std::string html = "<p>" + body + "</p>";
    const std::string packed = pack_content(body, html);
    EXPECT_LT(packed.capacity(), packed.size() + 32);
    EXPECT_LT(packed.capacity() * 4, body.size() + html.size());
    const std::string frame = compress_frame(html, "test");
    EXPECT_LT(frame.capacity(), frame.size() + 32);
    // The buffers each thread reuses leave no trace from one call to the next.
    expect_round_trip(body, html);
    expect_round_trip("[\"ngắn\"]", "<p>ngắn</p>");
    EXPECT_EQ(decompress_frame(compress_frame("một", "test")), std::optional<std::string>("một"));
}

TEST(PackedContent, AnythingButAFrameItWroteIsRejectedNotMisread) {
    const std::string packed = pack_content("[\"Đoạn một.\"]", "<p>Đoạn một.</p>");
    EXPECT_FALSE(unpack_content("").has_value());
    EXPECT_FALSE(unpack_content("garbage, not zstd at all").has_value());
    EXPECT_FALSE(unpack_content(packed.substr(0, packed.size() - 1)).has_value());  // truncated
    EXPECT_FALSE(unpack_content(packed + "x").has_value());                         // trailing
    EXPECT_FALSE(unpack_content(packed + packed).has_value());                      // two frames
    std::string flipped = packed;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5A);
    EXPECT_NO_THROW(unpack_content(flipped));  // rejected or, at worst, other bytes: no crash
}

// A zstd frame (level 1, content size in the header) of `content`, as pack_content() frames.
std::string frame(const std::string& content) {
    std::string out(ZSTD_compressBound(content.size()), '\0');
    const std::size_t size =
        ZSTD_compress(out.data(), out.size(), content.data(), content.size(), 1);
    EXPECT_EQ(ZSTD_isError(size), 0U);
    out.resize(size);
    return out;
}

TEST(PackedContent, AValidFrameWithAnotherLayoutIsRejected) {
    // The layout: format byte 1, the body length as a varint, the body, the html.
    ASSERT_TRUE(unpack_content(frame(std::string("\x01\x02[]<p>", 7))).has_value());
    EXPECT_EQ(unpack_content(frame(std::string("\x01\x02[]<p>", 7)))->html, "<p>");
    EXPECT_EQ(unpack_content(frame(std::string("\x01\x80\x01", 3) + std::string(128, 'b')))
                  ->body_json.size(),
              128U);                                      // a two-byte varint
    EXPECT_FALSE(unpack_content(frame("")).has_value());  // empty
    EXPECT_FALSE(unpack_content(frame(std::string("\x02\x02[]", 4))).has_value());    // format
    EXPECT_FALSE(unpack_content(frame(std::string("\x01\x05[]", 4))).has_value());    // too long
    EXPECT_FALSE(unpack_content(frame(std::string("\x01\x80\x80", 3))).has_value());  // varint
    EXPECT_FALSE(unpack_content(frame(std::string("\x01", 1))).has_value());          // no length
}

TEST(PackedContent, TheSqlFunctionGivesThePackedBodyElseThePlainColumn) {
    Database db(":memory:");
    register_content_functions(db);
    const std::string packed = pack_content("[\"Đoạn đóng gói\"]", "<p>Đoạn đóng gói</p>");
    Statement query = db.prepare("SELECT baofeed_body(?1, ?2)");
    query.bind_blob(1, std::as_bytes(std::span(packed.data(), packed.size())));
    query.bind(2, "");
    ASSERT_TRUE(query.step());
    EXPECT_EQ(query.column_text(0), "[\"Đoạn đóng gói\"]");
    query.reset();
    query.bind_null(1);
    query.bind(2, "[\"Đoạn thường\"]");
    ASSERT_TRUE(query.step());
    EXPECT_EQ(query.column_text(0), "[\"Đoạn thường\"]");
    query.reset();
    const std::string garbage = "not a frame";
    query.bind_blob(1, std::as_bytes(std::span(garbage.data(), garbage.size())));
    try {
        query.step();
        FAIL() << "a corrupt frame must fail the statement";
    } catch (const StorageError& e) {
        EXPECT_NE(std::string(e.what()).find("corrupt packed"), std::string::npos) << e.what();
    }
    query.reset();
    query.bind(1, "text, not a blob");
    EXPECT_THROW(query.step(), StorageError);
}

}  // namespace
}  // namespace baofeed::storage

#include "storage/packed_content.h"

#include <cstdint>
#include <memory>
#include <utility>
#include <zstd.h>

#include "core/errors.h"
#include "storage/content_hash.h"

namespace baofeed::storage {

namespace {

constexpr char kFormat = '\x01';
constexpr int kLevel = 1;
// Larger than any value SQLite stores by default (SQLITE_MAX_LENGTH, 1e9 bytes): a frame that
// claims more is corrupt, and is refused before anything is allocated for it.
constexpr unsigned long long kMaxContent = 1ULL << 30U;

struct CctxFree {
    void operator()(ZSTD_CCtx* cctx) const noexcept { ZSTD_freeCCtx(cctx); }
};
struct DctxFree {
    void operator()(ZSTD_DCtx* dctx) const noexcept { ZSTD_freeDCtx(dctx); }
};

// One context per thread: creating one per call costs more than compressing a short article.
ZSTD_CCtx* thread_cctx() {
    thread_local const std::unique_ptr<ZSTD_CCtx, CctxFree> cctx(ZSTD_createCCtx());
    return cctx.get();
}

// A buffer of at least `size` bytes, this thread's own, reused by every call (its contents are
// not kept): compressing into a buffer of ZSTD_compressBound() bytes, then copying the frame out,
// spares a zero-filled allocation of that size per call, which the frame would also have kept as
// its capacity (the size of the text, where the frame is a quarter of it).
char* thread_scratch(std::size_t size) {
    thread_local std::string scratch;
    if (scratch.size() < size) {
        scratch.resize(size);
    }
    return scratch.data();
}

ZSTD_DCtx* thread_dctx() {
    thread_local const std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
    return dctx.get();
}

void append_varint(std::string& out, std::uint64_t value) {
    while (value >= 0x80U) {
        out.push_back(static_cast<char>((value & 0x7FU) | 0x80U));
        value >>= 7U;
    }
    out.push_back(static_cast<char>(value));
}

// Reads a varint at `pos` (advanced past it); nullopt when it runs past the end or is longer
// than 10 bytes.
std::optional<std::uint64_t> read_varint(std::string_view in, std::size_t& pos) {
    std::uint64_t value = 0;
    for (unsigned shift = 0; shift < 64 && pos < in.size(); shift += 7) {
        const auto byte = static_cast<unsigned char>(in[pos++]);
        value |= static_cast<std::uint64_t>(byte & 0x7FU) << shift;
        if ((byte & 0x80U) == 0) {
            return value;
        }
    }
    return std::nullopt;
}

// The frame's content, or nullopt when `packed` is not exactly one zstd frame of known size.
std::optional<std::string> decompress(std::string_view packed) {
    if (packed.size() < 4 || ZSTD_findFrameCompressedSize(packed.data(), packed.size()) !=
                                 packed.size()) {  // also rejects errors (huge values)
        return std::nullopt;
    }
    const unsigned long long size = ZSTD_getFrameContentSize(packed.data(), packed.size());
    if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR || size > kMaxContent) {
        return std::nullopt;
    }
    ZSTD_DCtx* dctx = thread_dctx();
    if (dctx == nullptr) {
        return std::nullopt;
    }
    std::string out(static_cast<std::size_t>(size), '\0');
    const std::size_t got =
        ZSTD_decompressDCtx(dctx, out.data(), out.size(), packed.data(), packed.size());
    if (ZSTD_isError(got) != 0U || got != out.size()) {
        return std::nullopt;
    }
    return out;
}

// Where body_json starts in a frame's content and how long it is.
struct Split {
    std::size_t body_start = 0;
    std::size_t body_size = 0;
};

std::optional<Split> split(std::string_view content) {
    if (content.empty() || content[0] != kFormat) {
        return std::nullopt;
    }
    std::size_t pos = 1;
    const std::optional<std::uint64_t> length = read_varint(content, pos);
    if (!length.has_value() || *length > content.size() - pos) {
        return std::nullopt;
    }
    return Split{pos, static_cast<std::size_t>(*length)};
}

void body_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    if (argc != 2) {
        sqlite3_result_error(ctx, "baofeed_body: takes (packed, body)", -1);
        return;
    }
    const int type = sqlite3_value_type(argv[0]);
    if (type == SQLITE_NULL) {
        sqlite3_result_value(ctx, argv[1]);
        return;
    }
    std::optional<std::string> content;
    if (type == SQLITE_BLOB) {
        const void* data = sqlite3_value_blob(argv[0]);
        const int size = sqlite3_value_bytes(argv[0]);
        if (data != nullptr) {
            content = decompress(
                std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size)));
        }
    }
    const std::optional<Split> parts =
        content.has_value() ? split(*content) : std::optional<Split>();
    if (!parts.has_value()) {
        sqlite3_result_error(ctx, "baofeed_body: corrupt packed body/html", -1);
        return;
    }
    sqlite3_result_text64(ctx, content->data() + parts->body_start, parts->body_size,
                          SQLITE_TRANSIENT, SQLITE_UTF8);
}

std::string_view text_of(sqlite3_value* value) {
    const unsigned char* text = sqlite3_value_text(value);  // "" for NULL
    const int size = sqlite3_value_bytes(value);
    return text == nullptr ? std::string_view()
                           : std::string_view(reinterpret_cast<const char*>(text),
                                              static_cast<std::size_t>(size));
}

std::optional<std::int64_t> time_of(sqlite3_value* value) {
    return sqlite3_value_type(value) == SQLITE_NULL
               ? std::nullopt
               : std::optional<std::int64_t>(sqlite3_value_int64(value));
}

// baofeed_content_hash(title, author, published, modified, lead, lead_prefix, section, images,
// videos, packed, body, html): content_hashes() of a stored row; body and html from `packed`
// unless it is NULL (rows written before version 6).
void content_hash_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    if (argc != 12) {
        sqlite3_result_error(ctx, "baofeed_content_hash: takes 12 arguments", -1);
        return;
    }
    std::optional<UnpackedContent> unpacked;
    if (sqlite3_value_type(argv[9]) != SQLITE_NULL) {
        const void* data = sqlite3_value_blob(argv[9]);
        const int size = sqlite3_value_bytes(argv[9]);
        if (sqlite3_value_type(argv[9]) == SQLITE_BLOB && data != nullptr) {
            unpacked = unpack_content(
                std::string_view(static_cast<const char*>(data), static_cast<std::size_t>(size)));
        }
        if (!unpacked.has_value()) {
            sqlite3_result_error(ctx, "baofeed_content_hash: corrupt packed body/html", -1);
            return;
        }
    }
    const ContentHashes hashes = content_hashes(HashedFields{
        .title = text_of(argv[0]),
        .author = text_of(argv[1]),
        .published = time_of(argv[2]),
        .modified = time_of(argv[3]),
        .lead = text_of(argv[4]),
        .body_json =
            unpacked.has_value() ? std::string_view(unpacked->body_json) : text_of(argv[10]),
        .images_json = text_of(argv[7]),
        .videos_json = text_of(argv[8]),
        .lead_prefix = text_of(argv[5]),
        .section = text_of(argv[6]),
        .html = unpacked.has_value() ? std::string_view(unpacked->html) : text_of(argv[11]),
    });
    sqlite3_result_int64(ctx, hashes.hash);
}

}  // namespace

std::string pack_content(std::string_view body_json, std::string_view html) {
    thread_local std::string content;  // reused: only its capacity is kept between calls
    content.clear();
    content.reserve(body_json.size() + html.size() + 11);
    content.push_back(kFormat);
    append_varint(content, body_json.size());
    content.append(body_json);
    content.append(html);
    return compress_frame(content, "pack");
}

std::string compress_frame(std::string_view text, std::string_view what) {
    return compress_frame(text, nullptr, what);
}

std::string compress_frame(std::string_view text, const ZSTD_CDict* dictionary,
                           std::string_view what) {
    ZSTD_CCtx* cctx = thread_cctx();
    if (cctx == nullptr) {
        throw StorageError(storage_message("", "zstd: no compression context", what));
    }
    const std::size_t bound = ZSTD_compressBound(text.size());
    char* out = thread_scratch(bound);
    const std::size_t size =
        dictionary == nullptr
            ? ZSTD_compressCCtx(cctx, out, bound, text.data(), text.size(), kLevel)
            : ZSTD_compress_usingCDict(cctx, out, bound, text.data(), text.size(), dictionary);
    if (ZSTD_isError(size) != 0U) {
        throw StorageError(storage_message(
            "", std::string("zstd compress failed: ") + ZSTD_getErrorName(size), what));
    }
    return std::string(out, size);
}

std::optional<std::string> decompress_frame(std::string_view frame) {
    return decompress(frame);
}

std::optional<UnpackedContent> unpack_content(std::string_view packed) {
    std::optional<std::string> content = decompress(packed);
    if (!content.has_value()) {
        return std::nullopt;
    }
    const std::optional<Split> parts = split(*content);
    if (!parts.has_value()) {
        return std::nullopt;
    }
    UnpackedContent out;
    out.body_json.assign(*content, parts->body_start, parts->body_size);
    content->erase(0, parts->body_start + parts->body_size);
    out.html = std::move(*content);
    return out;
}

void register_content_functions(Database& db) {
    const int rc = sqlite3_create_function_v2(db.handle(), "baofeed_body", 2,
                                              SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                                              &body_function, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        db.fail("register baofeed_body");
    }
    if (sqlite3_create_function_v2(
            db.handle(), "baofeed_content_hash", 12, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
            &content_hash_function, nullptr, nullptr, nullptr) != SQLITE_OK) {
        db.fail("register baofeed_content_hash");
    }
}

}  // namespace baofeed::storage

// An article's body and html stored together as one zstd frame: the `packed` column of articles
// and article_revisions (schema version 6). Internal to storage/: the only code that knows the
// layout. html repeats the text of body, so the two compress far better together than apart.
//
// Layout of the frame's content: one format byte (1), the length of body_json in bytes as an
// unsigned LEB128 varint (7 bits per byte, low first, high bit = more), body_json (the JSON array
// of paragraph strings, as article_store.cpp serialises it), then html up to the end. The frame
// is zstd level 1 with its content size in the header (ZSTD_compressCCtx writes it).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/sqlite.h"

struct ZSTD_CDict_s;  // zstd.h: ZSTD_CDict

namespace baofeed::storage {

struct UnpackedContent {
    std::string body_json;
    std::string html;
};

// The frame of (body_json, html), its capacity its size. Pure and thread-safe (one zstd context
// and two buffers per thread, reused: they keep the size of the largest text compressed on the
// thread). Throws StorageError if zstd fails.
std::string pack_content(std::string_view body_json, std::string_view html);

// `text` as one zstd frame, level 1, with its content size in the header, compressed with the
// calling thread's context (creating a context per call costs more than compressing a short
// text) into the thread's buffer, then copied out: the frame's capacity is its size. Pure and
// thread-safe. Throws StorageError naming `what` if zstd fails.
std::string compress_frame(std::string_view text, std::string_view what);

// The same, compressed against `dictionary` (a digested zstd dictionary, e.g. a raw-content one
// from ZSTD_createCDict; its compression level is used). Decompressing the frame needs the same
// dictionary. Pure and thread-safe (`dictionary` is only read).
std::string compress_frame(std::string_view text, const ZSTD_CDict_s* dictionary,
                           std::string_view what);

// The content of `frame` when it is exactly one zstd frame (no dictionary) with its content size
// in the header, at most 1 GiB; else nullopt. Pure and thread-safe.
std::optional<std::string> decompress_frame(std::string_view frame);

// The body_json and html of a frame written by pack_content(); nullopt when `packed` is not
// exactly one such frame (not zstd, truncated, trailing bytes, unknown format byte, a length past
// the end, a content size over 1 GiB). Pure and thread-safe.
std::optional<UnpackedContent> unpack_content(std::string_view packed);

// Registers two SQL functions on `db` (SQLITE_UTF8 | SQLITE_DETERMINISTIC):
// - baofeed_body(packed, body): the body JSON text of a row, from `packed` when it is not NULL,
//   else `body` itself (rows written before version 6). The full-text index statements use it.
// - baofeed_content_hash(title, author, published, modified, lead, lead_prefix, section, images,
//   videos, packed, body, html): content_hashes(...).hash of a stored row (storage/content_hash.h),
//   body and html from `packed` unless it is NULL. Schema version 8 rehashes every row with it.
// A `packed` value that unpack_content() rejects (or that is not a BLOB) is an SQL error
// "...: corrupt packed body/html", which fails the statement (StorageError). Every connection
// that runs such statements needs them: ArticleStore registers them on its connection when it
// opens the file, and migrate() does.
void register_content_functions(Database& db);

}  // namespace baofeed::storage

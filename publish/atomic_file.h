// Writing output files so readers never see a partial file.
#pragma once

#include <filesystem>
#include <string_view>

namespace baofeed::publish {

enum class WriteResult { written, unchanged };

// Writes `bytes` to a temporary file in the same directory, fsyncs it and renames it over
// `path` (creating parent directories). When `path` already holds exactly `bytes`, leaves it
// untouched (mtime kept) and returns unchanged. Throws PublishError ("publish: <path>: <reason>").
WriteResult write_atomically(const std::filesystem::path& path, std::string_view bytes);

}  // namespace baofeed::publish

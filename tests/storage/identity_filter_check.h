// Checks the stored Bloom filter of identity_keys (schema version 11) against the table.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>

#include "storage/identity_filter.h"
#include "storage/sqlite.h"

namespace baofeed::storage::testing {

// How many keys of identity_keys the stored filter would call absent (it must be 0), or nullopt
// when the file has no filter row or the row does not decode.
inline std::optional<std::int64_t> keys_missing_from_filter(Database& db) {
    Statement row = db.prepare("SELECT keys, capacity, bits FROM identity_filter WHERE id = 1");
    if (!row.step()) {
        return std::nullopt;
    }
    const std::optional<IdentityFilter> filter = IdentityFilter::from_bytes(
        row.column_blob_view(2), static_cast<std::size_t>(row.column_int64(0)),
        static_cast<std::size_t>(row.column_int64(1)));
    if (!filter.has_value()) {
        return std::nullopt;
    }
    std::int64_t missing = 0;
    Statement keys = db.prepare("SELECT key FROM identity_keys");
    while (keys.step()) {
        missing += filter->may_contain(std::bit_cast<std::uint64_t>(keys.column_int64(0))) ? 0 : 1;
    }
    return missing;
}

}  // namespace baofeed::storage::testing

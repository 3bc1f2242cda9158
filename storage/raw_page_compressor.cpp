#include "storage/raw_page_compressor.h"

#include <map>
#include <mutex>
#include <utility>
#include <zstd.h>

#include <xxhash.h>

#include "core/errors.h"
#include "storage/packed_content.h"
#include "storage/sqlite.h"

namespace baofeed::storage {

namespace {

constexpr int kLevel = 1;

struct CDictFree {
    void operator()(ZSTD_CDict* cdict) const noexcept { ZSTD_freeCDict(cdict); }
};

// A site's dictionary: what the writer stores, and zstd's digested form of it for compressing.
struct Entry {
    std::shared_ptr<const RawPageDictionary> stored;
    std::unique_ptr<ZSTD_CDict, CDictFree> cdict;
};

std::shared_ptr<const Entry> make_entry(std::int64_t id, std::string_view site, Timestamp created,
                                        std::string_view content) {
    auto stored = std::make_shared<RawPageDictionary>();
    stored->id = id;
    stored->site = std::string(site);
    stored->created = created;
    stored->frame = compress_frame(content, "raw dictionary");
    auto entry = std::make_shared<Entry>();
    entry->stored = std::move(stored);
    entry->cdict.reset(ZSTD_createCDict(content.data(), content.size(), kLevel));
    if (entry->cdict == nullptr) {
        throw StorageError(storage_message("", "zstd: cannot digest a dictionary", "raw page"));
    }
    return entry;
}

}  // namespace

std::int64_t raw_dictionary_id(std::string_view content) {
    const XXH64_hash_t hash = XXH3_64bits(content.data(), content.size());
    return static_cast<std::int64_t>(hash & 0x7FFF'FFFF'FFFF'FFFFULL);
}

bool usable_as_raw_dictionary(std::string_view html) {
    // ZSTD_MAGIC_DICTIONARY (0xEC30A437), little-endian.
    constexpr std::string_view kDictionaryMagic("\x37\xA4\x30\xEC", 4);
    return html.size() >= kMinDictionarySize && html.size() <= kMaxDictionarySize &&
           !html.starts_with(kDictionaryMagic);
}

struct RawPageCompressor::Impl {
    Timestamp now;
    std::chrono::seconds max_age;
    mutable std::mutex mutex;
    std::map<std::string, std::shared_ptr<const Entry>, std::less<>> by_site;  // under mutex

    std::shared_ptr<const Entry> find(std::string_view site) const {
        std::lock_guard lock(mutex);
        auto found = by_site.find(site);
        return found == by_site.end() ? nullptr : found->second;
    }

    // Makes `entry` the site's dictionary unless it has one: the site's dictionary either way.
    std::shared_ptr<const Entry> offer(std::string_view site, std::shared_ptr<const Entry> entry) {
        std::lock_guard lock(mutex);
        auto [it, inserted] = by_site.try_emplace(std::string(site), std::move(entry));
        return it->second;
    }
};

RawPageCompressor::RawPageCompressor(Timestamp now, std::chrono::seconds max_age)
    : impl_(std::make_unique<Impl>()) {
    impl_->now = now;
    impl_->max_age = max_age;
}

RawPageCompressor::~RawPageCompressor() = default;

bool RawPageCompressor::adopt(const RawDictionary& dictionary) {
    if (dictionary.created + impl_->max_age <= impl_->now ||
        !usable_as_raw_dictionary(dictionary.content) ||
        raw_dictionary_id(dictionary.content) != dictionary.id ||
        impl_->find(dictionary.site) != nullptr) {
        return false;
    }
    std::shared_ptr<const Entry> entry =
        make_entry(dictionary.id, dictionary.site, dictionary.created, dictionary.content);
    return impl_->offer(dictionary.site, entry) == entry;
}

RawPageCompressor::Compressed RawPageCompressor::compress(std::string_view site,
                                                          std::string_view html) {
    std::shared_ptr<const Entry> entry = impl_->find(site);
    if (entry == nullptr && usable_as_raw_dictionary(html)) {
        // Digested outside the lock; should another thread make one for the site meanwhile,
        // the first one stays and this page uses it.
        entry = impl_->offer(site, make_entry(raw_dictionary_id(html), site, impl_->now, html));
    }
    if (entry == nullptr) {
        return Compressed{.frame = compress_frame(html, "raw page"), .dictionary = nullptr};
    }
    return Compressed{.frame = compress_frame(html, entry->cdict.get(), "raw page"),
                      .dictionary = entry->stored};
}

std::shared_ptr<const RawPageDictionary> RawPageCompressor::dictionary(
    std::string_view site) const {
    std::shared_ptr<const Entry> entry = impl_->find(site);
    return entry == nullptr ? nullptr : entry->stored;
}

}  // namespace baofeed::storage

#include "storage/content_hash.h"

#include <array>
#include <bit>
#include <memory>
#include <new>

#include <xxhash.h>

namespace baofeed::storage {
namespace {

struct StateFree {
    void operator()(XXH3_state_t* state) const noexcept { XXH3_freeState(state); }
};

class Hasher {
  public:
    explicit Hasher(XXH3_state_t* state) : state_(state) { XXH3_64bits_reset(state_); }

    void number(std::uint64_t v) {
        std::array<unsigned char, 8> le{};
        for (std::size_t i = 0; i < le.size(); ++i) {
            le[i] = static_cast<unsigned char>(v >> (8 * i));
        }
        XXH3_64bits_update(state_, le.data(), le.size());
    }

    void text(std::string_view s) {
        number(s.size());
        XXH3_64bits_update(state_, s.data(), s.size());
    }

    void time(const std::optional<std::int64_t>& t) {
        const unsigned char present = t.has_value() ? 1 : 0;
        XXH3_64bits_update(state_, &present, 1);
        if (t.has_value()) {
            number(std::bit_cast<std::uint64_t>(*t));
        }
    }

    std::int64_t digest() const { return std::bit_cast<std::int64_t>(XXH3_64bits_digest(state_)); }

  private:
    XXH3_state_t* state_;
};

}  // namespace

ContentHashes content_hashes(const HashedFields& f) {
    thread_local const std::unique_ptr<XXH3_state_t, StateFree> state(XXH3_createState());
    if (state == nullptr) {
        throw std::bad_alloc();
    }
    Hasher h(state.get());
    h.text(f.title);
    h.text(f.author);
    h.time(f.published);
    h.time(f.modified);
    h.text(f.lead);
    h.text(f.body_json);
    h.text(f.images_json);
    h.text(f.videos_json);
    ContentHashes out;
    out.core_hash = h.digest();  // the digest does not end the state: it can go on
    out.hash = out.core_hash;
    if (!f.lead_prefix.empty() || !f.section.empty() || !f.html.empty()) {
        h.text(f.lead_prefix);
        h.text(f.section);
        h.text(f.html);
        out.hash = h.digest();
    }
    return out;
}

}  // namespace baofeed::storage

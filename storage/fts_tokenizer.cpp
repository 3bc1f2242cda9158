#include "storage/fts_tokenizer.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>

#include <sqlite3.h>
#include <utf8proc.h>

#include "core/errors.h"
#include "core/text.h"

namespace baofeed::storage {

namespace {

// Code points below this are looked up in a table, the rest asked of utf8proc. It covers Latin,
// Latin Extended-A/B, Greek, Cyrillic, Latin Extended Additional (Vietnamese, U+1EA0-U+1EF9) and
// General Punctuation (the dashes, quotes and ellipsis of news text).
constexpr char32_t kTableEnd = 0x2100;

enum class Kind : std::uint8_t {
    separator,
    token,      // a token character: its folded form is added to the token
    diacritic,  // continues a token, adds nothing to it
};

// The combining marks unicode61 treats as diacritics (sqlite3Fts5UnicodeIsdiacritic): a bit per
// code point from U+0300, 64 bits: U+0300-U+0304, U+0306-U+030C, U+030F, U+0311, U+031B,
// U+0323-U+0328, U+032D, U+032E, U+0330, U+0331.
constexpr char32_t kDiacriticsStart = 0x300;
constexpr std::uint64_t kDiacritics = 0x000361F808029FDFULL;

bool is_diacritic(char32_t c) {
    return c >= kDiacriticsStart && c < kDiacriticsStart + 64 &&
           ((kDiacritics >> (c - kDiacriticsStart)) & 1U) != 0;
}

bool is_token_category(utf8proc_category_t category) {
    switch (category) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
        case UTF8PROC_CATEGORY_CO:
            return true;
        default:
            return false;
    }
}

// The code points utf8proc maps `c` to with `options`, when that is exactly one, else -1.
utf8proc_int32_t map_to_one(char32_t c, int options) {
    std::array<utf8proc_int32_t, 8> out{};
    int boundclass = UTF8PROC_BOUNDCLASS_START;
    const utf8proc_ssize_t n = utf8proc_decompose_char(
        static_cast<utf8proc_int32_t>(c), out.data(), static_cast<utf8proc_ssize_t>(out.size()),
        static_cast<utf8proc_option_t>(options), &boundclass);
    return n == 1 ? out[0] : -1;
}

// The folded form of the token character `c`: d for đ/Đ; the ASCII letter that remains of it
// case folded, decomposed and without marks, if that is one; else its case folding when that is
// one character (ß has the two of "ss" and keeps its simple lower case, itself).
char32_t fold(char32_t c) {
    if (c == U'đ' || c == U'Đ') {
        return U'd';
    }
    const utf8proc_int32_t base =
        map_to_one(c, UTF8PROC_CASEFOLD | UTF8PROC_DECOMPOSE | UTF8PROC_STRIPMARK);
    if (base >= 0 && base < 0x80) {
        return static_cast<char32_t>(base);
    }
    const utf8proc_int32_t folded = map_to_one(c, UTF8PROC_CASEFOLD);
    if (folded >= 0) {
        return static_cast<char32_t>(folded);
    }
    return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
}

Kind kind_of(char32_t c) {
    if (is_token_category(utf8proc_category(static_cast<utf8proc_int32_t>(c)))) {
        return Kind::token;
    }
    return is_diacritic(c) ? Kind::diacritic : Kind::separator;
}

constexpr std::size_t kMaxFoldedBytes = 4;  // one code point

// What each code point below kTableEnd contributes to a token, precomputed.
struct Entry {
    Kind kind = Kind::separator;
    std::uint8_t size = 0;       // bytes of `utf8` (token characters only)
    std::array<char, 3> utf8{};  // the folded character: below U+2100, folds stay below U+10000
};

struct Tables {
    Tables() {
        for (char32_t c = 0; c < kTableEnd; ++c) {
            Entry& entry = table[c];
            entry.kind = kind_of(c);
            if (entry.kind == Kind::token) {
                std::array<char, kMaxFoldedBytes> bytes{};
                std::size_t size = text::encode_utf8(fold(c), bytes.data());
                if (size > entry.utf8.size()) {  // no folding leaves the BMP; should one, c
                    size = text::encode_utf8(c, bytes.data());
                }
                std::memcpy(entry.utf8.data(), bytes.data(), size);
                entry.size = static_cast<std::uint8_t>(size);
            }
        }
        for (std::size_t c = 0; c < ascii.size(); ++c) {
            ascii[c] = table[c].kind == Kind::token ? table[c].utf8[0] : '\0';
        }
    }

    std::array<Entry, kTableEnd> table{};
    std::array<char, 128> ascii{};  // the folded byte of an ASCII token character, else 0
};

// Built on first use (C++ static initialisation is thread-safe), then only read.
const Tables& tables() {
    static const Tables instance;
    return instance;
}

// A code point decoded from UTF-8, and the bytes it took; size 0 when the bytes at the position
// are not a well-formed sequence.
struct Decoded {
    char32_t c = 0;
    std::size_t size = 0;
};

// Decodes the non-ASCII sequence at p[i] (REQUIRES i < n, p[i] >= 0x80), RFC 3629 strictly
// (text::valid_sequence_length).
Decoded decode(const unsigned char* p, std::size_t n, std::size_t i) {
    const std::size_t size =
        text::valid_sequence_length(std::string_view(reinterpret_cast<const char*>(p), n), i);
    if (size == 0) {
        return {};
    }
    char32_t c = p[i] & (0x7FU >> size);  // the lead byte's payload bits
    for (std::size_t k = 1; k < size; ++k) {
        c = (c << 6U) | (p[i + k] & 0x3FU);
    }
    return {c, size};
}

// Room for the folded text of a token: on the stack, on the heap once a token is longer; shared
// by every token of one xTokenize call. The tokenizer writes through a cursor of its own (a
// local char*: writes through a member would make the compiler reload the members after each
// byte, since a char may alias them).
class TokenBuffer {
  public:
    TokenBuffer() = default;
    TokenBuffer(const TokenBuffer&) = delete;
    TokenBuffer& operator=(const TokenBuffer&) = delete;

    char* begin() { return data_; }
    // The last cursor position with room for one more folded character.
    const char* limit() const { return data_ + capacity_ - kMaxFoldedBytes; }

    // Doubles the room, keeping the bytes before `cursor`; returns the cursor in the new room,
    // or nullptr when memory ran out.
    char* grow(char* cursor) {
        const auto used = static_cast<std::size_t>(cursor - data_);
        const std::size_t capacity = capacity_ * 2;
        std::unique_ptr<char[]> bigger(new (std::nothrow) char[capacity]);
        if (bigger == nullptr) {
            return nullptr;
        }
        std::memcpy(bigger.get(), data_, used);
        heap_ = std::move(bigger);
        data_ = heap_.get();
        capacity_ = capacity;
        return data_ + used;
    }

  private:
    std::array<char, 256> local_{};
    std::unique_ptr<char[]> heap_;
    char* data_ = local_.data();
    std::size_t capacity_ = local_.size();
};

using TokenCallback = int (*)(void* context, int flags, const char* token, int size, int start,
                              int end);

// xTokenize. `flags` (document, query, prefix query) change nothing: a query is split and folded
// as the text it is matched against.
int tokenize(Fts5Tokenizer* tokenizer, void* context, int /*flags*/, const char* text,
             int text_size, TokenCallback on_token) {
    const Tables& tables = *reinterpret_cast<const Tables*>(tokenizer);
    const char* const ascii = tables.ascii.data();
    const Entry* const table = tables.table.data();
    const auto* const p = reinterpret_cast<const unsigned char*>(text);
    const std::size_t n = text_size > 0 ? static_cast<std::size_t>(text_size) : 0;
    TokenBuffer token;
    std::size_t i = 0;
    for (;;) {
        // Separators, up to the first token character (a diacritic does not start a token).
        for (;;) {
            if (i >= n) {
                return SQLITE_OK;
            }
            if (p[i] < 0x80U) {
                if (ascii[p[i]] != '\0') {
                    break;
                }
                ++i;
                continue;
            }
            const Decoded d = decode(p, n, i);
            if (d.size == 0) {
                ++i;  // not UTF-8: a separator
                continue;
            }
            const Kind kind = d.c < kTableEnd ? table[d.c].kind : kind_of(d.c);
            if (kind == Kind::token) {
                break;
            }
            i += d.size;
        }
        // The token: token characters and diacritics, from p[start], which is one.
        const std::size_t start = i;
        char* out = token.begin();
        const char* limit = token.limit();
        while (i < n) {
            if (out > limit) {
                out = token.grow(out);
                if (out == nullptr) {
                    return SQLITE_NOMEM;
                }
                limit = token.limit();
            }
            if (p[i] < 0x80U) {
                const char folded = ascii[p[i]];
                if (folded == '\0') {
                    break;
                }
                *out++ = folded;
                ++i;
                continue;
            }
            const Decoded d = decode(p, n, i);
            if (d.size == 0) {
                break;
            }
            if (d.c < kTableEnd) {
                const Entry& entry = table[d.c];
                if (entry.kind == Kind::separator) {
                    break;
                }
                std::memcpy(out, entry.utf8.data(), entry.utf8.size());  // all 3: there is room
                out += entry.size;
            } else {
                const Kind kind = kind_of(d.c);
                if (kind == Kind::separator) {
                    break;
                }
                if (kind == Kind::token) {
                    out += text::encode_utf8(fold(d.c), out);
                }
            }
            i += d.size;
        }
        const char* folded = token.begin();
        const int rc = on_token(context, 0, folded, static_cast<int>(out - folded),
                                static_cast<int>(start), static_cast<int>(i));
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
}

// xCreate: the tokenizer takes no arguments; its instance is the shared tables.
int create(void* tables_of_api, const char** /*args*/, int arg_count, Fts5Tokenizer** out) {
    if (arg_count != 0) {
        return SQLITE_ERROR;
    }
    *out = static_cast<Fts5Tokenizer*>(tables_of_api);
    return SQLITE_OK;
}

void destroy(Fts5Tokenizer* /*tokenizer*/) {}

}  // namespace

void register_fts_tokenizer(Database& db) {
    fts5_api* api = nullptr;
    {
        sqlite3_stmt* raw = nullptr;
        if (sqlite3_prepare_v2(db.handle(), "SELECT fts5(?1)", -1, &raw, nullptr) != SQLITE_OK) {
            db.fail("register tokenizer baofeed");
        }
        const StatementHandle stmt(raw);
        if (sqlite3_bind_pointer(raw, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr) !=
                SQLITE_OK ||
            sqlite3_step(raw) != SQLITE_ROW) {
            db.fail("register tokenizer baofeed");
        }
    }
    if (api == nullptr || api->iVersion < 2) {
        throw StorageError(
            storage_message(db.path(), "SQLite has no FTS5", "register tokenizer baofeed"));
    }
    fts5_tokenizer methods{&create, &destroy, &tokenize};
    // FTS5 copies `methods`; the tables outlive every connection.
    void* instance = const_cast<Tables*>(&tables());
    const int rc = api->xCreateTokenizer(api, "baofeed", instance, &methods, nullptr);
    if (rc != SQLITE_OK) {
        throw StorageError(
            storage_message(db.path(), sqlite3_errstr(rc), "register tokenizer baofeed"));
    }
}

}  // namespace baofeed::storage

// The FTS5 tokenizer "baofeed" (storage/fts_tokenizer.h): differential against SQLite's own
// unicode61 (remove_diacritics 2) on the same text with đ/Đ replaced by d/D, search behaviour
// through FTS5 tables and the store, and input that is not UTF-8 or not small.
#include "storage/fts_tokenizer.h"

#include <array>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <utf8proc.h>

#include "core/errors.h"
#include "storage/article_store.h"
#include "storage/sample_articles.h"
#include "storage/sqlite.h"
#include "storage/temp_dir.h"

namespace baofeed::storage {
namespace {

using testing::at;
using testing::forest_fire_story;
using testing::make_article;
using testing::TempDir;
using testing::wire_copy;

struct Token {
    std::string text;
    int start = 0;
    int end = 0;
    bool operator==(const Token&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Token& token) {
    return out << "'" << token.text << "' [" << token.start << ", " << token.end << ")";
}

fts5_api* fts5_of(Database& db) {
    fts5_api* api = nullptr;
    sqlite3_stmt* raw = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db.handle(), "SELECT fts5(?1)", -1, &raw, nullptr), SQLITE_OK);
    const StatementHandle stmt(raw);
    sqlite3_bind_pointer(raw, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
    EXPECT_EQ(sqlite3_step(raw), SQLITE_ROW);
    return api;
}

// A tokenizer found by name on a connection, created with `args`.
class Tokenizer {
  public:
    Tokenizer(Database& db, const char* name, std::vector<const char*> args) {
        fts5_api* api = fts5_of(db);
        void* context = nullptr;
        if (api == nullptr || api->xFindTokenizer(api, name, &context, &methods_) != SQLITE_OK ||
            methods_.xCreate(context, args.data(), static_cast<int>(args.size()), &instance_) !=
                SQLITE_OK) {
            throw std::runtime_error(std::string("no tokenizer ") + name);
        }
    }
    ~Tokenizer() { methods_.xDelete(instance_); }
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    std::vector<Token> tokens(std::string_view text, int flags = FTS5_TOKENIZE_DOCUMENT) const {
        std::vector<Token> out;
        const int rc = methods_.xTokenize(
            instance_, &out, flags, text.data(), static_cast<int>(text.size()),
            [](void* context, int /*flags*/, const char* token, int size, int start, int end) {
                static_cast<std::vector<Token>*>(context)->push_back(
                    {std::string(token, static_cast<std::size_t>(size)), start, end});
                return SQLITE_OK;
            });
        EXPECT_EQ(rc, SQLITE_OK);
        return out;
    }

  private:
    fts5_tokenizer methods_{};
    Fts5Tokenizer* instance_ = nullptr;
};

// A connection with the baofeed tokenizer registered.
struct Connection {
    Connection() : db(":memory:") { register_fts_tokenizer(db); }
    Database db;
};

// The two tokenizers compared, on a connection of their own.
struct Tokenizers : Connection {
    Tokenizer baofeed{db, "baofeed", {}};
    Tokenizer unicode61{db, "unicode61", {"remove_diacritics", "2"}};
};

// unicode61's tokens of `text` with đ/Đ replaced by d/D beforehand, their offsets mapped back
// to `text` (each replacement is one character for one, two bytes for one).
std::vector<Token> reference_tokens(const Tokenizers& t, std::string_view text) {
    std::string replaced;
    std::vector<int> offset;  // offset in `text` of each byte of `replaced`, and of its end
    for (std::size_t i = 0; i < text.size(); ++i) {
        offset.push_back(static_cast<int>(i));
        if (text.substr(i, 2) == "đ" || text.substr(i, 2) == "Đ") {
            replaced.push_back(text[i + 1] == '\x91' ? 'd' : 'D');
            ++i;
        } else {
            replaced.push_back(text[i]);
        }
    }
    offset.push_back(static_cast<int>(text.size()));
    std::vector<Token> tokens = t.unicode61.tokens(replaced);
    for (Token& token : tokens) {
        token.start = offset.at(static_cast<std::size_t>(token.start));
        token.end = offset.at(static_cast<std::size_t>(token.end));
    }
    return tokens;
}

std::string nfd(const std::string& text) {
    utf8proc_uint8_t* out = utf8proc_NFD(reinterpret_cast<const utf8proc_uint8_t*>(text.c_str()));
    std::string result(reinterpret_cast<const char*>(out));
    std::free(out);
    return result;
}

std::string utf8(char32_t c) {
    std::array<utf8proc_uint8_t, 4> bytes{};
    const auto n = utf8proc_encode_char(static_cast<utf8proc_int32_t>(c), bytes.data());
    return {reinterpret_cast<const char*>(bytes.data()), static_cast<std::size_t>(n)};
}

// Titles, leads and paragraphs: the fixture sites' expected articles and the storage samples.
std::vector<std::string> fixture_texts() {
    std::vector<std::string> texts;
    const std::filesystem::path sites = std::filesystem::path(BAOFEED_FIXTURES_DIR) / "sites";
    for (const auto& site : std::filesystem::directory_iterator(sites)) {
        if (!std::filesystem::is_directory(site.path() / "expected")) {
            continue;
        }
        for (const auto& file : std::filesystem::directory_iterator(site.path() / "expected")) {
            std::ifstream in(file.path());
            const nlohmann::json expected = nlohmann::json::parse(in);
            texts.push_back(expected.at("title").get<std::string>());
            texts.push_back(expected.at("lead").get<std::string>());
            for (const auto& paragraph : expected.at("body")) {
                texts.push_back(paragraph.get<std::string>());
            }
        }
    }
    for (const Article& a : {wire_copy(0), wire_copy(2), forest_fire_story(),
                             make_article("https://baodanang.vn/a.html")}) {
        texts.push_back(a.title);
        texts.push_back(a.lead);
        texts.insert(texts.end(), a.body.begin(), a.body.end());
    }
    return texts;
}

TEST(FtsTokenizer, SplitsAndFoldsTheFixtureArticlesAsUnicode61DoesWithDWithStrokeReplaced) {
    const Tokenizers t;
    const std::vector<std::string> texts = fixture_texts();
    ASSERT_GT(texts.size(), 100U);
    std::size_t tokens = 0;
    for (const std::string& text : texts) {
        const std::vector<Token> expected = reference_tokens(t, text);
        EXPECT_EQ(t.baofeed.tokens(text), expected) << text;
        tokens += expected.size();
        // Decomposed (NFD) text: the marks are dropped from the tokens the same way.
        const std::string decomposed = nfd(text);
        EXPECT_EQ(t.baofeed.tokens(decomposed), reference_tokens(t, decomposed)) << decomposed;
        // A query is tokenized as the document.
        EXPECT_EQ(t.baofeed.tokens(text, FTS5_TOKENIZE_QUERY | FTS5_TOKENIZE_PREFIX), expected);
    }
    EXPECT_GT(tokens, 5000U);
}

// The random alphabet: ranges where unicode61's Unicode 6.1 tables and utf8proc's Unicode 15
// ones agree (checked code point by code point): ASCII, Latin-1 Supplement (C1 controls
// included), Latin Extended-A, Latin Extended-B except U+01E0 U+01E1 (Ǡ ǡ: unicode61 keeps them,
// baofeed folds them to a), the combining marks U+0300-U+036F (25 of them diacritics, the others
// separators), Latin Extended Additional with Vietnamese U+1EA0-U+1EF9, and General Punctuation
// up to U+2064 (U+2065 and later were unassigned in 6.1, which unicode61 makes token
// characters); plus đ/Đ, digits and spaces again, so that they are frequent.
struct Range {
    char32_t first;
    char32_t last;
    int weight;
};
constexpr Range kAlphabet[] = {
    {0x20, 0x7E, 30},     {'\t', '\n', 1},     {0x80, 0xFF, 10},  {0x100, 0x17F, 10},
    {0x180, 0x1DF, 5},    {0x1E2, 0x24F, 5},   {0x300, 0x36F, 8}, {0x1E00, 0x1EFF, 5},
    {0x1EA0, 0x1EF9, 20}, {0x2000, 0x2064, 3}, {0x110, 0x111, 6}, {'0', '9', 6},
    {' ', ' ', 15},
};

TEST(FtsTokenizer, AgreesWithUnicode61OnRandomLatinAndVietnameseText) {
    const Tokenizers t;
    std::mt19937 random(20241224);  // fixed: a failure is reproducible
    std::vector<int> weights;
    for (const Range& range : kAlphabet) {
        weights.push_back(range.weight);
    }
    std::discrete_distribution<std::size_t> pick_range(weights.begin(), weights.end());
    std::uniform_int_distribution<int> length(0, 40);
    for (int i = 0; i < 20'000; ++i) {
        std::string text;
        for (int n = length(random); n > 0; --n) {
            const Range& range = kAlphabet[pick_range(random)];
            std::uniform_int_distribution<char32_t> pick(range.first, range.last);
            text += utf8(pick(random));
        }
        const std::vector<Token> expected = reference_tokens(t, text);
        ASSERT_EQ(t.baofeed.tokens(text), expected) << "input #" << i << ": " << text;
    }
}

TEST(FtsTokenizer, FoldsCaseDiacriticsAndDWithStroke) {
    const Tokenizers t;
    auto texts = [&](std::string_view text) {
        std::vector<std::string> out;
        for (const Token& token : t.baofeed.tokens(text)) {
            out.push_back(token.text);
        }
        return out;
    };
    using Words = std::vector<std::string>;
    EXPECT_EQ(texts("Bắc Kạn"), (Words{"bac", "kan"}));
    EXPECT_EQ(texts("ĐỒNG đồng Đà Nẵng"), (Words{"dong", "dong", "da", "nang"}));
    EXPECT_EQ(texts("Ắ Ặ Ạ ắ ặ ạ Ư ư Ơ ơ Ỹ ỹ"),
              (Words{"a", "a", "a", "a", "a", "a", "u", "u", "o", "o", "y", "y"}));
    EXPECT_EQ(texts("Ba\u0306\u0301c Ka\u0323n"), (Words{"bac", "kan"}));  // decomposed
    EXPECT_EQ(texts("NGƯỜI-DÂN, 112 tổ đội; 24/24"),
              (Words{"nguoi", "dan", "112", "to", "doi", "24", "24"}));
    EXPECT_EQ(texts("Straße ǅemal İzmir µm Ǡ"), (Words{"straße", "ǆemal", "izmir", "μm", "a"}));
    // Letters of other scripts keep their marks, as in unicode61.
    EXPECT_EQ(texts("Ελλάδα Йошкар-Ола 北京"), (Words{"ελλάδα", "йошкар", "ола", "北京"}));
    // A diacritic continues a token but does not start one; other marks separate.
    EXPECT_EQ(t.baofeed.tokens("\u0301ab\u0301 a\u0305b"),
              (std::vector<Token>{{"ab", 2, 6}, {"a", 7, 8}, {"b", 10, 11}}));
    // Offsets are bytes of the input.
    EXPECT_EQ(t.baofeed.tokens("“Đắk Lắk”"), (std::vector<Token>{{"dak", 3, 9}, {"lak", 10, 15}}));
}

TEST(FtsTokenizer, BytesThatAreNotUtf8SeparateTokensOneByteAtATime) {
    const Tokenizers t;
    const std::vector<std::pair<std::string, std::vector<Token>>> cases = {
        {"ab\xFF"
         "cd",
         {{"ab", 0, 2}, {"cd", 3, 5}}},
        {"\x80\xBF"
         "ab",
         {{"ab", 2, 4}}},            // lone continuation bytes
        {"ab\xC3", {{"ab", 0, 2}}},  // truncated at the end
        {"a\xE1\xBA"
         "b",
         {{"a", 0, 1}, {"b", 3, 4}}},  // truncated in the middle
        {"a\xC0\xAF"
         "b",
         {{"a", 0, 1}, {"b", 3, 4}}},  // overlong '/'
        {"a\xED\xA0\x80"
         "b",
         {{"a", 0, 1}, {"b", 4, 5}}},  // a surrogate
        {"a\xF4\x90\x80\x80"
         "b",
         {{"a", 0, 1}, {"b", 5, 6}}},  // above U+10FFFF
        {"\xC3\xA9\xFE\xC3\xA9", {{"e", 0, 2}, {"e", 3, 5}}},
        {std::string("a\0b", 3), {{"a", 0, 1}, {"b", 2, 3}}},
    };
    for (const auto& [text, expected] : cases) {
        EXPECT_EQ(t.baofeed.tokens(text), expected);
    }
    // Random bytes: tokens are never empty, in order, within the input.
    std::mt19937 random(7);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 20'000; ++i) {
        std::string text(static_cast<std::size_t>(byte(random) % 48), '\0');
        for (char& c : text) {
            c = static_cast<char>(byte(random));
        }
        int previous_end = 0;
        for (const Token& token : t.baofeed.tokens(text)) {
            ASSERT_FALSE(token.text.empty());
            ASSERT_GE(token.start, previous_end);
            ASSERT_LT(token.start, token.end);
            ASSERT_LE(token.end, static_cast<int>(text.size()));
            previous_end = token.end;
        }
    }
}

TEST(FtsTokenizer, AVeryLongTokenIsOneToken) {
    Tokenizers t;
    std::string vietnamese;
    for (int i = 0; i < 300'000; ++i) {
        vietnamese += "Ắ";  // 3 bytes, folded to 1
    }
    std::vector<Token> tokens = t.baofeed.tokens("x " + vietnamese + " y");
    ASSERT_EQ(tokens.size(), 3U);
    EXPECT_EQ(tokens[1].text, std::string(300'000, 'a'));
    EXPECT_EQ(tokens[1].start, 2);
    EXPECT_EQ(tokens[1].end, 2 + 900'000);
    // Ⱥ (2 bytes) folds to ⱥ (3 bytes): the token is longer than its text.
    std::string growing;
    std::string folded;
    for (int i = 0; i < 100'000; ++i) {
        growing += "Ⱥ";
        folded += "ⱥ";
    }
    tokens = t.baofeed.tokens(growing);
    ASSERT_EQ(tokens.size(), 1U);
    EXPECT_EQ(tokens[0].text, folded);

    // Indexed and found through an FTS5 table.
    Database& db = t.db;
    db.exec("CREATE VIRTUAL TABLE long USING fts5 (x, tokenize = 'baofeed')");
    Statement insert = db.prepare("INSERT INTO long (x) VALUES (?1)");
    insert.bind(1, vietnamese);
    insert.run();
    Statement match = db.prepare("SELECT count(*) FROM long WHERE long MATCH ?1");
    match.bind(1, "\"" + std::string(300'000, 'a') + "\"");
    ASSERT_TRUE(match.step());
    EXPECT_EQ(match.column_int64(0), 1);
}

TEST(FtsTokenizer, StopsAtTheFirstTokenFts5Refuses) {
    Database db(":memory:");
    register_fts_tokenizer(db);
    Tokenizer baofeed(db, "baofeed", {});
    fts5_api* api = fts5_of(db);
    void* context = nullptr;
    fts5_tokenizer methods{};
    ASSERT_EQ(api->xFindTokenizer(api, "baofeed", &context, &methods), SQLITE_OK);
    Fts5Tokenizer* instance = nullptr;
    ASSERT_EQ(methods.xCreate(context, nullptr, 0, &instance), SQLITE_OK);
    int calls = 0;
    const std::string text = "một hai ba";
    EXPECT_EQ(methods.xTokenize(instance, &calls, FTS5_TOKENIZE_DOCUMENT, text.data(),
                                static_cast<int>(text.size()),
                                [](void* counter, int, const char*, int, int, int) {
                                    return ++*static_cast<int*>(counter) == 2 ? SQLITE_ABORT
                                                                              : SQLITE_OK;
                                }),
              SQLITE_ABORT);
    EXPECT_EQ(calls, 2);
    methods.xDelete(instance);
}

TEST(FtsTokenizer, TakesNoArgumentsAndIsUnknownToConnectionsWithoutIt) {
    Database db(":memory:");
    register_fts_tokenizer(db);
    EXPECT_THROW(db.exec("CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = 'baofeed "
                         "remove_diacritics 2')"),
                 StorageError);
    Database plain(":memory:");
    EXPECT_THROW(plain.exec("CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = 'baofeed')"),
                 StorageError);
}

// An FTS5 table tokenized by baofeed, with a row per text; MATCH `query` -> the rows' texts.
class FtsTable {
  public:
    explicit FtsTable(const std::vector<std::string>& texts) : db_(":memory:") {
        register_fts_tokenizer(db_);
        db_.exec("CREATE VIRTUAL TABLE t USING fts5 (x, tokenize = 'baofeed')");
        for (const std::string& text : texts) {
            Statement insert = db_.prepare("INSERT INTO t (x) VALUES (?1)");
            insert.bind(1, text);
            insert.run();
        }
    }
    std::vector<std::string> match(const std::string& query) {
        Statement rows = db_.prepare("SELECT x FROM t WHERE t MATCH ?1 ORDER BY rowid");
        rows.bind(1, query);
        std::vector<std::string> out;
        while (rows.step()) {
            out.push_back(rows.column_text(0));
        }
        return out;
    }
    std::string highlight(const std::string& query) {
        Statement rows = db_.prepare("SELECT highlight(t, 0, '[', ']') FROM t WHERE t MATCH ?1");
        rows.bind(1, query);
        return rows.step() ? rows.column_text(0) : "";
    }

  private:
    Database db_;
};

TEST(FtsTokenizer, AnFts5TableFindsWordsPrefixesAndPhrasesWhateverTheirCaseAndDiacritics) {
    using Texts = std::vector<std::string>;
    FtsTable table({"Tỉnh Bắc Kạn", "Cánh đồng lúa", "Kạn Bắc", "Bạc Liêu", "ĐỒNG THÁP"});
    EXPECT_EQ(table.match("bac kan"), (Texts{"Tỉnh Bắc Kạn", "Kạn Bắc"}));
    EXPECT_EQ(table.match("BẮC KẠN"), (Texts{"Tỉnh Bắc Kạn", "Kạn Bắc"}));
    EXPECT_EQ(table.match("\"bac kan\""), (Texts{"Tỉnh Bắc Kạn"}));
    EXPECT_EQ(table.match("\"Bắc Kạn\""), (Texts{"Tỉnh Bắc Kạn"}));
    EXPECT_EQ(table.match("dong"), (Texts{"Cánh đồng lúa", "ĐỒNG THÁP"}));
    EXPECT_EQ(table.match("Đồng"), (Texts{"Cánh đồng lúa", "ĐỒNG THÁP"}));
    EXPECT_EQ(table.match("ba*"), (Texts{"Tỉnh Bắc Kạn", "Kạn Bắc", "Bạc Liêu"}));
    EXPECT_EQ(table.match("bac*"), (Texts{"Tỉnh Bắc Kạn", "Kạn Bắc", "Bạc Liêu"}));
    EXPECT_EQ(table.match("Đ*"), (Texts{"Cánh đồng lúa", "ĐỒNG THÁP"}));
    EXPECT_EQ(table.match("\"lieu\""), (Texts{"Bạc Liêu"}));
    EXPECT_TRUE(table.match("bach").empty());
    // Offsets point at the original bytes: highlight() marks the words as written.
    EXPECT_EQ(table.highlight("kan"), "Tỉnh Bắc [Kạn]");
    EXPECT_EQ(table.highlight("thap"), "ĐỒNG [THÁP]");
}

TEST(FtsTokenizer, WorksOnManyConnectionsInManyThreadsAtOnce) {
    const std::string text = "Đồng bào các dân tộc tỉnh Bắc Kạn đón Tết";
    std::vector<std::thread> threads;
    std::vector<int> found(4, 0);
    for (std::size_t i = 0; i < found.size(); ++i) {
        threads.emplace_back([&, i] {
            for (int round = 0; round < 50; ++round) {
                FtsTable table({text});
                found[i] += static_cast<int>(table.match("dong bao bac kan").size());
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    EXPECT_EQ(found, std::vector<int>(4, 50));
}

TEST(FtsTokenizer, TheStoreFindsArticlesByFoldedWordsAndIndexesOnlyFoldedTerms) {
    const TempDir dir;
    const std::string path = dir.file("search.db");
    ArticleStore store(path);
    Article danang = make_article("https://baodanang.vn/a.html");
    danang.body = {"Cánh ĐỒNG lúa ở Điện Bàn."};
    store.save({forest_fire_story(), wire_copy(0), danang}, at(1));
    auto urls = [&](const std::string& query) {
        std::vector<std::string> out;
        for (const StoredArticle& s : store.search(query, std::nullopt, 0)) {
            out.push_back(s.article.canonical_url);
        }
        return out;
    };
    using Urls = std::vector<std::string>;
    EXPECT_EQ(urls("bac kan").size(), 2U);
    EXPECT_EQ(urls("BẮC KẠN"), urls("bac kan"));
    EXPECT_EQ(urls("dong lua dien ban"), (Urls{danang.canonical_url}));
    EXPECT_EQ(urls("ĐỒNG lúa Điện BÀN"), (Urls{danang.canonical_url}));
    EXPECT_EQ(urls("ĐIỆN Bàn"), (Urls{danang.canonical_url}));

    // Every term of the index is folded: these Vietnamese texts leave only a-z and digits.
    Database check(path);
    register_fts_tokenizer(check);
    check.exec("CREATE VIRTUAL TABLE temp.terms USING fts5vocab (main, articles_fts, 'row')");
    EXPECT_GT(check.query_int("SELECT count(*) FROM terms"), 100);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM terms WHERE term GLOB '*[^a-z0-9]*'"), 0);
    EXPECT_EQ(check.query_int("SELECT count(*) FROM terms WHERE term IN ('bac', 'kan', 'dong', "
                              "'dien', 'nang')"),
              5);
}

}  // namespace
}  // namespace baofeed::storage

// The FTS5 tokenizer "baofeed" of the search index articles_fts (schema version 8). Internal to
// storage/.
//
// It splits text as SQLite's unicode61 tokenizer does by default and folds each token as
// unicode61 with remove_diacritics 2 does, and folds đ/Đ to d as well (unicode61 leaves them:
// they have no decomposition), so the index needs no replace() around its text:
// - Token characters are letters (L*), numbers (N*) and private-use characters (Co). The 25
//   combining marks unicode61 calls diacritics (those in its remove_diacritics tables, all in
//   U+0300-U+0331: the Vietnamese tone and vowel marks among them) continue a token without
//   starting one and are dropped from it. Everything else separates, other combining marks
//   included, as in unicode61.
// - Each character of a token is case folded, and a letter whose canonical decomposition is an
//   ASCII letter plus marks becomes that letter (ắ ặ Ạ -> a, Ư -> u, İ -> i); đ and Đ become d.
//   Letters of other scripts keep their marks (Greek ά, Cyrillic й), as in unicode61.
// - A byte that does not begin a well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
//   surrogates, nothing above U+10FFFF, nothing truncated) is a separator, one byte at a time.
//   (unicode61 decodes such bytes leniently instead; the text baofeed stores is valid UTF-8.)
// The byte offsets given to FTS5 are those of the token in the input, trailing marks included.
//
// Unicode categories and foldings come from utf8proc (Unicode 15), unicode61's from Unicode 6.1.
// They agree on ASCII, Latin-1, Latin Extended-A and -B, the combining marks U+0300-U+036F,
// Latin Extended Additional (Vietnamese) and General Punctuation up to U+2064, except Ǡ ǡ
// (U+01E0 U+01E1, a with dot above and macron), which unicode61 keeps and this folds to a.
// Elsewhere: characters unassigned in Unicode 6.1 are token characters in unicode61 (emoji
// added since, say) and here whatever their category now is.
//
// The tokenizer is stateless and thread-safe: one pass over the bytes with an ASCII fast path,
// a table for code points below U+2100 (built once from utf8proc), utf8proc above; no
// allocation except for a token longer than 256 bytes.
#pragma once

#include "storage/sqlite.h"

namespace baofeed::storage {

// Registers the FTS5 tokenizer "baofeed" on `db`. Every connection that reads or writes
// articles_fts needs it (FTS5 looks the tokenizer up when the table is first used on a
// connection; a connection without it, such as the sqlite3 shell, cannot query articles_fts).
// Registering again replaces the registration. Throws StorageError when FTS5 is unavailable.
void register_fts_tokenizer(Database& db);

}  // namespace baofeed::storage

// Thin RAII layer over the SQLite C API. Internal to storage/: nothing outside this folder should
// include it. Every failure throws StorageError("storage: <path>: <sqlite message> (<context>)").
// Thread use: a Database and its Statements belong to one thread at a time.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <sqlite3.h>

namespace baofeed::storage {

struct SqliteCloser {
    void operator()(sqlite3* db) const noexcept;  // sqlite3_close_v2: safe with live statements
};
struct SqliteFinalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using StatementHandle = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

inline constexpr int kOpenReadWriteCreate = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;

class Statement;

// "storage: <path>: <reason> (<context>)": the text of every StorageError from this module.
std::string storage_message(std::string_view path, std::string_view reason,
                            std::string_view context);

// One connection. Not copyable and not movable: Statements keep a pointer to their Database,
// so a Database must outlive every Statement prepared from it.
class Database {
  public:
    // `flags` are SQLITE_OPEN_* values. Throws StorageError when the file cannot be opened.
    explicit Database(std::string path, int flags = kOpenReadWriteCreate);
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs one or more SQL statements that return no rows of interest.
    void exec(std::string_view sql);

    // Compiles exactly one SQL statement (trailing white space allowed).
    Statement prepare(std::string_view sql);

    // First column of the first row of `sql` as an integer (e.g. "PRAGMA user_version").
    // Throws StorageError when there is no row.
    std::int64_t query_int(std::string_view sql);
    // Same, as text (NULL reads as "").
    std::string query_text(std::string_view sql);

    // True while no explicit transaction is open.
    bool autocommit() const noexcept;

    const std::string& path() const noexcept { return path_; }
    sqlite3* handle() const noexcept { return db_.get(); }

    // Builds the StorageError for the connection's latest failure.
    [[noreturn]] void fail(std::string_view context) const;

  private:
    std::string path_;
    SqliteHandle db_;
};

// One prepared statement. Bind indexes start at 1; column indexes start at 0. Text and blobs are
// bound with explicit lengths and SQLITE_TRANSIENT (copied), so the arguments may die right after
// the bind call. Movable, not copyable. REQUIRES: the Database outlives it.
class Statement {
  public:
    Statement(Database& db, StatementHandle stmt) : db_(&db), stmt_(std::move(stmt)) {}
    Statement(Statement&&) noexcept = default;
    Statement& operator=(Statement&&) noexcept = default;

    void bind(int index, std::string_view text);
    void bind(int index, const char* text) { bind(index, std::string_view(text)); }
    // Binds `text` without copying it. REQUIRES: it stays alive and unchanged until the
    // statement is reset or the binding replaced (for large values bound by a hot path).
    void bind_static(int index, std::string_view text);
    void bind(int index, std::int64_t value);
    void bind(int index, std::optional<std::int64_t> value);  // nullopt -> NULL
    void bind_null(int index);
    void bind_blob(int index, std::span<const std::byte> bytes);
    // Binds `bytes` without copying them; the same REQUIREMENT as bind_static.
    void bind_static_blob(int index, std::span<const std::byte> bytes);

    // Runs to the next row: true when a row is available, false when done.
    bool step();
    // Steps until done (for statements whose rows do not matter).
    void run();

    bool column_is_null(int column) const;
    std::int64_t column_int64(int column) const;
    std::optional<std::int64_t> column_optional_int64(int column) const;  // NULL -> nullopt
    std::string column_text(int column) const;                            // NULL -> ""
    std::vector<std::byte> column_blob(int column) const;
    // The same without a copy: valid until the next step(), reset() or column call on `column`.
    std::span<const std::byte> column_blob_view(int column) const;

    // Makes the statement runnable again and ends its implicit read, keeping the bindings.
    // Never throws: the error of a failed step was already reported by step().
    void reset() noexcept;
    void clear_bindings() noexcept;

    std::string_view sql() const noexcept;

  private:
    [[noreturn]] void fail(std::string_view what) const;

    Database* db_;
    StatementHandle stmt_;
};

// Resets and clears a statement now, and resets it again at scope exit, so a cached statement
// never holds a read transaction open after it has been used (even when an exception leaves).
class ScopedReset {
  public:
    explicit ScopedReset(Statement& stmt) noexcept : stmt_(stmt) {
        stmt_.reset();
        stmt_.clear_bindings();
    }
    ~ScopedReset() { stmt_.reset(); }
    ScopedReset(const ScopedReset&) = delete;
    ScopedReset& operator=(const ScopedReset&) = delete;

  private:
    Statement& stmt_;
};

// BEGIN IMMEDIATE on construction (takes the write lock now, waiting up to busy_timeout, so a
// read never has to be upgraded later). The destructor rolls back unless commit() succeeded;
// it never throws. Nests flatly: constructed while the connection already has a transaction
// open, it is part of that one and does nothing itself (commit() commits nothing; the outer
// transaction commits or rolls back all of it: an exception leaving the inner scope must reach
// the outer one's). REQUIRES: the Database outlives it.
class Transaction {
  public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    void commit();

  private:
    Database& db_;
    bool nested_ = false;
    bool done_ = false;
};

// Checkpoints a WAL file database on a thread of its own, so that the writer's commits only
// append to the WAL and never wait for the copy into the database file and its fsyncs. Replaces
// SQLite's autocheckpoint on `db`: a commit that leaves `pages` or more frames in the WAL wakes
// the thread (started then), which runs a PASSIVE checkpoint on a connection of its own; a
// commit that leaves 8 x `pages` or more (the thread cannot keep up, or the writer never pauses
// long enough for the WAL to restart) also checkpoints in the committing thread, as SQLite's
// autocheckpoint would. Checkpoint failures are ignored: the WAL stays valid, only longer.
// The destructor stops and joins the thread and puts SQLite's autocheckpoint back.
// REQUIRES: `db` is a file database in WAL mode and outlives this object; the object is used
// by the thread that uses `db`.
class WalCheckpointer {
  public:
    WalCheckpointer(Database& db, int pages);
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    // Returns once no checkpoint is requested or running on the thread (at once if the thread
    // never started). Any thread; a commit made meanwhile may request another.
    void wait_idle();

    // Checkpoints the WAL now, however few frames it holds: on the thread (started if need be),
    // returning once no checkpoint is requested or running there; on the calling thread when no
    // thread can be started. Called by the thread that uses `db`, outside a transaction.
    void checkpoint_now();

  private:
    static int on_commit(void* self, sqlite3* db, const char* name, int frames);
    // Asks the thread for a checkpoint, starting it if need be. False when it cannot be started.
    bool request();
    void run();

    Database& db_;
    int pages_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool requested_ = false;
    bool running_ = false;  // a checkpoint is running on the thread
    bool stop_ = false;
    bool finished_ = false;  // run() returned
    std::condition_variable idle_;
    std::thread thread_;
};

}  // namespace baofeed::storage

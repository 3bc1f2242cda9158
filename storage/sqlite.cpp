#include "storage/sqlite.h"

#include <limits>
#include <utility>

#include "core/errors.h"
#include "storage/sqlite_allocator.h"

namespace baofeed::storage {

std::string storage_message(std::string_view path, std::string_view reason,
                            std::string_view context) {
    std::string message = "storage: ";
    message.append(path);
    message.append(": ");
    message.append(reason);
    message.append(" (");
    message.append(context);
    message.append(")");
    return message;
}

namespace {

int checked_length(std::size_t size, const Database& db, std::string_view context) {
    if (size > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
        throw StorageError(storage_message(db.path(), "value too large", context));
    }
    return static_cast<int>(size);
}

}  // namespace

void SqliteCloser::operator()(sqlite3* db) const noexcept {
    sqlite3_close_v2(db);
}

void SqliteFinalizer::operator()(sqlite3_stmt* stmt) const noexcept {
    sqlite3_finalize(stmt);
}

Database::Database(std::string path, int flags) : path_(std::move(path)) {
    install_sqlite_allocator();  // before SQLite's first use in the process
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path_.c_str(), &raw, flags, nullptr);
    db_.reset(raw);  // owned even on failure: sqlite3_open_v2 may return a handle with the error
    if (rc != SQLITE_OK) {
        if (db_ == nullptr) {
            throw StorageError(storage_message(path_, sqlite3_errstr(rc), "open"));
        }
        fail("open");
    }
    sqlite3_extended_result_codes(db_.get(), 1);
}

void Database::fail(std::string_view context) const {
    throw StorageError(storage_message(path_, sqlite3_errmsg(db_.get()), context));
}

void Database::exec(std::string_view sql) {
    // sqlite3_exec needs a NUL-terminated string; string_view does not promise one.
    const std::string text(sql);
    char* error = nullptr;
    const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
        std::string reason = error != nullptr ? error : sqlite3_errstr(rc);
        sqlite3_free(error);
        throw StorageError(storage_message(path_, reason, text));
    }
}

Statement Database::prepare(std::string_view sql) {
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), checked_length(sql.size(), *this, sql),
                                      SQLITE_PREPARE_PERSISTENT, &raw, &tail);
    StatementHandle stmt(raw);
    if (rc != SQLITE_OK) {
        fail(sql);
    }
    if (stmt == nullptr) {
        throw StorageError(storage_message(path_, "no SQL statement", sql));
    }
    const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
        throw StorageError(storage_message(path_, "more than one SQL statement", sql));
    }
    return Statement(*this, std::move(stmt));
}

std::int64_t Database::query_int(std::string_view sql) {
    Statement stmt = prepare(sql);
    if (!stmt.step()) {
        throw StorageError(storage_message(path_, "no row", sql));
    }
    return stmt.column_int64(0);
}

std::string Database::query_text(std::string_view sql) {
    Statement stmt = prepare(sql);
    if (!stmt.step()) {
        throw StorageError(storage_message(path_, "no row", sql));
    }
    return stmt.column_text(0);
}

bool Database::autocommit() const noexcept {
    return sqlite3_get_autocommit(db_.get()) != 0;
}

void Statement::fail(std::string_view what) const {
    std::string context(what);
    context.append(": ");
    context.append(sql());
    db_->fail(context);
}

void Statement::bind(int index, std::string_view text) {
    const int rc = sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(),
                                       SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK) {
        fail("bind");
    }
}

void Statement::bind_static(int index, std::string_view text) {
    const int rc = sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_STATIC,
                                       SQLITE_UTF8);
    if (rc != SQLITE_OK) {
        fail("bind");
    }
}

void Statement::bind(int index, std::int64_t value) {
    if (sqlite3_bind_int64(stmt_.get(), index, value) != SQLITE_OK) {
        fail("bind");
    }
}

void Statement::bind(int index, std::optional<std::int64_t> value) {
    if (value.has_value()) {
        bind(index, *value);
    } else {
        bind_null(index);
    }
}

void Statement::bind_null(int index) {
    if (sqlite3_bind_null(stmt_.get(), index) != SQLITE_OK) {
        fail("bind");
    }
}

void Statement::bind_blob(int index, std::span<const std::byte> bytes) {
    // A zero-length blob with a null pointer would bind NULL; keep it an empty blob.
    static const std::byte kEmpty{};
    const void* data = bytes.empty() ? &kEmpty : bytes.data();
    if (sqlite3_bind_blob64(stmt_.get(), index, data, bytes.size(), SQLITE_TRANSIENT) !=
        SQLITE_OK) {
        fail("bind");
    }
}

void Statement::bind_static_blob(int index, std::span<const std::byte> bytes) {
    static const std::byte kEmpty{};
    const void* data = bytes.empty() ? &kEmpty : bytes.data();
    if (sqlite3_bind_blob64(stmt_.get(), index, data, bytes.size(), SQLITE_STATIC) != SQLITE_OK) {
        fail("bind");
    }
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    fail("step");
}

void Statement::run() {
    while (step()) {
    }
}

bool Statement::column_is_null(int column) const {
    return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const {
    return sqlite3_column_int64(stmt_.get(), column);
}

std::optional<std::int64_t> Statement::column_optional_int64(int column) const {
    if (column_is_null(column)) {
        return std::nullopt;
    }
    return column_int64(column);
}

std::string Statement::column_text(int column) const {
    // Text pointer first, then the byte count (the documented safe order).
    const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
    const int size = sqlite3_column_bytes(stmt_.get(), column);
    if (text == nullptr) {
        if (sqlite3_errcode(db_->handle()) == SQLITE_NOMEM) {
            fail("column");
        }
        return {};
    }
    return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::vector<std::byte> Statement::column_blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_.get(), column);
    const int size = sqlite3_column_bytes(stmt_.get(), column);
    if (data == nullptr) {
        return {};
    }
    const auto* bytes = static_cast<const std::byte*>(data);
    return std::vector<std::byte>(bytes, bytes + size);
}

std::span<const std::byte> Statement::column_blob_view(int column) const {
    const void* data = sqlite3_column_blob(stmt_.get(), column);
    const int size = sqlite3_column_bytes(stmt_.get(), column);
    if (data == nullptr) {
        return {};
    }
    return {static_cast<const std::byte*>(data), static_cast<std::size_t>(size)};
}

void Statement::reset() noexcept {
    sqlite3_reset(stmt_.get());
}

void Statement::clear_bindings() noexcept {
    sqlite3_clear_bindings(stmt_.get());
}

std::string_view Statement::sql() const noexcept {
    const char* text = sqlite3_sql(stmt_.get());
    return text != nullptr ? std::string_view(text) : std::string_view();
}

Transaction::Transaction(Database& db) : db_(db), nested_(!db.autocommit()) {
    if (!nested_) {
        db_.exec("BEGIN IMMEDIATE");
    }
}

Transaction::~Transaction() {
    if (done_ || nested_) {
        return;
    }
    // Some errors (SQLITE_FULL, IOERR, ...) already rolled the transaction back; a second
    // ROLLBACK would only fail. Never throw from here.
    if (!db_.autocommit()) {
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

void Transaction::commit() {
    if (!nested_) {
        db_.exec("COMMIT");
    }
    done_ = true;
}

WalCheckpointer::WalCheckpointer(Database& db, int pages) : db_(db), pages_(pages) {
    sqlite3_wal_hook(db_.handle(), &WalCheckpointer::on_commit, this);
}

WalCheckpointer::~WalCheckpointer() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    sqlite3_wal_autocheckpoint(db_.handle(), pages_);
}

bool WalCheckpointer::request() {
    {
        std::lock_guard lock(mutex_);
        requested_ = true;
        if (!thread_.joinable()) {
            try {
                thread_ = std::thread(&WalCheckpointer::run, this);
            } catch (...) {  // no thread: the caller checkpoints itself
            }
        }
    }
    wake_.notify_one();
    return thread_.joinable();
}

int WalCheckpointer::on_commit(void* self, sqlite3* db, const char* name, int frames) {
    auto* checkpointer = static_cast<WalCheckpointer*>(self);
    if (frames < checkpointer->pages_) {
        return SQLITE_OK;
    }
    const bool threaded = checkpointer->request();
    if (frames >= 8 * checkpointer->pages_ || !threaded) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    return SQLITE_OK;
}

void WalCheckpointer::checkpoint_now() {
    if (!request()) {
        sqlite3_wal_checkpoint_v2(db_.handle(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
        return;
    }
    wait_idle();
}

void WalCheckpointer::run() {
    struct Finished {  // however run() returns: wait_idle() no longer waits for this thread
        WalCheckpointer& self;
        ~Finished() {
            const std::lock_guard lock(self.mutex_);
            self.finished_ = true;
            self.idle_.notify_all();
        }
    } finished{*this};
    sqlite3* raw = nullptr;
    if (sqlite3_open_v2(db_.path().c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        sqlite3_close_v2(raw);
        return;  // the committing thread's backstop checkpoints
    }
    const SqliteHandle connection(raw);
    // A connection learns that the file is in WAL mode when it first reads it; until then a
    // checkpoint on it does nothing (and reports -1 frames). Read the schema version once.
    sqlite3_exec(raw, "PRAGMA schema_version", nullptr, nullptr, nullptr);
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [&] { return requested_ || stop_; });
        if (stop_) {
            return;
        }
        requested_ = false;
        running_ = true;
        lock.unlock();
        sqlite3_wal_checkpoint_v2(connection.get(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
        lock.lock();
        running_ = false;
        if (!requested_) {
            idle_.notify_all();
        }
    }
}

void WalCheckpointer::wait_idle() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock,
               [&] { return !thread_.joinable() || finished_ || (!requested_ && !running_); });
}

}  // namespace baofeed::storage

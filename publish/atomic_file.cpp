#include "publish/atomic_file.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>
#include <utility>

#include "core/errors.h"

namespace baofeed::publish {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kFileMode = 0644;

// Owns one POSIX file descriptor; closes it on destruction (errors ignored there: call close()
// to see them).
class UniqueFd {
  public:
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    ~UniqueFd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }

    // Closes now; returns 0 or the errno of close(2).
    int close() {
        const int fd = std::exchange(fd_, -1);
        if (fd >= 0 && ::close(fd) != 0) {
            return errno;
        }
        return 0;
    }

  private:
    int fd_;
};

// Removes the file at `path` on destruction unless release() was called.
class TempFileGuard {
  public:
    explicit TempFileGuard(fs::path path) : path_(std::move(path)) {}
    TempFileGuard(const TempFileGuard&) = delete;
    TempFileGuard& operator=(const TempFileGuard&) = delete;
    ~TempFileGuard() {
        if (armed_) {
            ::unlink(path_.c_str());
        }
    }
    void release() { armed_ = false; }

  private:
    fs::path path_;
    bool armed_ = true;
};

[[noreturn]] void fail(const fs::path& path, std::string_view what, int err) {
    std::string message = "publish: " + path.string() + ": " + std::string(what);
    if (err != 0) {
        message += ": " + std::error_code(err, std::generic_category()).message();
    }
    throw PublishError(message);
}

int open_retrying(const char* path, int flags, mode_t mode = 0) {
    int fd = -1;
    do {
        fd = ::open(path, flags | O_CLOEXEC, mode);
    } while (fd < 0 && errno == EINTR);
    return fd;
}

// True when the regular file at `path` holds exactly `bytes`. Any failure to read it (missing,
// unreadable, a directory) counts as "different": the write that follows reports real errors.
bool holds_exactly(const fs::path& path, std::string_view bytes) {
    UniqueFd fd(open_retrying(path.c_str(), O_RDONLY));
    if (!fd.valid()) {
        return false;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::size_t>(st.st_size) != bytes.size()) {
        return false;
    }
    std::array<char, 65536> buffer{};
    std::size_t offset = 0;
    while (true) {
        const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        if (n == 0) {
            return offset == bytes.size();
        }
        const auto count = static_cast<std::size_t>(n);
        if (offset + count > bytes.size() ||
            bytes.substr(offset, count) != std::string_view(buffer.data(), count)) {
            return false;
        }
        offset += count;
    }
}

// Writes all of `bytes`; returns 0 or errno.
int write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return 0;
}

fs::path temp_path_for(const fs::path& dir, const fs::path& name) {
    static std::atomic<unsigned long> counter{0};
    const unsigned long n = counter.fetch_add(1, std::memory_order_relaxed);
    return dir /
           ("." + name.string() + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(n));
}

}  // namespace

WriteResult write_atomically(const fs::path& path, std::string_view bytes) {
    const fs::path name = path.filename();
    if (name.empty() || name == "." || name == "..") {
        fail(path, "not a file name", 0);
    }
    fs::path dir = path.parent_path();
    if (dir.empty()) {
        dir = ".";
    }
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        fail(path, "cannot create directory " + dir.string(), ec.value());
    }

    if (holds_exactly(path, bytes)) {
        return WriteResult::unchanged;
    }

    const fs::path temp = temp_path_for(dir, name);
    UniqueFd fd(open_retrying(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL, kFileMode));
    if (!fd.valid()) {
        fail(path, "cannot create temporary file", errno);
    }
    TempFileGuard guard(temp);
    // The umask may have narrowed the mode given to open(2).
    if (::fchmod(fd.get(), kFileMode) != 0) {
        fail(path, "cannot set permissions", errno);
    }
    if (const int err = write_all(fd.get(), bytes); err != 0) {
        fail(path, "cannot write", err);
    }
    if (::fsync(fd.get()) != 0) {
        fail(path, "cannot fsync", errno);
    }
    if (const int err = fd.close(); err != 0) {
        fail(path, "cannot close", err);
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        fail(path, "cannot rename temporary file", errno);
    }
    guard.release();

    // Make the rename itself durable. Some file systems cannot fsync a directory (EINVAL);
    // the file is in place either way then.
    UniqueFd dir_fd(open_retrying(dir.c_str(), O_RDONLY | O_DIRECTORY));
    if (!dir_fd.valid()) {
        fail(path, "cannot open directory for fsync", errno);
    }
    if (::fsync(dir_fd.get()) != 0 && errno != EINVAL) {
        fail(path, "cannot fsync directory", errno);
    }
    return WriteResult::written;
}

}  // namespace baofeed::publish

// One baofeed run per database at a time (flock on a lock file next to it).
#pragma once

#include <filesystem>

namespace baofeed::app {

// Holds an exclusive flock(2) on `path` (created if missing) for its lifetime. The lock goes away
// with the process however it ends, so a killed run never leaves a stale lock.
class RunLock {
  public:
    // Tries once, without waiting. held() tells whether it got the lock.
    explicit RunLock(const std::filesystem::path& path);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

    bool held() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
};

}  // namespace baofeed::app

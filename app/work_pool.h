// A fixed set of worker threads running submitted jobs in FIFO order (CPU work: decoding and
// extraction). Jobs must not throw (wrap them); the destructor waits for queued jobs and joins.
// A pool may run at a lower scheduling priority than the rest of the process: its threads raise
// their nice value by `nice_increment` (Linux: per thread; capped at 19; ignored where it cannot
// be set), so that on a busy machine the serial stages (the fetch loop, the one writer thread)
// get a core when they need one and the pool takes the rest.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace baofeed::app {

class WorkPool {
  public:
    explicit WorkPool(unsigned threads, int nice_increment = 0);
    ~WorkPool();
    WorkPool(const WorkPool&) = delete;
    WorkPool& operator=(const WorkPool&) = delete;

    // Thread-safe.
    void submit(std::function<void()> job);
    unsigned size() const { return static_cast<unsigned>(threads_.size()); }

  private:
    void work(int nice_increment);

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;  // last: started after the state above exists
};

}  // namespace baofeed::app

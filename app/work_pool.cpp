#include "app/work_pool.h"

#include <algorithm>
#include <cerrno>
#include <sys/resource.h>
#include <unistd.h>

namespace baofeed::app {

namespace {

// Raises the calling thread's nice value by `increment` (PRIO_PROCESS with a thread id applies to
// that thread alone on Linux). Best effort: a failure leaves the thread as it was.
void lower_priority(int increment) {
    if (increment <= 0) {
        return;
    }
    const auto self = static_cast<id_t>(::gettid());
    errno = 0;
    const int current = ::getpriority(PRIO_PROCESS, self);
    if (errno != 0) {
        return;
    }
    ::setpriority(PRIO_PROCESS, self, std::min(19, current + increment));
}

}  // namespace

WorkPool::WorkPool(unsigned threads, int nice_increment) {
    threads_.reserve(threads);
    for (unsigned i = 0; i < threads; ++i) {
        threads_.emplace_back([this, nice_increment] { work(nice_increment); });
    }
}

WorkPool::~WorkPool() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) {
        t.join();
    }
}

void WorkPool::submit(std::function<void()> job) {
    {
        std::lock_guard lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
}

void WorkPool::work(int nice_increment) {
    lower_priority(nice_increment);
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) {
                return;  // stopping, and nothing left to do
            }
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job();
    }
}

}  // namespace baofeed::app

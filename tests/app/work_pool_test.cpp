#include "app/work_pool.h"

#include <atomic>
#include <cerrno>
#include <mutex>
#include <set>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

namespace baofeed::app {
namespace {

int nice_of_this_thread() {
    errno = 0;
    const int value = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
    EXPECT_EQ(errno, 0);
    return value;
}

// The nice values the pool's jobs ran at, one job per thread at a time.
std::set<int> nice_values_of(unsigned threads, int increment) {
    std::mutex mutex;
    std::set<int> values;
    {
        WorkPool pool(threads, increment);
        for (int i = 0; i < 20; ++i) {
            pool.submit([&] {
                const int value = nice_of_this_thread();
                std::lock_guard lock(mutex);
                values.insert(value);
            });
        }
    }  // waits for the jobs
    return values;
}

TEST(WorkPool, RunsEveryJobSubmittedBeforeItIsDestroyed) {
    std::atomic<int> done = 0;
    {
        WorkPool pool(3);
        for (int i = 0; i < 100; ++i) {
            pool.submit([&] { ++done; });
        }
    }
    EXPECT_EQ(done.load(), 100);
}

TEST(WorkPool, RunsJobsInSubmissionOrderOnOneThread) {
    std::vector<int> order;
    {
        WorkPool pool(1);
        for (int i = 0; i < 10; ++i) {
            pool.submit([&order, i] { order.push_back(i); });
        }
    }
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(WorkPool, ItsThreadsRunAtTheNiceValueOfTheProcessPlusTheIncrement) {
    const int process = nice_of_this_thread();
    EXPECT_EQ(nice_values_of(2, 0), std::set<int>{process});
    EXPECT_EQ(nice_values_of(2, 7), std::set<int>{std::min(19, process + 7)});
    EXPECT_EQ(nice_values_of(1, 40), std::set<int>{19});  // capped
    // The thread that made the pools is left as it was.
    EXPECT_EQ(nice_of_this_thread(), process);
}

}  // namespace
}  // namespace baofeed::app

#include "core/thread_priority.h"

#include <algorithm>
#include <cerrno>
#include <sys/resource.h>
#include <unistd.h>

namespace baofeed {

void lower_thread_priority(int increment) {
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

}  // namespace baofeed

// Scheduling priority of the calling thread.
#pragma once

namespace baofeed {

// Raises the calling thread's nice value by `increment` (Linux: PRIO_PROCESS with a thread id
// applies to that thread alone), capped at 19. Best effort: an increment <= 0 or a failure leaves
// the thread as it was. Used by thread pools whose work should yield the cores to the serial
// stages of a pipeline (app::WorkPool, bench/store-bench's prepare threads).
void lower_thread_priority(int increment);

}  // namespace baofeed

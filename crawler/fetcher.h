// The seam between the pipeline and the network.
#pragma once

#include <functional>

#include "crawler/http.h"

namespace baofeed::crawler {

using ResponseHandler = std::function<void(Response)>;

// Runs HTTP transfers. Not thread-safe: submit() and run() are called from one thread, and every
// handler runs on that thread, inside run(). A handler may submit() further requests; run()
// returns once no transfer is queued or in flight.
class Fetcher {
  public:
    virtual ~Fetcher() = default;
    virtual void submit(Request request, ResponseHandler on_done) = 0;
    virtual void run() = 0;
};

}  // namespace baofeed::crawler

#include "crawler/http.h"

namespace baofeed::crawler {

const char* to_string(Outcome o) {
    switch (o) {
        case Outcome::ok:
            return "ok";
        case Outcome::not_modified:
            return "not_modified";
        case Outcome::http_error:
            return "http_error";
        case Outcome::timeout:
            return "timeout";
        case Outcome::too_large:
            return "too_large";
        case Outcome::network_error:
            return "network_error";
        case Outcome::refused:
            return "refused";
        case Outcome::cancelled:
            return "cancelled";
    }
    return "unknown";
}

}  // namespace baofeed::crawler

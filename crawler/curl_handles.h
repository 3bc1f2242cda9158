// RAII owners for libcurl handles used by the crawler. Each deleter is stateless; a null handle is
// never passed to curl. Only crawler/ includes this header.
#pragma once

#include <memory>

#include <curl/curl.h>

namespace baofeed::crawler {

struct CurlEasyDeleter {
    void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct CurlMultiDeleter {
    // curl_multi_cleanup may call the multi's socket callback: whatever that callback touches
    // must still be alive when a CurlMulti is destroyed.
    void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// Appends a copy of `line` to `list`. Throws std::bad_alloc when curl cannot allocate; `list` is
// left unchanged in that case.
void slist_append(CurlSlist& list, const char* line);

}  // namespace baofeed::crawler

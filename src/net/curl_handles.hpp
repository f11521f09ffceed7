#pragma once
// Move-only owners of libcurl handles (STYLE §5); private to src/net.

#include <curl/curl.h>

#include <memory>

namespace mailer::net {

struct CurlEasyFree {
  void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyFree>;

struct CurlSlistFree {
  void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistFree>;

}  // namespace mailer::net

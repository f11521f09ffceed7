// Address normalization (src/render/address.cpp): every recipient, From and
// Reply-To passes through it. Besides crashes, checks two promises of
// include/mailer/render/address.hpp: a normalized address normalizes to
// itself, and is at most 254 octets.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mailer/render/address.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  if (auto normalized = mailer::render::normalize_address(input)) {
    if (normalized->size() > 254) std::abort();
    auto again = mailer::render::normalize_address(*normalized);
    if (!again || *again != *normalized) std::abort();
    (void)mailer::render::suppression_key(*normalized);
  }
  if (auto mailbox = mailer::render::parse_mailbox(input)) {
    (void)mailer::render::format_mailbox_for_ses(*mailbox);
  }
  return 0;
}

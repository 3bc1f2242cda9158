// The textkey implementation before its fast path was rewritten, kept for bench_textkey: the
// new core/textkey.cpp must give bit-identical normalize() and signature() results, faster.
#pragma once

#include <string>
#include <string_view>

#include "core/textkey.h"

namespace baofeed::textkey_reference {

std::string normalize(std::string_view text);
textkey::Signature signature(const Article& article);

}  // namespace baofeed::textkey_reference

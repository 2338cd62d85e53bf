#pragma once
// The Via branches this server mints: "z9hG4bK-s<shard>-<loop>-<n>" (hex fields).
//   shard: which shard owns the client transaction, so that a response landing on another
//          shard's socket is handed to the right one;
//   loop:  a hash of what §16.6 step 8 says identifies the request (Request-URI, From tag,
//          Call-ID, CSeq number, Route, Proxy-Require, ...), so that a request coming back
//          with our Via and the same hash is a loop (§16.3 step 4) while a spiral is not;
//   n:     a per-shard counter that makes the branch unique.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strowger::sip {

std::string mint_branch(unsigned shard, std::uint32_t loop_hash, std::uint64_t counter);

struct BranchFields {
    unsigned shard = 0;
    std::uint32_t loop_hash = 0;
};
// Nothing when the branch was not minted by mint_branch().
std::optional<BranchFields> parse_branch(std::string_view branch);

} // namespace strowger::sip

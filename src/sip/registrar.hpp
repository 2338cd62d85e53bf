#pragma once
// The registrar (RFC 3261 §10.3, Path from RFC 3327): turns a REGISTER into changes to the
// location service and the answer to send. Sans-IO: time comes in as an argument.

#include <cstdint>
#include <string>
#include <string_view>

#include "sip/flow.hpp"
#include "sip/location.hpp"
#include "sip/message.hpp"

namespace strowger::sip {

struct RegistrarConfig {
    std::uint32_t min_expires = 60;
    std::uint32_t max_expires = 3600;
    std::uint32_t default_expires = 3600; // when neither the Contact nor Expires says
};

struct RegisterReply {
    int status = 0;
    std::string response;
    std::string aor; // the address-of-record it was about (empty when refused before that)
};

class Registrar {
public:
    Registrar(LocationStore& store, RegistrarConfig config) : store_(store), config_(config) {}

    // `top_via` is the stamped first Via (received/rport) to echo; `source` the flow the
    // REGISTER came on, kept with each binding so that calls reach the phone there.
    RegisterReply handle(const Message& request, const Flow& source, std::string_view top_via,
                         std::int64_t now, std::string_view to_tag) const;

private:
    LocationStore& store_;
    RegistrarConfig config_;
};

} // namespace strowger::sip

// Strowger's parser: parse_message indexes the header fields; the routing fields are then decoded
// with the typed parsers (Via, Call-ID, CSeq, name-addr for From/To/Route, the Request-URI), as
// oSIP and sofia-sip decode them during their parse.

#include <benchmark/benchmark.h>

#include <string>

#include "fields.hpp"
#include "sip/header_id.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"
#include "sip/uri.hpp"

namespace sipbench {
namespace {

namespace sip = strowger::sip;

bool read_fields(const sip::Message& m, Fields& f) {
    // The top Via and the first Route: the first value of the first field, parsed up to its
    // comma (the rest of a list field is not split).
    auto via = sip::parse_first_via(m.value(sip::HeaderId::Via));
    if (!via) {
        return false;
    }
    f.via_branch = via->branch().value_or(std::string_view{});

    auto call_id = sip::parse_call_id(m.value(sip::HeaderId::CallId));
    auto cseq = sip::parse_cseq(m.value(sip::HeaderId::CSeq));
    auto from = sip::parse_name_addr(m.value(sip::HeaderId::From), sip::SipError::BadFrom);
    auto to = sip::parse_name_addr(m.value(sip::HeaderId::To), sip::SipError::BadTo);
    if (!call_id || !cseq || !from || !to) {
        return false;
    }
    f.call_id = *call_id;
    f.cseq_number = cseq->number;
    f.cseq_method = cseq->method;
    f.from_tag = from->tag().value_or(std::string_view{});
    f.to_tag = to->tag().value_or(std::string_view{});

    if (m.is_request()) {
        auto uri = sip::parse_uri(m.request_uri());
        if (!uri) {
            return false;
        }
        f.ruri_user = uri->user;
        f.ruri_host = uri->host;
    } else {
        f.status = m.status_code();
    }

    if (m.first(sip::HeaderId::Route) != nullptr) {
        auto route =
            sip::parse_first_name_addr(m.value(sip::HeaderId::Route), sip::SipError::BadRoute);
        if (!route) {
            return false;
        }
        f.route_host = route->uri.host;
    }
    return true;
}

void run(benchmark::State& state, const Case& c) {
    std::int64_t failures = 0;
    for (auto _ : state) {
        auto out = sip::parse_message(c.text);
        Fields f;
        bool ok = out.ok() && read_fields(*out.message, f);
        benchmark::DoNotOptimize(f);
        failures += ok ? 0 : 1;
    }
    if (failures != 0) {
        state.SkipWithError("strowger: parse or field read failed inside the loop");
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.text.size()));
}

} // namespace

bool verify_strowger(const Case& c) {
    auto out = sip::parse_message(c.text);
    Fields f;
    if (!out.ok()) {
        check_fields("strowger (parse_message failed)", c, f);
        return false;
    }
    if (!read_fields(*out.message, f)) {
        check_fields("strowger (a typed header parser failed)", c, f);
        return false;
    }
    return check_fields("strowger", c, f);
}

void register_strowger(const Case& c) {
    auto name = std::string(c.name) + "/strowger";
    benchmark::RegisterBenchmark(name.c_str(), [&c](benchmark::State& s) { run(s, c); });
}

} // namespace sipbench

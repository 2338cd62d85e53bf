// sofia-sip (libsofia-sip-ua): msg_make(sip_default_mclass(), 0, data, len) copies the bytes into
// a new msg_t and runs msg_extract, which splits the message and decodes every header the SIP
// class knows (Via, From, To, Route, CSeq, Call-ID, the request line's URL, ...) into the sip_t
// returned by sip_object(); the routing fields are read from there, then msg_destroy. The SDP
// body is kept as a payload, not parsed.

#include <benchmark/benchmark.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_protos.h>

#include <string>

#include "fields.hpp"

namespace sipbench {
namespace {

// The parsed message, or nullptr when sofia refused it (msg_make marks errors on the object).
sip_t* parsed(msg_t* msg) {
    if (msg == nullptr || msg_has_error(msg) != 0) {
        return nullptr;
    }
    sip_t* sip = sip_object(msg);
    return sip != nullptr && sip->sip_error == nullptr ? sip : nullptr;
}

bool read_fields(const sip_t* sip, Fields& f) {
    if (sip->sip_via == nullptr || sip->sip_call_id == nullptr || sip->sip_cseq == nullptr ||
        sip->sip_from == nullptr || sip->sip_to == nullptr) {
        return false;
    }
    f.via_branch = view(sip->sip_via->v_branch);
    f.call_id = view(sip->sip_call_id->i_id);
    f.cseq_number = sip->sip_cseq->cs_seq;
    f.cseq_method = view(sip->sip_cseq->cs_method_name);
    f.from_tag = view(sip->sip_from->a_tag);
    f.to_tag = view(sip->sip_to->a_tag);
    if (sip->sip_request != nullptr) {
        f.ruri_user = view(sip->sip_request->rq_url->url_user);
        f.ruri_host = view(sip->sip_request->rq_url->url_host);
    } else if (sip->sip_status != nullptr) {
        f.status = sip->sip_status->st_status;
    } else {
        return false;
    }
    if (sip->sip_route != nullptr) {
        f.route_host = view(sip->sip_route->r_url->url_host);
    }
    return true;
}

msg_t* make(const Case& c) {
    return msg_make(sip_default_mclass(), 0, c.text.data(), static_cast<ssize_t>(c.text.size()));
}

void run(benchmark::State& state, const Case& c) {
    std::int64_t failures = 0;
    for (auto _ : state) {
        msg_t* msg = make(c);
        const sip_t* sip = parsed(msg);
        Fields f;
        bool ok = sip != nullptr && read_fields(sip, f);
        benchmark::DoNotOptimize(f);
        failures += ok ? 0 : 1;
        if (msg != nullptr) {
            msg_destroy(msg);
        }
    }
    if (failures != 0) {
        state.SkipWithError("sofia: parse or field read failed inside the loop");
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.text.size()));
}

} // namespace

bool verify_sofia(const Case& c) {
    msg_t* msg = make(c);
    const sip_t* sip = parsed(msg);
    Fields f;
    bool ok = false;
    if (sip == nullptr) {
        check_fields("sofia (msg_make reported a parse error)", c, f);
    } else if (!read_fields(sip, f)) {
        check_fields("sofia (a header it needs is missing)", c, f);
    } else {
        ok = check_fields("sofia", c, f);
    }
    if (msg != nullptr) {
        msg_destroy(msg);
    }
    return ok;
}

void register_sofia(const Case& c) {
    auto name = std::string(c.name) + "/sofia";
    benchmark::RegisterBenchmark(name.c_str(), [&c](benchmark::State& s) { run(s, c); });
}

} // namespace sipbench

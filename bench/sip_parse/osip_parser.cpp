// GNU oSIP (libosip2's parser, libosipparser2): osip_message_init + osip_message_parse, the
// routing fields read through osip's accessors, then osip_message_free. osip_message_parse
// decodes every known header (Via, From, To, Route, CSeq, Call-ID, the Request-URI, ...) into
// its own structures as it goes; the SDP body is copied, not parsed.

#include <benchmark/benchmark.h>
#include <osipparser2/osip_message.h>
#include <osipparser2/osip_parser.h>

#include <cstdlib>
#include <string>

#include "fields.hpp"

namespace sipbench {
namespace {

// The value of a generic parameter ("branch", "tag") from an oSIP parameter lookup.
std::string_view param_value(int rc, const osip_generic_param_t* p) {
    return rc == OSIP_SUCCESS && p != nullptr ? view(p->gvalue) : std::string_view{};
}

bool read_fields(osip_message_t* sip, Fields& f) {
    osip_via_t* via = nullptr;
    if (osip_message_get_via(sip, 0, &via) < 0 || via == nullptr) {
        return false;
    }
    // Each lookup is its own statement: the parameter pointer is read after the call fills it.
    osip_generic_param_t* branch = nullptr;
    int rc = osip_via_param_get_byname(via, const_cast<char*>("branch"), &branch);
    f.via_branch = param_value(rc, branch);

    osip_call_id_t* call_id = osip_message_get_call_id(sip);
    osip_cseq_t* cseq = osip_message_get_cseq(sip);
    osip_from_t* from = osip_message_get_from(sip);
    osip_to_t* to = osip_message_get_to(sip);
    if (call_id == nullptr || cseq == nullptr || from == nullptr || to == nullptr) {
        return false;
    }
    f.call_id = view(osip_call_id_get_number(call_id));
    f.call_id_host = view(osip_call_id_get_host(call_id));
    // oSIP keeps the number as text; a router needs it as a number, as the others give it.
    const char* number = osip_cseq_get_number(cseq);
    f.cseq_number = number == nullptr
                        ? 0
                        : static_cast<std::uint32_t>(std::strtoul(number, nullptr, 10));
    f.cseq_method = view(osip_cseq_get_method(cseq));

    osip_generic_param_t* tag = nullptr;
    rc = osip_from_get_tag(from, &tag);
    f.from_tag = param_value(rc, tag);
    tag = nullptr;
    rc = osip_to_get_tag(to, &tag);
    f.to_tag = param_value(rc, tag);

    if (MSG_IS_REQUEST(sip)) {
        osip_uri_t* uri = osip_message_get_uri(sip);
        if (uri == nullptr) {
            return false;
        }
        f.ruri_user = view(osip_uri_get_username(uri));
        f.ruri_host = view(osip_uri_get_host(uri));
    } else {
        f.status = osip_message_get_status_code(sip);
    }

    osip_route_t* route = nullptr;
    if (osip_message_get_route(sip, 0, &route) >= 0 && route != nullptr) {
        // osip_route_t is osip_from_t; osip_route_get_url is that call behind a C cast.
        osip_uri_t* uri = osip_from_get_url(route);
        if (uri == nullptr) {
            return false;
        }
        f.route_host = view(osip_uri_get_host(uri));
    }
    return true;
}

void run(benchmark::State& state, const Case& c) {
    std::int64_t failures = 0;
    for (auto _ : state) {
        osip_message_t* sip = nullptr;
        bool ok = osip_message_init(&sip) == OSIP_SUCCESS &&
                  osip_message_parse(sip, c.text.data(), c.text.size()) == OSIP_SUCCESS;
        Fields f;
        ok = ok && read_fields(sip, f);
        benchmark::DoNotOptimize(f);
        failures += ok ? 0 : 1;
        osip_message_free(sip);
    }
    if (failures != 0) {
        state.SkipWithError("osip: parse or field read failed inside the loop");
    }
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.text.size()));
}

void init_once() {
    static const bool done = [] {
        parser_init(); // oSIP's header-name tables; required before any osip_message_parse
        return true;
    }();
    (void)done;
}

} // namespace

bool verify_osip(const Case& c) {
    init_once();
    osip_message_t* sip = nullptr;
    Fields f;
    bool ok = osip_message_init(&sip) == OSIP_SUCCESS;
    if (ok && osip_message_parse(sip, c.text.data(), c.text.size()) != OSIP_SUCCESS) {
        check_fields("osip (osip_message_parse failed)", c, f);
        ok = false;
    } else if (ok && !read_fields(sip, f)) {
        check_fields("osip (a header it needs is missing)", c, f);
        ok = false;
    } else if (ok) {
        ok = check_fields("osip", c, f);
    }
    osip_message_free(sip);
    return ok;
}

void register_osip(const Case& c) {
    init_once();
    auto name = std::string(c.name) + "/osip";
    benchmark::RegisterBenchmark(name.c_str(), [&c](benchmark::State& s) { run(s, c); });
}

} // namespace sipbench

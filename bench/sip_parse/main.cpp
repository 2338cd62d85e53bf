// SIP parse benchmark: Strowger vs GNU oSIP vs sofia-sip, nanoseconds per message for parsing
// a message and reading its routing fields. Before anything is timed, every parser parses every
// message once and its fields are compared with the expected values; any mismatch exits 1, so a
// parser that silently parses nothing cannot produce a number. See README.md.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "fields.hpp"

namespace sipbench {

namespace {

bool same(const char* parser, const Case& c, const char* field, std::string_view got,
          std::string_view want) {
    if (got == want) {
        return true;
    }
    std::fprintf(stderr, "%s %.*s: %s is \"%.*s\", expected \"%.*s\"\n", parser,
                 static_cast<int>(c.name.size()), c.name.data(), field,
                 static_cast<int>(got.size()), got.data(), static_cast<int>(want.size()),
                 want.data());
    return false;
}

bool same(const char* parser, const Case& c, const char* field, long long got, long long want) {
    if (got == want) {
        return true;
    }
    std::fprintf(stderr, "%s %.*s: %s is %lld, expected %lld\n", parser,
                 static_cast<int>(c.name.size()), c.name.data(), field, got, want);
    return false;
}

} // namespace

bool check_fields(std::string_view parser_name, const Case& c, const Fields& f) {
    const std::string parser(parser_name);
    const char* p = parser.c_str();
    const Expected& e = c.expected;
    // oSIP splits the Call-ID at '@'; the others keep it whole.
    std::string call_id(f.call_id);
    if (!f.call_id_host.empty()) {
        call_id += '@';
        call_id += f.call_id_host;
    }
    bool ok = true;
    ok &= same(p, c, "top Via branch", f.via_branch, e.via_branch);
    ok &= same(p, c, "Call-ID", call_id, e.call_id);
    ok &= same(p, c, "CSeq number", f.cseq_number, e.cseq_number);
    ok &= same(p, c, "CSeq method", f.cseq_method, e.cseq_method);
    ok &= same(p, c, "From tag", f.from_tag, e.from_tag);
    ok &= same(p, c, "To tag", f.to_tag, e.to_tag);
    ok &= same(p, c, "Request-URI user", f.ruri_user, e.ruri_user);
    ok &= same(p, c, "Request-URI host", f.ruri_host, e.ruri_host);
    ok &= same(p, c, "status code", f.status, e.status);
    ok &= same(p, c, "first Route host", f.route_host, e.route_host);
    if (ok) {
        std::fprintf(stderr, "verified: %-8s %.*s\n", p, static_cast<int>(c.name.size()),
                     c.name.data());
    }
    return ok;
}

} // namespace sipbench

int main(int argc, char** argv) {
    using namespace sipbench;
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 2;
    }
    bool ok = true;
    for (const auto& c : kCases) {
        ok &= verify_strowger(c);
        ok &= verify_osip(c);
        ok &= verify_sofia(c);
    }
    if (!ok) {
        std::fprintf(stderr, "field check failed: not running the benchmarks\n");
        return 1;
    }
    for (const auto& c : kCases) {
        register_strowger(c);
        register_osip(c);
        register_sofia(c);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

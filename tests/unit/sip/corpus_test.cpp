// RFC 4475 (SIP torture tests) and RFC 5118 (IPv6) messages, byte-exact from the RFC archives.
// Valid messages are checked field by field against expected.tsv, a table written by reading
// the messages by hand; invalid ones must be refused for the reason the RFC names.

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "sip/header_list.hpp"
#include "sip/headers.hpp"
#include "sip/message.hpp"
#include "sip/syntax.hpp"
#include "sip/validate.hpp"
#include "test_data.hpp"

namespace strowger::sip {
namespace {

using Row = std::map<std::string, std::string>;

std::vector<Row> load_table(const std::string& relative) {
    std::ifstream in(std::string(STROWGER_TEST_DATA) + "/" + relative);
    std::vector<std::string> columns;
    std::vector<Row> rows;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        std::vector<std::string> cells;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, '\t')) {
            cells.push_back(cell);
        }
        if (columns.empty()) {
            columns = cells;
            continue;
        }
        Row row;
        for (std::size_t i = 0; i < columns.size() && i < cells.size(); ++i) {
            row[columns[i]] = cells[i];
        }
        rows.push_back(row);
    }
    return rows;
}

std::string bytes_of(const std::string& relative) {
    auto v = test::read_data_file(relative);
    return {v.begin(), v.end()};
}

std::string or_dash(std::optional<std::string_view> v) { return v ? std::string(*v) : "-"; }

std::string or_dash_number(std::optional<std::uint64_t> v) {
    return v ? std::to_string(*v) : "-";
}

// What the tables call the first Via value.
std::optional<Via> top_via(const Message& m) {
    std::optional<Via> via;
    if (const auto* h = m.first(HeaderId::Via)) {
        split_list(h->value, [&](std::string_view item) {
            if (auto v = parse_via(item)) {
                via = *v;
            }
            return false;
        });
    }
    return via;
}

void check_row(const Row& row, const std::string& dir) {
    SCOPED_TRACE(row.at("file"));
    auto bytes = bytes_of(dir + "/" + row.at("file"));
    auto outcome = parse_message(bytes);
    ASSERT_TRUE(outcome.message) << name(outcome.error);
    const Message& m = *outcome.message;
    EXPECT_EQ(m.is_request() ? "request" : "response", row.at("start"));
    EXPECT_EQ(m.is_request() ? std::string(m.method()) : "-", row.at("method"));
    EXPECT_EQ(m.is_request() ? std::string(m.request_uri()) : "-", row.at("request_uri"));
    EXPECT_EQ(m.is_request() ? "-" : std::to_string(m.status_code()), row.at("status"));
    auto via = top_via(m);
    ASSERT_TRUE(via);
    EXPECT_EQ(std::string(via->sent_by), row.at("top_via_sent_by"));
    EXPECT_EQ(or_dash(via->branch()), row.at("top_via_branch"));
    std::optional<std::string_view> call_id;
    if (m.first(HeaderId::CallId) != nullptr) {
        auto parsed_id = parse_call_id(m.value(HeaderId::CallId));
        ASSERT_TRUE(parsed_id) << name(parsed_id.error());
        call_id = *parsed_id;
    }
    EXPECT_EQ(or_dash(call_id), row.at("call_id"));
    if (m.first(HeaderId::CSeq) != nullptr) {
        auto cseq = parse_cseq(m.value(HeaderId::CSeq));
        ASSERT_TRUE(cseq) << name(cseq.error());
        EXPECT_EQ(std::to_string(cseq->number), row.at("cseq_number"));
        EXPECT_EQ(std::string(cseq->method), row.at("cseq_method"));
    } else {
        EXPECT_EQ("-", row.at("cseq_number"));
    }
    for (auto [id, column] :
         {std::pair{HeaderId::From, "from_tag"}, std::pair{HeaderId::To, "to_tag"}}) {
        if (m.first(id) == nullptr) {
            EXPECT_EQ("-", row.at(column));
            continue;
        }
        auto na = parse_name_addr(m.value(id), SipError::BadHeaderValue);
        if (!na) {
            ADD_FAILURE() << column << ": " << name(na.error());
            continue;
        }
        EXPECT_EQ(or_dash(na->tag()), row.at(column));
    }
    std::optional<std::uint64_t> mf;
    if (const auto* h = m.first(HeaderId::MaxForwards)) {
        auto max_forwards = parse_max_forwards(h->value);
        ASSERT_TRUE(max_forwards);
        mf = *max_forwards;
    }
    EXPECT_EQ(or_dash_number(mf), row.at("max_forwards"));
    if (row.at("file") == "mcl01.dat") {
        return; // two Content-Length values: framing is ambiguous, refused below
    }
    std::optional<std::uint64_t> cl;
    if (m.content_length()) {
        cl = *m.content_length();
    }
    EXPECT_EQ(or_dash_number(cl), row.at("content_length"));
    EXPECT_EQ(std::to_string(m.body().size()), row.at("body_length"));
}

// The first reason a message is refused for: framing and start line, then header checks.
SipError first_error(const std::string& bytes) {
    auto outcome = parse_message(bytes);
    if (outcome.error != SipError::None || !outcome.message) {
        return outcome.error;
    }
    return validate(*outcome.message);
}

TEST(Rfc4475, ValidAndSemanticMessagesMatchTheTable) {
    auto rows = load_table("sip/rfc4475/expected.tsv");
    ASSERT_EQ(rows.size(), 30U);
    for (const auto& row : rows) {
        check_row(row, "sip/rfc4475");
    }
}

TEST(Rfc5118, Ipv6MessagesMatchTheTable) {
    auto rows = load_table("sip/rfc5118/expected.tsv");
    ASSERT_EQ(rows.size(), 11U);
    for (const auto& row : rows) {
        check_row(row, "sip/rfc5118/wire");
        EXPECT_EQ(name(first_error(bytes_of("sip/rfc5118/wire/" + row.at("file")))), "None")
            << row.at("file");
    }
}

// Messages RFC 4475 classes valid, or semantic but well-formed: they pass validation.
TEST(Rfc4475, WellFormedMessagesPassValidation) {
    for (const auto* file :
         {"wsinv", "intmeth", "esc01", "escnull", "esc02", "lwsdisp", "longreq", "dblreq",
          "semiuri", "transports", "mpart01", "unreason", "noreason", "badbranch", "unkscm",
          "novelsc", "unksm2", "bext01", "invut", "regaut01", "bcast", "zeromf", "cparam01",
          "cparam02", "regescrt", "sdp01", "inv2543"}) {
        EXPECT_EQ(name(first_error(bytes_of(std::string("sip/rfc4475/") + file + ".dat"))),
                  "None")
            << file;
    }
}

struct Refusal {
    const char* file;
    SipError reason;

    friend void PrintTo(const Refusal& r, std::ostream* os) { *os << r.file; }
};

class Rfc4475Invalid : public testing::TestWithParam<Refusal> {};

TEST_P(Rfc4475Invalid, IsRefusedForTheRightReason) {
    auto bytes = bytes_of(std::string("sip/rfc4475/") + GetParam().file + ".dat");
    if (std::string(GetParam().file) == "baddn") {
        bytes += "\r\n"; // the archive's copy ends without the empty line (corpus README)
    }
    EXPECT_EQ(name(first_error(bytes)), name(GetParam().reason));
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, Rfc4475Invalid,
    testing::Values(Refusal{"badinv01", SipError::EmptyParameter},
                    Refusal{"clerr", SipError::BodyTooShort},
                    Refusal{"ncl", SipError::BadContentLength},
                    Refusal{"scalar02", SipError::BadCSeq},
                    Refusal{"scalarlg", SipError::BadCSeq},
                    Refusal{"quotbal", SipError::UnterminatedQuote},
                    Refusal{"ltgtruri", SipError::BracketedRequestUri},
                    Refusal{"lwsruri", SipError::WhitespaceInRequestUri},
                    Refusal{"lwsstart", SipError::ExtraWhitespaceInStartLine},
                    Refusal{"trws", SipError::ExtraWhitespaceInStartLine},
                    Refusal{"escruri", SipError::HeadersInRequestUri},
                    Refusal{"baddate", SipError::BadDate},
                    Refusal{"regbadct", SipError::AddrSpecNeedsBrackets},
                    Refusal{"badaspec", SipError::WhitespaceInUri},
                    Refusal{"baddn", SipError::BadDisplayName},
                    Refusal{"badvers", SipError::UnsupportedVersion},
                    Refusal{"mismatch01", SipError::CSeqMethodMismatch},
                    Refusal{"mismatch02", SipError::CSeqMethodMismatch},
                    Refusal{"bigcode", SipError::BadStatusCode},
                    Refusal{"test", SipError::BadStartLine},
                    // Semantic: they parse, but RFC 3261 requires a 400.
                    Refusal{"insuf", SipError::MissingHeader},
                    Refusal{"multi01", SipError::DuplicateHeader},
                    Refusal{"mcl01", SipError::MultipleContentLength}),
    [](const auto& param_info) { return std::string(param_info.param.file); });

TEST(Rfc4475, UnterminatedArchiveCopyOfBaddnIsNotAMessage) {
    EXPECT_EQ(first_error(bytes_of("sip/rfc4475/baddn.dat")), SipError::HeadersNotTerminated);
}

TEST(Rfc5118, UnbracketedIpv6RequestUriIsRefused) {
    EXPECT_EQ(first_error(bytes_of("sip/rfc5118/wire/ipv6-bad.sip")), SipError::BadRequestUri);
}

Message parsed(const std::string& relative) {
    auto outcome = parse_message(bytes_of(relative)); // the message keeps its own copy
    EXPECT_TRUE(outcome.message);
    return std::move(*outcome.message);
}

std::vector<std::string> values(const Message& m, HeaderId id) {
    std::vector<std::string> out;
    EXPECT_EQ(for_each_value(m, id,
                             [&](std::string_view v) {
                                 out.emplace_back(v);
                                 return true;
                             }),
              SipError::None);
    return out;
}

// What each torture message is about, beyond the table.
TEST(Rfc4475Details, Wsinv) {
    auto m = parsed("sip/rfc4475/wsinv.dat");
    auto from = parse_name_addr(m.value(HeaderId::From), SipError::BadFrom);
    ASSERT_TRUE(from);
    EXPECT_EQ(from->display_name, R"("J Rosenberg \\\"")");
    EXPECT_EQ(from->uri.user, "jdrosen");
    EXPECT_EQ(m.value(HeaderId::Subject), "");
    const HeaderField* unusual = nullptr;
    for (const auto& h : m.headers()) {
        if (iequals(h.name, "UnknownHeaderWithUnusualValue")) {
            unusual = &h;
        }
    }
    ASSERT_NE(unusual, nullptr);
    EXPECT_EQ(unusual->value, ";;,,;;,;");
    EXPECT_EQ(values(m, HeaderId::Via).size(), 3U); // one line, then two on a folded line
    auto ruri = parse_uri(m.request_uri());
    ASSERT_TRUE(ruri);
    EXPECT_TRUE(ruri->has_param("unknownparam"));
}

TEST(Rfc4475Details, Esc01EscapesAreDecodedOnceAndOnlyForComparison) {
    auto m = parsed("sip/rfc4475/esc01.dat");
    auto ruri = parse_uri(m.request_uri());
    ASSERT_TRUE(ruri);
    EXPECT_EQ(ruri->scheme, Uri::Scheme::Sip); // not sips: the "sips:" is inside the user
    EXPECT_EQ(ruri->user, "sips%3Auser%40example.com");
    EXPECT_EQ(ruri->host, "example.net");
    EXPECT_TRUE(unescaped_equals(ruri->user, "sips:user@example.com"));
    auto to = parse_name_addr(m.value(HeaderId::To), SipError::BadTo);
    ASSERT_TRUE(to);
    EXPECT_TRUE(unescaped_equals(to->uri.user, "user"));
    auto contact = parse_contact(m.value(HeaderId::Contact));
    ASSERT_TRUE(contact);
    EXPECT_TRUE(contact->address.uri.has_param("lr")); // written %6C%72
    auto v = contact->address.uri.param("name");
    ASSERT_TRUE(v);
    // "v%61lue%25%34%31" decodes exactly once, to "value%41" (written escaped here too).
    EXPECT_TRUE(unescaped_equals(*v, "value%2541"));
    EXPECT_FALSE(unescaped_equals(*v, "valueA"));
}

TEST(Rfc4475Details, EscnullBindingsDiffer) {
    auto m = parsed("sip/rfc4475/escnull.dat");
    auto contacts = values(m, HeaderId::Contact);
    ASSERT_EQ(contacts.size(), 2U);
    auto a = parse_contact(contacts[0]);
    auto b = parse_contact(contacts[1]);
    ASSERT_TRUE(a && b);
    EXPECT_FALSE(uri_equivalent(a->address.uri, b->address.uri));
    EXPECT_TRUE(uri_equivalent(a->address.uri, a->address.uri));
}

TEST(Rfc4475Details, Esc02MethodsAndHeaderNamesAreNeverUnescaped) {
    auto m = parsed("sip/rfc4475/esc02.dat");
    EXPECT_EQ(m.method(), "RE%47IST%45R");
    EXPECT_EQ(values(m, HeaderId::Contact).size(), 2U); // "C%6Fntact" is another header
}

TEST(Rfc4475Details, SemiuriUserHoldsSemicolons) {
    auto m = parsed("sip/rfc4475/semiuri.dat");
    auto uri = parse_uri(m.request_uri());
    ASSERT_TRUE(uri);
    EXPECT_EQ(uri->user, "user;par=u%40example.net");
    EXPECT_EQ(uri->host, "example.com");
    EXPECT_TRUE(uri->params.empty());
}

TEST(Rfc4475Details, TransportsAndLongVias) {
    auto m = parsed("sip/rfc4475/transports.dat");
    std::vector<std::string> transports;
    for (const auto& v : values(m, HeaderId::Via)) {
        auto via = parse_via(v);
        ASSERT_TRUE(via);
        transports.emplace_back(via->transport);
    }
    EXPECT_EQ(transports, (std::vector<std::string>{"UDP", "SCTP", "TLS", "UNKNOWN", "TCP"}));

    auto l = parsed("sip/rfc4475/longreq.dat");
    auto vias = values(l, HeaderId::Via);
    ASSERT_EQ(vias.size(), 34U);
    auto bottom = parse_via(vias.back());
    ASSERT_TRUE(bottom && bottom->branch());
    EXPECT_GT(bottom->branch()->size(), 100U);
}

TEST(Rfc4475Details, DblreqKeepsOnlyTheFirstMessage) {
    auto m = parsed("sip/rfc4475/dblreq.dat");
    EXPECT_EQ(m.method(), "REGISTER");
    EXPECT_TRUE(m.body().empty());
    EXPECT_EQ(m.raw().find("INVITE"), std::string_view::npos);
}

TEST(Rfc4475Details, Mpart01BodyIsTakenByLength) {
    auto m = parsed("sip/rfc4475/mpart01.dat");
    EXPECT_EQ(m.body().size(), 553U);
    EXPECT_NE(m.body().find('\0'), std::string_view::npos); // binary CMS part kept whole
}

TEST(Rfc4475Details, ReasonPhrases) {
    EXPECT_EQ(parsed("sip/rfc4475/noreason.dat").reason_phrase(), "");
    EXPECT_NE(parsed("sip/rfc4475/unreason.dat").reason_phrase().find('='),
              std::string_view::npos);
}

TEST(Rfc4475Details, ContactParametersInsideAndOutsideBrackets) {
    auto m1 = parsed("sip/rfc4475/cparam01.dat");
    auto c1 = parse_contact(m1.value(HeaderId::Contact));
    ASSERT_TRUE(c1);
    EXPECT_FALSE(c1->address.bracketed);
    EXPECT_EQ(c1->address.uri.text, "sip:+19725552222@gw1.example.net");
    EXPECT_TRUE(c1->address.params.has("unknownparam"));
    auto m2 = parsed("sip/rfc4475/cparam02.dat");
    auto c2 = parse_contact(m2.value(HeaderId::Contact));
    ASSERT_TRUE(c2);
    EXPECT_TRUE(c2->address.uri.has_param("unknownparam"));
    EXPECT_FALSE(c2->address.params.has("unknownparam"));
}

TEST(Rfc4475Details, SchemesOtherThanSip) {
    auto m1 = parsed("sip/rfc4475/unkscm.dat");
    auto unk = parse_uri(m1.request_uri());
    ASSERT_TRUE(unk);
    EXPECT_EQ(unk->scheme, Uri::Scheme::Other);
    EXPECT_EQ(unk->opaque, "totallyopaquecontent");
    auto m2 = parsed("sip/rfc4475/novelsc.dat");
    auto beep = parse_uri(m2.request_uri());
    ASSERT_TRUE(beep);
    EXPECT_EQ(beep->scheme_name, "soap.beep");
    auto m3 = parsed("sip/rfc4475/unksm2.dat");
    auto to = parse_name_addr(m3.value(HeaderId::To), SipError::BadTo);
    ASSERT_TRUE(to);
    EXPECT_EQ(to->uri.scheme_name, "isbn");
    auto m4 = parsed("sip/rfc4475/regescrt.dat");
    auto esc = parse_contact(m4.value(HeaderId::Contact));
    ASSERT_TRUE(esc);
    EXPECT_EQ(esc->address.uri.headers, "Route=%3Csip:sip.example.com%3E");
}

TEST(Rfc4475Details, BranchesAndHops) {
    auto m1 = parsed("sip/rfc4475/badbranch.dat");
    auto bad = top_via(m1);
    ASSERT_TRUE(bad);
    EXPECT_FALSE(bad->has_rfc3261_branch());
    auto m2 = parsed("sip/rfc4475/bcast.dat");
    auto vias = values(m2, HeaderId::Via);
    ASSERT_GE(vias.size(), 2U);
    EXPECT_EQ(parse_via(vias[1])->host, "255.255.255.255");
    auto m3 = parsed("sip/rfc4475/zeromf.dat");
    EXPECT_EQ(*parse_max_forwards(m3.value(HeaderId::MaxForwards)), 0);
    auto legacy = parsed("sip/rfc4475/inv2543.dat");
    auto to = parse_name_addr(legacy.value(HeaderId::To), SipError::BadTo);
    ASSERT_TRUE(to);
    EXPECT_EQ(to->params.get("user"), "phone"); // a header parameter of the addr-spec form
}

TEST(Rfc5118Details, Ipv6References) {
    auto m1 = parsed("sip/rfc5118/wire/port-ambiguous.sip");
    auto ambiguous = parse_uri(m1.request_uri());
    ASSERT_TRUE(ambiguous);
    EXPECT_EQ(ambiguous->host, "[2001:db8::10:5070]");
    EXPECT_FALSE(ambiguous->port);
    auto m2 = parsed("sip/rfc5118/wire/port-unambiguous.sip");
    auto unambiguous = parse_uri(m2.request_uri());
    ASSERT_TRUE(unambiguous);
    EXPECT_EQ(unambiguous->host, "[2001:db8::10]");
    EXPECT_EQ(unambiguous->port, 5070);
    auto m3 = parsed("sip/rfc5118/wire/via-received-param-with-delim.sip");
    auto m4 = parsed("sip/rfc5118/wire/via-received-param-no-delim.sip");
    auto with = top_via(m3);
    auto without = top_via(m4);
    ASSERT_TRUE(with && without);
    EXPECT_EQ(with->received(), "[2001:db8::9:255]");
    EXPECT_EQ(without->received(), "2001:db8::9:255");
    // RFC 5118 §4.10: tolerated, never generated.
    auto m5 = parsed("sip/rfc5118/wire/ipv6-bug-abnf-3-colons.sip");
    auto three = parse_uri(m5.request_uri());
    ASSERT_TRUE(three);
    EXPECT_EQ(three->host, "[2001:db8:::192.0.2.1]");
}

} // namespace
} // namespace strowger::sip

// The registrar (RFC 3261 §10.3, RFC 3327 Path) over an in-memory location service: each test
// sends REGISTERs and reads the answer and the bindings kept.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sip/header_list.hpp"
#include "sip/headers.hpp"
#include "sip/location.hpp"
#include "sip/registrar.hpp"

namespace strowger::sip {
namespace {

// The LocationStore contract, kept in a map: expired bindings are left out of every answer.
class MemoryLocationStore final : public LocationStore {
public:
    Bindings update(std::string_view aor, std::int64_t now,
                    const std::function<bool(Bindings&)>& change) override {
        Bindings current = unexpired(aor, now);
        if (change(current)) {
            by_aor_[std::string(aor)] = current;
        }
        return current;
    }
    [[nodiscard]] Bindings lookup(std::string_view aor, std::int64_t now) const override {
        return unexpired(aor, now);
    }
    [[nodiscard]] std::size_t binding_count(std::int64_t now) const override {
        std::size_t n = 0;
        for (const auto& [aor, bindings] : by_aor_) {
            n += unexpired(aor, now).size();
        }
        return n;
    }

private:
    [[nodiscard]] Bindings unexpired(std::string_view aor, std::int64_t now) const {
        Bindings out;
        if (auto it = by_aor_.find(aor); it != by_aor_.end()) {
            for (const auto& b : it->second) {
                if (b.expires_at > now) {
                    out.push_back(b);
                }
            }
        }
        return out;
    }
    std::map<std::string, Bindings, std::less<>> by_aor_;
};

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::string_view kAor = "sip:alice@example.com";
const Flow kPhone{core::Transport::Udp, core::IpEndpoint::v4({198, 51, 100, 7}, 34567), 0};

// A REGISTER for `to` with the given extra header lines (Contact, Expires, Path ...).
std::string register_text(std::string_view headers, std::uint32_t cseq = 1,
                          std::string_view call_id = "reg-1@10.0.0.5",
                          std::string_view to = "<sip:alice@example.com>") {
    std::string out = "REGISTER sip:example.com SIP/2.0\r\n"
                      "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKreg" +
                      std::to_string(cseq) +
                      ";rport\r\n"
                      "Max-Forwards: 70\r\n"
                      "From: <sip:alice@example.com>;tag=reg-tag\r\n";
    out.append("To: ").append(to).append("\r\n");
    out.append("Call-ID: ").append(call_id).append("\r\n");
    out.append("CSeq: ").append(std::to_string(cseq)).append(" REGISTER\r\n");
    out.append(headers);
    out.append("Content-Length: 0\r\n\r\n");
    return out;
}

struct ListedContact {
    std::string uri;
    std::string expires;
    std::string q;
};

struct Answer {
    int status = 0;
    std::string text;
    std::vector<ListedContact> contacts;
    std::string header(HeaderId id) const {
        auto parsed = parse_message(text);
        return parsed.ok() ? std::string(parsed.message->value(id)) : std::string("<unparsable>");
    }
};

class RegistrarTest : public ::testing::Test {
protected:
    MemoryLocationStore store;
    Registrar registrar{store, RegistrarConfig{}}; // min 60, max 3600, default 3600

    Answer send(const std::string& text, std::int64_t now = kNow) {
        auto outcome = parse_message(text);
        EXPECT_TRUE(outcome.ok()) << name(outcome.error);
        const auto& request = *outcome.message;
        auto reply = registrar.handle(request, kPhone, {}, now, "registrar-tag");
        Answer answer{reply.status, reply.response, {}};
        auto response = parse_message(reply.response);
        EXPECT_TRUE(response.ok()) << reply.response;
        if (!response.ok()) {
            return answer;
        }
        EXPECT_EQ(response.message->status_code(), reply.status);
        for_each_value(*response.message, HeaderId::Contact, [&](std::string_view item) {
            auto c = parse_contact(item);
            EXPECT_TRUE(c);
            if (c) {
                answer.contacts.push_back({std::string(c->address.uri.text),
                                           std::string(c->expires().value_or("")),
                                           std::string(c->address.params.get("q").value_or(""))});
            }
            return true;
        });
        return answer;
    }

    [[nodiscard]] Bindings bindings(std::int64_t now = kNow) const {
        return store.lookup(kAor, now);
    }
};

// §10.3 step 6-8: the Expires header applies to a Contact without its own expires; the 200
// lists the binding with the time it has left, and the binding remembers where the REGISTER
// came from.
TEST_F(RegistrarTest, RegistersForTheExpiresHeader) {
    auto answer = send(register_text("Contact: <sip:alice@10.0.0.5:5060>\r\nExpires: 1800\r\n"));

    ASSERT_EQ(answer.status, 200);
    ASSERT_EQ(answer.contacts.size(), 1U);
    EXPECT_EQ(answer.contacts[0].uri, "sip:alice@10.0.0.5:5060");
    EXPECT_EQ(answer.contacts[0].expires, "1800");
    EXPECT_FALSE(answer.header(HeaderId::Date).empty()); // §10.3 step 8 (SHOULD)

    auto stored = bindings();
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].contact, "sip:alice@10.0.0.5:5060");
    EXPECT_EQ(stored[0].expires_at, kNow + 1800);
    EXPECT_EQ(stored[0].flow, kPhone);
    EXPECT_EQ(stored[0].call_id, "reg-1@10.0.0.5");
    EXPECT_EQ(stored[0].cseq, 1U);
}

// §10.2.1.1: the Contact's expires parameter takes precedence over the Expires header.
TEST_F(RegistrarTest, ContactExpiresParameterBeatsTheHeader) {
    auto answer =
        send(register_text("Contact: <sip:alice@10.0.0.5>;expires=120\r\nExpires: 1800\r\n"));
    ASSERT_EQ(answer.status, 200);
    ASSERT_EQ(answer.contacts.size(), 1U);
    EXPECT_EQ(answer.contacts[0].expires, "120");
}

// §10.3 step 6: with neither, the registrar picks its own default.
TEST_F(RegistrarTest, DefaultExpiresWhenNoneIsGiven) {
    auto answer = send(register_text("Contact: <sip:alice@10.0.0.5>\r\n"));
    ASSERT_EQ(answer.contacts.size(), 1U);
    EXPECT_EQ(answer.contacts[0].expires, "3600");
}

// §10.3 step 7: a registration shorter than the minimum is refused with 423 and Min-Expires,
// and nothing is stored.
TEST_F(RegistrarTest, TooBriefIsRefusedWith423AndMinExpires) {
    auto answer = send(register_text("Contact: <sip:alice@10.0.0.5>\r\nExpires: 30\r\n"));
    EXPECT_EQ(answer.status, 423);
    EXPECT_EQ(answer.header(HeaderId::MinExpires), "60");
    EXPECT_TRUE(bindings().empty());
}

// §10.3 step 7: a registrar may shorten a registration, never lengthen it past its maximum.
TEST_F(RegistrarTest, LongRegistrationIsClampedToTheMaximum) {
    auto answer = send(register_text("Contact: <sip:alice@10.0.0.5>;expires=7200\r\n"));
    ASSERT_EQ(answer.contacts.size(), 1U);
    EXPECT_EQ(answer.contacts[0].expires, "3600");
    EXPECT_EQ(bindings()[0].expires_at, kNow + 3600);
}

// §10.3 step 8, §20.10: several bindings per AOR; a q-value is kept and echoed with three
// decimals.
TEST_F(RegistrarTest, SeveralContactsWithQValues) {
    auto answer = send(register_text("Contact: <sip:alice@10.0.0.5>;q=0.5, <sip:alice@10.0.0.6>\r\n"
                                     "Contact: <sip:alice@10.0.0.7>;q=1\r\n"));
    ASSERT_EQ(answer.status, 200);
    ASSERT_EQ(answer.contacts.size(), 3U);
    EXPECT_NE(answer.text.find("<sip:alice@10.0.0.5>;expires=3600;q=0.500\r\n"), std::string::npos)
        << answer.text;
    EXPECT_EQ(answer.contacts[0].q, "0.500");
    EXPECT_EQ(answer.contacts[1].q, ""); // no q-value given: none echoed
    EXPECT_EQ(answer.contacts[2].q, ""); // q=1 is the default

    auto stored = bindings();
    ASSERT_EQ(stored.size(), 3U);
    EXPECT_EQ(stored[0].q, 500);
    EXPECT_EQ(stored[1].q, 1000);
}

// §10.2.2, §10.3 step 6: "Contact: *" with "Expires: 0" removes every binding.
TEST_F(RegistrarTest, StarWithExpiresZeroRemovesEveryBinding) {
    send(register_text("Contact: <sip:alice@10.0.0.5>, <sip:alice@10.0.0.6>\r\n"));
    ASSERT_EQ(bindings().size(), 2U);

    auto answer = send(register_text("Contact: *\r\nExpires: 0\r\n", 2));
    EXPECT_EQ(answer.status, 200);
    EXPECT_TRUE(answer.contacts.empty());
    EXPECT_TRUE(bindings().empty());
}

// §10.3 step 6: "*" is only valid with Expires 0 and as the only Contact.
TEST_F(RegistrarTest, StarWithoutExpiresZeroIsABadRequest) {
    send(register_text("Contact: <sip:alice@10.0.0.5>\r\n"));

    EXPECT_EQ(send(register_text("Contact: *\r\nExpires: 3600\r\n", 2)).status, 400);
    EXPECT_EQ(send(register_text("Contact: *\r\n", 3)).status, 400);
    EXPECT_EQ(send(register_text("Contact: *, <sip:alice@10.0.0.6>\r\nExpires: 0\r\n", 4)).status,
              400);
    EXPECT_EQ(bindings().size(), 1U);
}

// §10.3 step 7: from the same Call-ID, a CSeq not above the binding's is out of order and
// fails; a higher one updates the binding.
TEST_F(RegistrarTest, RefreshFromTheSameCallIdNeedsAHigherCSeq) {
    send(register_text("Contact: <sip:alice@10.0.0.5>\r\nExpires: 600\r\n", 5));

    for (std::uint32_t stale : {4U, 5U}) {
        auto answer =
            send(register_text("Contact: <sip:alice@10.0.0.5>\r\nExpires: 1200\r\n", stale));
        EXPECT_GE(answer.status, 400) << "CSeq " << stale;
        EXPECT_LT(answer.status, 600) << "CSeq " << stale;
    }
    EXPECT_EQ(bindings()[0].expires_at, kNow + 600);

    auto answer = send(register_text("Contact: <sip:alice@10.0.0.5>\r\nExpires: 1200\r\n", 6));
    EXPECT_EQ(answer.status, 200);
    ASSERT_EQ(bindings().size(), 1U);
    EXPECT_EQ(bindings()[0].expires_at, kNow + 1200);
    EXPECT_EQ(bindings()[0].cseq, 6U);
}

// §10.3 step 7: a REGISTER from another Call-ID (the phone restarted) replaces the binding,
// whatever its CSeq.
TEST_F(RegistrarTest, AnotherCallIdReplacesTheBinding) {
    send(register_text("Contact: <sip:alice@10.0.0.5>\r\nExpires: 600\r\n", 50, "old@10.0.0.5"));
    auto answer = send(register_text("Contact: <sip:alice@10.0.0.5>\r\nExpires: 900\r\n", 1,
                                     "new@10.0.0.5"));

    EXPECT_EQ(answer.status, 200);
    auto stored = bindings();
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].call_id, "new@10.0.0.5");
    EXPECT_EQ(stored[0].cseq, 1U);
    EXPECT_EQ(stored[0].expires_at, kNow + 900);
}

// §10.2.2: expires=0 on one Contact removes that binding only; matching is by URI equivalence
// (§19.1.4: the host compares case-insensitively).
TEST_F(RegistrarTest, ExpiresZeroOnOneContactRemovesOnlyIt) {
    send(register_text("Contact: <sip:alice@10.0.0.5>, <sip:alice@phone.example.com>\r\n"));
    auto answer = send(register_text("Contact: <sip:alice@PHONE.example.com>;expires=0\r\n", 2));

    EXPECT_EQ(answer.status, 200);
    ASSERT_EQ(answer.contacts.size(), 1U);
    EXPECT_EQ(answer.contacts[0].uri, "sip:alice@10.0.0.5");
    ASSERT_EQ(bindings().size(), 1U);
    EXPECT_EQ(bindings()[0].contact, "sip:alice@10.0.0.5");
}

// §10.3 step 8: the 200 lists the current bindings; one that has expired is not among them.
TEST_F(RegistrarTest, ExpiredBindingsAreNotListed) {
    send(register_text("Contact: <sip:alice@10.0.0.5>;expires=60, <sip:alice@10.0.0.6>\r\n"));

    auto answer = send(register_text("Contact: <sip:alice@10.0.0.7>\r\n", 2), kNow + 100);
    ASSERT_EQ(answer.status, 200);
    ASSERT_EQ(answer.contacts.size(), 2U);
    EXPECT_EQ(answer.contacts[0].uri, "sip:alice@10.0.0.6");
    EXPECT_EQ(answer.contacts[0].expires, "3500");
    EXPECT_EQ(answer.contacts[1].uri, "sip:alice@10.0.0.7");
}

// §10.2.3: a REGISTER without Contact is a query; it lists the bindings and changes nothing.
TEST_F(RegistrarTest, RegisterWithoutContactIsAQuery) {
    send(register_text("Contact: <sip:alice@10.0.0.5>\r\nExpires: 600\r\n"));
    auto answer = send(register_text("", 2), kNow + 100);

    ASSERT_EQ(answer.status, 200);
    ASSERT_EQ(answer.contacts.size(), 1U);
    EXPECT_EQ(answer.contacts[0].expires, "500");
    EXPECT_EQ(bindings()[0].cseq, 1U);
}

// §10.3 step 5: a To without a user part is no address-of-record here.
TEST_F(RegistrarTest, ToWithoutUserIsNotFound) {
    auto answer = send(register_text("Contact: <sip:alice@10.0.0.5>\r\n", 1, "reg-1@10.0.0.5",
                                     "<sip:example.com>"));
    EXPECT_EQ(answer.status, 404);
    EXPECT_EQ(store.binding_count(kNow), 0U);
}

// §10.3 step 5, §19.1.4: the AOR is compared after unescaping, host case-insensitively, so
// sip:%61lice@example.com and sip:alice@EXAMPLE.com share their bindings.
TEST_F(RegistrarTest, EscapedUserPartsNameTheSameAddressOfRecord) {
    send(register_text("Contact: <sip:alice@10.0.0.5>\r\n", 1, "reg-1@10.0.0.5",
                       "<sip:%61lice@example.com>"));
    auto answer = send(register_text("Contact: <sip:alice@10.0.0.6>\r\n", 2, "reg-1@10.0.0.5",
                                     "<sip:alice@EXAMPLE.com>"));

    EXPECT_EQ(answer.status, 200);
    EXPECT_EQ(answer.contacts.size(), 2U);
    EXPECT_EQ(bindings().size(), 2U);
}

// RFC 3327 §5.3: the Path values are kept with the binding, in order, and echoed in the 200.
TEST_F(RegistrarTest, PathValuesAreStoredAndEchoed) {
    auto answer = send(register_text("Supported: path\r\n"
                                     "Path: <sip:edge1.example.net;lr>\r\n"
                                     "Path: <sip:edge2.example.net;lr>\r\n"
                                     "Contact: <sip:alice@10.0.0.5>\r\n"));
    ASSERT_EQ(answer.status, 200);
    ASSERT_EQ(bindings().size(), 1U);
    EXPECT_EQ(bindings()[0].path, "<sip:edge1.example.net;lr>, <sip:edge2.example.net;lr>");
    EXPECT_EQ(answer.header(HeaderId::Path),
              "<sip:edge1.example.net;lr>, <sip:edge2.example.net;lr>");
}

// §8.2.6.2: the registrar's answer carries its To tag.
TEST_F(RegistrarTest, AnswerCarriesTheToTag) {
    auto answer = send(register_text("Contact: <sip:alice@10.0.0.5>\r\n"));
    const auto to_value = answer.header(HeaderId::To);
    auto to = parse_name_addr(to_value, SipError::BadTo);
    ASSERT_TRUE(to);
    EXPECT_EQ(to->tag(), "registrar-tag");
}

// RFC 5626 §6: with +sip.instance and reg-id the binding is the pair's, whatever the Contact
// URI says; a REGISTER from a new flow (a reconnected browser, with a new random Contact)
// replaces it; the 200 lists it with the pair, which is how JsSIP finds its own binding.
TEST_F(RegistrarTest, InstanceAndRegIdNameTheBinding) {
    const std::string instance = "\"<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>\"";
    auto first = send(register_text("Contact: <sip:a1@x1.invalid;transport=ws>;reg-id=1;"
                                    "+sip.instance=" + instance + ";expires=600\r\n"));
    ASSERT_EQ(first.status, 200);
    EXPECT_NE(first.text.find(";+sip.instance=" + instance + ";reg-id=1\r\n"), std::string::npos)
        << first.text;
    auto second = send(register_text("Contact: <sip:b2@y2.invalid;transport=ws>;reg-id=1;"
                                     "+sip.instance=" + instance + "\r\nExpires: 300\r\n",
                                     1, "other-call-id"));
    ASSERT_EQ(second.status, 200);
    ASSERT_EQ(second.contacts.size(), 1U);
    EXPECT_EQ(second.contacts[0].uri, "sip:b2@y2.invalid;transport=ws");
    EXPECT_EQ(second.contacts[0].expires, "300");
    auto stored = bindings();
    ASSERT_EQ(stored.size(), 1U);
    EXPECT_EQ(stored[0].reg_id, 1U);
    EXPECT_EQ(stored[0].instance, instance);
    // Another reg-id of the same instance is a second flow (§4.2), so a second binding.
    auto third = send(register_text("Contact: <sip:c3@y2.invalid;transport=ws>;reg-id=2;"
                                    "+sip.instance=" + instance + "\r\n", 1, "third"));
    EXPECT_EQ(third.contacts.size(), 2U);
    // Without reg-id the Contact URI names it, as in RFC 3261.
    send(register_text("Contact: <sip:alice@10.0.0.5>;+sip.instance=" + instance + "\r\n", 1,
                       "plain"));
    EXPECT_EQ(bindings().size(), 3U);
    EXPECT_EQ(bindings()[2].reg_id, 0U);
    EXPECT_TRUE(bindings()[2].instance.empty());
}

} // namespace
} // namespace strowger::sip

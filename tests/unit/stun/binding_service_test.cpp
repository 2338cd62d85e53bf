// The Binding service as a server answers: what it returns for each kind of request, and that
// no input, however broken, makes it crash or answer with something that is not STUN.

#include <gtest/gtest.h>

#include <random>

#include "core/byte_reader.hpp"
#include "stun/binding_service.hpp"
#include "stun/integrity.hpp"
#include "stun/message_writer.hpp"
#include "test_data.hpp"

namespace strowger::stun {
namespace {

const core::IpEndpoint kClientV4 = core::IpEndpoint::v4({192, 0, 2, 15}, 50000);
const core::IpEndpoint kClientV6 =
    *core::IpEndpoint::from_address("2001:db8::15", 50000);

struct Built {
    std::array<std::uint8_t, 512> buf{};
    std::size_t size = 0;
    std::span<const std::uint8_t> bytes() const { return {buf.data(), size}; }
};

// A Binding request with the given extra attributes and a fresh transaction id.
Built request(std::initializer_list<std::pair<std::uint16_t, std::vector<std::uint8_t>>> attrs,
              bool fingerprint = false, bool classic = false,
              MessageClass cls = MessageClass::Request, std::uint16_t method = method::kBinding) {
    Built b;
    MessageWriter w{b.buf};
    std::array<std::uint8_t, 16> header = {0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6,
                                           7,    8,    9,    10,   11, 12};
    if (classic) {
        header[0] = 0xDE; // any 128-bit id without the cookie
    }
    w.begin(message_type(method, cls), header);
    for (const auto& [type, value] : attrs) {
        w.add(type, value);
    }
    if (fingerprint) {
        w.add_fingerprint();
    }
    b.size = w.size();
    return b;
}

class BindingServiceTest : public testing::Test {
protected:
    Message handle(std::span<const std::uint8_t> in, const core::IpEndpoint& from = kClientV4) {
        auto response = service.handle(in, from, out);
        auto msg = parse_message(response);
        EXPECT_TRUE(msg) << "response is not a STUN message";
        return msg.value_or(Message{});
    }
    bool dropped(std::span<const std::uint8_t> in) {
        return service.handle(in, kClientV4, out).empty();
    }
    int error_code(const Message& m) {
        const auto* e = m.find(attr::kErrorCode);
        return e == nullptr ? 0 : e->value[2] * 100 + e->value[3];
    }

    BindingService service{"strowger/test"};
    std::array<std::uint8_t, BindingService::kMaxResponse> out{};
};

TEST_F(BindingServiceTest, PlainRequestGetsXorMappedAddressSoftwareAndFingerprint) {
    auto req = request({});
    auto resp = handle(req.bytes());
    EXPECT_EQ(resp.type(), 0x0101);
    EXPECT_TRUE(std::equal(resp.cookie_and_transaction_id().begin(),
                           resp.cookie_and_transaction_id().end(), req.buf.begin() + 4));
    auto mapped = decode_xor_address(resp.find(attr::kXorMappedAddress)->value,
                                     resp.cookie_and_transaction_id());
    ASSERT_TRUE(mapped);
    EXPECT_EQ(*mapped, kClientV4);
    EXPECT_EQ(resp.find(attr::kMappedAddress), nullptr);
    ASSERT_NE(resp.find(attr::kSoftware), nullptr);
    EXPECT_TRUE(verify_fingerprint(resp));
    EXPECT_EQ(service.stats().success, 1U);
}

TEST_F(BindingServiceTest, Ipv6ClientGetsIpv6XorMappedAddress) {
    auto resp = handle(request({}).bytes(), kClientV6);
    auto mapped = decode_xor_address(resp.find(attr::kXorMappedAddress)->value,
                                     resp.cookie_and_transaction_id());
    ASSERT_TRUE(mapped);
    EXPECT_EQ(*mapped, kClientV6);
}

TEST_F(BindingServiceTest, Rfc3489ClientGetsMappedAddressOnly) {
    auto req = request({{attr::kChangeRequest, {0, 0, 0, 0}}}, false, true);
    auto resp = handle(req.bytes());
    EXPECT_EQ(resp.type(), 0x0101);
    EXPECT_FALSE(resp.has_magic_cookie());
    auto mapped = decode_address(resp.find(attr::kMappedAddress)->value);
    ASSERT_TRUE(mapped);
    EXPECT_EQ(*mapped, kClientV4);
    EXPECT_EQ(resp.find(attr::kXorMappedAddress), nullptr);
    EXPECT_EQ(resp.fingerprint(), nullptr);
}

TEST_F(BindingServiceTest, UnknownComprehensionRequiredAttributeGets420) {
    auto resp = handle(request({{0x7FFF, {1, 2, 3, 4}}, {0x0030, {}}}, true).bytes());
    EXPECT_EQ(resp.type(), 0x0111);
    EXPECT_EQ(error_code(resp), 420);
    const auto* unknown = resp.find(attr::kUnknownAttributes);
    ASSERT_NE(unknown, nullptr);
    ASSERT_EQ(unknown->value.size(), 4U);
    EXPECT_EQ(core::load_u16be(unknown->value.data()), 0x7FFF);
    EXPECT_EQ(core::load_u16be(unknown->value.data() + 2), 0x0030);
    EXPECT_TRUE(verify_fingerprint(resp));
}

TEST_F(BindingServiceTest, CorpusUnknownAttributeSampleGets420) {
    auto bytes = test::read_data_file(
        "stun/negative/neg-07-unknown-comprehension-required-attr.bin");
    auto resp = handle(bytes);
    EXPECT_EQ(error_code(resp), 420);
    EXPECT_EQ(core::load_u16be(resp.find(attr::kUnknownAttributes)->value.data()), 0x7FFF);
}

TEST_F(BindingServiceTest, UnknownOptionalAttributesAreIgnored) {
    auto resp = handle(request({{0xC001, {1, 2, 3}}, {attr::kIceControlling, {0, 0, 0, 0, 0, 0, 0, 1}}}).bytes());
    EXPECT_EQ(resp.type(), 0x0101);
}

TEST_F(BindingServiceTest, ChangeRequestWithoutFlagsIsAPlainBinding) {
    auto resp = handle(request({{attr::kChangeRequest, {0, 0, 0, 0}}}).bytes());
    EXPECT_EQ(resp.type(), 0x0101);
}

TEST_F(BindingServiceTest, ChangeRequestWithFlagsGets420WithoutAlternateAddress) {
    auto resp = handle(request({{attr::kChangeRequest, {0, 0, 0, 6}}}).bytes());
    EXPECT_EQ(error_code(resp), 420);
    EXPECT_EQ(core::load_u16be(resp.find(attr::kUnknownAttributes)->value.data()),
              attr::kChangeRequest);
}

TEST_F(BindingServiceTest, ClassicErrorRepeatsAnAttributeToFillTheList) {
    auto resp = handle(request({{attr::kChangeRequest, {0, 0, 0, 4}}}, false, true).bytes());
    EXPECT_EQ(error_code(resp), 420);
    // RFC 3489 §11.2.3: an odd list repeats one entry.
    EXPECT_EQ(resp.find(attr::kUnknownAttributes)->value.size(), 4U);
}

TEST_F(BindingServiceTest, AttributesAfterMessageIntegrityAreIgnored) {
    std::vector<std::uint8_t> mac(20, 0xAB);
    auto resp = handle(request({{attr::kMessageIntegrity, mac}, {0x7FFE, {}}}).bytes());
    EXPECT_EQ(resp.type(), 0x0101);
}

TEST_F(BindingServiceTest, BadFingerprintIsDropped) {
    EXPECT_TRUE(dropped(test::read_data_file("stun/negative/neg-02-bad-fingerprint.bin")));
    EXPECT_EQ(service.stats().bad_fingerprint, 1U);
}

TEST_F(BindingServiceTest, IndicationsAndResponsesGetNoAnswer) {
    EXPECT_TRUE(dropped(request({}, true, false, MessageClass::Indication).bytes()));
    EXPECT_TRUE(dropped(request({}, true, false, MessageClass::SuccessResponse).bytes()));
    EXPECT_EQ(service.stats().indications, 1U);
    EXPECT_EQ(service.stats().ignored, 1U);
}

TEST_F(BindingServiceTest, OtherMethodsGet400) {
    auto resp = handle(request({}, false, false, MessageClass::Request, 0x003).bytes());
    EXPECT_EQ(resp.type(), message_type(0x003, MessageClass::ErrorResponse));
    EXPECT_EQ(error_code(resp), 400);
}

TEST_F(BindingServiceTest, MalformedInputIsDroppedAndCounted) {
    for (const auto* name : {"neg-04-length-not-multiple-of-4", "neg-05-top-bits-set",
                             "neg-06-attribute-length-overrun", "neg-08-truncated-header"}) {
        EXPECT_TRUE(dropped(test::read_data_file(std::string("stun/negative/") + name + ".bin")))
            << name;
    }
    EXPECT_EQ(service.stats().malformed, 4U);
}

// Deterministic mutation fuzzing over the whole corpus: any answer must be a parseable STUN
// message echoing the request's transaction id.
TEST_F(BindingServiceTest, RandomMutationsNeverCrashOrAnswerGarbage) {
    std::vector<std::vector<std::uint8_t>> seeds;
    for (const auto* dir : {"stun/rfc5769", "stun/rfc8489", "stun/generated", "stun/negative"}) {
        for (const auto& f : test::list_data_files(dir, ".bin")) {
            seeds.push_back(test::read_data_file(f));
        }
    }
    std::mt19937 rng(1);
    std::size_t answered = 0;
    for (int i = 0; i < 50000; ++i) {
        auto input = seeds[rng() % seeds.size()];
        for (unsigned flips = rng() % 4; flips > 0 && !input.empty(); --flips) {
            input[rng() % input.size()] ^= static_cast<std::uint8_t>(1U << (rng() % 8));
        }
        if (rng() % 4 == 0 && !input.empty()) {
            input.resize(rng() % input.size());
        }
        auto response = service.handle(input, kClientV4, out);
        if (response.empty()) {
            continue;
        }
        ++answered;
        auto msg = parse_message(response);
        ASSERT_TRUE(msg);
        ASSERT_TRUE(std::equal(msg->cookie_and_transaction_id().begin(),
                               msg->cookie_and_transaction_id().end(), input.begin() + 4));
    }
    EXPECT_GT(answered, 0U);
}

} // namespace
} // namespace strowger::stun

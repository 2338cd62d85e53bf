// RFC 5769 (and RFC 8489 Appendix B.1) sample messages: parse them, check every field, verify
// MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT with the RFC's keys, and rebuild them with the
// writer byte for byte.

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "stun/integrity.hpp"
#include "stun/message.hpp"
#include "stun/message_writer.hpp"
#include "test_data.hpp"

namespace strowger::stun {
namespace {

using test::read_data_file;

// RFC 5769 §2: short-term password, used as the HMAC key as is.
const std::string kShortTermPassword = "VOkJxbRl1RmTxUk/WvJxBt";
const std::array<std::uint8_t, 12> kTransactionId = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                                     0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};
// RFC 5769 §2.4: user "マトリックス", realm "example.org", password "TheMatrIX" after
// SASLprep of "The\u00ADM\u00AAtr\u2168".
const std::string kLongTermUser = "\xe3\x83\x9e\xe3\x83\x88\xe3\x83\xaa\xe3\x83\x83\xe3\x82\xaf"
                                  "\xe3\x82\xb9";
const std::string kRealm = "example.org";
const std::string kPassword = "TheMatrIX";

std::array<std::uint8_t, 16> cookie_and_id(std::span<const std::uint8_t, 12> id) {
    std::array<std::uint8_t, 16> out = {0x21, 0x12, 0xa4, 0x42};
    std::copy(id.begin(), id.end(), out.begin() + 4);
    return out;
}

std::string as_string(const Attribute* a) {
    return a == nullptr ? "<missing>"
                        : std::string(reinterpret_cast<const char*>(a->value.data()),
                                      a->value.size());
}

TEST(Rfc5769, SampleRequestParsesAndVerifies) {
    auto bytes = read_data_file("stun/rfc5769/rfc5769-2.1-request.bin");
    auto msg = parse_message(bytes);
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->method(), method::kBinding);
    EXPECT_EQ(msg->message_class(), MessageClass::Request);
    EXPECT_TRUE(msg->has_magic_cookie());
    EXPECT_TRUE(std::equal(kTransactionId.begin(), kTransactionId.end(),
                           msg->transaction_id().begin()));
    EXPECT_EQ(as_string(msg->find(attr::kSoftware)), "STUN test client");
    EXPECT_EQ(as_string(msg->find(attr::kUsername)), "evtj:h6vY");
    ASSERT_NE(msg->find(attr::kPriority), nullptr);
    EXPECT_EQ(msg->find(attr::kIceControlled)->value.size(), 8U);
    EXPECT_TRUE(verify_message_integrity(*msg, as_bytes(kShortTermPassword)));
    EXPECT_FALSE(verify_message_integrity(*msg, as_bytes("wrong password")));
    EXPECT_TRUE(verify_fingerprint(*msg));
}

TEST(Rfc5769, SampleRequestIsRebuiltByteForByte) {
    auto expected = read_data_file("stun/rfc5769/rfc5769-2.1-request.bin");
    std::array<std::uint8_t, 256> buf{};
    MessageWriter w{buf};
    w.begin(message_type(method::kBinding, MessageClass::Request), cookie_and_id(kTransactionId));
    w.add_string(attr::kSoftware, "STUN test client");
    w.add_u32(attr::kPriority, 0x6e0001ff);
    w.add_u64(attr::kIceControlled, 0x932ff9b151263b36);
    w.add_string(attr::kUsername, "evtj:h6vY", ' '); // the RFC pads with spaces
    w.add_message_integrity(as_bytes(kShortTermPassword));
    w.add_fingerprint();
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(std::vector<std::uint8_t>(w.bytes().begin(), w.bytes().end()), expected);
}

// §2.2 and §2.3: a success response carrying the client's address, then rebuilt from it.
void check_response_vector(const std::string& file, const std::string& expected_address) {
    auto expected = read_data_file(file);
    auto msg = parse_message(expected);
    ASSERT_TRUE(msg);
    EXPECT_EQ(msg->message_class(), MessageClass::SuccessResponse);
    EXPECT_EQ(as_string(msg->find(attr::kSoftware)), "test vector");
    auto mapped = decode_xor_address(msg->find(attr::kXorMappedAddress)->value,
                                     msg->cookie_and_transaction_id());
    ASSERT_TRUE(mapped);
    EXPECT_EQ(mapped->to_string(), expected_address);
    EXPECT_TRUE(verify_message_integrity(*msg, as_bytes(kShortTermPassword)));
    EXPECT_TRUE(verify_fingerprint(*msg));

    std::array<std::uint8_t, 256> buf{};
    MessageWriter w{buf};
    w.begin(message_type(method::kBinding, MessageClass::SuccessResponse),
            cookie_and_id(kTransactionId));
    w.add_string(attr::kSoftware, "test vector", ' ');
    w.add_xor_address(attr::kXorMappedAddress, *mapped);
    w.add_message_integrity(as_bytes(kShortTermPassword));
    w.add_fingerprint();
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(std::vector<std::uint8_t>(w.bytes().begin(), w.bytes().end()), expected);
}

TEST(Rfc5769, Ipv4ResponseParsesAndIsRebuilt) {
    check_response_vector("stun/rfc5769/rfc5769-2.2-ipv4-response.bin", "192.0.2.1:32853");
}

TEST(Rfc5769, Ipv6ResponseParsesAndIsRebuilt) {
    check_response_vector("stun/rfc5769/rfc5769-2.3-ipv6-response.bin",
                          "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

TEST(Rfc5769, LongTermKeyMatchesTheRfc) {
    auto key = long_term_key_md5(kLongTermUser, kRealm, kPassword);
    const std::array<std::uint8_t, 16> expected = {0xe8, 0xca, 0x7a, 0xd5, 0x9d, 0x5e,
                                                   0xb0, 0x51, 0x8e, 0x31, 0x29, 0x11,
                                                   0xd2, 0xda, 0xb2, 0xa9};
    EXPECT_EQ(key, expected);
}

TEST(Rfc5769, LongTermRequestVerifiesAndIsRebuilt) {
    auto expected = read_data_file("stun/rfc5769/rfc5769-2.4-request-long-term.bin");
    auto msg = parse_message(expected);
    ASSERT_TRUE(msg);
    EXPECT_EQ(as_string(msg->find(attr::kUsername)), kLongTermUser);
    EXPECT_EQ(as_string(msg->find(attr::kRealm)), kRealm);
    EXPECT_EQ(as_string(msg->find(attr::kNonce)), "f//499k954d6OL34oL9FSTvy64sA");
    EXPECT_EQ(msg->fingerprint(), nullptr);
    auto key = long_term_key_md5(kLongTermUser, kRealm, kPassword);
    EXPECT_TRUE(verify_message_integrity(*msg, key));

    std::array<std::uint8_t, 256> buf{};
    MessageWriter w{buf};
    auto header = std::span<const std::uint8_t, 16>(expected.data() + 4, 16);
    w.begin(message_type(method::kBinding, MessageClass::Request), header);
    w.add_string(attr::kUsername, kLongTermUser);
    w.add_string(attr::kNonce, "f//499k954d6OL34oL9FSTvy64sA");
    w.add_string(attr::kRealm, kRealm);
    w.add_message_integrity(key);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(std::vector<std::uint8_t>(w.bytes().begin(), w.bytes().end()), expected);
}

TEST(Rfc8489, Sha256LongTermRequestVerifies) {
    auto bytes = read_data_file("stun/rfc8489/rfc8489-B.1-request-long-term-sha256.bin");
    auto msg = parse_message(bytes);
    ASSERT_TRUE(msg);
    auto key = long_term_key_sha256(kLongTermUser, kRealm, kPassword);
    EXPECT_TRUE(verify_message_integrity_sha256(*msg, key));
    // The MD5 key must not verify a SHA-256 integrity.
    EXPECT_FALSE(verify_message_integrity_sha256(*msg, long_term_key_md5(kLongTermUser, kRealm,
                                                                         kPassword)));
    const auto* algorithm = msg->find(attr::kPasswordAlgorithm);
    ASSERT_NE(algorithm, nullptr);
    EXPECT_EQ(algorithm->value[1], 0x02); // SHA-256

    // Rebuild it: same attributes in the same order, and the same integrity value.
    std::array<std::uint8_t, 256> buf{};
    MessageWriter w{buf};
    w.begin(message_type(method::kBinding, MessageClass::Request),
            std::span<const std::uint8_t, 16>(bytes.data() + 4, 16));
    for (const auto& a : msg->attributes()) {
        if (a.type == attr::kMessageIntegritySha256) {
            w.add_message_integrity_sha256(key);
        } else {
            w.add(a.type, a.value);
        }
    }
    ASSERT_TRUE(w.ok());
    EXPECT_EQ(std::vector<std::uint8_t>(w.bytes().begin(), w.bytes().end()), bytes);
}

TEST(MessageType, ClassAndMethodInterleaving) {
    // RFC 8489 §5: Binding request 0x0001, success 0x0101, error 0x0111, indication 0x0011.
    EXPECT_EQ(message_type(method::kBinding, MessageClass::Request), 0x0001);
    EXPECT_EQ(message_type(method::kBinding, MessageClass::SuccessResponse), 0x0101);
    EXPECT_EQ(message_type(method::kBinding, MessageClass::ErrorResponse), 0x0111);
    EXPECT_EQ(message_type(method::kBinding, MessageClass::Indication), 0x0011);
    for (std::uint16_t m = 0; m < 0x1000; ++m) {
        for (auto c : {MessageClass::Request, MessageClass::Indication,
                       MessageClass::SuccessResponse, MessageClass::ErrorResponse}) {
            auto t = message_type(m, c);
            ASSERT_EQ(method_of(t), m);
            ASSERT_EQ(class_of(t), c);
            ASSERT_EQ(t & 0xC000, 0);
        }
    }
}

TEST(MessageWriter, RefusesToOverflowItsBuffer) {
    std::array<std::uint8_t, 24> buf{};
    MessageWriter w{buf};
    w.begin(0x0001, cookie_and_id(kTransactionId));
    w.add_string(attr::kSoftware, "too long for the buffer");
    EXPECT_FALSE(w.ok());
    EXPECT_EQ(w.size(), 0U);
}

} // namespace
} // namespace strowger::stun

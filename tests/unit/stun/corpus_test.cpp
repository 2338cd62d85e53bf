// Every message of the shared STUN corpus (tests/data/stun, described in its index.tsv): the
// well-formed ones parse, and each malformed one fails the way RFC 8489 says it must.

#include <gtest/gtest.h>

#include "stun/integrity.hpp"
#include "stun/message.hpp"
#include "test_data.hpp"

namespace strowger::stun {
namespace {

using test::list_data_files;
using test::read_data_file;

bool is_channel_data(const std::vector<std::uint8_t>& bytes) {
    return !bytes.empty() && bytes[0] >= 0x40 && bytes[0] <= 0x4F; // RFC 8656 §12
}

TEST(StunCorpus, WellFormedMessagesParse) {
    std::size_t parsed = 0;
    for (const auto* dir : {"stun/rfc5769", "stun/rfc8489", "stun/generated", "stun/captured"}) {
        for (const auto& file : list_data_files(dir, ".bin")) {
            auto bytes = read_data_file(file);
            ParseError error{};
            auto msg = parse_message(bytes, &error);
            if (is_channel_data(bytes)) {
                EXPECT_FALSE(msg) << file;
                EXPECT_EQ(error, ParseError::NotStun) << file;
                continue;
            }
            ASSERT_TRUE(msg) << file << ": " << to_string(error);
            EXPECT_TRUE(msg->has_magic_cookie()) << file;
            EXPECT_EQ(frame_length(bytes), bytes.size()) << file;
            if (msg->fingerprint() != nullptr) {
                EXPECT_TRUE(verify_fingerprint(*msg)) << file;
            }
            ++parsed;
        }
    }
    EXPECT_GE(parsed, 35U);
}

// Captured from Chrome talking to coturn: non-zero padding bytes that must be ignored.
TEST(StunCorpus, CapturedCoturnResponseWithDirtyPadding) {
    auto bytes = read_data_file("stun/captured/chrome-coturn-04-allocate-success.bin");
    auto msg = parse_message(bytes);
    ASSERT_TRUE(msg);
    auto relayed = decode_xor_address(msg->find(0x0016 /* XOR-RELAYED-ADDRESS */)->value,
                                      msg->cookie_and_transaction_id());
    auto mapped = decode_xor_address(msg->find(attr::kXorMappedAddress)->value,
                                     msg->cookie_and_transaction_id());
    ASSERT_TRUE(relayed && mapped);
    EXPECT_EQ(relayed->to_string(), "10.8.22.83:55936");
    EXPECT_EQ(mapped->to_string(), "213.141.156.236:36000");
}

struct NegativeCase {
    const char* file;
    std::optional<ParseError> parse_error; // nothing: parses, and is refused later

    friend void PrintTo(const NegativeCase& c, std::ostream* os) { *os << c.file; }
};

class StunNegative : public testing::TestWithParam<NegativeCase> {};

TEST_P(StunNegative, FailsAsTheIndexSays) {
    auto bytes = read_data_file(std::string("stun/negative/") + GetParam().file + ".bin");
    ParseError error{};
    auto msg = parse_message(bytes, &error);
    if (GetParam().parse_error) {
        EXPECT_FALSE(msg);
        EXPECT_EQ(error, *GetParam().parse_error) << to_string(error);
    } else {
        EXPECT_TRUE(msg) << to_string(error);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Corpus, StunNegative,
    testing::Values(NegativeCase{"neg-01-bad-message-integrity", std::nullopt},
                    NegativeCase{"neg-02-bad-fingerprint", std::nullopt},
                    NegativeCase{"neg-03-wrong-magic-cookie", std::nullopt}, // RFC 3489 form
                    NegativeCase{"neg-04-length-not-multiple-of-4", ParseError::BadLength},
                    NegativeCase{"neg-05-top-bits-set", ParseError::NotStun},
                    NegativeCase{"neg-06-attribute-length-overrun", ParseError::AttributeOverrun},
                    NegativeCase{"neg-07-unknown-comprehension-required-attr", std::nullopt},
                    NegativeCase{"neg-08-truncated-header", ParseError::TooShort},
                    NegativeCase{"neg-09-allocate-no-requested-transport", std::nullopt},
                    NegativeCase{"neg-10-allocate-unsupported-transport", std::nullopt},
                    NegativeCase{"neg-11-channelbind-bad-channel-number", std::nullopt},
                    NegativeCase{"neg-12-channeldata-length-exceeds-datagram",
                                 ParseError::NotStun}),
    [](const auto& param_info) {
        std::string name = param_info.param.file;
        std::replace(name.begin(), name.end(), '-', '_');
        return name;
    });

TEST(StunCorpus, BadIntegrityAndFingerprintAreDetected) {
    auto bad_mi_bytes = read_data_file("stun/negative/neg-01-bad-message-integrity.bin");
    auto bad_mi = parse_message(bad_mi_bytes);
    ASSERT_TRUE(bad_mi);
    EXPECT_FALSE(verify_message_integrity(*bad_mi, as_bytes("VOkJxbRl1RmTxUk/WvJxBt")));
    auto bad_fp_bytes = read_data_file("stun/negative/neg-02-bad-fingerprint.bin");
    auto bad_fp = parse_message(bad_fp_bytes);
    ASSERT_TRUE(bad_fp);
    EXPECT_FALSE(verify_fingerprint(*bad_fp));
    auto classic_bytes = read_data_file("stun/negative/neg-03-wrong-magic-cookie.bin");
    auto classic = parse_message(classic_bytes);
    ASSERT_TRUE(classic);
    EXPECT_FALSE(classic->has_magic_cookie());
}

TEST(StunFraming, StreamFramerNeedsWholeMessages) {
    auto bytes = read_data_file("stun/rfc5769/rfc5769-2.1-request.bin");
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        ASSERT_EQ(frame_length(std::span(bytes.data(), n)), 0U) << n;
    }
    auto two = bytes;
    two.insert(two.end(), bytes.begin(), bytes.end());
    EXPECT_EQ(frame_length(two), bytes.size());
    EXPECT_EQ(frame_length(std::vector<std::uint8_t>{0x80, 0, 0, 0}), std::nullopt);
    EXPECT_EQ(frame_length(std::vector<std::uint8_t>{0x00, 0x01, 0x00, 0x03}), std::nullopt);
}

TEST(StunParse, EveryTruncationIsRefusedWithoutReadingPastTheEnd) {
    auto bytes = read_data_file("stun/rfc5769/rfc5769-2.3-ipv6-response.bin");
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        // A heap copy of exactly n bytes, so that AddressSanitizer sees any over-read.
        std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
        EXPECT_FALSE(parse_message(cut)) << n;
    }
}

} // namespace
} // namespace strowger::stun

#pragma once
// HTTP Digest as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760; RFC 2617 and RFC 2069
// compatibility): reading the credentials of an Authorization or Proxy-Authorization header,
// computing the response a client should have sent, and writing a challenge.
//
//   HA1      = H(user ":" realm ":" password)              (the key the user store keeps)
//   -sess    : HA1' = H(HA1 ":" nonce ":" cnonce)
//   HA2      = H(method ":" uri)  or, for qop=auth-int, H(method ":" uri ":" H(body))
//   response = H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2), or H(HA1 ":" nonce ":" HA2)
//              without qop (RFC 2069)
//
// Everything is lowercase hex, as the RFCs print it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strowger::sip {

enum class DigestHash : std::uint8_t { Md5, Sha256, Sha512_256 };

struct DigestAlgorithm {
    DigestHash hash = DigestHash::Md5;
    bool session = false; // the "-sess" variant

    friend bool operator==(const DigestAlgorithm&, const DigestAlgorithm&) = default;
};

// "MD5", "SHA-256-sess", ... in any case; nothing for an algorithm we do not know.
std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view name);
std::string digest_algorithm_name(DigestAlgorithm algorithm);

// Lowercase hex of H(data).
std::string digest_hash(DigestHash hash, std::string_view data);

// The credentials of one Authorization/Proxy-Authorization value (RFC 7616 §3.4). Values are
// unquoted and unescaped; a parameter that was absent is empty.
struct DigestCredentials {
    std::string username;
    std::string realm;
    std::string nonce;
    std::string uri;
    std::string response;
    std::string cnonce;
    std::string opaque;
    std::string qop;
    std::string nc;
    DigestAlgorithm algorithm; // MD5 when the parameter is absent
    bool userhash = false;
};

enum class DigestParseError : std::uint8_t {
    None,
    NotDigest,        // another scheme (Basic, ...): not for us to read
    Syntax,           // not "Digest" followed by a comma list of name=value
    Duplicate,        // a parameter given twice
    MissingParameter, // username, realm, nonce, uri or response absent
    BadAlgorithm,     // an algorithm we do not know
    BadQop,           // qop other than auth/auth-int, or nc/cnonce missing or malformed with it
    BadResponse,      // response is not hex of the algorithm's length
};
std::string_view describe(DigestParseError error);

struct DigestParse {
    std::optional<DigestCredentials> credentials;
    DigestParseError error = DigestParseError::None;
};
DigestParse parse_digest_credentials(std::string_view header_value);

struct DigestInput {
    DigestAlgorithm algorithm{};
    std::string_view ha1{}; // hex H(user:realm:password), before any -sess step
    std::string_view nonce{};
    std::string_view nc{};     // empty without qop
    std::string_view cnonce{}; // empty without qop (and without -sess)
    std::string_view qop{};    // "", "auth" or "auth-int"
    std::string_view method{};
    std::string_view uri{};
    std::string_view body{}; // hashed for auth-int only
};
// The expected "response" value, lowercase hex.
std::string digest_response(const DigestInput& in);

// Compares two hex strings in time independent of where they differ, ignoring case.
bool digest_equal(std::string_view a, std::string_view b);

// One challenge value: Digest realm="r", nonce="n", algorithm=A, qop="auth"[, stale=true]
std::string digest_challenge(std::string_view realm, std::string_view nonce,
                             DigestAlgorithm algorithm, bool stale);

} // namespace strowger::sip

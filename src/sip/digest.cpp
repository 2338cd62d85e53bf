#include "sip/digest.hpp"

#include <openssl/evp.h>

#include <array>

#include "core/text.hpp"
#include "sip/syntax.hpp"

namespace strowger::sip {
namespace {

// Fetched once: OpenSSL 3 otherwise looks the algorithm up by name on every digest, which
// costs more than hashing the few dozen bytes a digest response takes.
const EVP_MD* md_of(DigestHash hash) {
    static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    static EVP_MD* const sha512_256 = EVP_MD_fetch(nullptr, "SHA2-512/256", nullptr);
    switch (hash) {
    case DigestHash::Md5: return md5;
    case DigestHash::Sha256: return sha256;
    case DigestHash::Sha512_256: return sha512_256;
    }
    return md5;
}

std::size_t hex_length(DigestHash hash) { return hash == DigestHash::Md5 ? 32 : 64; }

// The value of a parameter: a token as it is, or a quoted-string without its quotes and with
// its quoted-pairs resolved (RFC 3261 §25.1).
std::string unquote(std::string_view quoted) {
    std::string out;
    out.reserve(quoted.size());
    for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
        if (quoted[i] == '\\' && i + 2 < quoted.size()) {
            ++i;
        }
        out.push_back(quoted[i]);
    }
    return out;
}

bool all_hex(std::string_view s) {
    return all_chars(s, [](char c) { return is_hex(c); });
}

} // namespace

std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view name) {
    DigestAlgorithm a;
    constexpr std::string_view kSess = "-sess";
    if (name.size() > kSess.size() && iequals(name.substr(name.size() - kSess.size()), kSess)) {
        a.session = true;
        name.remove_suffix(kSess.size());
    }
    if (iequals(name, "MD5")) {
        a.hash = DigestHash::Md5;
    } else if (iequals(name, "SHA-256")) {
        a.hash = DigestHash::Sha256;
    } else if (iequals(name, "SHA-512-256")) {
        a.hash = DigestHash::Sha512_256;
    } else {
        return std::nullopt;
    }
    return a;
}

std::string digest_algorithm_name(DigestAlgorithm algorithm) {
    std::string name = algorithm.hash == DigestHash::Md5      ? "MD5"
                       : algorithm.hash == DigestHash::Sha256 ? "SHA-256"
                                                              : "SHA-512-256";
    if (algorithm.session) {
        name += "-sess";
    }
    return name;
}

std::string digest_hash(DigestHash hash, std::string_view data) {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> out{};
    unsigned length = 0;
    EVP_Digest(data.data(), data.size(), out.data(), &length, md_of(hash), nullptr);
    return core::to_hex(std::span(out.data(), length));
}

std::string_view describe(DigestParseError error) {
    switch (error) {
    case DigestParseError::None: return "no error";
    case DigestParseError::NotDigest: return "not a Digest credential";
    case DigestParseError::Syntax: return "malformed Digest credentials";
    case DigestParseError::Duplicate: return "a Digest parameter given twice";
    case DigestParseError::MissingParameter:
        return "Digest credentials without username, realm, nonce, uri or response";
    case DigestParseError::BadAlgorithm: return "unknown Digest algorithm";
    case DigestParseError::BadQop: return "Digest qop without a valid nc and cnonce";
    case DigestParseError::BadResponse: return "Digest response of the wrong length";
    }
    return "malformed Digest credentials";
}

DigestParse parse_digest_credentials(std::string_view header_value) {
    Scanner s(trim_lws(header_value));
    auto scheme = s.token();
    if (!iequals(scheme, "Digest")) {
        return {std::nullopt, scheme.empty() ? DigestParseError::Syntax
                                             : DigestParseError::NotDigest};
    }
    if (!s.skip_lws()) {
        return {std::nullopt, DigestParseError::Syntax};
    }
    DigestCredentials c;
    std::string algorithm;
    std::string userhash;
    unsigned seen = 0; // one bit per parameter we read, to refuse duplicates
    bool first = true;
    while (!s.at_end()) {
        if (!first && !s.consume_separator(',')) {
            return {std::nullopt, DigestParseError::Syntax};
        }
        first = false;
        s.skip_lws();
        auto name = s.token();
        if (name.empty() || !s.consume_separator('=')) {
            return {std::nullopt, DigestParseError::Syntax};
        }
        std::string value;
        if (s.peek() == '"') {
            auto quoted = s.quoted_string();
            if (!quoted) {
                return {std::nullopt, DigestParseError::Syntax};
            }
            value = unquote(*quoted);
        } else {
            auto token = s.token();
            if (token.empty()) {
                return {std::nullopt, DigestParseError::Syntax};
            }
            value = std::string(token);
        }
        s.skip_lws();
        static constexpr std::array<std::string_view, 11> kNames = {
            "username", "realm", "nonce",     "uri", "response", "cnonce",
            "opaque",   "qop",   "nc",        "algorithm", "userhash"};
        std::string* fields[] = {&c.username, &c.realm, &c.nonce,  &c.uri,
                                 &c.response, &c.cnonce, &c.opaque, &c.qop,
                                 &c.nc,       &algorithm, &userhash};
        for (std::size_t i = 0; i < kNames.size(); ++i) {
            if (iequals(name, kNames[i])) {
                if ((seen & (1U << i)) != 0) {
                    return {std::nullopt, DigestParseError::Duplicate};
                }
                seen |= 1U << i;
                *fields[i] = std::move(value);
                break;
            }
        } // other parameters (auth-param extensions) are ignored, as RFC 7616 §3.4 allows
    }
    constexpr unsigned kRequired = 0b11111; // username, realm, nonce, uri, response
    if ((seen & kRequired) != kRequired) {
        return {std::nullopt, DigestParseError::MissingParameter};
    }
    if ((seen & (1U << 9)) != 0) {
        auto a = parse_digest_algorithm(algorithm);
        if (!a) {
            return {std::nullopt, DigestParseError::BadAlgorithm};
        }
        c.algorithm = *a;
    }
    c.userhash = iequals(userhash, "true");
    if (!c.qop.empty()) {
        bool qop_ok = iequals(c.qop, "auth") || iequals(c.qop, "auth-int");
        if (!qop_ok || c.nc.size() != 8 || !all_hex(c.nc) || c.cnonce.empty()) {
            return {std::nullopt, DigestParseError::BadQop};
        }
    } else if (!c.nc.empty()) {
        return {std::nullopt, DigestParseError::BadQop}; // nc means nothing without qop
    }
    if (c.response.size() != hex_length(c.algorithm.hash) || !all_hex(c.response)) {
        return {std::nullopt, DigestParseError::BadResponse};
    }
    return {std::move(c), DigestParseError::None};
}

std::string digest_response(const DigestInput& in) {
    const auto hash = in.algorithm.hash;
    auto join = [](std::initializer_list<std::string_view> parts) {
        std::string out;
        for (auto p : parts) {
            if (!out.empty()) {
                out.push_back(':');
            }
            out.append(p);
        }
        return out;
    };
    std::string ha1(in.ha1);
    if (in.algorithm.session) {
        ha1 = digest_hash(hash, join({ha1, in.nonce, in.cnonce}));
    }
    const bool integrity = iequals(in.qop, "auth-int");
    auto ha2 = integrity
                   ? digest_hash(hash, join({in.method, in.uri, digest_hash(hash, in.body)}))
                   : digest_hash(hash, join({in.method, in.uri}));
    if (in.qop.empty()) {
        return digest_hash(hash, join({ha1, in.nonce, ha2}));
    }
    return digest_hash(hash, join({ha1, in.nonce, in.nc, in.cnonce, in.qop, ha2}));
}

bool digest_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff |= static_cast<unsigned char>(to_lower(a[i]) ^ to_lower(b[i]));
    }
    return diff == 0;
}

std::string digest_challenge(std::string_view realm, std::string_view nonce,
                             DigestAlgorithm algorithm, bool stale) {
    std::string out = "Digest realm=\"";
    for (char c : realm) { // a realm is a quoted-string: escape what would end it
        if (c == '"' || c == '\\') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    out += "\", nonce=\"";
    out += nonce;
    out += "\", algorithm=";
    out += digest_algorithm_name(algorithm);
    out += ", qop=\"auth\"";
    if (stale) {
        out += ", stale=true";
    }
    return out;
}

} // namespace strowger::sip

#include "net/self_signed.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ip_endpoint.hpp"
#include "net/tls_context.hpp"

namespace strowger::net {

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
    void operator()(T* p) const noexcept { Free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("self-signed certificate: " + what + ": " + take_openssl_errors());
}

void add_extension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    const bool ok = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    if (!ok) {
        fail("cannot add " + std::string(OBJ_nid2sn(nid)) + " '" + value + "'");
    }
}

std::string subject_alt_name(const std::string& common_name) {
    std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
    std::string_view address = common_name;
    if (address.size() > 2 && address.front() == '[' && address.back() == ']') {
        address = address.substr(1, address.size() - 2);
    }
    if (core::IpEndpoint::from_address(address, 0)) {
        if (address != "127.0.0.1" && address != "::1") {
            san += ",IP:" + std::string(address);
        }
    } else if (common_name != "localhost") {
        san += ",DNS:" + common_name;
    }
    return san;
}

// PEM text from one of OpenSSL's PEM_write_bio functions.
template <typename Write>
std::string to_pem(const char* what, Write write) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get()) != 1) {
        fail(std::string("cannot encode the ") + what);
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(size)};
}

// Replaces `path` whole: written beside it and renamed over it, so that a reader never sees
// half a key, and created with `mode` so that a key is never readable by others, not even
// for a moment.
void write_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
    auto error = [&](const std::string& action) {
        throw std::runtime_error("self-signed certificate: cannot " + action + " '" +
                                 path.string() + "': " + std::strerror(errno));
    };
    auto temp = path;
    temp += ".tmp";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        error("create");
    }
    // An older temporary file keeps its mode through O_CREAT.
    bool ok = ::fchmod(fd, mode) == 0;
    for (std::size_t done = 0; ok && done < text.size();) {
        const auto n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        ok = n > 0;
        done += ok ? static_cast<std::size_t>(n) : 0;
    }
    const int saved = errno;
    ok = (::close(fd) == 0) && ok;
    if (!ok) {
        errno = saved;
        ::unlink(temp.c_str());
        error("write");
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int rename_errno = errno;
        ::unlink(temp.c_str());
        errno = rename_errno;
        error("replace");
    }
}

} // namespace

void make_self_signed_certificate(const std::filesystem::path& cert_path,
                                  const std::filesystem::path& key_path,
                                  const std::string& common_name, int days) {
    if (common_name.empty()) {
        throw std::runtime_error("self-signed certificate: the common name is empty");
    }
    if (days <= 0) {
        throw std::runtime_error("self-signed certificate: days must be positive");
    }
    ERR_clear_error();
    PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!key) {
        fail("cannot generate an EC P-256 key");
    }

    X509Ptr cert(X509_new());
    BnPtr serial(BN_new());
    if (!cert || !serial) {
        fail("out of memory");
    }
    // RFC 5280 §4.1.2.2: positive, at most 20 octets; random, so that certificates made again
    // for the same name are told apart by clients that cache them.
    if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
        BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
        BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
        fail("cannot set the serial number");
    }
    // Backdated a little: a client whose clock is behind ours would otherwise reject it.
    if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
        X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) == nullptr) {
        fail("cannot set the validity period");
    }
    X509_NAME* name = X509_get_subject_name(cert.get());
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                   -1, -1, 0) != 1 ||
        X509_set_issuer_name(cert.get(), name) != 1 ||
        X509_set_pubkey(cert.get(), key.get()) != 1) {
        fail("cannot set the name '" + common_name + "'");
    }
    add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
    // clientAuth too: SIP over TLS uses the same certificate for connections it opens.
    add_extension(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
    add_extension(cert.get(), NID_subject_key_identifier, "hash");
    add_extension(cert.get(), NID_subject_alt_name, subject_alt_name(common_name));
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
        fail("cannot sign");
    }

    const auto key_pem = to_pem("private key", [&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    const auto cert_pem =
        to_pem("certificate", [&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); });
    write_file(key_path, key_pem, 0600);
    write_file(cert_path, cert_pem, 0644);
}

} // namespace strowger::net

// TlsFiles / TlsMaterial: see tls_files.h.
#include "server/security/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace attnserve::server {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;

// "--tls_cert=/etc/attnserve/server.pem"
std::string Named(const char* option, const std::string& path) {
  return absl::StrCat("--", option, "=", path);
}

absl::StatusOr<std::string> ReadPem(const char* option, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(absl::StrCat(Named(option, path), ": no such file"));
    return absl::ErrnoToStatus(error, absl::StrCat(Named(option, path), ": cannot read it"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(Named(option, path), ": not a regular file"));
  }
  if (static_cast<uint64_t>(st.st_size) > kMaxTlsFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(Named(option, path), ": ", st.st_size,
                                                   " bytes is too large for a PEM file (limit ",
                                                   kMaxTlsFileBytes, ")"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::PermissionDeniedError(absl::StrCat(Named(option, path), ": cannot open it: ",
                                                    std::strerror(errno)));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > kMaxTlsFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(Named(option, path), ": too large"));
  }
  return text;
}

Bio MemoryBio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate in `pem`, in order.
std::vector<Cert> Certificates(const std::string& pem) {
  std::vector<Cert> certs;
  Bio bio = MemoryBio(pem);
  while (bio != nullptr) {
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    certs.push_back(std::move(cert));
  }
  ERR_clear_error();  // the read that ended the loop
  return certs;
}

// Never prompts for a passphrase: an encrypted key fails to load.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

}  // namespace

absl::StatusOr<std::optional<TlsMaterial>> LoadTlsMaterial(const TlsFiles& files) {
  if (files.empty()) return std::optional<TlsMaterial>();
  if (files.cert_path.empty()) {
    return absl::InvalidArgumentError(
        files.key_path.empty()
            ? "--tls_client_ca needs --tls_cert and --tls_key (mutual TLS is TLS first)"
            : "--tls_key needs --tls_cert (the certificate the key belongs to)");
  }
  if (files.key_path.empty()) {
    return absl::InvalidArgumentError("--tls_cert needs --tls_key (the certificate's private key)");
  }
  TlsMaterial material;
  material.files = files;

  absl::StatusOr<std::string> cert_pem = ReadPem("tls_cert", files.cert_path);
  if (!cert_pem.ok()) return cert_pem.status();
  std::vector<Cert> chain = Certificates(*cert_pem);
  if (chain.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Named("tls_cert", files.cert_path),
                     ": no PEM certificate in it (expected '-----BEGIN CERTIFICATE-----')"));
  }
  if (X509_cmp_current_time(X509_get0_notAfter(chain.front().get())) < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(Named("tls_cert", files.cert_path), ": the certificate has expired"));
  }

  absl::StatusOr<std::string> key_pem = ReadPem("tls_key", files.key_path);
  if (!key_pem.ok()) return key_pem.status();
  Bio key_bio = MemoryBio(*key_pem);
  Key key(key_bio == nullptr ? nullptr
                             : PEM_read_bio_PrivateKey(key_bio.get(), nullptr, NoPassphrase, nullptr));
  ERR_clear_error();
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        Named("tls_key", files.key_path),
        ": no usable PEM private key in it (expected an unencrypted '-----BEGIN PRIVATE KEY-----' "
        "or '-----BEGIN RSA/EC PRIVATE KEY-----')"));
  }
  if (X509_check_private_key(chain.front().get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(Named("tls_key", files.key_path), ": the key does not belong to the ",
                     "certificate in ", Named("tls_cert", files.cert_path)));
  }
  material.cert_chain_pem = *std::move(cert_pem);
  material.private_key_pem = *std::move(key_pem);

  if (!files.client_ca_path.empty()) {
    absl::StatusOr<std::string> ca_pem = ReadPem("tls_client_ca", files.client_ca_path);
    if (!ca_pem.ok()) return ca_pem.status();
    if (Certificates(*ca_pem).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(Named("tls_client_ca", files.client_ca_path),
                       ": no PEM certificate in it (expected the CA certificates that sign "
                       "client certificates)"));
    }
    material.client_ca_pem = *std::move(ca_pem);
  }
  return std::optional<TlsMaterial>(std::move(material));
}

}  // namespace attnserve::server

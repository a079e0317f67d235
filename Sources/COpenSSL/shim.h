#ifndef MEMOFS_COPENSSL_SHIM_H
#define MEMOFS_COPENSSL_SHIM_H
#include <sys/time.h>
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/ec.h>
#include <openssl/bio.h>
#include <openssl/rand.h>

// OpenSSL spells these as macros over SSL_ctrl, BIO_set_flags and friends, or as macros built
// from other macros; Swift imports none of them. Each wrapper is the macro, nothing more.

/// The MTU taken, or 0 when below DTLS's minimum.
static inline long memofs_SSL_set_mtu(SSL *ssl, long mtu) { return SSL_set_mtu(ssl, mtu); }

/// Our options: the MTU is ours, not a socket's; no session tickets (nothing resumes a WebRTC
/// session); no renegotiation (the peer's certificate, checked once, could change under it).
static inline uint64_t memofs_dtls_options(void) {
    return SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION;
}

/// DTLS 1.2 and nothing else: 1 on success.
static inline int memofs_SSL_CTX_set_dtls_1_2_only(SSL_CTX *context) {
    return SSL_CTX_set_min_proto_version(context, DTLS1_2_VERSION) == 1
        && SSL_CTX_set_max_proto_version(context, DTLS1_2_VERSION) == 1;
}

/// 1 and the time left in `left` when a retransmission timer runs, else 0.
static inline long memofs_DTLSv1_get_timeout(SSL *ssl, struct timeval *left) {
    return DTLSv1_get_timeout(ssl, left);
}

/// 1 when the timer had expired and the flight was sent again, 0 when it had not, -1 on failure
/// (too many retransmissions).
static inline long memofs_DTLSv1_handle_timeout(SSL *ssl) { return DTLSv1_handle_timeout(ssl); }

static inline void memofs_BIO_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
static inline void memofs_BIO_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }

static inline int memofs_SSL_set_app_data(SSL *ssl, void *data) { return SSL_set_app_data(ssl, data); }
static inline void *memofs_SSL_get_app_data(const SSL *ssl) { return SSL_get_app_data(ssl); }

/// Adds `CN=name` (ASCII) to `subject`: 1 on success.
static inline int memofs_X509_NAME_add_common_name(X509_NAME *subject, const char *name) {
    return X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
}

#endif

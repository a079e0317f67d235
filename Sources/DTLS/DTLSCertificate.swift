import COpenSSL
import WebRTCProtocol

/// A fresh self-signed certificate for one session (WebRTC authenticates by the fingerprint in
/// the session description, not by a chain): an ECDSA P-256 key, a random serial, `CN=memofs`,
/// valid from a day ago (clock skew) for 30 days, signed with SHA-256 — what Chromium makes.
///
/// `Sendable`: the key and certificate are written only inside `init` and never mutated after;
/// connections take their own references (`SSL_CTX_use_certificate` / `_PrivateKey` raise
/// OpenSSL's atomic reference counts) and only read them, which OpenSSL 3 allows from any
/// thread. Make one per session and share it among that session's connections.
public final class DTLSCertificate: @unchecked Sendable {
    let certificate: OpaquePointer
    let privateKey: OpaquePointer
    /// SHA-256 of the DER certificate, for our `a=fingerprint` line.
    public let fingerprint: DTLSFingerprint

    public init(commonName: String = "memofs", validity: Duration = .seconds(30 * 86_400)) throws(DTLSError) {
        OpenSSLErrorQueue.clear()
        func failure(_ step: String) -> DTLSError {
            .certificateCreation(step: step, openSSL: OpenSSLErrorQueue.drain())
        }
        let key = try Self.makeP256Key()
        guard let certificate = X509_new() else {
            EVP_PKEY_free(key)
            throw failure("X509_new")
        }
        do throws(DTLSError) {
            guard X509_set_version(certificate, 2) == 1 else { throw failure("X509_set_version") }
            // A random positive 63-bit serial: browsers refuse two certificates with the same
            // issuer and serial, and every session's issuer is the same CN.
            var serial: UInt64 = 0
            guard withUnsafeMutableBytes(of: &serial, { RAND_bytes($0.baseAddress, Int32($0.count)) }) == 1 else {
                throw failure("RAND_bytes")
            }
            serial &= UInt64(Int64.max)
            guard ASN1_INTEGER_set_uint64(X509_get_serialNumber(certificate), serial) == 1 else {
                throw failure("ASN1_INTEGER_set_uint64")
            }
            guard X509_gmtime_adj(X509_getm_notBefore(certificate), -86_400) != nil,
                  X509_gmtime_adj(X509_getm_notAfter(certificate), Int(validity.components.seconds)) != nil
            else { throw failure("X509_gmtime_adj") }
            guard let subject = X509_get_subject_name(certificate),
                  memofs_X509_NAME_add_common_name(subject, commonName) == 1,
                  X509_set_issuer_name(certificate, subject) == 1
            else { throw failure("subject and issuer name") }
            guard X509_set_pubkey(certificate, key) == 1 else { throw failure("X509_set_pubkey") }
            guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw failure("X509_sign") }
            fingerprint = try Self.fingerprint(of: certificate, algorithm: "sha-256")
        } catch {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw error
        }
        self.certificate = certificate
        privateKey = key
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(privateKey)
    }

    private static func makeP256Key() throws(DTLSError) -> OpaquePointer {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nil) else {
            throw .certificateCreation(step: "EVP_PKEY_CTX_new_id", openSSL: OpenSSLErrorQueue.drain())
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1,
              EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_X9_62_prime256v1) == 1,
              EVP_PKEY_keygen(context, &key) == 1, let key
        else { throw .certificateCreation(step: "P-256 key generation", openSSL: OpenSSLErrorQueue.drain()) }
        return key
    }

    /// `certificate`'s digest with the hash function SDP calls `algorithm`.
    static func fingerprint(of certificate: OpaquePointer, algorithm: String) throws(DTLSError) -> DTLSFingerprint {
        let digest: OpaquePointer? = switch algorithm.lowercased() {
        case "sha-1": EVP_sha1()
        case "sha-256": EVP_sha256()
        case "sha-384": EVP_sha384()
        case "sha-512": EVP_sha512()
        default: nil
        }
        guard let digest else { throw .unsupportedFingerprintAlgorithm(algorithm) }
        var bytes = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(certificate, digest, &bytes, &length) == 1 else {
            throw .setup(step: "X509_digest", openSSL: OpenSSLErrorQueue.drain())
        }
        return DTLSFingerprint(algorithm: algorithm, bytes: Array(bytes.prefix(Int(length))))
    }
}

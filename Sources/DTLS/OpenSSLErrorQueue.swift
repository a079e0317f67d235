import COpenSSL

/// OpenSSL's error queue is per thread and outlives the call that filled it. Every public entry
/// point clears it first and drains it when a call fails, so the text a `DTLSError` carries is
/// this call's and never a neighbour's.
enum OpenSSLErrorQueue {
    static func clear() { ERR_clear_error() }

    /// Every queued error as text, oldest first, joined with "; " (the queue is left empty).
    /// `fallback` when the queue was empty (a failure OpenSSL did not explain).
    static func drain(fallback: String = "no OpenSSL error queued") -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages.isEmpty ? fallback : messages.joined(separator: "; ")
    }
}

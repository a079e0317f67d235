#if canImport(Glibc)
import Glibc
#endif

/// Every target, by name. One executable holds them all: one sanitized link instead of one per
/// decoder, and libFuzzer's own `main` with its flags unchanged.
let allTargets: [FuzzTarget] = [
    bencodeTarget, metainfoTarget, magnetLinkTarget, shareLinkTarget,
    peerWireFramerTarget, peerMessageTarget, hashMessagesTarget, extensionHandshakeTarget, metadataMessageTarget,
    pexMessageTarget,
    httpTrackerResponseTarget, udpTrackerResponseTarget, krpcMessageTarget, localDiscoveryMessageTarget,
    webSocketTrackerMessageTarget,
    stunMessageTarget, sessionDescriptionTarget, dataChannelMessageTarget,
]

/// The target `MEMOFS_FUZZ_TARGET` names; the list of names and exit 2 when it names none.
let selectedTarget: FuzzTarget = {
    let wanted = getenv("MEMOFS_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    if wanted == "list" {
        for target in allTargets { print(target.name) }
        exit(0)
    }
    guard let target = allTargets.first(where: { $0.name == wanted }) else {
        let names = allTargets.map(\.name).joined(separator: " ")
        let message = "memofs-fuzz: set MEMOFS_FUZZ_TARGET to one of: \(names) (or 'list')\n"
        _ = message.withCString { write(STDERR_FILENO, $0, strlen($0)) }
        exit(2)
    }
    return target
}()

/// libFuzzer calls this once before fuzzing: the target is chosen (or the run refused) before
/// the first input, not inside it.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>,
                             _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    _ = selectedTarget
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selectedTarget.run(bytes)
    return 0
}

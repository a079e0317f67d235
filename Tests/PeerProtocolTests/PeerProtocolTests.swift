import Testing
@testable import PeerProtocol

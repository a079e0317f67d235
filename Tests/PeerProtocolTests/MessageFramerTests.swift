import TestSupport
import Testing
@testable import PeerProtocol

@Suite struct MessageFramerTests {
    let stream = wireStream(sampleMessages + sampleMessages.reversed())
    let expected = sampleMessages + sampleMessages.reversed()

    @Test func wholeStreamAtOnce() throws {
        var framer = MessageFramer()
        framer.append(stream)
        #expect(try drain(&framer) == expected)
        #expect(framer.bufferedByteCount == 0)
        #expect(try framer.next() == nil)
    }

    @Test func byteByByte() throws {
        var framer = MessageFramer()
        var messages: [PeerMessage] = []
        for byte in stream {
            framer.append(CollectionOfOne(byte))
            messages += try drain(&framer)
        }
        #expect(messages == expected)
        #expect(framer.bufferedByteCount == 0)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func randomChunks(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        var framer = MessageFramer()
        var messages: [PeerMessage] = []
        var offset = 0
        while offset < stream.count {
            let size = Int.random(in: 1...20_000, using: &generator)
            let end = min(stream.count, offset + size)
            framer.append(stream[offset..<end])
            offset = end
            messages += try drain(&framer)
        }
        #expect(messages == expected)
    }

    @Test func needsTheWholeFrame() throws {
        var framer = MessageFramer()
        let frame = PeerMessage.have(piece: 5).encoded()
        framer.append(frame.dropLast())
        #expect(try framer.next() == nil)
        #expect(framer.bufferedByteCount == frame.count - 1)
        framer.append(frame.suffix(1))
        #expect(try framer.next() == .have(piece: 5))
    }

    @Test func refusesAnOversizedPrefixBeforeItsBody() {
        var framer = MessageFramer()
        let tooLong = MessageFramer.defaultMaxMessageLength + 1
        framer.append([UInt8(tooLong >> 24), UInt8(tooLong >> 16 & 0xff), UInt8(tooLong >> 8 & 0xff), UInt8(tooLong & 0xff)])
        let error = PeerWireError.messageTooLong(length: tooLong, limit: MessageFramer.defaultMaxMessageLength)
        #expect(throws: error) { try framer.next() }
        #expect(framer.bufferedByteCount == 4)
        // It keeps refusing: the stream cannot be resynchronised.
        #expect(throws: error) { try framer.next() }

        var huge = MessageFramer()
        huge.append([0xff, 0xff, 0xff, 0xff])
        #expect(throws: PeerWireError.messageTooLong(length: Int(UInt32.max), limit: MessageFramer.defaultMaxMessageLength)) {
            try huge.next()
        }
    }

    @Test func acceptsTheLargestMessagesPeersSend() throws {
        // A bitfield for 2^22 pieces.
        let bitfield = PeerMessage.bitfield([UInt8](repeating: 0xff, count: 1 << 19))
        // A message of exactly the limit.
        let atLimit = PeerMessage.unknown(id: 99, payload: [UInt8](repeating: 1, count: MessageFramer.defaultMaxMessageLength - 1))
        var framer = MessageFramer()
        framer.append(wireStream([bitfield, atLimit]))
        #expect(try drain(&framer) == [bitfield, atLimit])
    }

    @Test func customLimit() throws {
        var framer = MessageFramer(maxMessageLength: 5)
        framer.append(PeerMessage.have(piece: 1).encoded())
        #expect(try framer.next() == .have(piece: 1))
        framer.append(PeerMessage.request(BlockRequest(piece: 0, begin: 0, length: 1)).encoded().prefix(4))
        #expect(throws: PeerWireError.messageTooLong(length: 13, limit: 5)) { try framer.next() }
    }

    @Test func badPayloadThrowsAndStaysPut() {
        var framer = MessageFramer()
        framer.append([0, 0, 0, 3, 4, 0, 0] + PeerMessage.choke.encoded())
        let error = PeerWireError.payloadLength(message: "have", actual: 2, expected: "4")
        #expect(throws: error) { try framer.next() }
        #expect(throws: error) { try framer.next() }
    }

    @Test func longSessionKeepsTheBufferSmall() throws {
        // Many messages fed in odd-sized chunks: the consumed front is dropped as it goes.
        let messages = (0..<2_000).map { PeerMessage.piece(piece: UInt32($0), begin: 0, block: [UInt8](repeating: UInt8($0 & 0xff), count: 1000)) }
        let bytes = wireStream(messages)
        var framer = MessageFramer()
        var received = 0
        var offset = 0
        var largestBuffered = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 1337)
            framer.append(bytes[offset..<end])
            offset = end
            largestBuffered = max(largestBuffered, framer.bufferedByteCount)
            for message in try drain(&framer) {
                #expect(message == messages[received])
                received += 1
            }
        }
        #expect(received == messages.count)
        #expect(largestBuffered < 2_500)
    }
}

import DTLS
import NIOCore
import SCTP
import WebRTCProtocol

/// Bytes moving between the sockets, ICE, DTLS, SCTP and the channel, and the one timer.
/// Everything here runs on the connection's event loop.
extension WebRTCPeerConnection {
    /// A datagram on the socket of `base`. RFC 7983 tells STUN (first byte 0–3) from DTLS (20–63).
    func received(_ bytes: [UInt8], from source: ICETransportAddress, on base: ICETransportAddress) {
        guard !isClosed, let first = bytes.first else { return }
        if STUNMessage.looksLikeSTUN(bytes) {
            guard var agent = ice else { return }
            let actions = agent.receive(bytes, from: source, to: base, now: .now)
            ice = agent
            perform(actions)
        } else if (20...63).contains(first), let dtls {
            // The remote's DTLS can come before our side of ICE selected (it selected first):
            // answer it on that path if a check of ours succeeded there, never on the word of
            // a datagram from anywhere (the remote retransmits what is dropped here).
            if selectedPair == nil {
                let route = ICECandidatePair(local: base, remote: source)
                guard ice?.hasSucceeded(route) == true else { return }
                selectedPair = route
            }
            guard selectedPair?.remote == source else { return }
            handle(dtls.receive(datagram: bytes))
        }
        rearm()
    }

    func perform(_ actions: [ICEAction]) {
        for action in actions {
            switch action {
            case .send(let bytes, let from, let to):
                send(bytes, from: from, to: to)
            case .selected(let pair):
                selectedPair = pair
                logger.debug("WebRTC: ICE selected \(pair)")
                stage = "DTLS"
                if let dtls, dtls.role == .client { handle(dtls.start()) }
            case .failed(let failure):
                finish(.ice(failure))
            case .consentLost:
                finish(.consentLost)
            case .roleChanged(let role):
                logger.debug("WebRTC: ICE role conflict, now \(role)")
            case .ignored(let why):
                logger.trace("WebRTC: ICE ignored: \(why)")
            }
        }
    }

    /// Queues a datagram on the socket of `base`; the socket is flushed once at the end of this
    /// turn of the loop, so a burst of SCTP packets leaves in one `sendmmsg`.
    func send(_ bytes: [UInt8], from base: ICETransportAddress, to remote: ICETransportAddress) {
        guard let socket = sockets[base], let address = remote.socketAddress else { return }
        socket.write(AddressedEnvelope(remoteAddress: address, data: socket.allocator.buffer(bytes: bytes)), promise: nil)
        guard unflushed.insert(base).inserted, unflushed.count == 1 else { return }
        eventLoop.execute { [self] in
            for base in unflushed { sockets[base]?.flush() }
            unflushed = []
        }
    }

    func sendOverDTLS(_ datagrams: [[UInt8]]) {
        guard let pair = selectedPair else { return }
        for datagram in datagrams { send(datagram, from: pair.local, to: pair.remote) }
    }

    func handle(_ output: DTLSOutput) {
        sendOverDTLS(output.datagrams)
        if let failure = output.failure { return finish(.dtls("\(failure)")) }
        if output.handshakeCompleted { startAssociation() }
        for record in output.applicationData { sctp?.receive(packet: record) }
        if output.closed { finish(.closedByRemote) }
    }

    private func startAssociation() {
        guard sctp == nil, let remote = remoteDescription else { return }
        stage = "SCTP"
        let loop = eventLoop
        do {
            sctp = try SCTPAssociation(
                localPort: SCTPAssociation.webRTCPort, remotePort: remote.media.sctpPort,
                maxMessageSize: channel?.messageSize ?? SCTPAssociation.browserMaxMessageSize,
                // Both are called on our loop inside `receive`/`send` (usrsctp's contract lets
                // them encrypt, write and send again there), or on usrsctp's timer thread,
                // from where they hop.
                send: { [weak self] packet in
                    let connection = self
                    if loop.inEventLoop { connection?.sendSCTPPacket(packet) } else { loop.execute { connection?.sendSCTPPacket(packet) } }
                },
                events: { [weak self] event in
                    let connection = self
                    if loop.inEventLoop { connection?.handle(event) } else { loop.execute { connection?.handle(event) } }
                })
        } catch {
            finish(.sctp("\(error)"))
        }
    }

    private func sendSCTPPacket(_ packet: [UInt8]) {
        guard !isClosed, let dtls else { return }
        do {
            sendOverDTLS(try dtls.send(applicationData: packet))
        } catch {
            finish(.dtls("\(error)"))
        }
    }

    private func handle(_ event: SCTPEvent) {
        guard !isClosed, var endpoint = channel else { return }
        switch event {
        case .connected:
            stage = "the data channel's DCEP"
            do {
                let actions = try endpoint.associationEstablished()
                channel = endpoint
                perform(actions)
            } catch {
                finish(.sctp("\(error)"))
            }
        case .message(let stream, let ppid, let bytes):
            let actions = endpoint.receive(stream: stream, ppid: ppid, bytes: bytes)
            channel = endpoint
            perform(actions)
        case .sendSpaceAvailable:
            flushUnsent()
        case .sendFailed(let stream, _):
            logger.debug("WebRTC: SCTP could not deliver a message on stream \(stream)")
        case .streamReset(let streams):
            if endpoint.streamReset(streams) {
                channel = endpoint
                finish(.closedByRemote)
            }
        case .closed(let reason):
            finish(.sctp("\(reason)"))
        }
        rearm()
    }

    func perform(_ actions: [DataChannelEndpoint.Action]) {
        for action in actions {
            switch action {
            case .send:
                enqueue(action, promise: nil)
                flushUnsent()
            case .resetStream(let stream):
                try? sctp?.resetOutgoing(streams: [stream])
            case .opened:
                isOpen = true
                stage = "open"
                timer?.cancel()
                openPromise.succeed()
            case .received(let bytes):
                if readingPaused { heldBytes.append(bytes) } else { delegate?.dataChannel(received: bytes) }
            case .failed(let failure):
                finish(.dataChannel(failure))
            }
        }
    }

    func enqueue(_ message: DataChannelEndpoint.Action, promise: EventLoopPromise<Void>?) {
        guard case .send(_, _, let bytes) = message else { return }
        unsent.append((message, promise))
        unsentBytes += bytes.count
    }

    /// Hands SCTP what waits, in order, until it says its buffer is full.
    func flushUnsent() {
        let wasWritable = isWritable
        while let (message, promise) = unsent.first, let sctp {
            guard case .send(let stream, let ppid, let bytes) = message else { unsent.removeFirst(); continue }
            do {
                guard try sctp.send(bytes, stream: stream, ppid: ppid.rawValue, ordered: true) == .sent else { break }
            } catch {
                finish(.sctp("\(error)"))
                return
            }
            unsent.removeFirst()
            unsentBytes -= bytes.count
            promise?.succeed()
        }
        if !wasWritable && isWritable { delegate?.dataChannelBecameWritable() }
    }

    /// One timer for ICE's checks and consent, DTLS's retransmissions and the connect timeout.
    func rearm() {
        timer?.cancel()
        timer = nil
        guard !isClosed else { return }
        var deadlines: [NIODeadline] = []
        let now = ContinuousClock.now, nioNow = NIODeadline.now()
        if let next = ice?.nextDeadline { deadlines.append(nioNow + TimeAmount(max(.zero, next - now))) }
        if let next = dtls?.nextTimeout(now: now) { deadlines.append(nioNow + TimeAmount(max(.zero, next - now))) }
        if !isOpen, let startedAt { deadlines.append(startedAt + TimeAmount(configuration.connectTimeout)) }
        guard let deadline = deadlines.min() else { return }
        timer = eventLoop.scheduleTask(deadline: deadline) { [weak self] in self?.timerFired() }
    }

    private func timerFired() {
        guard !isClosed else { return }
        if !isOpen, let startedAt, NIODeadline.now() >= startedAt + TimeAmount(configuration.connectTimeout) {
            return finish(.timedOut(stage: stage, after: configuration.connectTimeout))
        }
        if var agent = ice {
            let actions = agent.tick(now: .now)
            ice = agent
            perform(actions)
        }
        if let dtls, let next = dtls.nextTimeout(now: .now), next <= .now { handle(dtls.handleTimeout()) }
        rearm()
    }

    /// Ends the connection once: the channel, the association, DTLS (close_notify), the sockets.
    func finish(_ error: WebRTCError?) {
        guard !isClosed else { return }
        isClosed = true
        timer?.cancel()
        if let error { logger.debug("WebRTC: \(error)") }
        sctp?.close()
        sctp = nil
        if let dtls { sendOverDTLS(dtls.close()) }
        for (_, promise) in unsent { promise?.fail(error ?? .closed) }
        unsent = []
        let sockets = self.sockets
        // The close_notify is written before the sockets close.
        eventLoop.execute { for socket in sockets.values { socket.close(promise: nil) } }
        if isOpen {
            delegate?.dataChannelClosed(error)
        } else {
            openPromise.fail(error ?? .closed)
        }
    }
}

/// A socket's datagrams, handed to its connection with the base they arrived at.
final class DatagramHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private weak var connection: WebRTCPeerConnection?
    private let base: ICETransportAddress

    init(connection: WebRTCPeerConnection, base: ICETransportAddress) {
        self.connection = connection
        self.base = base
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = ICETransportAddress(envelope.remoteAddress) else { return }
        connection?.received(Array(envelope.data.readableBytesView), from: source, on: base)
    }

    /// An ICMP error for an earlier datagram (a candidate nobody listens on) says nothing about
    /// the others: the socket stays open and ICE's checks time out on their own.
    func errorCaught(context: ChannelHandlerContext, error: Error) {}
}

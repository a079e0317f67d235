/// The page Chromium runs in the interop tests: the browser's plain RTCPeerConnection API, no
/// library. Query: `role=offerer|answerer` (the browser's part), `size` (bytes each way),
/// `close=ours|page` (who ends the connection). Signaling goes through the test's mailboxes
/// (`SignalingPageServer`): `offer`, `answer` (SDP texts), `event` (JSON: open, sent, closed,
/// error), `result` (JSON: what arrived from memofs), `log`; the page waits for `close` before
/// it calls `pc.close()`.
///
/// Both directions carry known patterns (`up` from the page, `down` from memofs), so each side
/// checks every byte it receives, not a digest (crypto.subtle needs a secure context; this page
/// comes over plain HTTP from a veth address). The page sends like a browser application: in
/// 16,000-byte messages, waiting for `bufferedamountlow` whenever more than 64 KiB is buffered.
enum ChromiumPage {
    /// Byte `index` of the stream the page sends.
    static func up(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index &* 7 &+ (index >> 11)) }
    /// Byte `index` of the stream memofs sends.
    static func down(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: index &* 13 &+ (index >> 9) &+ 1) }

    static let html = #"""
    <!doctype html>
    <meta charset="utf-8">
    <title>memofs WebRTC interop</title>
    <script>
    const params = new URLSearchParams(location.search);
    const role = params.get('role'), size = Number(params.get('size')), closer = params.get('close');
    const t0 = performance.now();
    const up = i => (i * 7 + (i >>> 11)) & 255;
    const down = i => (i * 13 + (i >>> 9) + 1) & 255;
    const post = (name, body) => fetch('/box/' + name, {method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body)});
    const log = (...parts) => post('log', `${Math.round(performance.now() - t0)} ms: ${parts.join(' ')}`);
    async function get(name) {
      for (;;) {
        const response = await fetch('/box/' + name);
        if (response.status === 200) return await response.text();
      }
    }
    function gathered(pc) {
      return new Promise(resolve => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
      });
    }
    function opened(channel) {
      return new Promise(resolve => {
        if (channel.readyState === 'open') return resolve();
        channel.addEventListener('open', () => resolve(), {once: true});
      });
    }
    async function main() {
      const pc = new RTCPeerConnection({iceServers: []});
      pc.addEventListener('connectionstatechange', () => log('connectionState', pc.connectionState));
      pc.addEventListener('iceconnectionstatechange', () => log('iceConnectionState', pc.iceConnectionState));
      let channel;
      if (role === 'offerer') {
        // Like WebTorrent (simple-peer): one channel, a label of 40 hex characters, ordered and reliable.
        const label = Array.from(crypto.getRandomValues(new Uint8Array(20)), b => b.toString(16).padStart(2, '0')).join('');
        channel = pc.createDataChannel(label);
        await pc.setLocalDescription(await pc.createOffer());
        await gathered(pc);
        await post('offer', pc.localDescription.sdp);
        await pc.setRemoteDescription({type: 'answer', sdp: await get('answer')});
      } else {
        const arrived = new Promise(resolve => { pc.ondatachannel = event => resolve(event.channel); });
        await pc.setRemoteDescription({type: 'offer', sdp: await get('offer')});
        await pc.setLocalDescription(await pc.createAnswer());
        await gathered(pc);
        await post('answer', pc.localDescription.sdp);
        channel = await arrived;
      }
      channel.binaryType = 'arraybuffer';
      let received = 0, firstAt = 0, mismatch = -1;
      channel.onmessage = event => {
        const bytes = new Uint8Array(event.data);
        if (!firstAt) firstAt = performance.now();
        for (let k = 0; k < bytes.length; k++) {
          if (mismatch < 0 && bytes[k] !== down(received + k)) mismatch = received + k;
        }
        received += bytes.length;
        if (received >= size) {
          post('result', {received, mismatch, receiveMs: performance.now() - firstAt});
          received = -Infinity;   // report once
        }
      };
      channel.onclose = () => post('event', {event: 'closed', connectionState: pc.connectionState});
      await opened(channel);
      const stats = [...(await pc.getStats()).values()];
      const pair = stats.find(s => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
      const local = pair && stats.find(s => s.id === pair.localCandidateId);
      const remote = pair && stats.find(s => s.id === pair.remoteCandidateId);
      await post('event', {event: 'open', label: channel.label, ordered: channel.ordered,
                           maxRetransmits: channel.maxRetransmits, maxPacketLifeTime: channel.maxPacketLifeTime,
                           local: local && `${local.candidateType} ${local.address}:${local.port}`,
                           remote: remote && `${remote.candidateType} ${remote.address}:${remote.port}`});
      channel.bufferedAmountLowThreshold = 65536;
      const chunk = 16000, sendStart = performance.now();
      for (let sent = 0; sent < size;) {
        if (channel.bufferedAmount > 65536) {
          await new Promise(resolve => channel.addEventListener('bufferedamountlow', resolve, {once: true}));
          continue;
        }
        const bytes = new Uint8Array(Math.min(chunk, size - sent));
        for (let k = 0; k < bytes.length; k++) bytes[k] = up(sent + k);
        channel.send(bytes);
        sent += bytes.length;
      }
      await post('event', {event: 'sent', ms: performance.now() - sendStart});
      if (closer === 'page') {
        await get('close');
        pc.close();
        await post('event', {event: 'page-closed'});
      }
    }
    main().catch(error => post('event', {event: 'error', message: String(error && error.stack || error)}));
    </script>
    """#
}

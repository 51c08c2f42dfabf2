/**
 * werift (WebRTC in pure TypeScript), loaded once per process when the first direct
 * connection starts, with one repair of its DTLS client.
 *
 * The repair: a DTLS client that hears nothing within 500 ms sends its ClientHello again
 * (RFC 6347 §4.2.4). werift's server answers each ClientHello without a cookie with a
 * HelloVerifyRequest (the same cookie each time), so a peer that was slow to answer (a
 * loaded machine: two werift peers on one busy host) sends two. werift's client then runs
 * its flight 3 a second time, which throws, and the whole connection fails ("No direct
 * route") although ICE had connected (werift 0.24.4, `Flight3.exec`: `if (this.dtls.flight
 * === 3) throw new Error()`). §4.2.1 says a client SHOULD answer a new HelloVerifyRequest
 * with a new ClientHello; since werift's cookie does not change, the ClientHello already
 * sent (and retransmitted by flight 3 itself) is that answer, so the repeat is dropped.
 * Browsers' DTLS servers (BoringSSL, NSS) send no HelloVerifyRequest in WebRTC, so only a
 * command talking to another command met this.
 *
 * And one default removed: with no STUN server configured, werift's ICE asks
 * stun.l.google.com:19302 for every IPv4 address (werift 0.24.4, `Connection` constructor:
 * `validateAddress(stunServer) ?? ["stun.l.google.com", 19302]`). Browsers ask no one they were
 * not given, and a Ferry server that configures no STUN means none: the command would tell
 * a third party its address, and on a network that answers DNS but drops UDP it waits up to
 * 5 s for the answer before each offer. A configured STUN server is still used.
 */
import type { Connection, DtlsClient } from 'werift';

export type Werift = typeof import('werift');

/** DTLS handshake type hello_verify_request (RFC 6347 §4.3.2). */
const HELLO_VERIFY_REQUEST = 3;
/** werift's number for the client flight that answers a HelloVerifyRequest. */
const FLIGHT_3 = 3;

let loading: Promise<Werift> | null = null;

/** werift, repaired; the same module every time. */
export function loadWerift(): Promise<Werift> {
  loading ??= import('werift').then((werift) => {
    ignoreRepeatedHelloVerify(werift.DtlsClient);
    askOnlyConfiguredStun(werift.Connection);
    return werift;
  });
  return loading;
}

function ignoreRepeatedHelloVerify(client: typeof DtlsClient): void {
  const connect = client.prototype.connect;
  // `onHandleHandshakes` is an instance field set in the constructor: wrap it on the
  // instance, just before the client's first flight leaves.
  client.prototype.connect = function (this: DtlsClient): Promise<void> {
    const handle = this.onHandleHandshakes;
    this.onHandleHandshakes = (assembled) => {
      const fresh =
        this.dtls.flight >= FLIGHT_3 ? assembled.filter((h) => h.msg_type !== HELLO_VERIFY_REQUEST) : assembled;
      return fresh.length > 0 ? handle(fresh) : Promise.resolve();
    };
    return connect.call(this);
  };
}

function askOnlyConfiguredStun(connection: typeof Connection): void {
  const gather = connection.prototype.gatherCandidates;
  connection.prototype.gatherCandidates = function (this: Connection): Promise<void> {
    if (!this.options.stunServer) this.stunServer = undefined;
    return gather.call(this);
  };
}

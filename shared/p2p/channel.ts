/**
 * The data channel as the engine sees it: one ordered, reliable channel (WebRTC data
 * channel, RFC 8831) carrying text frames (one control message each, frames.ts) and binary
 * record frames. The app's PeerLink (simple-peer in a browser) and the ferry command's
 * RtcLink (libwebrtc through @roamhq/wrtc) implement it; the engine's handshake and sessions run over it and never
 * touch a transport. Incoming frames are the adapter's to parse (`parseControlMessage`,
 * `parseRecordFrame`) and hand to the engine's `on…` methods.
 */
import type { ControlMessage } from './frames.ts';

export interface PeerChannel {
  /** This end made the WebRTC offer (the offerer); the other end is the answerer. */
  readonly initiator: boolean;
  /** The local and remote SDP once negotiated (the fingerprint check, auth.ts); null before. */
  readonly descriptions: { local: string; remote: string } | null;
  /** False once the channel closed (a channel that cannot tell leaves it out). */
  readonly connected?: boolean;
  /** The largest message the channel takes (RTCSctpTransport.maxMessageSize). */
  readonly maxMessageSize: number;
  /** Sends one control message as a text frame; throws NETWORK_ERROR when the channel is gone. */
  sendControl(message: ControlMessage): void;
  /** Sends one binary frame once the send queue has room (backpressure); rejects when the channel is gone. */
  sendFrame(frame: Uint8Array<ArrayBuffer>): Promise<void>;
}

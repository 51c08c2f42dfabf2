/**
 * Whether this browser can take part in direct (nearby) transfers, found by trying once per
 * page: a browser without WebRTC, or one that cannot store a received file (OPFS refused,
 * as in a Firefox private window), must not show itself to other devices as one they can
 * send to. It joins signaling unlisted instead (page-signaling.ts), so links it serves and
 * opens still work, and says why on its page.
 */
import { canStoreTransfers } from './opfs-files.ts';

export const NO_WEBRTC =
  "This browser can't connect to other devices directly (it has no WebRTC), so it is not shown to them. Send and receive with a link instead.";
export const NO_WEBRTC_PAIRING =
  "Pairing connects the two devices directly, which this browser can't do (it has no WebRTC). Send with a link instead.";
export const NO_STORAGE =
  "This browser can't store files received from other devices (a private window, or storage turned off), so it is not shown to them. Send and receive with a link instead.";

let probe: Promise<string | null> | undefined;

/** Why direct transfers cannot work here (a sentence), or null when they can. */
export function directTransfersBlocked(): Promise<string | null> {
  probe ??= (async () => {
    if (!hasWebRTC()) return NO_WEBRTC;
    return (await canStoreTransfers()) ? null : NO_STORAGE;
  })();
  return probe;
}

let webrtc: boolean | undefined;

/**
 * Whether this browser can make a direct connection, found once by constructing and closing
 * an RTCPeerConnection (a missing or disabled WebRTC throws). Pairing needs it, storage not.
 */
export function hasWebRTC(): boolean {
  if (webrtc === undefined) {
    try {
      new RTCPeerConnection().close();
      webrtc = true;
    } catch {
      webrtc = false;
    }
  }
  return webrtc;
}

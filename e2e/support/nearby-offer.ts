/** The start of a nearby journey, shared by specs that go on to disturb the transfer. */
import { expect, type Locator, type Page } from '@playwright/test';
import { NearbyPage } from '../pages/nearby-page.ts';
import { PeerWatcher } from './peer-cut.ts';

export interface NearbyOffer {
  /** Each side's RTCPeerConnections, watched from before Ferry opened, to cut or refuse. */
  sending: PeerWatcher;
  receiving: PeerWatcher;
  senderName: string;
  receiverName: string;
  /** The recipient's dialog for the offer, not yet accepted. */
  offer: Locator;
}

/** Both open Ferry; the sender offers the file(s) at `path`, confirms the code, and the offer (naming `name`) shows. */
export async function offerNearby(
  sender: Page,
  receiver: Page,
  path: string | string[],
  name: string,
): Promise<NearbyOffer> {
  const sending = await PeerWatcher.on(sender);
  const receiving = await PeerWatcher.on(receiver);
  const from = new NearbyPage(sender);
  const to = new NearbyPage(receiver);
  const senderName = await from.open();
  const receiverName = await to.open();
  await from.sendFiles(receiverName, path);
  await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
  await from.confirmCode();
  const offer = to.offer(senderName);
  await expect(offer.getByText(name)).toBeVisible();
  return { sending, receiving, senderName, receiverName, offer };
}

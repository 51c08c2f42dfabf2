/** The start of a nearby journey, shared by specs that go on to disturb the transfer. */
import { expect, type Locator } from '@playwright/test';
import type { NearbyPage } from '../pages/nearby-page.ts';

export interface NearbyOffer {
  senderName: string;
  receiverName: string;
  /** The recipient's dialog for the offer, not yet accepted. */
  offer: Locator;
}

/** Both open Ferry; the sender offers the file at `path`, confirms the code, and the offer shows. */
export async function offerNearby(from: NearbyPage, to: NearbyPage, path: string, name: string): Promise<NearbyOffer> {
  const senderName = await from.open();
  const receiverName = await to.open();
  await from.sendFiles(receiverName, path);
  await expect(from.code(receiverName)).toHaveText(/^\d{6}$/, { timeout: 30_000 });
  await from.confirmCode();
  const offer = to.offer(senderName);
  await expect(offer.getByText(name)).toBeVisible();
  return { senderName, receiverName, offer };
}

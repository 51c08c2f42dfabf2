/** Pairing two contexts by code in a journey (the steps p2p-pair.spec.ts checks in detail). */
import { type BrowserContext, expect } from '@playwright/test';
import type { PairingPage } from '../pages/pairing-page.ts';

/** Every request of the context, WebSocket upgrades included, comes "from" `address`. */
export async function onNetwork(context: BrowserContext, address: string): Promise<void> {
  await context.setExtraHTTPHeaders({ 'X-Forwarded-For': address });
}

/**
 * Pairs `from` (makes the code) with `to` (enters it, or opens the pairing link); both
 * people compare the verification code.
 */
export async function pair(from: PairingPage, to: PairingPage, how: 'code' | 'link' = 'code'): Promise<void> {
  const code = await from.makeCode();
  await expect(from.pairingLink()).toHaveValue(new RegExp(`/#pair=${code}$`));
  if (how === 'link') await to.page.goto((await from.pairingLink().inputValue()) ?? '');
  else await to.enterCode(code);
  await expect(from.verificationCode()).toHaveText(/^\d{6}$/, { timeout: 30_000 });
  const shown = (await from.verificationCode().textContent()) ?? '';
  await expect(to.verificationCode()).toHaveText(shown);
  await from.confirmPairing();
  await to.confirmPairing();
  await expect(from.pairing.getByRole('status')).toContainText('Paired with');
  await expect(to.pairing.getByRole('status')).toContainText('Paired with');
}

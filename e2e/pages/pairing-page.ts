/** The "Pairing" part of the nearby section, and the tiles of paired devices. */
import { expect, type Locator } from '@playwright/test';
import { NearbyPage } from './nearby-page.ts';

export class PairingPage extends NearbyPage {
  get pairing(): Locator {
    return this.section.getByRole('region', { name: 'Pairing' });
  }

  /** Asks for a code and answers it (digits only). */
  async makeCode(): Promise<string> {
    await this.pairing.getByRole('button', { name: 'Pair a device' }).click();
    const shown = this.pairing.getByLabel('Pairing code', { exact: true });
    await expect(shown).toHaveText(/^\d{3} \d{3}$/);
    return ((await shown.textContent()) ?? '').replace(/\s/g, '');
  }

  pairingLink(): Locator {
    return this.pairing.getByLabel('Pairing link');
  }

  /** Enters another device's code; the one pairing control opens first when it is closed. */
  async enterCode(code: string): Promise<void> {
    const field = this.pairing.getByLabel('Enter a pairing code');
    if (!(await field.isVisible())) await this.pairing.getByRole('button', { name: 'Pair a device' }).click();
    await field.fill(code);
    await this.pairing.getByRole('button', { name: 'Pair', exact: true }).click();
  }

  /** The code both people compare during pairing. */
  verificationCode(): Locator {
    return this.pairing.getByLabel('Pairing verification code');
  }

  confirmPairing(): Promise<void> {
    return this.pairing.getByRole('button', { name: 'Codes match' }).click();
  }

  /** The tile of `peer` (a list item), which says "Paired" for a paired device. */
  tileItem(peer: string): Locator {
    return this.section.getByRole('listitem').filter({ has: this.tile(peer) });
  }
}

import { describe, expect, it } from 'vitest';
import { claimTitle } from './page-title.ts';

describe('claimTitle', () => {
  it('shows the latest claim and gives the page its own title back once all are released, in any order', () => {
    const doc = { title: 'Ferry' };
    const first = claimTitle('Files from A · Ferry', doc);
    const second = claimTitle('Files from B · Ferry', doc);
    expect(doc.title).toBe('Files from B · Ferry');
    first();
    expect(doc.title).toBe('Files from B · Ferry');
    first();
    expect(doc.title).toBe('Files from B · Ferry');
    second();
    expect(doc.title).toBe('Ferry');
    const third = claimTitle('Files from C · Ferry', doc);
    third();
    expect(doc.title).toBe('Ferry');
  });
});

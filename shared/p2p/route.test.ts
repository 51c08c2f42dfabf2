import { describe, expect, it } from 'vitest';
import { routeFromStats } from './route.ts';

/** A stats report as getStats answers it: transport, the selected pair, its two candidates. */
function report(local: string, remote: string, selected = true) {
  return new Map<string, Record<string, string>>([
    ['T', { type: 'transport', ...(selected ? { selectedCandidatePairId: 'P' } : {}) }],
    ['P', { type: 'candidate-pair', localCandidateId: 'L', remoteCandidateId: 'R' }],
    ['L', { type: 'local-candidate', candidateType: local }],
    ['R', { type: 'remote-candidate', candidateType: remote }],
  ]) as unknown as Parameters<typeof routeFromStats>[0];
}

describe('routeFromStats', () => {
  it('is relayed when either end of the selected pair is a TURN candidate, direct otherwise', () => {
    expect(routeFromStats(report('relay', 'host'))).toBe('relayed');
    expect(routeFromStats(report('host', 'relay'))).toBe('relayed');
    expect(routeFromStats(report('host', 'srflx'))).toBe('direct');
  });

  it('is not known before a pair is selected', () => {
    expect(routeFromStats(report('host', 'host', false))).toBeNull();
  });
});

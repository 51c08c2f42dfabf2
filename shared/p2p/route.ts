/**
 * How a connection to another device goes: straight, or through a TURN server; read from
 * getStats the same way by the app (simple-peer) and the command (@roamhq/wrtc).
 */
export type Route = 'direct' | 'relayed';

/** What the app and the command say about a route. */
export function routeLabel(route: Route): string {
  return route === 'direct' ? 'direct' : 'relayed (TURN)';
}

/** The part of an RTCStatsReport read here (WebRTC Stats §7). */
interface StatsReport {
  forEach(visit: (stats: { type: string; selectedCandidatePairId?: string }) => void): void;
  get(id: string): { localCandidateId?: string; remoteCandidateId?: string; candidateType?: string } | undefined;
}

/**
 * The route of the selected candidate pair: the transport's selectedCandidatePairId, then
 * the local and remote candidates' candidateType (`relay` on either side: relayed); null
 * before a pair is selected.
 */
export function routeFromStats(stats: StatsReport): Route | null {
  let pairId: string | undefined;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  const pair = pairId ? stats.get(pairId) : undefined;
  if (!pair) return null;
  const types = [pair.localCandidateId, pair.remoteCandidateId].map((id) => (id ? stats.get(id)?.candidateType : ''));
  return types.includes('relay') ? 'relayed' : 'direct';
}

/**
 * The tab's title while something waits for the person (an offer of files): the latest
 * claim shows, and the page's own title comes back once every claim is released, in any
 * order. A tab in the background says so in the tab strip, where a notification may be off.
 */
const claims: string[] = [];
let own: string | null = null;

/** Shows `title` in the tab until the returned function is called (idempotent). */
export function claimTitle(title: string, doc: Pick<Document, 'title'> = document): () => void {
  const claim = title;
  if (claims.length === 0) own = doc.title;
  claims.push(claim);
  doc.title = claim;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    claims.splice(claims.lastIndexOf(claim), 1);
    doc.title = claims.at(-1) ?? own ?? doc.title;
    if (claims.length === 0) own = null;
  };
}

/**
 * Zod without its eval probe. Zod 4 compiles object parsers with `new Function` where it
 * can and finds out by trying once; under Ferry's CSP (script-src without 'unsafe-eval')
 * that try is reported as a violation on every page. Zod decides when a schema is built,
 * so every entry point that parses with zod (the page, the receive and OPFS workers)
 * imports this module first. The service worker bundles no zod.
 */
import { z } from 'zod';

z.config({ jitless: true });

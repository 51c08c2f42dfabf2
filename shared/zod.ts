/**
 * Zod as every Ferry module uses it: configured before any schema is built. Zod 4 compiles
 * object parsers with `new Function` where it can, and finds out whether it can by trying
 * once, when the first object schema is made; under the app's CSP (script-src without
 * 'unsafe-eval') that try is reported as a violation on every page. `jitless` skips both.
 * The setting must precede every schema, which an import of this module guarantees for the
 * modules that build them; a side-effect import at an entry point does not, once the
 * bundler splits the schemas into a chunk that runs before the entry's own code. Biome
 * refuses `zod` imports elsewhere (biome.json). The server parses small JSON bodies and
 * messages, where the interpreted parser costs microseconds.
 */
import { z } from 'zod';

z.config({ jitless: true });

export { z };

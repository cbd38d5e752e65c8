/**
 * zod for the functions' bundles: the `z` namespace without its 40-odd translations of error
 * messages and its JSON-Schema tooling (see `namespace.ts`).
 *
 * `import { z } from 'zod'` binds the whole namespace object, which esbuild cannot tree-shake:
 * every bundle carried `z.locales` (258 KB minified of the 444 KB zod took) although only the
 * English messages, registered by zod's schemas module itself, are ever used. The functions'
 * bundles alias `zod` to this module (`LeadFunction`'s bundling options), so the sources keep
 * the ordinary `import { z } from 'zod'`, and tests and tools run the real package.
 */
import * as z from './namespace';

export * from './namespace';
export { z, z as default };

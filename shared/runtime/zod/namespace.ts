/**
 * The members of zod's `z` namespace that a function may use, for `index.ts`: zod's
 * `v4/classic/external.js` of the pinned version, line by line, without `locales` (every
 * translation of every message), `core`, and the JSON-Schema and compile tooling
 * (`toJSONSchema`, `fromJSONSchema`, `compile`, `withParser`, `deepPartial`, `toZod`), which no
 * function calls at run time. Every schema constructor, check and error type is here, so code
 * written against `import { z } from 'zod'` runs unchanged; `test/unit/zod-bundle.test.ts` fails
 * if the sources use a member this namespace leaves out.
 */

export * from '../../../node_modules/zod/v4/classic/checks.js';
export * as coerce from '../../../node_modules/zod/v4/classic/coerce.js';
export * from '../../../node_modules/zod/v4/classic/compat.js';
export * from '../../../node_modules/zod/v4/classic/errors.js';
export { input, output } from '../../../node_modules/zod/v4/classic/in-out.js';
export * as iso from '../../../node_modules/zod/v4/classic/iso.js';
export {
  ZodISODate,
  ZodISODateTime,
  ZodISODuration,
  ZodISOTime,
} from '../../../node_modules/zod/v4/classic/iso.js';
export * from '../../../node_modules/zod/v4/classic/parse.js';
export * from '../../../node_modules/zod/v4/classic/schemas.js';
export {
  $brand,
  $input,
  $output,
  clone,
  config,
  flattenError,
  formatError,
  getDiscriminatedOption,
  globalRegistry,
  INVALID,
  memoizer,
  NEVER,
  prettifyError,
  regexes,
  registry,
  TimePrecision,
  treeifyError,
  util,
} from '../../../node_modules/zod/v4/core/index.js';

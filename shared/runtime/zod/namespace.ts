/**
 * zod's `z` for the functions' bundles: zod's own tree-shakable build (`zod/mini`, the same
 * `zod/v4/core` engine, checks and English messages) with the chainable methods of zod's
 * classic API (`.optional()`, `.min(1)`, `.default(…)`, `.refine(…)` …) added back on top.
 *
 * Why: zod's classic build attaches every method and every schema type to every schema, so a
 * bundle that uses five types carries all of them and the JSON-Schema tooling (131 KB minified
 * of our largest bundle). zod/mini keeps only what a bundle calls (about 20 KB). The sources keep
 * the ordinary `import { z } from 'zod'` and its types; only the bundles take this module
 * (esbuild `--alias`, see `LeadFunction`), and tests and tools run the real package.
 *
 * How: zod v4 copies the members of a schema constructor's `prototype` onto each instance it
 * builds (`$constructor`: "support prototype modifications"), so the methods below, put on
 * `ZodMiniType.prototype`, reach every schema, clones included. Each method is the one-line
 * composition zod's classic build itself uses (`inst.min = (n) => inst.check(minLength(n))`…).
 * `test/unit/zod-lite.test.ts` parses the whole event catalogue, the client file and the inputs
 * with both and compares results and messages; the e2e tests run the bundles.
 */
import * as core from '../../../node_modules/zod/v4/core/index.js';
import en from '../../../node_modules/zod/v4/locales/en.js';
import * as mini from '../../../node_modules/zod/v4/mini/index.js';

// zod's classic build registers the English messages when its first schema is built; mini leaves
// the choice to the caller. Same messages as the package, so a 4xx names the field the same way.
core.config(en());

/** A schema as the methods below see it (`this`). */
type Schema = mini.ZodMiniType & { _zod: { def: { type: string } } };
/** The methods take zod's own parameters through; their types are zod's, checked by the sources. */
type Args = never[];

/** A check factory taking a limit and zod's optional parameters (`minLength(1, 'required')`). */
type Bound = (limit: never, params?: never) => unknown;

/** What `min`/`max` bound, by schema type: the value, the size, or (any other type) the length. */
const BOUNDS = {
  value: { min: mini.gte, max: mini.lte },
  size: { min: mini.minSize, max: mini.maxSize },
  length: { min: mini.minLength, max: mini.maxLength },
} satisfies Record<string, Record<'min' | 'max', Bound>>;

function bound(schema: Schema, side: 'min' | 'max', limit: never, params?: never): unknown {
  const type = schema._zod.def.type;
  const kind =
    type === 'number' || type === 'bigint' || type === 'date'
      ? 'value'
      : type === 'set' || type === 'file'
        ? 'size'
        : 'length';
  const make: Bound = BOUNDS[kind][side];
  return schema.check(make(limit, params) as never);
}

/** `(this, …args) => schema.check(make(…args))`: a classic method that only adds a check. */
function checking<F extends (...args: Args) => unknown>(make: F) {
  return function (this: Schema, ...args: Args) {
    return this.check(make(...args) as never);
  };
}

/** A classic method that wraps or reshapes the schema with a mini function. */
function wrapping<F extends (schema: never, ...args: Args) => unknown>(make: F) {
  return function (this: Schema, ...args: Args) {
    return make(this as never, ...args);
  };
}

/** Object schemas: a copy of the definition with another `catchall` (how classic does it). */
function withCatchall(schema: Schema, catchall: unknown): unknown {
  return schema.clone({ ...schema._zod.def, catchall } as never);
}

/** The classic methods, by name. Anything a function calls that is missing fails its tests. */
const CLASSIC_METHODS: Record<string, (this: Schema, ...args: Args) => unknown> = {
  // Wrappers (any type).
  optional: wrapping(mini.optional),
  nullable: wrapping(mini.nullable),
  nullish: wrapping(mini.nullish),
  default: wrapping(mini._default),
  prefault: wrapping(mini.prefault),
  catch: wrapping(mini.catch),
  readonly: wrapping(mini.readonly),
  array: wrapping(mini.array),
  or(this: Schema, other: never) {
    return mini.union([this, other]);
  },
  and: wrapping(mini.intersection),
  pipe: wrapping(mini.pipe),
  transform(this: Schema, fn: never) {
    return mini.pipe(this, mini.transform(fn));
  },
  refine: checking(mini.refine),
  superRefine: checking(mini.superRefine),
  describe(this: Schema, description: string) {
    const copy = this.clone();
    core.globalRegistry.add(copy, { description });
    return copy;
  },
  unwrap(this: Schema) {
    const def = this._zod.def as { innerType?: unknown; element?: unknown };
    return def.innerType ?? def.element;
  },
  // Sizes and bounds: `min`/`max` mean length for strings and arrays, value for numbers.
  min(this: Schema, limit: never, params?: never) {
    return bound(this, 'min', limit, params);
  },
  max(this: Schema, limit: never, params?: never) {
    return bound(this, 'max', limit, params);
  },
  length: checking(mini.length),
  nonempty(this: Schema, params?: never) {
    return this.check(mini.minLength(1, params) as never);
  },
  gt: checking(mini.gt),
  gte: checking(mini.gte),
  lt: checking(mini.lt),
  lte: checking(mini.lte),
  positive: checking(mini.positive),
  negative: checking(mini.negative),
  nonnegative: checking(mini.nonnegative),
  nonpositive: checking(mini.nonpositive),
  multipleOf: checking(mini.multipleOf),
  int: checking(mini.int),
  // Strings: transforms and formats used as checks, as classic does.
  trim: checking(mini.trim),
  toLowerCase: checking(mini.toLowerCase),
  toUpperCase: checking(mini.toUpperCase),
  normalize: checking(mini.normalize),
  regex: checking(mini.regex),
  includes: checking(mini.includes),
  startsWith: checking(mini.startsWith),
  endsWith: checking(mini.endsWith),
  lowercase: checking(mini.lowercase),
  uppercase: checking(mini.uppercase),
  email: checking(mini.email),
  url: checking(mini.url),
  uuid: checking(mini.uuid),
  datetime: checking(mini.iso.datetime),
  date: checking(mini.iso.date),
  time: checking(mini.iso.time),
  // Objects.
  extend: wrapping(mini.extend),
  safeExtend: wrapping(mini.safeExtend),
  merge: wrapping(mini.merge),
  pick: wrapping(mini.pick),
  omit: wrapping(mini.omit),
  partial: wrapping(mini.partial),
  required: wrapping(mini.required),
  keyof: wrapping(mini.keyof),
  catchall: wrapping(mini.catchall),
  strict(this: Schema) {
    return withCatchall(this, mini.never());
  },
  loose(this: Schema) {
    return withCatchall(this, mini.unknown());
  },
  passthrough(this: Schema) {
    return withCatchall(this, mini.unknown());
  },
};
installClassicMethods();

/**
 * Puts {@link CLASSIC_METHODS} on the prototype of each schema type once, the first time a schema
 * of that type is built, as zod installs its own members (`util.members`: not enumerable, bound
 * to the schema on first read, so a detached `const opt = schema.optional` still works).
 *
 * Why not `Object.assign(ZodMiniType.prototype, …)`: zod copies every enumerable member of that
 * prototype onto EACH schema it builds, bound (`$constructor`, "support prototype
 * modifications"), and a schema's concrete prototype (`ZodMiniString`…) does not inherit from
 * it. That was ~60 `bind` calls and properties per schema: building the event catalogue and
 * the config schemas at import took most of a function's import time and its garbage.
 *
 * The hook is zod's own construction hook (`globalConfig.postProcessor`, which `zod/compile`
 * uses), run once at the end of every construction, clones included. If a zod version stopped
 * calling it, the check below falls back to the per-schema copy: slower, never missing a method.
 */
function installClassicMethods(): void {
  const config = core.globalConfig as { postProcessor?: (inst: unknown) => void };
  const previous = config.postProcessor;
  const done = new WeakSet<object>();
  config.postProcessor = (inst) => {
    previous?.(inst);
    const schema = inst as Schema;
    if (!schema._zod?.traits?.has('ZodMiniType')) return;
    const proto = Object.getPrototypeOf(schema) as object;
    if (done.has(proto)) return;
    done.add(proto);
    // Members zod (or the type) already defines win, as with the per-schema copy (`!(k in inst)`).
    const missing = Object.fromEntries(Object.entries(CLASSIC_METHODS).filter(([name]) => !(name in schema)));
    core.util.members(proto, missing);
  };
  if (typeof (mini.string() as unknown as { optional?: unknown }).optional !== 'function') {
    config.postProcessor = previous;
    Object.assign(mini.ZodMiniType.prototype, CLASSIC_METHODS);
  }
}

/*
 * The members of `z` the sources use, and only those: `import { z } from 'zod'` binds the whole
 * namespace object, which esbuild cannot tree-shake, so everything exported here is bundled.
 * `test/unit/bundle-aliases.test.ts` fails when the sources use a member missing here.
 */
export {
  any,
  array,
  boolean,
  coerce,
  custom,
  discriminatedUnion,
  email,
  intersection,
  iso,
  lazy,
  literal,
  looseObject,
  never,
  null,
  nullable,
  number,
  object,
  optional,
  pipe,
  record,
  strictObject,
  string,
  transform,
  tuple,
  union,
  unknown,
  url,
  ZodMiniObject as ZodObject,
  ZodMiniType as ZodType,
} from '../../../node_modules/zod/v4/mini/index.js';

/** Classic's `z.enum(…)` also exposes `.enum` (value → value); mini has `.options` only. */
export function _enum(...args: Parameters<typeof mini.enum>) {
  const schema = mini.enum(...args);
  return Object.assign(schema, { enum: schema._zod.def.entries });
}
export { _enum as enum };

/** Classic's `z.preprocess(fn, schema)`: transform the input, then parse it with `schema`. */
export function preprocess<S extends mini.ZodMiniType>(
  fn: (value: unknown, ctx: core.ParsePayload) => unknown,
  schema: S,
) {
  return mini.pipe(mini.transform(fn), schema);
}

/**
 * zod's error class as `instanceof` sees it: mini throws core's error, which classic's own
 * `ZodError` also is (both carry the `$ZodError` trait).
 */
export const ZodError = core.$ZodError;

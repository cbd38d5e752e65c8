/**
 * Countries: turning whatever a form sends ("Germany", "DE", "de", "Deutschland", "USA", "UK")
 * into an ISO 3166-1 alpha-2 code, and a default IANA time zone per country for enrichment.
 *
 * Country names are not hand-listed: they come from the runtime's ICU data through
 * `Intl.DisplayNames` (English, the main languages of the markets we sell into, and each
 * country's own name), so they stay current with the Node.js runtime. Only the handful of
 * colloquial names ICU does not know ("USA", "Holland", "Ivory Coast", common alpha-3 codes)
 * are listed by hand in {@link COUNTRY_ALIASES}.
 */

import { COUNTRY_TIMEZONES } from './country-timezones';

export { COUNTRY_TIMEZONES };

/**
 * Two-letter codes ICU names that are not countries a lead can live in: supranational groups,
 * pseudo-locales, "unknown region" and the exceptionally reserved codes (Ascension Island,
 * Canary Islands...), which phone numbering and postal systems file under another country.
 * Kosovo (`XK`) is user-assigned but universally used, so it stays.
 */
const NOT_COUNTRIES = new Set([
  'AC',
  'CP',
  'CQ',
  'DG',
  'EA',
  'EU',
  'EZ',
  'IC',
  'QO',
  'TA',
  'UN',
  'XA',
  'XB',
  'ZZ',
]);

/** Languages whose country names are accepted besides English and each country's own name. */
const NAME_LOCALES = ['en', 'de', 'fr', 'es', 'it', 'nl', 'pt'] as const;

/**
 * Colloquial names, former names and alpha-3 codes ICU's display names do not cover. Keys are
 * in {@link countryKey} form (lower-case letters and digits only), so "U.S.A." and "usa" both hit.
 */
export const COUNTRY_ALIASES: Readonly<Record<string, string>> = {
  usa: 'US',
  us: 'US',
  america: 'US',
  unitedstatesofamerica: 'US',
  uk: 'GB',
  greatbritain: 'GB',
  britain: 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  northernireland: 'GB',
  unitedkingdomofgreatbritainandnorthernireland: 'GB',
  holland: 'NL',
  czechrepublic: 'CZ',
  turkey: 'TR',
  korea: 'KR',
  republicofkorea: 'KR',
  ivorycoast: 'CI',
  uae: 'AE',
  emirates: 'AE',
  macedonia: 'MK',
  swaziland: 'SZ',
  burma: 'MM',
  vatican: 'VA',
  palestine: 'PS',
  vietnam: 'VN',
  easttimor: 'TL',
  republicofireland: 'IE',
  russianfederation: 'RU',
  capeverde: 'CV',
  // Alpha-3 codes that CRMs and ad platforms commonly export.
  gbr: 'GB',
  deu: 'DE',
  fra: 'FR',
  esp: 'ES',
  ita: 'IT',
  nld: 'NL',
  bel: 'BE',
  che: 'CH',
  aut: 'AT',
  irl: 'IE',
  prt: 'PT',
  swe: 'SE',
  nor: 'NO',
  dnk: 'DK',
  fin: 'FI',
  pol: 'PL',
  can: 'CA',
  aus: 'AU',
  nzl: 'NZ',
  jpn: 'JP',
  chn: 'CN',
  ind: 'IN',
  bra: 'BR',
  mex: 'MX',
  sgp: 'SG',
  are: 'AE',
  zaf: 'ZA',
  isr: 'IL',
};

/** Lower-case letters and digits only, accents removed: "Côte d’Ivoire" → "cotedivoire". */
export function countryKey(input: string): string {
  return input
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/&/g, 'and')
    .replace(/^the\s+/, '')
    .replace(/[^\p{L}\p{N}]/gu, '');
}

const codeCache = new Map<string, string | undefined>();
let englishNames: Intl.DisplayNames | undefined;

function english(): Intl.DisplayNames {
  englishNames ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  return englishNames;
}

/**
 * The current code for a two-letter region code, or `undefined` when it is not a country.
 * ICU canonicalises retired codes ("UK" → "GB", "YU" → "RS", "ZR" → "CD"), so those work too.
 */
function canonicalCode(code: string): string | undefined {
  const upper = code.toUpperCase();
  if (codeCache.has(upper)) return codeCache.get(upper);
  let result: string | undefined;
  try {
    const region = new Intl.Locale('und', { region: upper }).region;
    if (region && /^[A-Z]{2}$/.test(region) && !NOT_COUNTRIES.has(region) && english().of(region)) {
      result = region;
    }
  } catch {
    result = undefined;
  }
  codeCache.set(upper, result);
  return result;
}

let codeList: readonly string[] | undefined;

/** Every ISO 3166-1 alpha-2 code the runtime knows (249 plus Kosovo `XK`), sorted. */
export function countryCodes(): readonly string[] {
  if (codeList) return codeList;
  const codes: string[] = [];
  for (let a = 65; a <= 90; a++) {
    for (let b = 65; b <= 90; b++) {
      const code = String.fromCharCode(a, b);
      if (canonicalCode(code) === code) codes.push(code);
    }
  }
  codeList = codes;
  return codes;
}

/** Whether `code` is a current ISO alpha-2 country code (case-sensitive: upper-case only). */
export function isCountryCode(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && canonicalCode(code) === code;
}

let nameIndex: Map<string, string> | undefined;

/**
 * Builds the name → code index once, on the first lookup by name (a few tens of milliseconds;
 * submissions that send a two-letter code never pay it). The first name registered for a key
 * wins, and English goes first, so a clash between languages resolves to the English reading.
 */
function names(): Map<string, string> {
  if (nameIndex) return nameIndex;
  const index = new Map<string, string>();
  const add = (name: string | undefined, code: string) => {
    if (!name) return;
    const key = countryKey(name);
    if (key.length >= 2 && !index.has(key)) index.set(key, code);
    // "Myanmar (Burma)", "Hong Kong SAR China": also accept the part before the qualifier.
    const bare = countryKey(name.replace(/\s*\(.*\)\s*$/, ''));
    if (bare.length >= 2 && !index.has(bare)) index.set(bare, code);
  };
  const codes = countryCodes();
  for (const style of ['long', 'short'] as const) {
    const display = new Intl.DisplayNames(['en'], { type: 'region', style, fallback: 'none' });
    for (const code of codes) add(display.of(code), code);
  }
  for (const code of codes) {
    // The country's own name ("Deutschland", "日本", "Россия") in its most likely language.
    try {
      const language = new Intl.Locale('und', { region: code }).maximize().language;
      add(new Intl.DisplayNames([language], { type: 'region', fallback: 'none' }).of(code), code);
    } catch {
      // A runtime without data for that language simply does not learn the endonym.
    }
  }
  for (const locale of NAME_LOCALES.slice(1)) {
    const display = new Intl.DisplayNames([locale], { type: 'region', fallback: 'none' });
    for (const code of codes) add(display.of(code), code);
  }
  nameIndex = index;
  return index;
}

/**
 * Normalises a country as typed or sent by a provider to an ISO alpha-2 code in capitals.
 *
 * Accepts codes in any case ("de", "DE", retired "UK"), English names ("Germany", "United
 * States"), names in German, French, Spanish, Italian, Dutch and Portuguese, each country's own
 * name, and the aliases in {@link COUNTRY_ALIASES} ("USA", "U.K.", "Holland", "DEU").
 *
 * @returns the code, or `undefined` when the input is not recognisably a country.
 */
export function normaliseCountry(input: string): string | undefined {
  const trimmed = input.trim();
  if (trimmed.length === 0 || trimmed.length > 100) return undefined;
  if (/^[A-Za-z]{2}$/.test(trimmed)) return canonicalCode(trimmed);
  const key = countryKey(trimmed);
  if (key.length < 2) return undefined;
  // Own keys only: "constructor" or "__proto__" typed into a form must not find Object's members.
  return (Object.hasOwn(COUNTRY_ALIASES, key) ? COUNTRY_ALIASES[key] : undefined) ?? names().get(key);
}

/**
 * The name of a country code in `locale` (English by default: "DE" → "Germany"), or `undefined`
 * for codes that are not countries.
 */
export function countryName(code: string, locale = 'en'): string | undefined {
  const canonical = canonicalCode(code);
  if (!canonical) return undefined;
  return new Intl.DisplayNames([locale], { type: 'region', fallback: 'none' }).of(canonical);
}

/**
 * The default IANA time zone for a country code, or `undefined` when the code is unknown or
 * (Bouvet Island, Heard Island) has no zone. See {@link COUNTRY_TIMEZONES} for how multi-zone
 * countries are resolved.
 */
export function defaultTimezone(country: string): string | undefined {
  const code = canonicalCode(country);
  return code ? COUNTRY_TIMEZONES[code] : undefined;
}

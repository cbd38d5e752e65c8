import { brotliCompressSync, constants } from 'node:zlib';
import freeMailDomains from 'email-providers/all.json' with { type: 'json' };
import phoneMetadata from 'libphonenumber-js/max/metadata';
import mailchecker from 'mailchecker';

/**
 * Builds the compact data files of `shared/domain/data/` (see `shared/domain/bundled-data.ts`)
 * from the pinned packages: the lists as sorted, newline-separated text, and libphonenumber's
 * `max` metadata as JSON, each Brotli-compressed at the highest quality. The output is
 * deterministic, so the committed files can be checked against the installed packages.
 */
export function buildDomainData(): Record<string, Buffer> {
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort().join('\n');
  return {
    'disposable-domains.txt.br': compress(sorted(mailchecker.blacklist())),
    'free-mail-domains.txt.br': compress(sorted(freeMailDomains as string[])),
    'phone-metadata.json.br': compress(JSON.stringify(phoneMetadata)),
  };
}

function compress(text: string): Buffer {
  return brotliCompressSync(Buffer.from(text, 'utf8'), {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_LGWIN]: constants.BROTLI_MAX_WINDOW_BITS,
      [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(text),
    },
  });
}

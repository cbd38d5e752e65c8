import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { ClientConfig } from '../shared/config/schema';
import { REP_ID_CLAIM } from '../shared/http/auth';
import type { ApiRoute } from './http-api';

/** Dev sign-in offline: the JWT key pair the local API trusts, and tokens for the dev users. */

/** The key pair the local API checks JWTs with, kept in the data folder so issued tokens stay valid. */
export async function jwtKeys(clientDir: string) {
  const file = join(clientDir, 'jwt-key.json');
  if (existsSync(file)) {
    const jwk = JSON.parse(readFileSync(file, 'utf8')) as { private: JWK; public: JWK };
    return {
      key: (await importJWK(jwk.private, 'RS256')) as CryptoKey,
      publicKey: (await importJWK(jwk.public, 'RS256')) as CryptoKey,
    };
  }
  const pair = await generateKeyPair('RS256', { extractable: true });
  writeFileSync(
    file,
    JSON.stringify({ private: await exportJWK(pair.privateKey), public: await exportJWK(pair.publicKey) }),
  );
  return { key: pair.privateKey, publicKey: pair.publicKey };
}

/** The configured rep a dev token stands for: the first rep at work, the first manager; none for admin. */
export function devRep(config: ClientConfig, role: 'rep' | 'manager' | 'admin') {
  return role === 'rep'
    ? config.reps.find((r) => r.role === 'rep' && r.outOfOffice === false)
    : role === 'manager'
      ? config.reps.find((r) => r.role === 'manager')
      : undefined;
}

/** A dev ID token for a rep, a manager or an admin, shaped like the user pool's. */
export async function devToken(
  key: CryptoKey,
  jwt: ApiRoute['jwt'],
  config: ClientConfig,
  role: 'rep' | 'manager' | 'admin',
): Promise<string> {
  const rep = devRep(config, role);
  const email = rep?.email ?? `admin@${config.email.identity}`;
  return new SignJWT({
    email,
    // The rep the login acts as, as the user pool's admin-written attribute puts it in ID tokens.
    ...(rep ? { [REP_ID_CLAIM]: rep.id } : {}),
    'cognito:groups': [role],
    'cognito:username': rep?.id ?? 'admin',
    client_id: jwt?.audience[0] ?? 'local',
    token_use: 'id',
    aud: jwt?.audience[0] ?? 'local',
  })
    .setProtectedHeader({ alg: 'RS256', kid: 'local' })
    .setIssuer(jwt?.issuer ?? 'local')
    .setSubject(`local-${rep?.id ?? 'admin'}`)
    .setIssuedAt()
    .setExpirationTime('30d')
    .sign(key);
}

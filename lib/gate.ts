/**
 * What every app checks before it asks the store, written once for
 * createApp (and so the streaming origin) and the Lambda@Edge
 * viewer-request function: the method (RFC 9110 §9.3.7, §15.5.6), the
 * URL's signature (signing.ts), then the object key (keys.ts).
 */
import { plain } from './answers.ts';
import { objectKey } from './keys.ts';
import { checkSignature, hmacKey } from './signing.ts';

/** The methods every app answers (the `Allow` of 204 and 405). */
export const ALLOW = 'GET, HEAD, OPTIONS';

export interface GateOptions {
  /** Prepended to every object key (default empty). */
  readonly keyPrefix?: string | undefined;
  /** When set, every GET/HEAD must carry a valid signature made with this secret. */
  readonly signingSecret?: string | undefined;
}

/** Through the gate with an object key, or answered at it. */
export type GateResult = { readonly key: string } | { readonly answer: Response };

/**
 * Makes the gate: `(method, url, path)` → the key, or the answer —
 * 204 + Allow for OPTIONS, 405 + Allow for any method but GET and HEAD,
 * 403 for a missing, bad or expired signature (checked on `url`), 400 for
 * a path that is no key. `path` is the URL path still percent-encoded
 * (decoding twice would turn %252e%252e into `..`).
 */
export function requestGate(options: GateOptions): (method: string, url: URL, path: string) => Promise<GateResult> {
  const signingKey = options.signingSecret === undefined ? undefined : hmacKey(options.signingSecret);
  return async (method, url, path) => {
    if (method === 'OPTIONS') return { answer: new Response(null, { status: 204, headers: { allow: ALLOW } }) };
    if (method !== 'GET' && method !== 'HEAD') return { answer: plain(405, 'Method Not Allowed', { allow: ALLOW }) };
    if (signingKey) {
      const check = await checkSignature(await signingKey, url, Math.floor(Date.now() / 1000));
      if (!check.ok) return { answer: plain(403, `Forbidden: ${check.reason}`) };
    }
    return keyOf(path, options.keyPrefix ?? '');
  };
}

/** The object key of a percent-encoded path under `prefix`, or its 400 (also origin-request's). */
export function keyOf(path: string, prefix: string): GateResult {
  const key = objectKey(path, prefix);
  return 'refused' in key ? { answer: plain(400, `Bad Request: ${key.refused}`) } : { key: key.key };
}

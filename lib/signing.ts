/**
 * Signed URLs: `?expires=<unix seconds>&signature=<base64url HMAC-SHA256>`
 * over `<expires>\n<URL path>` (the path as the URL carries it, still
 * percent-encoded). Verified with WebCrypto, whose HMAC verify compares in
 * constant time, so a forger learns nothing from timing.
 */

const encoder = new TextEncoder();

export type SignatureCheck = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Imports the secret once; every check and signature reuses the key. */
export function hmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
}

/** The query string that makes `path` readable until `expires` (unix seconds). */
export async function signPath(key: CryptoKey, path: string, expires: number): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', key, encoder.encode(`${expires}\n${path}`));
  return `expires=${expires}&signature=${base64url(new Uint8Array(mac))}`;
}

export async function checkSignature(key: CryptoKey, url: URL, nowSeconds: number): Promise<SignatureCheck> {
  const expires = url.searchParams.get('expires');
  const signature = url.searchParams.get('signature');
  if (expires === null || signature === null) return { ok: false, reason: 'this URL must be signed' };
  if (!/^\d{1,12}$/.test(expires)) return { ok: false, reason: 'malformed expiry' };
  const mac = fromBase64url(signature);
  if (mac === null) return { ok: false, reason: 'malformed signature' };
  const valid = await crypto.subtle.verify('HMAC', key, mac, encoder.encode(`${expires}\n${url.pathname}`));
  if (!valid) return { ok: false, reason: 'bad signature' };
  // Checked after the MAC, so an expired URL says so only when it was genuine.
  if (Number(expires) < nowSeconds) return { ok: false, reason: 'signature expired' };
  return { ok: true };
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

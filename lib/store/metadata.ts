/**
 * Stored HTTP metadata as it can be sent. A store may hold values no HTTP
 * field can carry (R2 keeps CR and LF in `httpMetadata`); such a field is
 * dropped and logged, so the object stays readable and nothing is injected
 * into the header block or a multipart part's headers. Everything else
 * passes through unchanged, bytes above 0x7F included.
 */
import type { HttpMetadata } from './types.ts';

/**
 * RFC 9110 §5.5: field-value is VCHAR, obs-text, SP and HTAB; every other
 * control character (NUL, CR, LF among them) is refused.
 */
const NOT_A_FIELD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

const FIELD_NAMES: Record<keyof HttpMetadata, string> = {
  contentType: 'Content-Type',
  cacheControl: 'Cache-Control',
  contentDisposition: 'Content-Disposition',
  contentEncoding: 'Content-Encoding',
  contentLanguage: 'Content-Language',
  expires: 'Expires',
};

/**
 * `http` without the fields that cannot be sent; each one dropped is logged
 * with the object's key (console.error). Returns `http` itself when all can.
 */
export function sendableMetadata(http: HttpMetadata, key: string): HttpMetadata {
  let out = http;
  for (const name of Object.keys(FIELD_NAMES) as (keyof HttpMetadata)[]) {
    const value = http[name];
    if (typeof value !== 'string' || !NOT_A_FIELD_VALUE.test(value)) continue;
    console.error(
      `edge-ranges: ${key}: stored ${FIELD_NAMES[name]} not sent, it holds a control character: ${JSON.stringify(value.slice(0, 200))}`,
    );
    out = { ...out, [name]: undefined };
  }
  return out;
}

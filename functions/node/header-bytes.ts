/**
 * Header values leave Node byte for byte. HTTP field values are bytes
 * (RFC 9110 §5.5: obs-text, 0x80–0xFF, is allowed), and the S3 client hands
 * stored metadata over as one character per byte, so a UTF-8
 * `Content-Disposition: attachment; filename="日本.pdf"` must go out as
 * the same bytes. Node writes the header block as latin1 (one byte per
 * character) except when `flushHeaders()` sends it — then it is written
 * as UTF-8, encoding every byte above 0x7F twice (`æ—¥æœ¬` at the client).
 * @hono/node-server flushes that way before a streamed body.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';

/** A ServerResponse whose flushHeaders() sends the header block as latin1, like every other write. */
export class ByteExactHeadersResponse<Req extends IncomingMessage = IncomingMessage> extends ServerResponse<Req> {
  override flushHeaders(): void {
    // An empty Buffer write sends the pending header block latin1-encoded
    // (a string write, as in Node's own flushHeaders, prepends it as UTF-8).
    this.write(new Uint8Array(0));
  }
}

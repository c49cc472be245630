/**
 * A strict reader of multipart/byteranges bodies for tests: it accepts
 * exactly the framing of RFC 9110 §14.6 / RFC 2046 and nothing looser, so a
 * framing mistake fails the test. Runtime-neutral.
 */
export interface ParsedPart {
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

export function boundaryOf(contentType: string | null): string {
  const m = /^multipart\/byteranges; boundary=([0-9A-Za-z'()+_,\-./:=?]{1,70})$/.exec(contentType ?? '');
  if (!m) throw new Error(`not a multipart/byteranges Content-Type: ${contentType}`);
  return m[1]!;
}

export function parseMultipart(body: Uint8Array, boundary: string): ParsedPart[] {
  const text = new TextDecoder('latin1').decode(body); // one char per byte
  const delimiter = `--${boundary}`;
  const parts: ParsedPart[] = [];
  let pos = 0;
  if (!text.startsWith(`${delimiter}\r\n`)) throw new Error('body does not open with the boundary');
  for (;;) {
    pos += delimiter.length + 2;
    const headersEnd = text.indexOf('\r\n\r\n', pos);
    if (headersEnd < 0) throw new Error(`part ${parts.length}: no end of headers`);
    const headers: Record<string, string> = {};
    for (const line of text.slice(pos, headersEnd).split('\r\n')) {
      const m = /^([A-Za-z-]+): (.*)$/.exec(line);
      if (!m) throw new Error(`part ${parts.length}: bad header line ${JSON.stringify(line)}`);
      headers[m[1]!.toLowerCase()] = m[2]!;
    }
    const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(headers['content-range'] ?? '');
    if (!m) throw new Error(`part ${parts.length}: bad Content-Range ${headers['content-range']}`);
    const start = headersEnd + 4;
    const end = start + Number(m[2]) - Number(m[1]) + 1;
    parts.push({ headers, body: body.subarray(start, end) });
    if (text.startsWith(`\r\n${delimiter}--\r\n`, end)) {
      if (end + delimiter.length + 6 !== body.length) throw new Error('bytes after the closing delimiter');
      return parts;
    }
    if (!text.startsWith(`\r\n${delimiter}\r\n`, end)) throw new Error(`part ${parts.length - 1}: no delimiter after its bytes`);
    pos = end + 2;
  }
}

#!/usr/bin/env python3
"""A multi-range client from Python's standard library alone.

    python3 multipart_read.py URL 'bytes=0-9,1000-1009,-10'

Sends one GET with that Range through http.client, reads the whole body,
parses it as a MIME message with the email package, and prints JSON: the
status, the top-level Content-Type, Content-Length and the bytes received,
and for each part in order its Content-Type, Content-Range, length and
sha256 (and its bytes in hex when it is short). Exits 1, after printing,
when the answer is not a 206 multipart/byteranges whose Content-Length is
the number of bytes received.
"""
import email
import hashlib
import http.client
import json
import sys
import urllib.parse

SHORT = 64  # parts up to this many bytes are also printed in hex


def main(url, byte_ranges):
    u = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    conn.request('GET', u.path, headers={'Range': byte_ranges})
    res = conn.getresponse()
    body = res.read()
    conn.close()

    content_type = res.getheader('Content-Type', '')
    content_length = res.getheader('Content-Length')
    out = {
        'status': res.status,
        'content_type': content_type,
        'content_length': None if content_length is None else int(content_length),
        'received': len(body),
        'parts': [],
        'defects': [],
    }
    problems = []
    if res.status != 206:
        problems.append(f'status {res.status}, not 206')
    if out['content_length'] != len(body):
        problems.append(f'Content-Length {content_length} but {len(body)} bytes received')

    # The email package parses a whole MIME message: give it the
    # Content-Type header the body belongs to.
    message = email.message_from_bytes(b'Content-Type: ' + content_type.encode('latin-1') + b'\r\n\r\n' + body)
    out['defects'] = [type(d).__name__ for d in message.defects]
    if message.get_content_type() != 'multipart/byteranges' or not message.is_multipart():
        problems.append(f'not multipart/byteranges: {content_type!r}')
    else:
        for part in message.get_payload():
            data = part.get_payload(decode=True)
            entry = {
                'content_type': part.get('Content-Type'),
                'content_range': part.get('Content-Range'),
                'length': len(data),
                'sha256': hashlib.sha256(data).hexdigest(),
            }
            if len(data) <= SHORT:
                entry['hex'] = data.hex()
            out['parts'].append(entry)
            out['defects'] += [type(d).__name__ for d in part.defects]

    print(json.dumps(out, indent=1))
    if problems:
        print('multipart_read: ' + '; '.join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 3:
        print('usage: multipart_read.py URL RANGE', file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))

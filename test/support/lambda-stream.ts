/**
 * A local stand-in for the Lambda Node.js runtime's response streaming, as
 * AWS documents it: `awslambda.streamifyResponse(handler)` marks a handler
 * that takes (event, responseStream, context); `HttpResponseStream.from`
 * writes the JSON prelude (status, headers, cookies) and eight NUL bytes
 * before the body, which the Function URL turns back into an HTTP response.
 */
import { PassThrough, type Writable } from 'node:stream';

type StreamingHandler = (event: unknown, responseStream: Writable, context: unknown) => Promise<void>;

export interface StreamedResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** How many writes the body arrived in: more than one means it was streamed. */
  readonly writes: number;
}

declare global {
  var awslambda: {
    streamifyResponse(handler: StreamingHandler): StreamingHandler;
    HttpResponseStream: { from(stream: Writable, prelude: object): Writable };
  };
}

const DELIMITER = Buffer.alloc(8);

/** Installs `awslambda` as the runtime does; call before importing the handler. */
export function installStreamingRuntime(): void {
  globalThis.awslambda = {
    streamifyResponse: (handler) => handler,
    HttpResponseStream: {
      from(stream, prelude) {
        stream.write(JSON.stringify(prelude));
        stream.write(DELIMITER);
        return stream;
      },
    },
  };
}

/** Invokes a streaming handler and splits what it wrote back into prelude and body. */
export async function invokeStreaming(handler: unknown, event: object): Promise<StreamedResponse> {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  await (handler as StreamingHandler)(event, stream, {});
  await ended;
  const all = Buffer.concat(chunks);
  const split = all.indexOf(DELIMITER);
  if (split < 0) throw new Error(`no prelude delimiter in the response: ${all.subarray(0, 200).toString()}`);
  const prelude = JSON.parse(all.subarray(0, split).toString()) as { statusCode: number; headers: Record<string, string> };
  return { statusCode: prelude.statusCode, headers: prelude.headers, body: all.subarray(split + 8), writes: chunks.length - 2 };
}

/** A Lambda Function URL event (payload format 2.0). */
export function functionUrlEvent(path: string, headers: Record<string, string>, method = 'GET'): object {
  const domainName = 'abcdefgh.lambda-url.us-east-1.on.aws';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: domainName, 'user-agent': 'Amazon CloudFront', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefgh',
      domainName,
      domainPrefix: 'abcdefgh',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.178', userAgent: 'Amazon CloudFront' },
      requestId: 'c3ae5c8a-1d4b-4d2e-8d0f-3b1b8f9a0e11',
      routeKey: '$default',
      stage: '$default',
      time: '23/Nov/2026:18:00:00 +0000',
      timeEpoch: 1795456800000,
    },
    isBase64Encoded: false,
  };
}

/**
 * CPU time of the Worker's own isolate, from workerd's V8 inspector (the
 * port wrangler dev exposes for DevTools): a sampling profile over a run of
 * requests, counting every sample that is not idle. This is the Worker's
 * JavaScript plus the V8 work it causes (GC, "program"), without workerd's
 * HTTP handling, wrangler's proxy worker or the local R2 simulation, which
 * run outside this isolate: the closest local stand-in for the CPU time
 * Cloudflare counts against the 10 ms limit.
 *
 * wrangler's inspector proxy wants an `Origin` header on the WebSocket
 * upgrade, which the WebSocket API cannot set: hence the few lines of
 * RFC 6455 client below (text frames, masked, no extensions).
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface IsolateProfiler {
  /** Starts sampling every `intervalUs` microseconds (500: little overhead, enough samples). */
  start(intervalUs?: number): Promise<void>;
  /** Stops; returns the busy (non-idle) time sampled, in ms, and where most of it went. */
  stop(): Promise<{ busyMs: number; top: string }>;
  close(): void;
}

export async function connectProfiler(inspectorPort: number): Promise<IsolateProfiler> {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as { webSocketDebuggerUrl: string }[];
  const target = targets[0];
  if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
  const ws = await openWebSocket(target.webSocketDebuggerUrl);
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  ws.onMessage((text) => {
    const msg = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string } };
    const w = msg.id === undefined ? undefined : waiting.get(msg.id);
    if (!w) return; // events (console messages and the like)
    waiting.delete(msg.id!);
    if (msg.error) w.reject(new Error(msg.error.message));
    else w.resolve(msg.result);
  });
  const send = (method: string, params: object = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });

  await send('Profiler.enable');
  return {
    async start(intervalUs = 500) {
      await send('Profiler.setSamplingInterval', { interval: intervalUs });
      await send('Profiler.start');
    },
    async stop() {
      const { profile } = (await send('Profiler.stop')) as { profile: Profile };
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      const self = new Map<string, number>();
      let busyUs = 0;
      profile.samples.forEach((id, i) => {
        const f = byId.get(id)!.callFrame;
        if (f.functionName === '(idle)') return;
        const dt = profile.timeDeltas[i] ?? 0;
        busyUs += dt;
        const name = `${f.functionName || '(anonymous)'}${f.url ? ` ${f.url.split('/').pop()}:${f.lineNumber + 1}` : ''}`;
        self.set(name, (self.get(name) ?? 0) + dt);
      });
      const top = [...self]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([name, us]) => `${name} ${Math.round((100 * us) / busyUs)}%`)
        .join(', ');
      return { busyMs: busyUs / 1000, top };
    },
    close: () => ws.close(),
  };
}

interface TextSocket {
  send(text: string): void;
  onMessage(handler: (text: string) => void): void;
  close(): void;
}

function openWebSocket(url: string): Promise<TextSocket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({
      host: u.hostname,
      port: u.port,
      path: u.pathname,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        origin: 'http://localhost',
      },
    });
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => resolve(textSocket(socket, head)));
    req.on('response', (res) => reject(new Error(`WebSocket upgrade to ${url} refused: ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

function textSocket(socket: Socket, head: Buffer): TextSocket {
  let buffered = head;
  let message: Buffer[] = [];
  let handler: (text: string) => void = () => {};
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    // Frames from the server are unmasked: FIN/opcode, length (7, 16 or 64 bits), payload.
    for (;;) {
      if (buffered.length < 2) return;
      const fin = (buffered[0]! & 0x80) !== 0;
      const opcode = buffered[0]! & 0x0f;
      let length = buffered[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buffered.length < 10) return;
        length = Number(buffered.readBigUInt64BE(2));
        offset = 10;
      }
      if (buffered.length < offset + length) return;
      const payload = buffered.subarray(offset, offset + length);
      buffered = buffered.subarray(offset + length);
      if (opcode === 0x1 || opcode === 0x0) {
        message.push(payload);
        if (fin) {
          const text = Buffer.concat(message).toString('utf8');
          message = [];
          handler(text);
        }
      }
      // Pings, pongs and close frames need no answer for a short session.
    }
  });
  return {
    send(text) {
      const payload = Buffer.from(text, 'utf8');
      const mask = randomBytes(4);
      const header =
        payload.length < 126
          ? Buffer.from([0x81, 0x80 | payload.length])
          : payload.length < 65536
            ? Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff])
            : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), bigLength(payload.length)]);
      const masked = Buffer.alloc(payload.length);
      for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
      socket.write(Buffer.concat([header, mask, masked]));
    },
    onMessage(h) {
      handler = h;
    },
    close() {
      socket.destroy();
    },
  };
}

function bigLength(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** The HTTP table against each standalone entry (Node, Deno, Bun), over a real S3 server (radosgw). */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createS3Client } from '../../lib/store/s3.ts';
import { SERVER_ENTRIES } from '../support/entries.ts';
import type { Validators } from '../support/fixtures.ts';
import { HTTP_CASES, caseRequest, expectCase } from '../support/http-cases.ts';
import type { Server } from '../support/processes.ts';
import { s3SettingsFrom, seedS3 } from '../support/s3-seed.ts';

let validators: Map<string, Validators>;
beforeAll(async () => {
  const settings = s3SettingsFrom(process.env);
  validators = await seedS3(createS3Client(settings), settings.bucket);
});

describe.each(SERVER_ENTRIES)('$name over radosgw', (entry) => {
  let server: Server;
  beforeAll(async () => {
    server = await entry.start();
  });
  afterAll(() => server?.stop());

  it.for(HTTP_CASES)('$name', async (c) => {
    const v = validators.get(c.fixture ?? 'data')!;
    await expectCase(c, await fetch(caseRequest(c, server.url, v)), v);
  });
});

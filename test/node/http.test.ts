/** The HTTP table against the Node entry, over a real S3 server (radosgw). */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createS3Client } from '../../lib/store/s3.ts';
import type { Validators } from '../support/fixtures.ts';
import { HTTP_CASES, caseRequest, expectCase } from '../support/http-cases.ts';
import { startTs, type Server } from '../support/processes.ts';
import { s3SettingsFrom, seedS3 } from '../support/s3-seed.ts';

describe('Node entry over radosgw', () => {
  let server: Server;
  let validators: Map<string, Validators>;

  beforeAll(async () => {
    const settings = s3SettingsFrom(process.env);
    validators = await seedS3(createS3Client(settings), settings.bucket);
    server = await startTs('functions/node/index.ts', { HOST: '127.0.0.1', PORT: '0' }, /listening on (http:\S+)/);
  });
  afterAll(() => server?.stop());

  it.for(HTTP_CASES)('$name', async (c) => {
    const v = validators.get(c.fixture ?? 'data')!;
    await expectCase(c, await fetch(caseRequest(c, server.url, v)), v);
  });
});

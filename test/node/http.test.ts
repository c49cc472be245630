/**
 * The HTTP table against each standalone entry (Node, Deno, Bun) over a
 * real S3 server (radosgw), with the edge cache off (exactly as without it)
 * and on (small slices, so the table's ranges start, end and cross inside
 * them; asked twice, cold then from the cache).
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createS3Client } from '../../lib/store/s3.ts';
import { SERVER_ENTRIES } from '../support/entries.ts';
import type { Validators } from '../support/fixtures.ts';
import { HTTP_CASES, caseRequest, expectCase } from '../support/http-cases.ts';
import type { Server } from '../support/processes.ts';
import { s3SettingsFrom, seedS3 } from '../support/s3-seed.ts';

const MODES = [
  { mode: 'CACHE=off', env: { CACHE: 'off' }, passes: ['once'] },
  { mode: 'CACHE=on, SLICE_SIZE=1024', env: { CACHE: 'on', SLICE_SIZE: '1024', METADATA_TTL: '10' }, passes: ['cold', 'warm'] },
];

let validators: Map<string, Validators>;
beforeAll(async () => {
  const settings = s3SettingsFrom(process.env);
  validators = await seedS3(createS3Client(settings), settings.bucket);
});

describe.each(SERVER_ENTRIES)('$name over radosgw', (entry) => {
  describe.for(MODES)('$mode', ({ env, passes }) => {
    let server: Server;
    beforeAll(async () => {
      server = await entry.start(env);
    });
    afterAll(() => server?.stop());

    describe.for(passes)('%s', () => {
      it.for(HTTP_CASES)('$name', async (c) => {
        const v = validators.get(c.fixture ?? 'data')!;
        await expectCase(c, await fetch(caseRequest(c, server.url, v)), v);
      });
    });
  });
});

/**
 * Three projects: `unit` (pure logic, Node), `node` (the Node entry and real
 * clients against radosgw and wrangler dev), `workers` (inside workerd; its
 * global setup starts nginx as an HTTP origin).
 * `npm test` starts radosgw and passes its S3_* settings in the environment.
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

const S3_SETTINGS = ['S3_ENDPOINT', 'S3_REGION', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE'];
const s3Bindings = Object.fromEntries(S3_SETTINGS.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));

export default defineConfig({
  test: {
    // One JSON log line per request adds up: show output only for failing tests.
    silent: 'passed-only',
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        test: {
          name: 'node',
          include: ['test/node/**/*.test.ts'],
          globalSetup: ['test/support/build.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: './wrangler.toml' },
            miniflare: { bindings: s3Bindings },
          }),
        ],
        test: {
          name: 'workers',
          include: ['test/workers/**/*.test.ts'],
          testTimeout: 30_000,
          // nginx as an HTTP origin for the HTTP store, reached from workerd on 127.0.0.1.
          globalSetup: ['test/support/origin-setup.ts'],
        },
      },
    ],
  },
});

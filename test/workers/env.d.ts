/// <reference path="../support/provided.d.ts" />
// The bindings the Workers suites see: wrangler.toml's, plus S3_* passed in
// from the Node side by vitest.config.ts.
declare namespace Cloudflare {
  interface Env {
    BUCKET: R2Bucket;
    S3_ENDPOINT?: string;
    S3_REGION?: string;
    S3_BUCKET?: string;
    S3_ACCESS_KEY_ID?: string;
    S3_SECRET_ACCESS_KEY?: string;
    S3_FORCE_PATH_STYLE?: string;
  }
  interface GlobalProps {
    mainModule: typeof import('../../functions/cloudflare/index.ts');
  }
}

// Vite's raw import: a file's text as the module's default export.
declare module '*?raw' {
  const text: string;
  export default text;
}

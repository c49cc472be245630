// What the workers project's global setup (origin-setup.ts) provides to its tests.
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** nginx serving the fixtures (test/support/http-origin.ts), as http://127.0.0.1:PORT. */
    nginxOrigin: string;
  }
}

/**
 * The standalone server entries (Node, Deno, Bun), each over the S3 store
 * with the settings of lib/standalone.ts: the suites that test an entry run
 * as tables over this list. A runtime that is not installed fails the
 * suite (runtimeBinary throws), never skips it.
 */
import { entryCommand, type Runtime } from '../../infra/local/runtimes.ts';
import { startCommand, type Server } from './processes.ts';

export interface ServerEntry {
  readonly name: string;
  /** The process that runs the entry, from the repository root. */
  command(): { command: string; args: string[] };
  /** Starts it with these settings over the environment's (HOST and PORT default to 127.0.0.1 and a free port). */
  start(env?: Record<string, string | undefined>): Promise<Server>;
}

/** What every entry prints once it listens. */
export const LISTENING = /listening on (http:\S+)/;

function entry(name: string, command: () => { command: string; args: string[] }): ServerEntry {
  return {
    name,
    command,
    start(env = {}) {
      const { command: cmd, args } = command();
      return startCommand(cmd, args, { HOST: '127.0.0.1', PORT: '0', ...env }, LISTENING);
    },
  };
}

const runtime = (r: Runtime, name: string) => entry(name, () => entryCommand(r));

export const NODE_ENTRY = entry('Node entry', () => ({
  command: process.execPath,
  args: ['--import', 'tsx', 'functions/node/index.ts'],
}));
export const DENO_ENTRY = runtime('deno', 'Deno entry');
export const BUN_ENTRY = runtime('bun', 'Bun entry');

export const SERVER_ENTRIES: readonly ServerEntry[] = [NODE_ENTRY, DENO_ENTRY, BUN_ENTRY];
/** The entries this change added, for suites that run the Node entry separately. */
export const RUNTIME_ENTRIES: readonly ServerEntry[] = [DENO_ENTRY, BUN_ENTRY];

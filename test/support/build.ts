/**
 * vitest globalSetup of the `node` project: compiles the package (`npm run build`) once, so
 * the suites run the `edge-ranges` command as users do, from dist/.
 */
import { execFileSync } from 'node:child_process';
import { ROOT } from './processes.ts';

export default function setup(): void {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

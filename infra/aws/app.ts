/**
 * The CDK app. Two ways in:
 *
 * - `npm run infra:synth [-- -c bucketName=… -c keyPrefix=… -c originSecret=…]`: builds the
 *   Lambda packages (infra/aws/build), synthesizes to infra/aws/cdk.out and prints each
 *   stack's template (JSON) to stdout. Offline: no AWS account, no credentials, no network
 *   (no lookups; the CDK CLI, which checks versions and notices, is not involved).
 * - `npm run infra:deploy -- -c bucketName=…`: the aws-cdk CLI runs this file (infra/aws/cdk.json)
 *   with CDK_OUTDIR and the context in its environment; nothing is printed then.
 */
import { join } from 'node:path';
import { ROOT } from './bundle.ts';
import { buildApp } from './stack.ts';

const DEFAULT_OUTDIR = join(ROOT, 'infra', 'aws', 'cdk.out');

/** `-c key=value` / `--context key=value` pairs (the CLI passes its own through CDK_CONTEXT_JSON). */
function contextFromArgv(argv: readonly string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg !== '-c' && arg !== '--context') throw new Error(`infra/aws/app.ts: unknown argument ${arg}; use -c key=value`);
    const pair = argv[++i] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`infra/aws/app.ts: -c wants key=value, got "${pair}"`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

const underCli = process.env.CDK_OUTDIR !== undefined;
const { app, settings } = await buildApp({
  outdir: process.env.CDK_OUTDIR ?? DEFAULT_OUTDIR,
  context: underCli ? {} : contextFromArgv(process.argv.slice(2)),
});
const assembly = app.synth();

if (settings.bucketName === 'edge-ranges-placeholder' || settings.originSecretDerived) {
  console.error(
    'infra/aws: ' +
      [
        settings.bucketName === 'edge-ranges-placeholder' ? 'placeholder bucket name (deploy with -c bucketName=<globally unique name>)' : '',
        settings.originSecretDerived ? 'origin secret derived from the bucket name (pass -c originSecret=$(openssl rand -hex 32))' : '',
      ]
        .filter(Boolean)
        .join('; '),
  );
}
if (!underCli) {
  for (const stack of assembly.stacks) {
    console.log(`# ${stack.stackName} (${stack.environment.region}) ${stack.templateFullPath}`);
    console.log(JSON.stringify(stack.template, null, 2));
  }
}

/** `npm run fuzz [-- runs]`: every fuzz property at 1,000,000 cases (the handler at a tenth: it does I/O). */
import { conditionalProperty, handlerProperty, parseProperty, planProperty } from './properties.ts';

const runs = Number(process.argv[2] ?? 1_000_000);
for (const [name, property, n] of [
  ['parseRange', parseProperty, runs],
  ['planRanges', planProperty, runs],
  ['conditionals', conditionalProperty, runs],
  ['handler', handlerProperty, Math.ceil(runs / 10)],
] as const) {
  const started = Date.now();
  await property(n);
  console.log(`${name}: ${n.toLocaleString('en')} cases passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

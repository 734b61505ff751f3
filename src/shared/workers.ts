import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The script of a worker thread, `name` beside the module at `from` (its `import.meta.url`): the
 * compiled file next to it in dist/, or, when the module runs from its TypeScript source (under
 * vitest), the compiled copy in dist/ (the tests build first, as they do for the CLI).
 */
export function workerScript(from: string, name: string): URL {
  const here = new URL(name, from);
  if (existsSync(fileURLToPath(here))) return here;
  const i = here.href.lastIndexOf('/src/');
  const built = new URL(`${here.href.slice(0, i)}/dist${here.href.slice(i)}`);
  if (i >= 0 && existsSync(fileURLToPath(built))) return built;
  throw new Error(`The worker script ${fileURLToPath(here)} is missing; run "npm run build"`);
}
